"""Runtime data of the config entry: everything one loaded entry holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .coordinator import AnalysisCoordinator
    from .decisions import Decisions
    from .llm_state import LLMState
    from .mqtt_publish import MqttPublisher


@dataclass(slots=True)
class AIAutomationData:
    """The job (schedule, runs, history), the suggestions' decisions, the LLM state, MQTT."""

    coordinator: AnalysisCoordinator
    decisions: Decisions
    llm: LLMState
    mqtt: MqttPublisher


type AIAutomationConfigEntry = ConfigEntry[AIAutomationData]

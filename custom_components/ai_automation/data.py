"""Runtime data of the config entry: everything one loaded entry holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .coordinator import AnalysisCoordinator
    from .decisions import Decisions
    from .llm_state import LLMState


@dataclass(slots=True)
class AIAutomationData:
    """The job (schedule, runs, history), the suggestions' decisions and the LLM state."""

    coordinator: AnalysisCoordinator
    decisions: Decisions
    llm: LLMState


type AIAutomationConfigEntry = ConfigEntry[AIAutomationData]

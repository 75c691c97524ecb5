"""Sensors: when the analysis ran, how it went, when it runs next, what it found."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import CHAT_WRITERS, CONF_WRITER, JOB_STATUSES
from .coordinator import AnalysisCoordinator
from .data import AIAutomationConfigEntry
from .entity import AIAutomationEntity

PARALLEL_UPDATES = 0
# Recent jobs shown on the status sensor; the full 30 are in diagnostics.
HISTORY_IN_ATTRIBUTES = 10


def _last(coordinator: AnalysisCoordinator, key: str) -> Any:
    job = coordinator.last_job
    return job.get(key) if job else None


def _timestamp(value: str | None) -> datetime | None:
    return dt_util.parse_datetime(value) if value else None


def _job_summary(job: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "status",
        "trigger",
        "started_at",
        "duration_s",
        "events",
        "patterns",
        "suggestions",
        "error",
    )
    return {k: job.get(k) for k in keys}


@dataclass(frozen=True, kw_only=True)
class AIAutomationSensorDescription(SensorEntityDescription):
    """A sensor read off the coordinator."""

    value_fn: Callable[[AnalysisCoordinator], Any]
    attr_fn: Callable[[AnalysisCoordinator], dict[str, Any]] | None = None


SENSORS: tuple[AIAutomationSensorDescription, ...] = (
    AIAutomationSensorDescription(
        key="last_run",
        translation_key="last_run",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda c: _timestamp(_last(c, "finished_at")),
    ),
    AIAutomationSensorDescription(
        key="last_run_status",
        translation_key="last_run_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(JOB_STATUSES),
        value_fn=lambda c: c.jobs[0]["status"] if c.jobs else None,
        attr_fn=lambda c: {
            "trigger": c.jobs[0]["trigger"] if c.jobs else None,
            "error": c.jobs[0]["error"] if c.jobs else None,
            "history": [_job_summary(j) for j in c.jobs[:HISTORY_IN_ATTRIBUTES]],
        },
    ),
    AIAutomationSensorDescription(
        key="next_run",
        translation_key="next_run",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda c: c.next_run,
    ),
    AIAutomationSensorDescription(
        key="last_run_duration",
        translation_key="last_run_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: _last(c, "duration_s"),
        attr_fn=lambda c: dict(_last(c, "phases") or {}),
    ),
    AIAutomationSensorDescription(
        key="patterns_found",
        translation_key="patterns_found",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda c: _last(c, "patterns"),
        attr_fn=lambda c: {"patterns": c.patterns},
    ),
    AIAutomationSensorDescription(
        key="pending_suggestions",
        translation_key="pending_suggestions",
        state_class=SensorStateClass.MEASUREMENT,
        # Every suggestion still waiting for a decision, not only the last run's.
        value_fn=lambda c: len(c.decisions.pending),
        attr_fn=lambda c: {
            "suggestions": [{"id": s["id"], "title": s["title"]} for s in c.decisions.pending]
        },
    ),
)


# With an LLM writer that calls a chat API: this month's spend (the monthly budget's measure).
LLM_COST_SENSOR = AIAutomationSensorDescription(
    key="llm_cost_month",
    translation_key="llm_cost_month",
    device_class=SensorDeviceClass.MONETARY,
    native_unit_of_measurement="USD",
    suggested_display_precision=4,
    value_fn=lambda c: c.llm.month_spend()["cost_usd"],
    attr_fn=lambda c: c.llm.cost_attributes(c.config_entry, c.last_job),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AIAutomationConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors."""
    descriptions = list(SENSORS)
    if entry.data.get(CONF_WRITER) in CHAT_WRITERS:
        descriptions.append(LLM_COST_SENSOR)
    async_add_entities(AIAutomationSensor(entry.runtime_data.coordinator, d) for d in descriptions)


class AIAutomationSensor(AIAutomationEntity, SensorEntity):
    """A sensor of the analysis service."""

    entity_description: AIAutomationSensorDescription
    # Bulky, changing lists: shown on the dashboard, kept out of the recorder.
    _unrecorded_attributes = frozenset({"history", "patterns", "suggestions"})

    @property
    def native_value(self) -> Any:
        """Read the value off the coordinator."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra attributes, where the description has some."""
        if self.entity_description.attr_fn is None:
            return None
        return self.entity_description.attr_fn(self.coordinator)

"""The 'running' binary sensor: on while a job runs, its phase as an attribute."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .compat import BinarySensorDeviceClass
from .const import PHASES
from .data import AIAutomationConfigEntry
from .entity import AIAutomationEntity

PARALLEL_UPDATES = 0

RUNNING = BinarySensorEntityDescription(
    key="running",
    translation_key="running",
    device_class=BinarySensorDeviceClass.RUNNING,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AIAutomationConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the running sensor."""
    async_add_entities([AIAutomationRunningSensor(entry.runtime_data.coordinator, RUNNING)])


class AIAutomationRunningSensor(AIAutomationEntity, BinarySensorEntity):
    """Whether an analysis job is running, and how far it got."""

    @property
    def is_on(self) -> bool:
        """On from the job's creation until its record is closed.

        (The task itself starts eagerly and ends after its last update, so it is the job
        record, not the task, that says whether a job is under way.)
        """
        return self.coordinator.current_job is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The current phase, its step number and the job it belongs to."""
        job = self.coordinator.current_job
        phase = self.coordinator.phase
        return {
            "phase": phase,
            "step": PHASES.index(phase) + 1 if phase in PHASES else None,
            "steps": len(PHASES),
            "job_id": job["id"] if job else None,
            "trigger": job["trigger"] if job else None,
            "started_at": job["started_at"] if job else None,
        }

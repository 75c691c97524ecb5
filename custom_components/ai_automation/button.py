"""The 'Run analysis' button."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import TRIGGER_MANUAL
from .data import AIAutomationConfigEntry
from .entity import AIAutomationEntity

PARALLEL_UPDATES = 0

RUN_ANALYSIS = ButtonEntityDescription(key="run_analysis", translation_key="run_analysis")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AIAutomationConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the button."""
    async_add_entities([AIAutomationRunButton(entry.runtime_data.coordinator, RUN_ANALYSIS)])


class AIAutomationRunButton(AIAutomationEntity, ButtonEntity):
    """Start an analysis now (refused with a translated error while one runs)."""

    async def async_press(self) -> None:
        """Start the job in the background."""
        await self.coordinator.async_trigger(TRIGGER_MANUAL)

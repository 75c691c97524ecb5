"""Base entity of AI Automation."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import AnalysisCoordinator


class AIAutomationEntity(CoordinatorEntity[AnalysisCoordinator]):
    """An entity of the analysis service device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: AnalysisCoordinator, description: EntityDescription) -> None:
        """Attach the entity to the service device of the entry."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}-{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name="AI Automation",
            manufacturer="AI Automation",
            model="Routine analysis",
            entry_type=DeviceEntryType.SERVICE,
        )

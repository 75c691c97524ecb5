"""Runtime data of the config entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .coordinator import AnalysisCoordinator

type AIAutomationConfigEntry = ConfigEntry[AnalysisCoordinator]

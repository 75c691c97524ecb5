"""Services of AI Automation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError

from .const import (
    ATTR_LOOKBACK_DAYS,
    DOMAIN,
    MAX_LOOKBACK_DAYS,
    MIN_LOOKBACK_DAYS,
    SERVICE_RUN_ANALYSIS,
    TRIGGER_MANUAL,
)

if TYPE_CHECKING:
    from .coordinator import AnalysisCoordinator

RUN_ANALYSIS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_LOOKBACK_DAYS): vol.All(
            vol.Coerce(int), vol.Range(min=MIN_LOOKBACK_DAYS, max=MAX_LOOKBACK_DAYS)
        ),
    }
)


def _coordinator(hass: HomeAssistant) -> AnalysisCoordinator:
    """The loaded entry's coordinator, or a translated error saying there is none."""
    entries = hass.config_entries.async_entries(DOMAIN)
    loaded = [e for e in entries if e.state is ConfigEntryState.LOADED]
    if not loaded:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    coordinator: AnalysisCoordinator = loaded[0].runtime_data
    return coordinator


async def _async_run_analysis(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass)
    lookback = call.data.get(ATTR_LOOKBACK_DAYS)
    if call.return_response:
        return await coordinator.async_run_and_wait(TRIGGER_MANUAL, lookback)
    await coordinator.async_trigger(TRIGGER_MANUAL, lookback)
    return None


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_RUN_ANALYSIS,
        _async_run_analysis,
        schema=RUN_ANALYSIS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )

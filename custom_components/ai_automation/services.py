"""Services of AI Automation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .compat import register_admin_service, vol
from .const import (
    ATTR_DAYS,
    ATTR_ENABLED,
    ATTR_LOOKBACK_DAYS,
    ATTR_SUGGESTION_ID,
    DOMAIN,
    MAX_DISMISS_DAYS,
    MAX_LOOKBACK_DAYS,
    MIN_LOOKBACK_DAYS,
    SERVICE_ACCEPT_SUGGESTION,
    SERVICE_CLEAR_HISTORY,
    SERVICE_DISMISS_SUGGESTION,
    SERVICE_LIST_SUGGESTIONS,
    SERVICE_RUN_ANALYSIS,
    TRIGGER_MANUAL,
)

if TYPE_CHECKING:
    from .coordinator import AnalysisCoordinator

# Ids are "ai_" and 16 hex digits (suggestions.suggestion_id); the cap keeps an absurd
# one from being echoed whole into the error and the log on every call.
MAX_SUGGESTION_ID_LENGTH = 64


def whole_days(value: Any) -> int:
    """A whole number of days: an int, an integral float (a number selector's 30.0) or digits.

    ``vol.Coerce(int)`` would take 1.5 as 1 and ``True`` as 1.
    """
    if isinstance(value, bool):
        raise vol.Invalid("expected a whole number of days")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    raise vol.Invalid("expected a whole number of days")


SUGGESTION_ID = vol.All(cv.string, vol.Length(min=1, max=MAX_SUGGESTION_ID_LENGTH))
RUN_ANALYSIS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_LOOKBACK_DAYS): vol.All(
            whole_days, vol.Range(min=MIN_LOOKBACK_DAYS, max=MAX_LOOKBACK_DAYS)
        ),
    }
)
ACCEPT_SUGGESTION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_SUGGESTION_ID): SUGGESTION_ID,
        vol.Optional(ATTR_ENABLED, default=True): cv.boolean,
    }
)
DISMISS_SUGGESTION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_SUGGESTION_ID): SUGGESTION_ID,
        vol.Optional(ATTR_DAYS): vol.All(whole_days, vol.Range(min=1, max=MAX_DISMISS_DAYS)),
    }
)


def _coordinator(hass: HomeAssistant) -> AnalysisCoordinator:
    """The loaded entry's coordinator, or a translated error saying there is none."""
    entries = hass.config_entries.async_entries(DOMAIN)
    loaded = [e for e in entries if e.state is ConfigEntryState.LOADED]
    if not loaded:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    coordinator: AnalysisCoordinator = loaded[0].runtime_data.coordinator
    return coordinator


async def _async_run_analysis(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass)
    lookback = call.data.get(ATTR_LOOKBACK_DAYS)
    if call.return_response:
        return await coordinator.async_run_and_wait(TRIGGER_MANUAL, lookback)
    await coordinator.async_trigger(TRIGGER_MANUAL, lookback)
    return None


async def _async_accept_suggestion(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass)
    record = await coordinator.decisions.async_accept(
        call.data[ATTR_SUGGESTION_ID], enabled=call.data[ATTR_ENABLED], context=call.context
    )
    return {
        "suggestion_id": record["id"],
        "automation_entity_id": record["automation_entity_id"],
        "enabled": record["enabled"],
    }


async def _async_dismiss_suggestion(call: ServiceCall) -> None:
    coordinator = _coordinator(call.hass)
    await coordinator.decisions.async_dismiss(
        call.data[ATTR_SUGGESTION_ID], days=call.data.get(ATTR_DAYS), context=call.context
    )


async def _async_clear_history(call: ServiceCall) -> None:
    coordinator = _coordinator(call.hass)
    if coordinator.running:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="already_running")
    await coordinator.history.async_clear()


async def _async_list_suggestions(call: ServiceCall) -> ServiceResponse:
    return _coordinator(call.hass).decisions.as_response()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services.

    Running, accepting, dismissing and clearing the history are for admins (and automations and scripts,
    which call with no user); listing is for anyone.
    """
    register_admin_service(
        hass,
        DOMAIN,
        SERVICE_RUN_ANALYSIS,
        _async_run_analysis,
        schema=RUN_ANALYSIS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register_admin_service(
        hass,
        DOMAIN,
        SERVICE_ACCEPT_SUGGESTION,
        _async_accept_suggestion,
        schema=ACCEPT_SUGGESTION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register_admin_service(
        hass, DOMAIN, SERVICE_DISMISS_SUGGESTION, _async_dismiss_suggestion, schema=DISMISS_SUGGESTION_SCHEMA
    )
    register_admin_service(hass, DOMAIN, SERVICE_CLEAR_HISTORY, _async_clear_history, schema=vol.Schema({}))
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_SUGGESTIONS,
        _async_list_suggestions,
        supports_response=SupportsResponse.ONLY,
    )

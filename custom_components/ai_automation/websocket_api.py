"""The websocket commands the review panel uses: list, run, review (and edit), accept, dismiss, undo.

Every command is for administrators (the suggestions name the home's devices, and all
but the list change something). Input is checked by each command's schema; a decision
that cannot be made (no such suggestion, already accepted, automations.yaml unusable)
comes back as the same translated error the services raise. The services stay for
scripts and automations.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import async_response, require_admin, websocket_command
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .compat import vol
from .const import DOMAIN, MAX_DISMISS_DAYS, TRIGGER_MANUAL, WEEKDAYS
from .coordinator import AnalysisCoordinator
from .review import (
    CONDITION_DARK,
    CONDITION_HOME,
    CONDITION_NOT_ALREADY,
    CONDITION_WINDOW,
    async_review,
    checked_form,
    edited_automation,
)

_SUGGESTION_ID = vol.All(str, vol.Match(r"^ai_[0-9a-f]{16}$"))
_REASON_MAX_CHARS = 500
_ALIAS_MAX_CHARS = 255
_DAY_S = 86_400
# The edits the panel may make (see ``review.checked_form`` for which apply to which trigger).
_FORM = vol.Schema(
    {
        vol.Optional("time"): vol.All(str, vol.Match(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")),
        vol.Optional("sun_offset_min"): vol.All(vol.Coerce(int), vol.Range(min=-360, max=360)),
        vol.Optional("for_s"): vol.All(vol.Coerce(int), vol.Range(min=0, max=_DAY_S)),
        vol.Optional("back_for_s"): vol.All(vol.Coerce(int), vol.Range(min=0, max=_DAY_S)),
        vol.Optional("weekdays"): vol.All([vol.In(WEEKDAYS)], vol.Length(min=1), vol.Unique()),
        vol.Optional("target"): cv.entity_id,
        # Routines done together: which parts to do (entity id -> keep).
        vol.Optional("parts"): {cv.entity_id: cv.boolean},
        vol.Optional("alias"): vol.All(str, vol.Strip, vol.Length(min=1, max=_ALIAS_MAX_CHARS)),
        vol.Optional("conditions"): {
            vol.Optional(CONDITION_WINDOW): cv.boolean,
            vol.Optional(CONDITION_DARK): cv.boolean,
            vol.Optional(CONDITION_NOT_ALREADY): cv.boolean,
            vol.Optional(CONDITION_HOME): cv.boolean,
        },
    }
)


def _coordinator(hass: HomeAssistant) -> AnalysisCoordinator:
    """The loaded entry's coordinator, or the translated error saying there is none."""
    loaded = [e for e in hass.config_entries.async_entries(DOMAIN) if e.state is ConfigEntryState.LOADED]
    if not loaded:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    coordinator: AnalysisCoordinator = loaded[0].runtime_data.coordinator
    return coordinator


def _state(coordinator: AnalysisCoordinator) -> dict[str, Any]:
    """The decisions, and whether a job runs now and how the last one went."""
    return {
        **coordinator.decisions.as_response(),
        "running": coordinator.running,
        "phase": coordinator.phase,
        "last_job": dict(coordinator.last_job) if coordinator.last_job else None,
    }


@require_admin
@websocket_command({vol.Required("type"): f"{DOMAIN}/suggestions"})
@async_response
async def ws_suggestions(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Pending, accepted and dismissed suggestions, best first, and the job's state."""
    connection.send_result(msg["id"], _state(_coordinator(hass)))


@require_admin
@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/run",
        vol.Optional("lookback_days"): vol.All(vol.Coerce(int), vol.Range(min=1, max=90)),
    }
)
@async_response
async def ws_run(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Start an analysis in the background (an error if one is already running)."""
    coordinator = _coordinator(hass)
    job = await coordinator.async_trigger(TRIGGER_MANUAL, msg.get("lookback_days"))
    connection.send_result(msg["id"], {"job_id": job["id"]})


@require_admin
@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/accept",
        vol.Required("suggestion_id"): _SUGGESTION_ID,
        vol.Optional("enabled", default=True): cv.boolean,
        vol.Optional("form"): _FORM,
    }
)
@async_response
async def ws_accept(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Create the suggested automation (on or off), as edited in ``form``, and record the decision."""
    decisions = _coordinator(hass).decisions
    edits = msg.get("form")

    def edit(record: dict[str, Any]) -> dict[str, Any]:
        return edited_automation(record, checked_form(hass, record, edits))

    record = await decisions.async_accept(
        msg["suggestion_id"],
        enabled=msg["enabled"],
        context=connection.context(msg),
        edit=edit if edits else None,
    )
    connection.send_result(msg["id"], record)


@require_admin
@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/review",
        vol.Required("suggestion_id"): _SUGGESTION_ID,
        vol.Optional("form"): _FORM,
    }
)
@async_response
async def ws_review(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """A suggestion as edited in ``form`` (or as suggested): its automation, YAML, backtest and chart."""
    coordinator = _coordinator(hass)
    record = coordinator.decisions.record(msg["suggestion_id"])
    item = coordinator.evidence.get(record["id"])
    connection.send_result(msg["id"], await async_review(hass, record, item, msg.get("form")))


@require_admin
@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/dismiss",
        vol.Required("suggestion_id"): _SUGGESTION_ID,
        vol.Optional("days"): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_DISMISS_DAYS)),
        vol.Optional("reason"): vol.All(str, vol.Length(max=_REASON_MAX_CHARS)),
    }
)
@async_response
async def ws_dismiss(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Not suggested again, for good or for ``days`` days, with an optional reason."""
    decisions = _coordinator(hass).decisions
    record = await decisions.async_dismiss(
        msg["suggestion_id"], days=msg.get("days"), context=connection.context(msg), reason=msg.get("reason")
    )
    connection.send_result(msg["id"], record)


@require_admin
@websocket_command({vol.Required("type"): f"{DOMAIN}/undo", vol.Required("suggestion_id"): _SUGGESTION_ID})
@async_response
async def ws_undo(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Remove an accepted suggestion's automation and put the suggestion back to pending."""
    decisions = _coordinator(hass).decisions
    record = await decisions.async_undo(msg["suggestion_id"], context=connection.context(msg))
    connection.send_result(msg["id"], record)


@callback
def async_setup_websocket_api(hass: HomeAssistant) -> None:
    """Register the commands (once, with the integration)."""
    for command in (ws_suggestions, ws_run, ws_accept, ws_review, ws_dismiss, ws_undo):
        async_register_command(hass, command)

"""Diagnostics: options, the job history and the compact history's size."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from .const import CONF_BASE_URL
from .data import AIAutomationConfigEntry

# A base URL can carry credentials (http://user:password@host/v1) or name a private host.
TO_REDACT = {CONF_API_KEY, CONF_BASE_URL}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AIAutomationConfigEntry
) -> dict[str, Any]:
    """Return the options (secrets redacted), the schedule, the last jobs and the stored history's size."""
    coordinator = entry.runtime_data.coordinator
    return {
        "data": async_redact_data(dict(entry.data), TO_REDACT),
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "next_run": coordinator.next_run.isoformat() if coordinator.next_run else None,
        "last_slot": coordinator.last_slot.isoformat() if coordinator.last_slot else None,
        "jobs": coordinator.jobs,
        "pending_suggestions": [s["id"] for s in coordinator.decisions.pending],
        "accepted_suggestions": [s["id"] for s in coordinator.decisions.accepted],
        "dismissed_suggestions": [s["id"] for s in coordinator.decisions.dismissed],
        "history": await coordinator.history.async_info(),
    }

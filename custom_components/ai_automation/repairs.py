"""Repairs issues: what the user should know about and may be able to fix."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .recorder_reader import FetchedHistory

ISSUE_ORIGIN_UNKNOWN = "origin_unknown"


@callback
def async_report_origin(hass: HomeAssistant, fetched: FetchedHistory) -> None:
    """Raise the issue while the recorder cannot say who caused changes; clear it once it can."""
    if fetched.origin_known:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_ORIGIN_UNKNOWN)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_ORIGIN_UNKNOWN,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_ORIGIN_UNKNOWN,
        translation_placeholders={"missing": ", ".join(fetched.missing) or "-"},
        learn_more_url="https://github.com/ai-automation/ai-automation#troubleshooting",
    )

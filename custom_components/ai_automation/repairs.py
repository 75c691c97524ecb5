"""Repairs issues: what the user should know about and may be able to fix."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_cached_translations

from .after_accept_fix import AfterAcceptFixFlow
from .const import DOMAIN
from .history_store import HistoryStatus
from .recorder_reader import FetchedHistory

ISSUE_ORIGIN_UNKNOWN = "origin_unknown"
ISSUE_HISTORY_FILLING = "history_filling"
_WEEKDAY = f"component.{DOMAIN}.selector.weekday.options."


def day_names(hass: HomeAssistant, days: list[str]) -> list[str]:
    """Weekdays ("mon") in Home Assistant's language, as loaded at setup (English else)."""
    strings = async_get_cached_translations(hass, hass.config.language, "selector", DOMAIN)
    english = async_get_cached_translations(hass, "en", "selector", DOMAIN)
    return [strings.get(_WEEKDAY + d) or english.get(_WEEKDAY + d) or d for d in days]


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


@callback
def async_report_history(hass: HomeAssistant, status: HistoryStatus) -> None:
    """Say how many days there are while the compact history fills; clear it once full."""
    if status.complete_on is None:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_HISTORY_FILLING)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_HISTORY_FILLING,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_HISTORY_FILLING,
        translation_placeholders={
            "days": str(status.days_available),
            "lookback": str(status.lookback_days),
            "date": status.complete_on.isoformat(),
        },
        learn_more_url="https://github.com/ai-automation/ai-automation#history",
    )


# --- after accept: an accepted automation the household undoes, pre-empts or never needs ---

AFTER_ACCEPT_PREFIX = "after_accept_"


def after_accept_issue_id(suggestion_id: str) -> str:
    """One issue per accepted automation: its suggestion's id."""
    return f"{AFTER_ACCEPT_PREFIX}{suggestion_id}"


def _name(hass: HomeAssistant, entity_id: str | None, fallback: str) -> str:
    state = hass.states.get(entity_id) if entity_id else None
    return str(state.name) if state is not None else fallback


@callback
def async_report_after_accept(
    hass: HomeAssistant,
    entry_id: str,
    findings: list[dict[str, Any]],
    records: dict[str, dict[str, Any]],
    people: tuple[str, ...],
) -> None:
    """Raise an issue per finding; clear those of accepted automations that have none now.

    An issue whose suggestion is no longer accepted (undone, its automation deleted) is
    cleared too: only the accepted records of this run can keep one.
    """
    raised = set()
    for finding in findings:
        record = records[finding["suggestion_id"]]
        issue_id = after_accept_issue_id(finding["suggestion_id"])
        raised.add(issue_id)
        automation = record.get("accepted_automation") or record["automation"]
        target = (automation["actions"][0].get("target") or {}).get("entity_id")
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            # Kept over a restart: the next job clears it when it no longer holds.
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=f"{AFTER_ACCEPT_PREFIX}{finding['problem']}_{finding['proposal']}",
            translation_placeholders={
                "name": _name(hass, finding["automation_entity_id"], str(automation.get("alias"))),
                "entity": _name(hass, target, str(target)),
                "fired": str(finding["fired"]),
                "undone": str(finding["undone"]),
                "usual_time": finding["usual_time"] or "-",
                "new_time": finding["new_time"] or "-",
                "days": ", ".join(day_names(hass, finding["weekdays"])) or "-",
            },
            data={
                "entry_id": entry_id,
                "suggestion_id": finding["suggestion_id"],
                "proposal": finding["proposal"],
                "new_time": finding["new_time"],
                "weekdays": ",".join(finding["weekdays"]),
                "people": ",".join(people),
            },
        )
    async_clear_after_accept(hass, keep=raised)


@callback
def async_clear_after_accept(hass: HomeAssistant, keep: set[str] | None = None) -> None:
    """Delete the after-accept issues (but those in ``keep``): also when the entry is deleted."""
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(AFTER_ACCEPT_PREFIX) and issue_id not in (keep or set()):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix of an after-accept issue: apply what it proposes (see ``after_accept_fix``)."""
    return AfterAcceptFixFlow(dict(data or {}))

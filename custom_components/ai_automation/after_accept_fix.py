"""The fix of an after-accept Repairs issue: the automation rewritten as proposed, or removed.

A new time, other weekdays or a "someone home" condition is written through the same path
accept uses (``Decisions.async_replace_accepted``: validated, written to automations.yaml,
reloaded). Removing it undoes the accept and dismisses the suggestion, so the routine that
the household did not want automated is not suggested again.
"""

from __future__ import annotations

import copy
from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from .compat import RepairsFlowResult, vol
from .const import DOMAIN, LOGGER, WEEKDAYS
from .decisions import Decisions
from .engine.after_accept import PROPOSE_MOVE, PROPOSE_REMOVE, PROPOSE_SOMEONE_HOME, PROPOSE_WEEKDAYS

DISMISS_REASON = "Undone by hand after it was accepted (Repairs)"


def _with_time(automation: dict[str, Any], new_time: str) -> dict[str, Any]:
    """Its time trigger at ``new_time`` ("HH:MM"); a title that named the old time names the new."""
    old = str(automation["triggers"][0]["at"])[:5]
    automation["triggers"][0]["at"] = f"{new_time}:00"
    if isinstance(alias := automation.get("alias"), str):
        automation["alias"] = alias.replace(old, new_time)
    return automation


def _with_weekdays(automation: dict[str, Any], weekdays: list[str]) -> dict[str, Any]:
    """Only on ``weekdays``: its weekday condition replaced (or the first condition added)."""
    condition = {"condition": "time", "weekday": [d for d in WEEKDAYS if d in weekdays]}
    conditions = [
        c for c in automation.get("conditions") or [] if not (c.get("condition") == "time" and "weekday" in c)
    ]
    automation["conditions"] = [condition, *conditions]
    return automation


def _with_someone_home(automation: dict[str, Any], people: list[str]) -> dict[str, Any]:
    """Only while one of ``people`` is home, as a suggestion that needs someone home has it."""
    condition: dict[str, Any] = {"condition": "state", "entity_id": list(people), "state": "home"}
    if len(people) > 1:
        condition["match"] = "any"
    automation["conditions"] = [*(automation.get("conditions") or []), condition]
    return automation


def proposed_automation(automation: dict[str, Any], finding: dict[str, Any]) -> dict[str, Any]:
    """The accepted automation changed as the issue's data proposes (not for removing it).

    Its ``weekdays`` and ``people`` are comma-separated (an issue's data holds no lists).
    """
    changed = copy.deepcopy(automation)
    proposal = finding["proposal"]
    if proposal == PROPOSE_MOVE:
        return _with_time(changed, str(finding["new_time"]))
    if proposal == PROPOSE_WEEKDAYS:
        return _with_weekdays(changed, str(finding["weekdays"]).split(","))
    if proposal == PROPOSE_SOMEONE_HOME:
        return _with_someone_home(changed, str(finding["people"]).split(","))
    raise ValueError(proposal)


class AfterAcceptFixFlow(RepairsFlow):
    """Confirm, then apply the proposal of the issue; abort (translated) if that fails."""

    def __init__(self, data: dict[str, Any]) -> None:
        """``data``: the issue's data (the job's finding, the entry and the people)."""
        self._finding = data

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """The first step is the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """Show the issue's text; on submit apply it."""
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        placeholders = dict(issue.translation_placeholders or {}) if issue is not None else {}
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", data_schema=vol.Schema({}), description_placeholders=placeholders
            )
        try:
            await self._async_apply()
        except HomeAssistantError as err:
            LOGGER.warning("Could not apply the fix of %s: %s", self.issue_id, err)
            return self.async_abort(reason="apply_failed", description_placeholders={"error": str(err)})
        return self.async_create_entry(data={})

    def _decisions(self) -> Decisions:
        entry = self.hass.config_entries.async_get_entry(str(self._finding["entry_id"]))
        if entry is None or not hasattr(entry, "runtime_data"):
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="not_loaded")
        decisions: Decisions = entry.runtime_data.coordinator.decisions
        return decisions

    async def _async_apply(self) -> None:
        decisions = self._decisions()
        suggestion_id = str(self._finding["suggestion_id"])
        record = decisions.record(suggestion_id)
        if self._finding["proposal"] == PROPOSE_REMOVE:
            await decisions.async_undo(suggestion_id, context=None)
            await decisions.async_dismiss(suggestion_id, days=None, context=None, reason=DISMISS_REASON)
        else:
            automation = record.get("accepted_automation") or record["automation"]
            changed = proposed_automation(automation, self._finding)
            await decisions.async_replace_accepted(suggestion_id, changed, context=None)
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

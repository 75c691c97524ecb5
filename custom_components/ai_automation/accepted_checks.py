"""After accept, the shell part: which accepted automations to watch, and what the job says.

Each job, after detect, hands every automation that came from an accepted suggestion to
``engine.after_accept`` with the history the job read, and records what it found in the
job record (``after_accept``) and as one Repairs issue per automation (``repairs``). Only
accepted records are watched: an automation that did not come from us is never looked at.
An automation whose trigger is not one we suggest (edited by hand into something else, or
a back-and-forth one with two triggers) is left alone.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import LOGGER, WEEKDAYS
from .decisions import Decisions
from .detection import Detection
from .engine.after_accept import Finding, Watched, check_all
from .jobs import JobRecord
from .repairs import async_report_after_accept
from .suggestions import presence_event_of
from .wording import hhmm


def _seconds(value: Any) -> float:
    """A trigger's ``for`` or a sun ``offset`` ("[-]HH:MM:SS" or {hours, minutes, seconds})."""
    if isinstance(value, dict):
        units = (("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0))
        return sum((float(value.get(unit, 0)) * factor for unit, factor in units), 0.0)
    if isinstance(value, str) and value:
        sign = -1.0 if value.startswith("-") else 1.0
        parts = [float(p) for p in value.lstrip("-").split(":")]
        return sign * sum(p * 60.0**i for i, p in enumerate(reversed(parts)))
    return 0.0


def _trigger_fields(trigger: dict[str, Any]) -> dict[str, Any] | None:
    """The ``Watched`` fields of the one trigger we suggest, or None for any other."""
    kind = trigger.get("trigger", trigger.get("platform"))
    if kind == "time" and isinstance(at := trigger.get("at"), str) and at[:2].isdigit():
        return {"minute": int(at[:2]) * 60 + int(at[3:5])}
    if kind == "sun" and trigger.get("event") in ("sunrise", "sunset"):
        return {"sun_event": trigger["event"], "sun_offset_min": round(_seconds(trigger.get("offset")) / 60)}
    if kind == "state" and (event := presence_event_of(trigger)) is not None:
        return {"presence_event": event, "for_s": _seconds(trigger.get("for"))}
    if kind == "state":
        entity = trigger.get("entity_id")
        entity = entity[0] if isinstance(entity, list) and len(entity) == 1 else entity
        if isinstance(entity, str) and isinstance(trigger.get("to"), str):
            return {
                "trigger_entity_id": entity,
                "trigger_to_state": trigger["to"],
                "for_s": _seconds(trigger.get("for")),
            }
    return None


def _weekdays(conditions: list[dict[str, Any]]) -> tuple[int, ...]:
    for condition in conditions:
        if condition.get("condition") == "time" and isinstance(days := condition.get("weekday"), list):
            return tuple(WEEKDAYS.index(d) for d in days if d in WEEKDAYS)
    return tuple(range(7))


def _needs_someone_home(conditions: list[dict[str, Any]]) -> bool:
    return any(c.get("condition") == "state" and c.get("state") == "home" for c in conditions)


def automation_of(record: dict[str, Any]) -> dict[str, Any]:
    """The automation an accepted record made: as the user edited it, or as suggested."""
    automation: dict[str, Any] = record.get("accepted_automation") or record["automation"]
    return automation


def _targets(automation: dict[str, Any], pattern: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(entity, state) each action sets: one, each part of a group, each entity of a scene."""
    actions = automation.get("actions") or []
    scene = (actions[0].get("data") or {}).get("entities") if len(actions) == 1 else None
    if actions and actions[0].get("action") == "scene.apply" and isinstance(scene, dict):
        return [
            (str(e), str(v.get("state"))) for e, v in scene.items() if isinstance(v, dict) and v.get("state")
        ]
    parts = pattern.get("parts")
    states = {p["entity_id"]: p["to_state"] for p in parts} if parts else None
    found = []
    for action in actions:
        target = (action.get("target") or {}).get("entity_id") if isinstance(action, dict) else None
        if not isinstance(target, str):
            return None
        to_state = states.get(target) if states is not None else pattern.get("to_state")
        if to_state is None:
            return None
        found.append((target, str(to_state)))
    return found if found and (states is not None or len(found) == 1) else None


def watched_of(hass: HomeAssistant, record: dict[str, Any]) -> list[Watched]:
    """What to watch of an accepted record (one per device it sets); [] when its automation
    is gone or not one we read."""
    pattern, automation = record.get("pattern") or {}, automation_of(record)
    entity_id = record.get("automation_entity_id")
    accepted_at = dt_util.parse_datetime(record.get("accepted_at") or "")
    if not entity_id or accepted_at is None or (state := hass.states.get(entity_id)) is None:
        return []
    triggers = automation.get("triggers") or []
    targets = _targets(automation, pattern)
    fields = _trigger_fields(triggers[0]) if len(triggers) == 1 else None
    if not targets or fields is None:
        return []
    conditions = automation.get("conditions") or []
    last = state.attributes.get("last_triggered")
    last_ts = (dt_util.parse_datetime(last) if isinstance(last, str) else last) if last else None
    return [
        Watched(
            key=record["id"],
            entity_id=target,
            to_state=to_state,
            since_ts=accepted_at.timestamp(),
            weekdays=_weekdays(conditions),
            needs_someone_home=_needs_someone_home(conditions),
            last_triggered_ts=last_ts.timestamp() if last_ts is not None else None,
            **fields,
        )
        for target, to_state in targets
    ]


def _worst(findings: list[Finding]) -> list[Finding]:
    """One finding an automation: of a group's devices, the one most often undone."""
    worst: dict[str, Finding] = {}
    for finding in findings:
        kept = worst.get(finding.key)
        if kept is None or (finding.undone, finding.fired) > (kept.undone, kept.fired):
            worst[finding.key] = finding
    return list(worst.values())


def finding_to_dict(finding: Finding, record: dict[str, Any]) -> dict[str, Any]:
    """One entry of the job record's ``after_accept``."""
    return {
        "suggestion_id": finding.key,
        "automation_id": automation_of(record).get("id"),
        "automation_entity_id": record.get("automation_entity_id"),
        "problem": finding.problem,
        "proposal": finding.proposal,
        "fired": finding.fired,
        "undone": finding.undone,
        "usual_time": hhmm(finding.usual_minute) if finding.usual_minute is not None else None,
        "new_time": hhmm(finding.new_minute) if finding.new_minute is not None else None,
        "weekdays": [WEEKDAYS[d] for d in finding.weekdays],
        "last_fired": dt_util.utc_from_timestamp(finding.last_fired_ts).isoformat()
        if finding.last_fired_ts is not None
        else None,
    }


async def async_check_accepted(
    hass: HomeAssistant,
    entry_id: str,
    job: JobRecord,
    detection: Detection,
    decisions: Decisions,
    origin_known: bool = True,
) -> None:
    """Check every accepted automation; a failure is logged and recorded, never the job's.

    ``origin_known``: whether the history says who caused each change (see ``check``).
    """
    try:
        records = {r["id"]: r for r in decisions.accepted}
        watched = [w for r in records.values() for w in watched_of(hass, r)]
        findings = await hass.async_add_executor_job(
            partial(
                check_all,
                detection.log,
                watched,
                dt_util.utcnow().timestamp(),
                sun=detection.sun,
                presence=detection.presence,
                origin_known=origin_known,
            )
        )
        job["after_accept"] = [finding_to_dict(f, records[f.key]) for f in _worst(findings)]
        people = detection.presence.people if detection.presence is not None else ()
        async_report_after_accept(hass, entry_id, job["after_accept"], records, people)
    except Exception as err:  # noqa: BLE001 - a check that fails must not fail the job
        LOGGER.exception("Checking the accepted automations failed")
        job["after_accept_error"] = str(err) or type(err).__name__

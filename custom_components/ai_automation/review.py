"""What the review panel shows of a suggestion, and the suggestion as the user edited it.

Each job stores, per suggestion, the evidence its chart and its edited backtests are
replayed from (``engine.evidence``): the household's acts, the trigger's events and the
analysed days, in ``.storage/ai_automation_evidence.<entry id>``. Opening a suggestion
reads no recorder history; an edit replays the backtest on that evidence in the executor.
Only a changed *target* needs what that other entity did: its history of the job's window
is read from the recorder then (one entity).

An edit is a *form*: the trigger's time or sun offset, its ``for``, the weekdays, the
target, and which of the suggested conditions to keep. The edited automation is built from
the form and the stored suggestion, never taken from the browser as it is.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from homeassistant.components.recorder import history
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import dump

from .const import DOMAIN, WEEKDAYS
from .detection import Detection
from .engine.co_occurrence import CoOccurrenceParams
from .engine.evidence import (
    TRIGGER_HELD,
    TRIGGER_STATE,
    TRIGGER_SUN,
    TRIGGER_TIME,
    Conditions,
    Evidence,
    Replay,
    Trigger,
    away_days,
    chart,
    gather,
    replay,
)
from .engine.local_time import SECONDS_PER_DAY
from .engine.presence_triggers import LEAVE, PresenceTriggerParams, event_rows
from .suggestions import condition_list, for_duration, presence_trigger, sun_offset
from .wording import group_title

_EPOCH = date(1970, 1, 1)
CONDITION_WINDOW = "window"
CONDITION_DARK = "dark"
CONDITION_NOT_ALREADY = "not_already"
CONDITION_HOME = "home"

type Gathered = dict[tuple[str, ...], list[dict[str, Any]]]


def directions(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The patterns a suggestion acts on: one, a way there and a way back, or its parts."""
    pattern = record.get("pattern") or {}
    if pattern.get("parts"):
        return list(pattern["parts"])
    return [pattern, pattern["back"]] if pattern.get("back") else [pattern]


def is_group(record: dict[str, Any]) -> bool:
    """Routines done together: one trigger, an action per part (each may be left out)."""
    return bool((record.get("pattern") or {}).get("parts"))


def _lead_s(pattern: dict[str, Any]) -> float:
    """How long before the trigger the household's act still counts (on the way out)."""
    if pattern["type"] != "presence":
        return 0.0
    params = PresenceTriggerParams()
    return params.lead_s if pattern["event"] == LEAVE else params.slack_s


def _tolerance_s(pattern: dict[str, Any], backtest: dict[str, Any]) -> float:
    """How far from the firing the household's act still counts as the same one."""
    if pattern["type"] == "presence":
        params = PresenceTriggerParams()
        return params.slack_s if pattern["event"] == LEAVE else params.after_s
    if pattern["type"] == "co_occurrence":
        return CoOccurrenceParams().window_s  # as the detector counted followers
    if pattern["type"] == "duration":
        return float(pattern["high_s"]) - float(pattern["duration_s"])
    return float(backtest.get("tolerance_min", 15)) * 60


def _trigger_pair(pattern: dict[str, Any]) -> tuple[str, str] | None:
    if pattern["type"] == "co_occurrence":
        return (pattern["trigger_entity_id"], pattern["trigger_to_state"])
    if pattern["type"] == "duration":
        return (pattern["entity_id"], pattern["from_state"])
    return None


def gather_evidence(detection: Detection, suggestions: list[dict[str, Any]]) -> Gathered:
    """Each suggestion's evidence, by its pattern ids (ids of suggestions may change on publish)."""
    log = detection.log
    away = away_days(log, detection.presence)
    gathered: Gathered = {}
    for suggestion in suggestions:
        gathered[tuple(suggestion["pattern_ids"])] = [
            gather(
                log,
                detection.sun,
                (p["entity_id"], p["to_state"]),
                trigger=_trigger_pair(p),
                trigger_rows=event_rows(log, p["event"]) if p["type"] == "presence" else None,
                tolerance_s=_tolerance_s(p, suggestion.get("backtest") or {}),
                away=away,
                people=tuple(p.get("home") or ()),
            ).as_dict()
            for p in directions(suggestion)
        ]
    return gathered


class EvidenceStore:
    """The stored evidence of the current suggestions (replaced by each job's)."""

    def __init__(self, store: Store[dict[str, Any]]) -> None:
        self._store = store
        self._items: dict[str, dict[str, Any]] = {}

    async def async_load(self) -> None:
        """Read what the last job stored (nothing when it is missing or unreadable)."""
        data = await self._store.async_load()
        items = data.get("suggestions") if isinstance(data, dict) else None
        self._items = dict(items) if isinstance(items, dict) else {}

    def get(self, suggestion_id: str) -> dict[str, Any] | None:
        """``{"window": [start, end], "directions": [evidence, ...]}`` of a suggestion."""
        return self._items.get(suggestion_id)

    async def async_update(
        self,
        window: tuple[datetime, datetime],
        suggestions: list[dict[str, Any]],
        gathered: Gathered,
        keep: set[str],
    ) -> None:
        """The job's evidence of its suggestions; older evidence only of ``keep`` (pending, accepted)."""
        items = {sid: item for sid, item in self._items.items() if sid in keep}
        span = [window[0].isoformat(), window[1].isoformat()]
        for suggestion in suggestions:
            found = gathered.get(tuple(suggestion["pattern_ids"]))
            if found is not None:
                items[suggestion["id"]] = {"window": span, "directions": found}
        self._items = items
        await self._store.async_save({"suggestions": items})


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _trigger_kind(pattern: dict[str, Any]) -> str:
    if pattern["type"] in ("co_occurrence", "presence"):
        return TRIGGER_STATE
    if pattern["type"] == "duration":
        return TRIGGER_HELD
    return TRIGGER_SUN if pattern.get("sun_event") else TRIGGER_TIME


def _for_s(automation_trigger: dict[str, Any]) -> int:
    held = automation_trigger.get("for") or {}
    return int(held.get("hours", 0)) * 3600 + int(held.get("minutes", 0)) * 60 + int(held.get("seconds", 0))


def form_of(record: dict[str, Any]) -> dict[str, Any]:
    """The suggestion as the panel's edit form starts: what the job suggested."""
    ways = directions(record)
    pattern = record["pattern"] if is_group(record) else ways[0]
    kind = _trigger_kind(pattern)
    triggers = record["automation"]["triggers"]
    form: dict[str, Any] = {
        "trigger": kind,
        "target": pattern["entity_id"],
        "weekdays": list(pattern.get("days") or WEEKDAYS)
        if kind in (TRIGGER_TIME, TRIGGER_SUN)
        else list(WEEKDAYS),
        "conditions": {} if is_group(record) else {CONDITION_NOT_ALREADY: True},
        "alias": record["automation"].get("alias") or record.get("title") or "",
    }
    if is_group(record):
        # Which parts to do: all, as suggested (the target is each part's own).
        form["parts"] = {p["entity_id"]: True for p in ways}
    if kind == TRIGGER_TIME:
        form["time"] = pattern["time"]
    elif kind == TRIGGER_SUN:
        form["sun_event"] = pattern["sun_event"]
        form["sun_offset_min"] = int(pattern["sun_offset_min"])
    else:
        form["for_s"] = _for_s(triggers[0])
        if len(ways) > 1:
            form["back_for_s"] = _for_s(triggers[1])
    if any(p.get("window") for p in ways):
        form["conditions"][CONDITION_WINDOW] = True
    if any(p.get("after_dark") for p in ways):
        form["conditions"][CONDITION_DARK] = True
    if any(p.get("home") for p in ways):
        form["conditions"][CONDITION_HOME] = True
    return form


def checked_form(hass: HomeAssistant, record: dict[str, Any], edits: dict[str, Any] | None) -> dict[str, Any]:
    """The suggestion's form with the user's edits, each checked against what it may change."""
    form = form_of(record)
    if not edits:
        return form
    kind = form["trigger"]
    allowed = {"parts"} if "parts" in form else {"target"}
    allowed |= {"weekdays", "conditions", "alias"}
    allowed |= {"time"} if kind == TRIGGER_TIME else {"sun_offset_min"} if kind == TRIGGER_SUN else {"for_s"}
    if "back_for_s" in form:
        allowed.add("back_for_s")
    for field in edits:
        if field not in allowed:
            raise _error("edit_not_possible", field=field)
    for entity_id, keep in (edits.get("parts") or {}).items():
        if entity_id not in form["parts"]:
            raise _error("edit_not_possible", field=f"parts.{entity_id}")
        form["parts"][entity_id] = bool(keep)
    if "parts" in form and not any(form["parts"].values()):
        raise _error("edit_not_possible", field="parts")
    for name, keep in (edits.get("conditions") or {}).items():
        if name not in form["conditions"]:
            raise _error("edit_not_possible", field=f"conditions.{name}")
        form["conditions"][name] = bool(keep)
    for field in allowed - {"conditions", "parts"}:
        if field in edits:
            form[field] = edits[field]
    original = form_of(record)["target"]
    if form["target"] != original:
        domain = original.split(".", 1)[0]
        if form["target"].split(".", 1)[0] != domain or hass.states.get(form["target"]) is None:
            raise _error("invalid_target", entity_id=form["target"], domain=domain)
    if kind == TRIGGER_HELD and int(form["for_s"]) < 1:
        raise _error("edit_not_possible", field="for_s")
    if not form["weekdays"]:
        raise _error("edit_not_possible", field="weekdays")
    return form


def _trigger_config(form: dict[str, Any], pattern: dict[str, Any], for_s: int) -> dict[str, Any]:
    kind = form["trigger"]
    if kind == TRIGGER_TIME:
        return {"trigger": "time", "at": f"{form['time']}:00"}
    if kind == TRIGGER_SUN:
        return {
            "trigger": "sun",
            "event": form["sun_event"],
            "offset": sun_offset(int(form["sun_offset_min"])),
        }
    trigger: dict[str, Any]
    if pattern["type"] == "presence":
        trigger = presence_trigger(pattern["event"], pattern["people"])
    else:
        entity = form["target"] if kind == TRIGGER_HELD else pattern["trigger_entity_id"]
        state = pattern["from_state"] if kind == TRIGGER_HELD else pattern["trigger_to_state"]
        trigger = {"trigger": "state", "entity_id": entity, "to": state}
    if for_s:
        trigger["for"] = for_duration(for_s)
    return trigger


def _conditions_config(form: dict[str, Any], pattern: dict[str, Any]) -> list[dict[str, Any]]:
    keep = form["conditions"]
    window = pattern.get("window") if keep.get(CONDITION_WINDOW) else None
    return condition_list(
        form["target"],
        pattern["to_state"],
        weekdays=list(form["weekdays"]),
        window=(window[0], window[1]) if window else None,
        dark=bool(pattern.get("after_dark")) and bool(keep.get(CONDITION_DARK)),
        home=tuple(pattern.get("home") or ()) if keep.get(CONDITION_HOME) else (),
        # What "when the last one leaves" means: never left out.
        nobody_home=tuple(pattern["people"]) if pattern.get("event") == LEAVE else (),
        not_already=bool(keep.get(CONDITION_NOT_ALREADY)),
    )


def _retarget(action: dict[str, Any], entity_id: str) -> dict[str, Any]:
    return {**copy.deepcopy(action), "target": {"entity_id": entity_id}}


def _alias(record: dict[str, Any], form: dict[str, Any]) -> str:
    """The user's name; else the suggested one, its time following an edited time."""
    suggested = record["automation"].get("alias") or ""
    alias = str(form.get("alias") or suggested)
    pattern = record.get("pattern") or {}
    kept = [p for p in pattern.get("parts") or () if (form.get("parts") or {}).get(p["entity_id"])]
    if alias == suggested and pattern.get("when") and len(kept) < len(pattern.get("parts") or ()):
        # Fewer parts: the title of those kept (it named the others too).
        alias = group_title(
            [p["to_state"] for p in kept],
            [str(p.get("name") or p["entity_id"]) for p in kept],
            str(pattern["when"]),
            scene=bool(pattern.get("scene")),
        )
    if alias == suggested and form["trigger"] == TRIGGER_TIME and pattern.get("time"):
        alias = alias.replace(pattern["time"], form["time"])
    return alias


def _description(record: dict[str, Any]) -> str:
    """The evidence, and that it was changed: the suggested wording may name another time."""
    evidence = str(record.get("evidence") or "").strip()
    note = "Suggested by AI Automation and changed in its review panel before it was created."
    return f"{evidence} {note}" if evidence else note


def edited_automation(record: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The automation the form describes, in the shape the automation editor writes."""
    original = record["automation"]
    ways = directions(record)
    common = {
        "id": original["id"],
        "alias": _alias(record, form),
        "description": original.get("description", ""),
    }
    if "parts" in form:
        scene = record["pattern"].get("scene")
        if scene:
            # As a scene: the kept parts' states and levels.
            entities = {e: v for e, v in scene.items() if form["parts"].get(e)}
            kept = [{"action": "scene.apply", "data": {"entities": copy.deepcopy(entities)}}]
        else:
            kept = [
                action
                for action, way in zip(original["actions"], ways, strict=True)
                if form["parts"].get(way["entity_id"])
            ]
        return {
            **common,
            "triggers": [_trigger_config(form, record["pattern"], 0)],
            "conditions": _conditions_config(form, record["pattern"]),
            "actions": copy.deepcopy(kept),
            "mode": original.get("mode", "single"),
        }
    if len(ways) == 1:
        return {
            **common,
            "triggers": [_trigger_config(form, ways[0], int(form.get("for_s") or 0))],
            "conditions": _conditions_config(form, ways[0]),
            "actions": [_retarget(original["actions"][0], form["target"])],
            "mode": original.get("mode", "single"),
        }
    options = original["actions"][0]["choose"]
    fors = (int(form.get("for_s") or 0), int(form.get("back_for_s") or 0))
    triggers = []
    chooses = []
    for way, option, for_s, trigger in zip(ways, options, fors, original["triggers"], strict=True):
        triggers.append({**_trigger_config(form, way, for_s), "id": trigger["id"]})
        chooses.append(
            {
                "conditions": [option["conditions"][0], *_conditions_config(form, way)],
                "sequence": [_retarget(option["sequence"][0], form["target"])],
            }
        )
    return {
        **common,
        "triggers": triggers,
        "conditions": [],
        "actions": [{"choose": chooses}],
        "mode": "queued",
    }


def _minute(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 60 + int(minutes)


def _replay_spec(form: dict[str, Any], pattern: dict[str, Any], for_s: int) -> tuple[Trigger, Conditions]:
    kind = form["trigger"]
    if kind == TRIGGER_TIME:
        trigger = Trigger(kind, minute=_minute(form["time"]))
    elif kind == TRIGGER_SUN:
        trigger = Trigger(kind, sun_event=form["sun_event"], offset_min=int(form["sun_offset_min"]))
    else:
        trigger = Trigger(kind, for_s=float(for_s), lead_s=_lead_s(pattern))
    keep = form["conditions"]
    window = pattern.get("window") if keep.get(CONDITION_WINDOW) else None
    conditions = Conditions(
        weekdays=tuple(WEEKDAYS.index(d) for d in form["weekdays"]),
        window=(_minute(window[0]), _minute(window[1])) if window else None,
        dark=bool(pattern.get("after_dark")) and bool(keep.get(CONDITION_DARK)),
        home=tuple(pattern.get("home") or ()) if keep.get(CONDITION_HOME) else (),
    )
    return trigger, conditions


def _day_name(day: int) -> str:
    return date.fromordinal(_EPOCH.toordinal() + day).isoformat()


def replay_form(record: dict[str, Any], stored: list[dict[str, Any]], form: dict[str, Any]) -> dict[str, Any]:
    """The form's automation replayed on each direction's evidence: numbers and chart rows.

    Runs in the executor (numpy over a month of events).
    """
    ways = directions(record)
    fors: tuple[int, ...] = (int(form.get("for_s") or 0), int(form.get("back_for_s") or 0))
    suggested = form_of(record)
    results: list[tuple[Replay, Evidence]] = []
    if "parts" in form:
        # Each part kept, on its own evidence, with the group's trigger and conditions.
        kept = [(w, d) for w, d in zip(ways, stored, strict=False) if form["parts"].get(w["entity_id"])]
        ways, stored, fors = [w for w, _ in kept], [d for _, d in kept], (0,) * len(kept)
    for way, data, for_s in zip(ways, stored, fors, strict=False):
        evidence = Evidence.from_dict(data)
        trigger, conditions = _replay_spec(form, way, for_s)
        reference, _ = _replay_spec(suggested, way, for_s)
        results.append((replay(evidence, trigger, conditions, reference), evidence))
    fired = sum(r.would_have_fired for r, _ in results)
    matched = sum(r.matched for r, _ in results)
    rows = []
    for (result, evidence), way in zip(results, ways, strict=False):
        days = chart(evidence, result)
        for row in days:
            row["date"] = _day_name(row.pop("day"))
        rows.append({"entity_id": way["entity_id"], "to_state": way["to_state"], "days": days})
    return {
        "backtest": {
            "would_have_fired": fired,
            "matched": matched,
            "missed": sum(r.missed for r, _ in results),
            "precision": round(matched / fired, 3) if fired else 0.0,
        },
        "chart": rows,
    }


def _stamp(moment: datetime) -> float:
    local = dt_util.as_local(moment)
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return (local.date() - _EPOCH).days * SECONDS_PER_DAY + seconds


def _target_history(
    hass: HomeAssistant, entity_id: str, start: datetime, end: datetime
) -> list[tuple[float, str]]:
    """The entity's state changes in the window (recorder thread): (stamp, state)."""
    states = history.state_changes_during_period(
        hass, start, end, entity_id=entity_id, no_attributes=True, include_start_time_state=False
    ).get(entity_id, [])
    return [(_stamp(s.last_changed), s.state) for s in states]


async def async_for_target(
    hass: HomeAssistant, record: dict[str, Any], item: dict[str, Any], target: str
) -> list[dict[str, Any]]:
    """The stored evidence with another target's acts (and its own episodes, for a "for" trigger)."""
    start, end = (dt_util.parse_datetime(t) for t in item["window"])
    assert start is not None and end is not None
    changes = await get_instance(hass).async_add_executor_job(_target_history, hass, target, start, end)
    out = []
    for way, data in zip(directions(record), item["directions"], strict=False):
        # A change into the state from another one: what the acts of the job's target were.
        acts = [
            stamp
            for (stamp, state), (_, before) in zip(changes[1:], changes[:-1], strict=True)
            if state == way["to_state"] and before != state
        ]
        if changes and changes[0][1] == way["to_state"]:
            acts.insert(0, changes[0][0])
        edited = {**data, "acts": [round(a) for a in acts]}
        if way["type"] == "duration":
            ends = [stamp for stamp, _ in changes[1:]] + [
                float((int(data["last_day"]) + 1) * SECONDS_PER_DAY)
            ]
            edited["candidates"] = [
                [round(stamp), round(until - stamp)]
                for (stamp, state), until in zip(changes, ends, strict=True)
                if state == way["from_state"]
            ]
        out.append(edited)
    return out


async def async_review(
    hass: HomeAssistant, record: dict[str, Any], item: dict[str, Any] | None, edits: dict[str, Any] | None
) -> dict[str, Any]:
    """What the panel shows of a suggestion: the form, its automation and YAML, its replay.

    A suggestion stored by an earlier version has no pattern to edit or replay: it is shown
    as it is, and the next run that finds it again brings the rest.
    """
    if not record.get("pattern"):
        if edits:
            raise _error("edit_not_possible", field="form")
        automation = record["automation"]
        return {
            "form": None,
            "automation": automation,
            "yaml": dump(automation),
            "backtest": None,
            "chart": [],
        }
    form = checked_form(hass, record, edits)
    # Unedited: what was created when it was accepted (maybe as the user changed it).
    automation = (
        edited_automation(record, form)
        if edits
        else record.get("accepted_automation") or record["automation"]
    )
    result: dict[str, Any] = {
        "form": form,
        "automation": automation,
        "yaml": dump(automation),
        "backtest": None,
        "chart": [],
    }
    if item is None:
        return result  # from a version that stored no evidence: the next run brings it
    stored = item["directions"]
    if form["target"] != form_of(record)["target"]:
        stored = await async_for_target(hass, record, item, form["target"])
    result.update(await hass.async_add_executor_job(replay_form, record, stored, form))
    return result

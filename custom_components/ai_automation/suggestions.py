"""Patterns -> Home Assistant automation configs, validated by HA's own validator."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .compat import vol
from .const import LOGGER, WEEKDAYS
from .dedupe import automation_links
from .detection import Detection, suggestable
from .engine.backtest import Backtest
from .engine.co_occurrence import CoOccurrencePattern
from .engine.duration import DurationPattern
from .engine.event_log import EventLog
from .engine.grouping import group_routines
from .engine.local_time import MINUTES_PER_DAY
from .engine.presence import HOME, PEOPLE_DOMAINS
from .engine.presence_triggers import ARRIVE, LEAVE, PresencePattern
from .engine.time_of_day import TimeOfDayPattern
from .scenes import async_scene_of
from .wording import friendly_name, hhmm, word

_ON_OFF = {"on": "turn_on", "off": "turn_off"}
# (domain, target state) -> (service, extra service data)
_ACTIONS: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "light": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "switch": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "fan": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "input_boolean": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "siren": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "humidifier": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "media_player": {"on": ("turn_on", {}), "off": ("turn_off", {})},
    "cover": {"open": ("open_cover", {}), "closed": ("close_cover", {})},
    "valve": {"open": ("open_valve", {}), "closed": ("close_valve", {})},
    # Unlocking is never suggested: an unconditional unlock is a door left open.
    "lock": {"locked": ("lock", {})},
    "climate": {
        mode: ("set_hvac_mode", {"hvac_mode": mode})
        for mode in ("off", "heat", "cool", "heat_cool", "auto", "dry", "fan_only")
    },
    "vacuum": {"cleaning": ("start", {}), "docked": ("return_to_base", {})},
}
# Domains whose state is the option chosen: the action selects that option.
_OPTION_DOMAINS = frozenset({"input_select", "select"})
# Covers that are doors: opening them on a timer lets people in.
_SECURITY_COVER_CLASSES = frozenset({"door", "garage", "gate"})


# A co-occurrence between two parts of a group is the group's when the follower's routine
# is at least this share of its follows (see ``_within_groups``).
TOGETHER_SHARE = 0.7

# A routine that came within this many minutes after the entity went to a state a trigger
# explains, on at least this share of its days, is that trigger's (see ``_after_triggered``).
AFTER_TRIGGER_MIN = 60
AFTER_TRIGGER_SHARE = 0.8

type Pattern = TimeOfDayPattern | CoOccurrencePattern | DurationPattern | PresencePattern


@dataclass(frozen=True, slots=True)
class Candidate:
    """A pattern that maps onto an action, before validation."""

    pattern_id: str
    pattern: Pattern
    backtest: dict[str, Any]  # would_have_fired, matched, precision, + its tolerance
    service: str
    data: dict[str, Any]
    # The same follower following the same trigger back (the light off when the motion
    # is over): one suggestion of both; ``backtest`` is then of both (see ``back_and_forth``).
    back: Candidate | None = None
    # Routines done together (bedtime: the TV off, the lounge light off, the door locked):
    # one suggestion of all, its parts in the order done. ``pattern`` is then the first
    # part's at the group's start and ``backtest`` is of all (see ``grouped``).
    parts: tuple[Candidate, ...] = ()
    # A group whose states are more than on/off: each part's state and attributes, applied
    # as a scene (see ``scenes``); None: the parts' own actions.
    scene: dict[str, dict[str, Any]] | None = None

    @property
    def precision(self) -> float:
        """Share of the automation's firings the household agreed with."""
        return float(self.backtest["precision"])

    @property
    def value(self) -> float:
        """What it does for the household: right firings a week, times its precision.

        One scale for clock, sun and trigger routines: a hallway light that follows its
        motion sensor twenty times a day is worth more than a weak weekly clock routine.
        """
        return _value(self.backtest)


def pattern_id(pattern: Pattern) -> str:
    """Stable id: the same routine keeps its id across runs while its time drifts a bit."""
    if isinstance(pattern, PresencePattern):
        raw = f"presence|{pattern.event}|{pattern.entity_id}|{pattern.to_state}"
        return "pr_" + hashlib.sha1(raw.encode()).hexdigest()[:12]
    if isinstance(pattern, DurationPattern):
        raw = f"duration|{pattern.entity_id}|{pattern.from_state}|{pattern.to_state}"
        return "du_" + hashlib.sha1(raw.encode()).hexdigest()[:12]
    if isinstance(pattern, CoOccurrencePattern):
        raw = (
            f"co_occurrence|{pattern.trigger_entity_id}|{pattern.trigger_to_state}"
            f"|{pattern.entity_id}|{pattern.to_state}"
        )
        return "co_" + hashlib.sha1(raw.encode()).hexdigest()[:12]
    anchor = pattern.sun_event or str(pattern.minute // 30)  # sun event, or half-hour slot
    raw = f"time_of_day|{pattern.entity_id}|{pattern.to_state}|{pattern.day_set}|{anchor}"
    return "tod_" + hashlib.sha1(raw.encode()).hexdigest()[:12]


def group_id(parts: tuple[Candidate, ...]) -> str:
    """Stable id of routines done together: of their parts, in any order."""
    raw = "group|" + "|".join(sorted(p.pattern_id for p in parts))
    return "grp_" + hashlib.sha1(raw.encode()).hexdigest()[:12]


def suggestion_id(candidate: Candidate) -> str:
    """Stable id of the suggested automation (also its automation ``id`` when accepted)."""
    if candidate.parts:
        raw = "|".join(sorted(f"{p.pattern_id}|{p.service}" for p in candidate.parts))
        return "ai_" + hashlib.sha1(raw.encode()).hexdigest()[:16]
    raw = f"{candidate.pattern_id}|{candidate.service}"
    if candidate.back is not None:
        raw += f"|{candidate.back.pattern_id}|{candidate.back.service}"
    return "ai_" + hashlib.sha1(raw.encode()).hexdigest()[:16]


def back_pattern(candidate: Candidate) -> CoOccurrencePattern | None:
    """The way back of a back-and-forth suggestion."""
    back = candidate.back.pattern if candidate.back else None
    return back if isinstance(back, CoOccurrencePattern) else None


def pattern_ids(candidate: Candidate) -> list[str]:
    """The patterns a suggestion is made of."""
    if candidate.parts:
        return [p.pattern_id for p in candidate.parts]
    return [candidate.pattern_id] + ([candidate.back.pattern_id] if candidate.back else [])


def part_patterns(candidate: Candidate) -> list[TimeOfDayPattern]:
    """The routines of a grouped suggestion, in the order done ([] for one of a single routine)."""
    return [p.pattern for p in candidate.parts if isinstance(p.pattern, TimeOfDayPattern)]


def pattern_to_dict(pattern: Pattern) -> dict[str, Any]:
    """The pattern in the job contract's shape."""
    common = {
        "id": pattern_id(pattern),
        "entity_id": pattern.entity_id,
        "to_state": pattern.to_state,
        "occurrences": pattern.occurrences,
        "confidence": pattern.confidence,
        "automated": pattern.automated,
    }
    if isinstance(pattern, PresencePattern):
        return {
            **common,
            "type": "presence",
            "event": pattern.event,
            "people": list(pattern.people),
            "events": pattern.events,
            "lag_s": pattern.lag_s,
            "after_dark": pattern.after_dark,
        }
    if isinstance(pattern, DurationPattern):
        return {
            **common,
            "type": "duration",
            "from_state": pattern.from_state,
            "duration_s": pattern.duration_s,
            "low_s": pattern.low_s,
            "high_s": pattern.high_s,
            "episodes": pattern.episodes,
            "origins": dict(pattern.origins),
        }
    if isinstance(pattern, CoOccurrencePattern):
        return {
            **common,
            "type": "co_occurrence",
            "trigger_entity_id": pattern.trigger_entity_id,
            "trigger_to_state": pattern.trigger_to_state,
            "lag_s": pattern.lag_s,
            "lag_p90_s": pattern.lag_p90_s,
            "trigger_count": pattern.trigger_count,
            "window": [hhmm(m) for m in pattern.window] if pattern.window else None,
            "after_dark": pattern.after_dark,
            "coverage": pattern.coverage,
            "lift": pattern.lift,
            "score": pattern.score,
            "origins": dict(pattern.origins),
        }
    return {
        **common,
        "type": "time_of_day",
        "time": pattern.time,
        "days": pattern.day_names,
        "day_set": pattern.day_set,
        "spread_min": pattern.spread_min,
        "eligible_days": pattern.eligible_days,
        "share_of_days": pattern.share_of_days,
        "sun_event": pattern.sun_event,
        "sun_offset_min": pattern.sun_offset_min,
        "presence": pattern.presence,
        "home": list(pattern.home),
        "origins": dict(pattern.origins),
    }


def suggested_pattern(candidate: Candidate) -> dict[str, Any]:
    """What a suggestion's words are made of: its pattern, with its way back or its parts."""
    pattern = pattern_to_dict(candidate.pattern)
    if candidate.back is not None:
        pattern["back"] = pattern_to_dict(candidate.back.pattern)
    if candidate.parts:
        pattern["id"] = candidate.pattern_id
        pattern["parts"] = [pattern_to_dict(p.pattern) for p in candidate.parts]
        if candidate.scene:
            pattern["scene"] = copy.deepcopy(candidate.scene)
    return pattern


def patterns_to_dicts(detection: Detection) -> list[dict[str, Any]]:
    """Every pattern of a run, in the contract's shape, strongest first per kind."""
    patterns: list[Pattern] = [
        *detection.time_of_day,
        *detection.co_occurrence,
        *detection.durations,
        *detection.comings_and_goings,
    ]
    return [pattern_to_dict(p) for p in patterns]


def services_of(domain: str) -> frozenset[str]:
    """The services a suggestion may call on ``domain``'s entities."""
    if domain in _OPTION_DOMAINS:
        return frozenset({"select_option"})
    return frozenset(service for service, _data in _ACTIONS.get(domain, {}).values())


def service_for(entity_id: str, to_state: str, device_class: str | None) -> tuple[str, dict[str, Any]] | None:
    """The service call that puts ``entity_id`` (of ``device_class``) in ``to_state``, or None."""
    domain = entity_id.split(".", 1)[0]
    if domain in _OPTION_DOMAINS:
        return f"{domain}.select_option", {"option": to_state}
    action = _ACTIONS.get(domain, {}).get(to_state)
    if action is None:
        return None
    if domain == "cover" and to_state == "open" and device_class in _SECURITY_COVER_CLASSES:
        return None
    service, data = action
    return f"{domain}.{service}", dict(data)


def device_class_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The entity's device class as its state shows it (None: none, or no state)."""
    state = hass.states.get(entity_id)
    return None if state is None else state.attributes.get("device_class")


def action_for(hass: HomeAssistant, entity_id: str, to_state: str) -> tuple[str, dict[str, Any]] | None:
    """The service call that puts ``entity_id`` in ``to_state``, or None if we won't."""
    return service_for(entity_id, to_state, device_class_of(hass, entity_id))


def _per_week(matched: int, days: int) -> float:
    """Right firings a week, over the days it could have fired on."""
    return round(matched * 7 / days, 2) if days else 0.0


def _time_of_day_backtest(log: EventLog, pattern: TimeOfDayPattern, backtest: Backtest) -> dict[str, Any]:
    return {
        "would_have_fired": backtest.would_have_fired,
        "matched": backtest.matched,
        "precision": backtest.precision,
        "tolerance_min": backtest.tolerance_min,
        "correct_per_week": _per_week(backtest.matched, log.eligible_days(pattern.entity_id).size),
    }


def _co_occurrence_backtest(log: EventLog, pattern: CoOccurrencePattern) -> dict[str, Any]:
    # The automation fires on every trigger event; the household followed within the
    # detector's window on ``occurrences`` of them.
    return {
        "would_have_fired": pattern.trigger_count,
        "matched": pattern.occurrences,
        "precision": round(pattern.occurrences / pattern.trigger_count, 3) if pattern.trigger_count else 0.0,
        "within_s": pattern.lag_p90_s,
        "correct_per_week": _per_week(pattern.occurrences, log.eligible_days(pattern.trigger_entity_id).size),
    }


def _duration_backtest(log: EventLog, pattern: DurationPattern) -> dict[str, Any]:
    # It fires once the state has lasted the typical time; the household ended those
    # episodes within the band (a little later) on ``matched`` of them.
    fired, matched = pattern.would_have_fired, pattern.matched
    return {
        "would_have_fired": fired,
        "matched": matched,
        "precision": round(matched / fired, 3) if fired else 0.0,
        "within_s": round(pattern.high_s - pattern.duration_s, 1),
        "correct_per_week": _per_week(matched, log.eligible_days(pattern.entity_id).size),
    }


def _presence_backtest(log: EventLog, pattern: PresencePattern) -> dict[str, Any]:
    # It fires on each leave (arrival) where the target was not already so (in the dark,
    # if that is its condition); the household did the same around ``occurrences`` of them.
    return {
        "would_have_fired": pattern.events,
        "matched": pattern.occurrences,
        "precision": pattern.confidence,
        "within_s": abs(pattern.lag_s),
        "correct_per_week": _per_week(pattern.occurrences, log.eligible_days(pattern.entity_id).size),
    }


def explained_by_triggers(patterns: list[Pattern]) -> set[tuple[str, str]]:
    """The (entity, state) changes a trigger explains: a co-occurrence's follower, a duration's
    end, what is done on the way out or on coming home.

    A hallway light that follows its motion sensor also has a usual time of day (people
    pass in the evening); the trigger is why it goes on, so it gets no clock suggestion.
    """
    explained: set[tuple[str, str]] = set()
    for pattern in patterns:
        if isinstance(pattern, CoOccurrencePattern | DurationPattern | PresencePattern):
            explained.add((pattern.entity_id, pattern.to_state))
    return explained


def _one_person_of_many(scored: list[tuple[Pattern, dict[str, Any]]]) -> list[tuple[Pattern, dict[str, Any]]]:
    """Without what follows one person coming or going that a coming or going of anyone explains.

    The porch lamp goes on when Alex comes home in the dark, and when Sam does: the
    automation is on anyone's arrival, not one per person.
    """
    explained = {
        (person, p.entity_id, p.to_state)
        for p, _b in scored
        if isinstance(p, PresencePattern)
        for person in p.people
    }
    return [
        (p, b)
        for p, b in scored
        if not (
            isinstance(p, CoOccurrencePattern) and (p.trigger_entity_id, p.entity_id, p.to_state) in explained
        )
    ]


def _value(backtest: dict[str, Any]) -> float:
    """Right firings a week times the share of firings right: what ranks suggestions."""
    return float(backtest["correct_per_week"]) * float(backtest["precision"])


def _one_kind_per_end(scored: list[tuple[Pattern, dict[str, Any]]]) -> list[tuple[Pattern, dict[str, Any]]]:
    """A light that goes off after a while, or when its trigger is over: one kind explains
    it, the one that does more for the household (ties: the trigger, it says why)."""
    best: dict[tuple[str, str, bool], float] = {}
    for pattern, backtest in scored:
        if isinstance(pattern, CoOccurrencePattern | DurationPattern):
            key = (pattern.entity_id, pattern.to_state, isinstance(pattern, DurationPattern))
            best[key] = max(best.get(key, 0.0), _value(backtest))
    kept = []
    for pattern, backtest in scored:
        if isinstance(pattern, CoOccurrencePattern | DurationPattern):
            timer = isinstance(pattern, DurationPattern)
            mine = best[(pattern.entity_id, pattern.to_state, timer)]
            rival = best.get((pattern.entity_id, pattern.to_state, not timer), -1.0)
            if rival > mine or (rival == mine and timer):
                continue
        kept.append((pattern, backtest))
    return kept


def candidates(
    detection: Detection,
    min_confidence: float,
    device_class: Callable[[str], str | None],
    links: frozenset[tuple[str, str]] = frozenset(),
) -> list[Candidate]:
    """Patterns strong enough, not already automated, with an action we can take, best first.

    ``device_class`` says an entity's device class (a garage door is never opened on a
    timer); no ``hass`` is needed, so the scoring of simulated homes ranks exactly as a job.
    ``links`` are the home's automations as (trigger entity, entity acted on): no
    suggestion's action may trigger one that changes the suggestion's own trigger.
    """
    found: list[Candidate] = []
    log = detection.log
    scored: list[tuple[Pattern, dict[str, Any]]] = [
        (p, _time_of_day_backtest(log, p, detection.backtests[i]))
        for i, p in enumerate(detection.time_of_day)
        if i in detection.backtests
    ]
    scored += [(p, _co_occurrence_backtest(log, p)) for p in detection.co_occurrence]
    scored += [(p, _duration_backtest(log, p)) for p in detection.durations]
    scored += [(p, _presence_backtest(log, p)) for p in detection.comings_and_goings]
    strong = _one_person_of_many(
        _one_kind_per_end([(p, b) for p, b in scored if suggestable(p) and p.confidence >= min_confidence])
    )
    # What the home's automations do when an entity changes: (trigger entity, entity it sets).
    automated = {(p.trigger_entity_id, p.entity_id) for p in detection.co_occurrence if p.automated}
    automated |= links
    for pattern, backtest in strong:
        # A loop: its action triggers an automation of the home that changes its trigger.
        if (
            isinstance(pattern, CoOccurrencePattern)
            and (pattern.entity_id, pattern.trigger_entity_id) in automated
        ):
            continue
        action = service_for(pattern.entity_id, pattern.to_state, device_class(pattern.entity_id))
        if action is None:
            continue
        found.append(Candidate(pattern_id(pattern), pattern, backtest, action[0], action[1]))
    routines = [c for c in found if isinstance(c.pattern, TimeOfDayPattern)]
    within = _within_groups(routine_groups(routines), [p for p, _b in strong])
    explained = explained_by_triggers([p for p, _b in strong if pattern_id(p) not in within])
    kept = [
        c
        for c in found
        if c.pattern_id not in within
        and not (
            isinstance(c.pattern, TimeOfDayPattern)
            and (
                (c.pattern.entity_id, c.pattern.to_state) in explained
                or _after_triggered(log, c.pattern, explained)
            )
        )
    ]
    return back_and_forth(grouped(kept))


def _after_triggered(log: EventLog, pattern: TimeOfDayPattern, explained: set[tuple[str, str]]) -> bool:
    """Whether the routine is only the end of what a trigger began: not a time of its own.

    The porch lamp goes on when someone comes home in the dark and off a while later; as
    the homecomings are at about the same time, so is the going off. On most of its days
    (``AFTER_TRIGGER_SHARE``) it came within ``AFTER_TRIGGER_MIN`` after the entity went
    to a state a trigger explains: the clock is not why.
    """
    began = [s for e, s in explained if e == pattern.entity_id and s != pattern.to_state]
    if not began or not pattern.hit_days or pattern.entity_id not in log.entity_ids:
        return False
    states = [log.states.index(s) for s in began if s in log.states]
    entity = log.entity_ids.index(pattern.entity_id)
    mask = (log.entity == entity) & np.isin(log.state, states) & log.real_mask()
    stamps = np.sort(log.local_stamp(mask))
    if stamps.size == 0:
        return False
    hits = np.asarray(pattern.hit_days, dtype=np.int64) * MINUTES_PER_DAY + np.asarray(pattern.hit_minutes)
    before = np.searchsorted(stamps, hits, side="right") - 1
    close = (before >= 0) & (hits - stamps[np.clip(before, 0, None)] <= AFTER_TRIGGER_MIN)
    return float(np.mean(close)) >= AFTER_TRIGGER_SHARE


def _together_key(pattern: TimeOfDayPattern) -> tuple[tuple[int, ...], tuple[str, ...], str | None]:
    """What routines must share to be one automation: its days, who is home, its axis."""
    return pattern.days, pattern.home, pattern.sun_event


def routine_groups(found: list[Candidate]) -> list[tuple[tuple[Candidate, ...], int]]:
    """The clock and sun routines among ``found`` done together, and each group's start.

    Only routines one automation can do: the same days, the same people home, the same
    clock or sun event (see ``engine.grouping`` for "together").
    """
    by_key: dict[tuple[tuple[int, ...], tuple[str, ...], str | None], list[Candidate]] = {}
    for candidate in found:
        if isinstance(pattern := candidate.pattern, TimeOfDayPattern):
            by_key.setdefault(_together_key(pattern), []).append(candidate)
    groups = []
    for members in by_key.values():
        patterns = [m.pattern for m in members if isinstance(m.pattern, TimeOfDayPattern)]
        groups += [(tuple(members[i] for i in g.members), g.minute) for g in group_routines(patterns)]
    return groups


def _within_groups(groups: list[tuple[tuple[Candidate, ...], int]], patterns: list[Pattern]) -> set[str]:
    """Ids of the co-occurrences that are routines done together, not one device following another.

    At bedtime the floor lamp goes off a minute after the lounge light, so it "follows" it;
    but both are parts of the bedtime routine, and the follower's routine is most of its
    follows (``TOGETHER_SHARE``): the group says why, the lounge light is no trigger.
    """
    routine_of = {
        (c.pattern.entity_id, c.pattern.to_state): (index, c.pattern.occurrences)
        for index, (parts, _minute) in enumerate(groups)
        for c in parts
    }
    within = set()
    for pattern in patterns:
        if not isinstance(pattern, CoOccurrencePattern):
            continue
        trigger = routine_of.get((pattern.trigger_entity_id, pattern.trigger_to_state))
        follower = routine_of.get((pattern.entity_id, pattern.to_state))
        if (
            trigger is not None
            and follower is not None
            and trigger[0] == follower[0]
            and follower[1] >= TOGETHER_SHARE * pattern.occurrences
        ):
            within.add(pattern_id(pattern))
    return within


def grouped(found: list[Candidate]) -> list[Candidate]:
    """``found`` with each group of routines done together made one suggestion.

    It fires when the first part is usually done and does the parts in the order the
    household does them.
    """
    used: set[str] = set()
    groups: list[Candidate] = []
    for parts, minute in routine_groups(found):
        used.update(p.pattern_id for p in parts)
        groups.append(_group_candidate(parts, minute))
    return [c for c in found if c.pattern_id not in used] + groups


def _group_candidate(parts: tuple[Candidate, ...], minute: int) -> Candidate:
    """One candidate of routines done together, starting at ``minute`` (local)."""
    first = parts[0].pattern
    assert isinstance(first, TimeOfDayPattern)
    # Clock: at the group's start. Sun: the first part's offset (the parts follow it).
    lead = first if first.sun_event is not None else replace(first, minute=minute)
    fired = sum(int(p.backtest["would_have_fired"]) for p in parts)
    matched = sum(int(p.backtest["matched"]) for p in parts)
    backtest = {
        "would_have_fired": fired,
        "matched": matched,
        "precision": round(matched / fired, 3) if fired else 0.0,
        "tolerance_min": max(int(p.backtest["tolerance_min"]) for p in parts),
        "correct_per_week": round(sum(float(p.backtest["correct_per_week"]) for p in parts), 2),
    }
    return Candidate(group_id(parts), lead, backtest, parts[0].service, parts[0].data, parts=parts)


def _rank(candidate: Candidate) -> tuple[float, float, float, str]:
    """Best first: what it does for the household, then what the history proves; ties by id."""
    return (
        -round(candidate.value, 6),
        -candidate.precision,
        -candidate.pattern.confidence,
        candidate.pattern_id,
    )


def _both(forth: dict[str, Any], back: dict[str, Any]) -> dict[str, Any]:
    """The backtest of a suggestion that does both: their firings added up."""
    fired = int(forth["would_have_fired"]) + int(back["would_have_fired"])
    matched = int(forth["matched"]) + int(back["matched"])
    return {
        "would_have_fired": fired,
        "matched": matched,
        "precision": round(matched / fired, 3) if fired else 0.0,
        "within_s": max(float(forth["within_s"]), float(back["within_s"])),
        "correct_per_week": round(float(forth["correct_per_week"]) + float(back["correct_per_week"]), 2),
    }


def back_and_forth(found: list[Candidate]) -> list[Candidate]:
    """Ranked, and a follower that follows its trigger both ways made one suggestion.

    The backlight goes on when the TV goes on and off when it goes off: one automation
    with a trigger for each direction (as Home Assistant's motion-light blueprint does),
    not two that the household has to accept and keep apart. It ranks by what both do.
    """
    found = sorted(found, key=_rank)
    partners: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in found:
        if isinstance(pattern := candidate.pattern, CoOccurrencePattern):
            partners.setdefault((pattern.trigger_entity_id, pattern.entity_id), []).append(candidate)
    used: set[str] = set()
    result: list[Candidate] = []
    for candidate in found:
        if candidate.pattern_id in used:
            continue
        used.add(candidate.pattern_id)
        pattern = candidate.pattern
        if isinstance(pattern, CoOccurrencePattern):
            back = next(
                (
                    other
                    for other in partners[(pattern.trigger_entity_id, pattern.entity_id)]
                    if other.pattern_id not in used
                    and isinstance(other.pattern, CoOccurrencePattern)
                    and other.pattern.trigger_to_state != pattern.trigger_to_state
                    and other.pattern.to_state != pattern.to_state
                ),
                None,
            )
            if back is not None:
                used.add(back.pattern_id)
                result.append(
                    replace(candidate, backtest=_both(candidate.backtest, back.backtest), back=back)
                )
                continue
        result.append(candidate)
    result.sort(key=_rank)
    return result


def _local_midnight(day: int) -> datetime:
    """The start of a local day (days since 1970-01-01 in the home's calendar)."""
    return dt_util.start_of_local_day(date(1970, 1, 1) + timedelta(days=day))


def _scene_parts(candidate: Candidate) -> list[tuple[str, str, int, float]]:
    """Each part's entity, state, usual minute and tolerance, for ``scenes.async_scene_of``."""
    return [
        (p.pattern.entity_id, p.pattern.to_state, p.pattern.minute, float(p.backtest["tolerance_min"]))
        for p in candidate.parts
        if isinstance(p.pattern, TimeOfDayPattern)
    ]


def smaller(candidate: Candidate, keep: Callable[[Candidate], bool]) -> list[Candidate]:
    """A group's parts that ``keep`` keeps, together while they still are, best first.

    Nothing when it keeps every part (the group itself was the matter) or none.
    """
    kept = [part for part in candidate.parts if keep(part)]
    if not kept or len(kept) == len(candidate.parts):
        return []
    return sorted(grouped(kept), key=_rank)


def sun_offset(minutes: int) -> str:
    """A sun trigger's offset: minutes as "[-]HH:MM:00"."""
    sign = "-" if minutes < 0 else ""
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}:00"


def for_duration(seconds: float) -> dict[str, int]:
    """A state trigger's ``for``: seconds as hours, minutes and seconds."""
    whole = round(seconds)
    return {"hours": whole // 3600, "minutes": whole % 3600 // 60, "seconds": whole % 60}


def presence_trigger(event: str, people: Sequence[str]) -> dict[str, Any]:
    """Someone left (with its "nobody home" condition: the last one), or someone came home."""
    return {"trigger": "state", "entity_id": list(people), ("from" if event == LEAVE else "to"): HOME}


def presence_event_of(trigger: Mapping[str, Any]) -> str | None:
    """LEAVE / ARRIVE of a trigger as ``presence_trigger`` makes it, else None."""
    entities = trigger.get("entity_id")
    if trigger.get("trigger", trigger.get("platform")) != "state" or not isinstance(entities, list):
        return None
    if not entities or not all(isinstance(e, str) and e.startswith(PEOPLE_DOMAINS) for e in entities):
        return None
    if trigger.get("from") == HOME and "to" not in trigger:
        return LEAVE
    if trigger.get("to") == HOME and "from" not in trigger:
        return ARRIVE
    return None


def _trigger(pattern: Pattern) -> dict[str, Any]:
    if isinstance(pattern, PresencePattern):
        return presence_trigger(pattern.event, pattern.people)
    if isinstance(pattern, DurationPattern):
        return {
            "trigger": "state",
            "entity_id": pattern.entity_id,
            "to": pattern.from_state,
            "for": for_duration(pattern.duration_s),
        }
    if isinstance(pattern, CoOccurrencePattern):
        return {"trigger": "state", "entity_id": pattern.trigger_entity_id, "to": pattern.trigger_to_state}
    if pattern.sun_event is not None and pattern.sun_offset_min is not None:
        return {"trigger": "sun", "event": pattern.sun_event, "offset": sun_offset(pattern.sun_offset_min)}
    return {"trigger": "time", "at": f"{pattern.time}:00"}


def condition_list(
    entity_id: str,
    to_state: str,
    *,
    weekdays: list[str] | None = None,
    window: tuple[str, str] | None = None,
    dark: bool = False,
    home: tuple[str, ...] = (),
    nobody_home: tuple[str, ...] = (),
    not_already: bool = True,
) -> list[dict[str, Any]]:
    """The conditions of a suggestion (also of one the user edited in the panel).

    ``weekdays`` names its days (None or all seven: every day), ``window`` is a part of the
    day as ("HH:MM", "HH:MM"), ``dark`` after sunset or before sunrise, ``home`` one of
    these people (``person``/``device_tracker`` entities) at home, ``nobody_home`` none of
    these at home, ``not_already`` not when the target is already in the state.
    """
    conditions: list[dict[str, Any]] = []
    if weekdays is not None and len(set(weekdays)) < len(WEEKDAYS):
        conditions.append({"condition": "time", "weekday": [d for d in WEEKDAYS if d in weekdays]})
    if window is not None:
        # Across midnight too: Home Assistant reads after 22:00, before 06:00 as the night.
        conditions.append({"condition": "time", "after": f"{window[0]}:00", "before": f"{window[1]}:00"})
    if dark:
        # One sun condition with both is never true (it is an "and"): either of the two.
        conditions.append(
            {
                "condition": "or",
                "conditions": [
                    {"condition": "sun", "after": "sunset"},
                    {"condition": "sun", "before": "sunrise"},
                ],
            }
        )
    if home:
        at_home: dict[str, Any] = {"condition": "state", "entity_id": list(home), "state": "home"}
        if len(home) > 1:
            at_home["match"] = "any"
        conditions.append(at_home)
    if nobody_home:
        anyone: dict[str, Any] = {"condition": "state", "entity_id": list(nobody_home), "state": HOME}
        if len(nobody_home) > 1:
            anyone["match"] = "any"
        conditions.append({"condition": "not", "conditions": [anyone]})
    if not_already:
        conditions.append(
            {
                "condition": "not",
                "conditions": [{"condition": "state", "entity_id": entity_id, "state": to_state}],
            }
        )
    return conditions


def _conditions(pattern: Pattern) -> list[dict[str, Any]]:
    """When it may act: its days, its part of the day, and not when already in the state."""
    return condition_list(
        pattern.entity_id,
        pattern.to_state,
        weekdays=pattern.day_names if isinstance(pattern, TimeOfDayPattern) else None,
        window=(hhmm(pattern.window[0]), hhmm(pattern.window[1]))
        if isinstance(pattern, CoOccurrencePattern) and pattern.window is not None
        else None,
        dark=isinstance(pattern, CoOccurrencePattern | PresencePattern) and pattern.after_dark,
        home=pattern.home if isinstance(pattern, TimeOfDayPattern) else (),
        nobody_home=pattern.people if isinstance(pattern, PresencePattern) and pattern.event == LEAVE else (),
    )


def _action(candidate: Candidate) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action": candidate.service,
        "target": {"entity_id": candidate.pattern.entity_id},
    }
    if candidate.data:
        action["data"] = dict(candidate.data)
    return action


def _trigger_id(pattern: Pattern) -> str:
    """A back-and-forth automation's trigger id: the trigger's state it reacts to."""
    assert isinstance(pattern, CoOccurrencePattern)
    return f"to_{pattern.trigger_to_state}"


def automation_config(candidate: Candidate, title: str, description: str) -> dict[str, Any]:
    """The automation, in the shape the automation editor writes to automations.yaml.

    Back and forth: a trigger per direction, and a choose whose option for each trigger
    carries that direction's conditions.
    """
    common = {"id": suggestion_id(candidate), "alias": title, "description": description}
    if candidate.parts:
        # One trigger, the days and who is home; each part as the household does it (a
        # part already in its state is no harm: turning off what is off changes nothing).
        pattern = candidate.pattern
        assert isinstance(pattern, TimeOfDayPattern)
        return {
            **common,
            "triggers": [_trigger(pattern)],
            "conditions": condition_list(
                pattern.entity_id,
                pattern.to_state,
                weekdays=pattern.day_names,
                home=pattern.home,
                not_already=False,
            ),
            "actions": [{"action": "scene.apply", "data": {"entities": copy.deepcopy(candidate.scene)}}]
            if candidate.scene
            else [_action(part) for part in candidate.parts],
            "mode": "single",
        }
    if candidate.back is None:
        return {
            **common,
            "triggers": [_trigger(candidate.pattern)],
            "conditions": _conditions(candidate.pattern),
            "actions": [_action(candidate)],
            "mode": "single",
        }
    both = (candidate, candidate.back)
    return {
        **common,
        "triggers": [{**_trigger(c.pattern), "id": _trigger_id(c.pattern)} for c in both],
        "conditions": [],
        "actions": [
            {
                "choose": [
                    {
                        "conditions": [
                            {"condition": "trigger", "id": _trigger_id(c.pattern)},
                            *_conditions(c.pattern),
                        ],
                        "sequence": [_action(c)],
                    }
                    for c in both
                ]
            }
        ],
        # The light may go off while it is still being turned on: run both, in order.
        "mode": "queued",
    }


def actionable(hass: HomeAssistant, candidate: Candidate) -> bool:
    """Whether the target exists now and its service is registered.

    Home Assistant's validator accepts an automation on an entity that is gone (a device
    removed since, a stale id in the recorder): it would fail every time it runs.
    """
    if candidate.back is not None and not actionable(hass, candidate.back):
        return False
    if candidate.parts:
        return all(actionable(hass, part) for part in candidate.parts)
    entity_id = candidate.pattern.entity_id
    domain, service = candidate.service.split(".", 1)
    if hass.states.get(entity_id) is None or not hass.services.has_service(domain, service):
        LOGGER.debug(
            "Not suggesting %s for %s: the entity or its service is gone", candidate.service, entity_id
        )
        return False
    return True


async def async_is_valid(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Validate exactly as the automation editor does before it saves."""
    try:
        await async_validate_config_item(hass, config["id"], config)
    except (vol.Invalid, HomeAssistantError) as err:
        LOGGER.warning("Dropping suggestion %s: Home Assistant rejects it: %s", config.get("alias"), err)
        return False
    return True


async def async_build_suggestions(
    hass: HomeAssistant,
    detection: Detection,
    min_confidence: float,
    max_suggestions: int,
    skip: Callable[[dict[str, Any]], bool] | None = None,
    known: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Return ``(suggestions, invalid_count)``, at most ``max_suggestions``, best first.

    ``skip`` drops a valid automation that is not new (see ``dedupe``) before the cap;
    ``known`` says so without taking it: a group skipped for one of its parts is
    suggested again of its other parts.
    """
    suggestions: list[dict[str, Any]] = []
    invalid = 0
    found = candidates(detection, min_confidence, partial(device_class_of, hass), automation_links(hass))
    log = detection.log
    window = (_local_midnight(log.first_day), _local_midnight(log.last_day + 1))
    queue = list(found)
    while queue and len(suggestions) < max_suggestions:
        candidate = queue.pop(0)
        if candidate.parts and not actionable(hass, candidate):
            # A part's device is gone: the others, together if they still are.
            queue[0:0] = smaller(candidate, partial(actionable, hass))
            invalid += 1
            continue
        if not actionable(hass, candidate):
            invalid += 1
            continue
        if candidate.parts:
            candidate = replace(candidate, scene=await async_scene_of(hass, _scene_parts(candidate), window))
        wording = word(
            candidate.pattern,
            candidate.backtest,
            partial(friendly_name, hass),
            back=back_pattern(candidate),
            parts=part_patterns(candidate),
            scene=candidate.scene,
        )
        config = automation_config(candidate, wording.title, wording.description)
        if not await async_is_valid(hass, config):
            invalid += 1
            continue
        pattern = suggested_pattern(candidate)
        if candidate.parts:
            # What a title of fewer parts is made of (the panel leaves some out).
            pattern["when"] = wording.when
            for part in pattern["parts"]:
                part["name"] = friendly_name(hass, part["entity_id"]) or part["entity_id"]
        if skip is not None and skip(config):
            if known is not None:
                # A part already automated or decided: the other parts are still new.
                queue[0:0] = smaller(candidate, lambda part: not known(automation_config(part, "", "")))
            continue
        suggestions.append(
            {
                "id": config["id"],
                "pattern_ids": pattern_ids(candidate),
                "title": wording.title,
                "description": wording.description,
                "evidence": wording.evidence,
                "automation": config,
                "backtest": dict(candidate.backtest),
                # What the words are made of: an LLM writer words it again from this.
                "pattern": pattern,
            }
        )
    return suggestions, invalid

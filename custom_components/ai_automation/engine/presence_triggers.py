"""Comings and goings as triggers: what the household does when the last one leaves, or on arriving.

Leaving, people turn the heating down and the lights off on their way out: by hand, a
few minutes *before* their phone tells Home Assistant they are gone. Arriving in the
dark, they turn the porch light on a minute *after*. The automation that does it for them
triggers on the people: on a person leaving when nobody is home after it, on a person
coming home (after sunset, if that is when it happens).

Events are read from the people's own states (``person``, else ``device_tracker``, as
``presence.presence_of`` chooses): a *leave* is a change away from ``home`` after which
nobody is home; an *arrival* is a change to ``home``. An event counts for an entity and
state when the household put that entity in that state by hand within ``lead_s`` before a
leave (or ``after_s`` after an arrival); events where the entity already was in that state
are not counted (there was nothing to do). It is a routine when it happened on most of
the counted events (``min_share``) and on at least ``min_events`` of them, and far more
often than the entity's own changes at random times would put one in that window
(``max_chance``). Arrivals may hold it in the dark only (``co_occurrence_window``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .co_occurrence_window import dark_mask, dark_or_clock
from .event_log import IGNORED_STATES, EventLog, Origin
from .presence import HOME, people_of
from .sun_relative import SunTimes

LEAVE, ARRIVE = "leave", "arrive"
_BY_HAND = (Origin.PHYSICAL, Origin.USER)


@dataclass(frozen=True, slots=True)
class PresenceTriggerParams:
    """When a coming or going is a trigger."""

    lead_s: float = 600.0  # done on the way out: within ten minutes before the phone says gone
    after_s: float = 300.0  # done on coming in: within five minutes after it says home
    slack_s: float = 60.0  # the phone may tell a minute the other way
    min_events: int = 4
    min_share: float = 0.6
    max_chance: float = 1e-3


@dataclass(frozen=True, slots=True)
class PresencePattern:
    """``entity_id`` put in ``to_state`` when the last person leaves, or when someone arrives."""

    entity_id: str
    to_state: str
    event: str  # LEAVE | ARRIVE
    people: tuple[str, ...]  # whose comings and goings trigger it
    occurrences: int  # counted events it happened on
    events: int  # counted events (the entity not already in the state; in the dark if ``after_dark``)
    lag_s: float  # median seconds from the event to the household's change (negative: before)
    after_dark: bool
    confidence: float  # occurrences / events
    automated: bool = False  # by hand only: an automation's changes are not counted

    @property
    def trigger_count(self) -> int:
        """Times the automation would have fired (with its conditions)."""
        return self.events


@dataclass(frozen=True, slots=True)
class _Events:
    ts: NDArray[np.float64]
    day: NDArray[np.int64]
    minute: NDArray[np.int16]


def event_rows(log: EventLog, event: str) -> NDArray[np.int64]:
    """The log's rows (people's changes) that are the household's leaves or arrivals, in time order."""
    people = people_of(log)
    leaves, arrivals = _rows(log, people) if people else ([], [])
    return np.asarray(leaves if event == LEAVE else arrivals, dtype=np.int64)


def _rows(log: EventLog, people: list[int]) -> tuple[list[int], list[int]]:
    """(leaves, arrivals) of the household as log rows, in time order."""
    ignored = np.fromiter((s in IGNORED_STATES for s in log.states), dtype=bool, count=len(log.states))
    home_state = log.states.index(HOME) if HOME in log.states else -1
    rows = np.flatnonzero(np.isin(log.entity, people) & ~ignored[log.state])
    rows = rows[np.argsort(log.ts[rows], kind="stable")]
    where = dict.fromkeys(people, True)  # unknown before a first state: home
    leaves: list[int] = []
    arrivals: list[int] = []
    for row in rows:
        person, home = int(log.entity[row]), bool(log.state[row] == home_state)
        was = where[person]
        where[person] = home
        if home and not was:
            arrivals.append(int(row))
        elif was and not home and not any(where.values()):
            leaves.append(int(row))
    return leaves, arrivals


def _comings_and_goings(log: EventLog, people: list[int]) -> tuple[_Events, _Events]:
    """(leaves, arrivals) of the household, in time order."""

    def events(found: list[int]) -> _Events:
        index = np.asarray(found, dtype=np.int64)
        minute, day = log.local(index)
        return _Events(log.ts[index], day.astype(np.int64), minute)

    leaves, arrivals = _rows(log, people)
    return events(leaves), events(arrivals)


def _chance(hits: int, trials: int, per_trial: float) -> float:
    """P(at least ``hits`` of ``trials`` windows hold a change) by chance alone (binomial tail)."""
    if per_trial >= 1.0:
        return 1.0
    return min(
        1.0,
        sum(
            math.comb(trials, k) * per_trial**k * (1.0 - per_trial) ** (trials - k)
            for k in range(hits, trials + 1)
        ),
    )


def _state_before(
    ts: NDArray[np.float64], states: NDArray[np.int32], moments: NDArray[np.float64]
) -> NDArray[np.int64]:
    """The entity's state just before each moment (-1: none known yet)."""
    last = np.searchsorted(ts, moments, side="left") - 1
    out = np.full(moments.shape, -1, dtype=np.int64)
    out[last >= 0] = states[last[last >= 0]]
    return out


def detect_presence_triggers(
    log: EventLog,
    candidates: list[str],
    sun: SunTimes | None = None,
    params: PresenceTriggerParams | None = None,
) -> list[PresencePattern]:
    """Comings and goings that ``candidates`` (entities an automation can set) follow, strongest first."""
    params = params or PresenceTriggerParams()
    people = people_of(log)
    if not people:
        return []
    leaves, arrivals = _comings_and_goings(log, people)
    names = tuple(log.entity_ids[p] for p in people)
    span_s = log.span_s()
    found: list[PresencePattern] = []
    wanted = {log.entity_ids.index(e) for e in candidates if e in log.entity_ids}
    ignored = np.fromiter((s in IGNORED_STATES for s in log.states), dtype=bool, count=len(log.states))
    for entity in sorted(wanted):
        rows = np.flatnonzero((log.entity == entity) & ~ignored[log.state])
        if rows.size == 0:
            continue
        ts, state, origin = log.ts[rows], log.state[rows], log.origin[rows]
        by_hand = np.isin(origin, _BY_HAND)
        for to_state in np.unique(state[by_hand]):
            changes = ts[by_hand & (state == to_state)]
            for event, moments, low, high in (
                (LEAVE, leaves, -params.lead_s, params.slack_s),
                (ARRIVE, arrivals, -params.slack_s, params.after_s),
            ):
                pattern = _pattern(
                    log,
                    (entity, int(to_state), event, names),
                    moments,
                    (low, high),
                    (ts, state, changes),
                    span_s,
                    sun,
                    params,
                )
                if pattern is not None:
                    found.append(pattern)
    found.sort(key=lambda p: (-p.occurrences * p.confidence, p.entity_id, p.to_state, p.event))
    return found


def _pattern(
    log: EventLog,
    what: tuple[int, int, str, tuple[str, ...]],
    moments: _Events,
    window: tuple[float, float],
    history: tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.float64]],
    span_s: float,
    sun: SunTimes | None,
    params: PresenceTriggerParams,
) -> PresencePattern | None:
    """``what`` = (entity, state, event, people) as a pattern, or None when it is none.

    ``history``: the entity's change times and states, and the times it was put in the
    state by hand; ``window``: seconds from each event in which that counts.
    """
    entity, to_state, event, people = what
    changes = history[2]
    if moments.ts.size < params.min_events or changes.size == 0:
        return None
    low, high = window
    # Not counted: the entity was already in the state when the window opened.
    before = _state_before(history[0], history[1], moments.ts + low)
    counted = before != to_state
    first = np.searchsorted(changes, moments.ts + low, side="left")
    last = np.searchsorted(changes, moments.ts + high, side="right")
    hit = (last > first) & counted
    lag = np.where(hit, changes[np.minimum(first, changes.size - 1)] - moments.ts, np.nan)
    after_dark = False
    eligible = counted
    if event == ARRIVE and sun is not None:
        dark = dark_mask(moments.day, moments.minute, sun)
        chosen = dark_or_clock(
            None,
            int(np.count_nonzero(hit & dark)),
            int(np.count_nonzero(counted & dark)),
            int(np.count_nonzero(hit)),
            int(np.count_nonzero(counted)),
            params.min_share,
        )
        if chosen is not None:
            after_dark = True
            eligible = counted & dark
            hit = hit & dark
    hits, events = int(np.count_nonzero(hit)), int(np.count_nonzero(eligible))
    if hits < params.min_events or events == 0 or hits < params.min_share * events:
        return None
    # The entity's changes to the state at random times: how often one lands in a window.
    rate = changes.size / span_s if span_s > 0 else 1.0
    per_event = 1.0 - math.exp(-rate * (high - low))
    if _chance(hits, events, per_event) > params.max_chance:
        return None
    return PresencePattern(
        entity_id=log.entity_ids[entity],
        to_state=log.states[to_state],
        event=event,
        people=people,
        occurrences=hits,
        events=events,
        lag_s=round(float(np.nanmedian(lag[hit])), 1),
        after_dark=after_dark,
        confidence=round(hits / events, 3),
    )

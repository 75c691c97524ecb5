"""A suggestion's evidence, day by day, and its backtest replayed for an edited version.

The review panel draws one row per analysed day: each time the household did the thing,
each time the automation would have fired, and which of those agreed. When the user moves
the time, changes the days or drops a condition, the same replay runs on the same stored
evidence, so the numbers follow the edit without reading the recorder again.

Everything lies on one axis: *local seconds*, ``local day * 86400 + second of the local
day`` (the home's wall clock, days since 1970-01-01), so a stamp names its day's row and
its time of day at once.

A replay looks at *candidates*, the moments the trigger could fire: for a time or sun
trigger one per day with history, for a state trigger each time the trigger entity reached
its state, for a "has been on for" trigger each episode of that state. A candidate
*fires* when its state held long enough (``for``) and the conditions pass. A household act
belongs to the latest candidate whose interval holds it (around the firing for a clock
trigger; from the trigger to the firing plus the tolerance for a state trigger): a fired
candidate with an act is a hit, one without a false firing, a candidate that would not
fire but had an act is a miss (the household did it, the automation would not have).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .event_log import IGNORED_STATES, EventLog
from .local_time import SECONDS_PER_DAY, weekday_of
from .presence import FROM_LOG, FromLog, Presence, given_or_read
from .sun_relative import SunTimes

TRIGGER_TIME = "time"
TRIGGER_SUN = "sun"
TRIGGER_STATE = "state"  # the trigger entity reached its state (and held it ``for_s``)
TRIGGER_HELD = "held"  # the target itself has been in a state for ``for_s``
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the chart and every replay of one automation (one direction of it) read.

    ``acts`` are the stamps at which the target reached its state by a real change;
    ``candidates`` the trigger's own events with the seconds each held its state (empty
    for a clock trigger, whose candidates are the days). ``sunrise``/``sunset`` are local
    minutes of day per window day (None where the sun does not rise or set, or the home
    has no location).
    """

    first_day: int
    last_day: int
    no_data: tuple[int, ...]  # local days with no history of the entities involved
    away: tuple[int, ...]  # local days nobody was home (homes with person entities)
    sunrise: tuple[float | None, ...]
    sunset: tuple[float | None, ...]
    acts: tuple[float, ...]
    candidates: tuple[tuple[float, float], ...]  # (stamp, seconds held)
    tolerance_s: float
    # The people a "someone home" condition may name: (entity id, change stamps, home after each).
    people: tuple[tuple[str, tuple[float, ...], tuple[bool, ...]], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON for the store (rounded to the second: the chart's finest mark)."""
        return {
            "first_day": self.first_day,
            "last_day": self.last_day,
            "no_data": list(self.no_data),
            "away": list(self.away),
            "sunrise": [None if m is None else round(m, 1) for m in self.sunrise],
            "sunset": [None if m is None else round(m, 1) for m in self.sunset],
            "acts": [round(s) for s in self.acts],
            "candidates": [[round(s), round(h)] for s, h in self.candidates],
            "tolerance_s": self.tolerance_s,
            "people": [[p, [round(c) for c in changes], list(home)] for p, changes, home in self.people],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        """The stored form back (see ``as_dict``)."""
        return cls(
            first_day=int(data["first_day"]),
            last_day=int(data["last_day"]),
            no_data=tuple(int(d) for d in data["no_data"]),
            away=tuple(int(d) for d in data["away"]),
            sunrise=tuple(None if m is None else float(m) for m in data["sunrise"]),
            sunset=tuple(None if m is None else float(m) for m in data["sunset"]),
            acts=tuple(float(s) for s in data["acts"]),
            candidates=tuple((float(s), float(h)) for s, h in data["candidates"]),
            tolerance_s=float(data["tolerance_s"]),
            people=tuple(
                (str(p), tuple(float(c) for c in changes), tuple(bool(h) for h in home))
                for p, changes, home in data.get("people", [])
            ),
        )

    def sun(self) -> SunTimes:
        """The stored sunrises and sunsets as the detectors' ``SunTimes``."""

        def table(values: tuple[float | None, ...]) -> NDArray[np.float64]:
            return np.array([np.nan if m is None else m for m in values], dtype=np.float64)

        return SunTimes(first_day=self.first_day, sunrise=table(self.sunrise), sunset=table(self.sunset))

    def home_at(self, people: tuple[str, ...], stamps: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per stamp: was one of ``people`` home (unknown, before their first state: yes)?"""
        known = [(changes, home) for p, changes, home in self.people if p in people]
        if not known:
            return np.ones(stamps.shape, dtype=bool)
        out = np.zeros(stamps.shape, dtype=bool)
        for changes, home in known:
            flags = np.asarray(home, dtype=bool)
            last = np.searchsorted(np.asarray(changes, dtype=np.float64), stamps, side="right") - 1
            out |= last < 0  # before their first state: unknown, counted as home
            if flags.size:
                out |= (last >= 0) & flags[np.clip(last, 0, None)]
        return out


@dataclass(frozen=True, slots=True)
class Trigger:
    """When the automation fires: a clock or sun time, or a state (held ``for_s``)."""

    kind: str
    minute: int = 0  # time: local minute of day
    sun_event: str | None = None  # sun: "sunrise" / "sunset"
    offset_min: int = 0  # sun: minutes after (negative: before) the event
    for_s: float = 0.0  # state / held: seconds the state must have lasted
    # state: seconds before the trigger an act still counts (done on the way out, before
    # the phone says the last one left).
    lead_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Conditions:
    """When it may act: its weekdays, a part of the day, only in the dark."""

    weekdays: tuple[int, ...] = EVERY_DAY  # 0 = Monday
    window: tuple[int, int] | None = None  # local minutes [start, end), may cross midnight
    dark: bool = False  # after sunset or before sunrise
    home: tuple[str, ...] = ()  # one of these people at home


@dataclass(frozen=True, slots=True)
class Replay:
    """The edited automation over the analysed days."""

    fired: NDArray[np.float64]  # firing stamps
    hit: NDArray[np.bool_]  # per firing: the household did the same
    acts: NDArray[np.float64]  # every act in the window
    act_outcome: NDArray[np.int8]  # per act: 1 hit, 2 missed, 0 neither (another time)

    @property
    def would_have_fired(self) -> int:
        """Firings on days with history."""
        return int(self.fired.size)

    @property
    def matched(self) -> int:
        """Firings the household agreed with."""
        return int(np.count_nonzero(self.hit))

    @property
    def missed(self) -> int:
        """Acts the automation would not have done."""
        return int(np.count_nonzero(self.act_outcome == ACT_MISSED))

    @property
    def precision(self) -> float:
        """Share of firings the household agreed with."""
        return round(self.matched / self.would_have_fired, 3) if self.would_have_fired else 0.0


ACT_OTHER, ACT_HIT, ACT_MISSED = 0, 1, 2


def _window_days(evidence: Evidence) -> NDArray[np.int64]:
    days = np.arange(evidence.first_day, evidence.last_day + 1, dtype=np.int64)
    return days[~np.isin(days, np.asarray(evidence.no_data, dtype=np.int64))]


def _sun_minutes(evidence: Evidence, event: str, days: NDArray[np.int64]) -> NDArray[np.float64]:
    """The day's sunrise or sunset, as ``SunTimes`` answers it (NaN: none, or not known)."""
    return evidence.sun().minutes(event, days)


def _passes(evidence: Evidence, conditions: Conditions, stamps: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Per firing stamp: do the conditions hold then?"""
    days = np.floor_divide(stamps, SECONDS_PER_DAY).astype(np.int64)
    minute = (stamps - days * SECONDS_PER_DAY) / 60.0
    ok = np.isin(weekday_of(days), conditions.weekdays)
    if conditions.window is not None:
        start, end = conditions.window
        inside = (minute >= start) & (minute < end) if start < end else (minute >= start) | (minute < end)
        ok &= inside
    if conditions.dark:
        rise, sets = _sun_minutes(evidence, "sunrise", days), _sun_minutes(evidence, "sunset", days)
        # No sunrise or sunset that day (polar): the sun condition is never true.
        ok &= ~np.isnan(rise) & ~np.isnan(sets) & ((minute >= sets) | (minute < rise))
    if conditions.home:
        ok &= evidence.home_at(conditions.home, stamps)
    return ok


def _clock_firings(evidence: Evidence, trigger: Trigger) -> NDArray[np.float64]:
    """A clock or sun trigger's moment on every day with history (no sunset: none that day)."""
    days = _window_days(evidence)
    if trigger.kind == TRIGGER_SUN:
        minute = _sun_minutes(evidence, trigger.sun_event or "sunset", days) + trigger.offset_min
        days, minute = days[~np.isnan(minute)], minute[~np.isnan(minute)]
    else:
        minute = np.full(days.shape, float(trigger.minute))
    fire: NDArray[np.float64] = days * SECONDS_PER_DAY + minute * 60.0
    return fire


def _near(acts: NDArray[np.float64], moments: NDArray[np.float64], tolerance: float) -> NDArray[np.bool_]:
    """Per act: within ``tolerance`` seconds of one of the (sorted) ``moments``."""
    if moments.size == 0:
        return np.zeros(acts.shape, dtype=bool)
    after = np.clip(np.searchsorted(moments, acts), 0, moments.size - 1)
    before = np.clip(after - 1, 0, moments.size - 1)
    gap = np.minimum(np.abs(moments[after] - acts), np.abs(moments[before] - acts))
    near: NDArray[np.bool_] = gap <= tolerance
    return near


def replay(
    evidence: Evidence, trigger: Trigger, conditions: Conditions, reference: Trigger | None = None
) -> Replay:
    """Fire the edited automation over the evidence's days and match it to the household.

    ``reference`` is the clock trigger as suggested: the household's acts at the routine's
    own time that the edited one would not do are misses too (a time moved away from the
    routine misses it every day).
    """
    tolerance = evidence.tolerance_s
    acts = np.asarray(evidence.acts, dtype=np.float64)
    clock = trigger.kind in (TRIGGER_TIME, TRIGGER_SUN)
    if clock:
        fire = _clock_firings(evidence, trigger)
        held = np.ones(fire.shape, dtype=bool)
        lo, hi = fire - tolerance, fire + tolerance
    else:
        pairs = np.asarray(evidence.candidates, dtype=np.float64).reshape(-1, 2)
        base, lasted = pairs[:, 0], pairs[:, 1]
        on_data = ~np.isin(np.floor_divide(base, SECONDS_PER_DAY).astype(np.int64), evidence.no_data)
        base, lasted = base[on_data], lasted[on_data]
        fire = base + trigger.for_s
        held = lasted >= trigger.for_s
        lo, hi = base - trigger.lead_s, fire + tolerance
    order = np.argsort(lo, kind="stable")
    fire, held, lo, hi = fire[order], held[order], lo[order], hi[order]
    fires = held & _passes(evidence, conditions, fire) if fire.size else held

    outcome = np.zeros(acts.shape, dtype=np.int8)
    hit = np.zeros(fire.shape, dtype=bool)
    if fire.size and acts.size:
        owner = np.searchsorted(lo, acts, side="right") - 1  # the latest candidate started before
        inside = (owner >= 0) & (acts <= hi[np.clip(owner, 0, None)])
        owned = owner[inside]
        hit[owned[fires[owned]]] = True
        outcome[inside] = np.where(fires[owned], ACT_HIT, ACT_MISSED)
    if clock and reference is not None and reference.kind in (TRIGGER_TIME, TRIGGER_SUN):
        routine = _near(acts, np.sort(_clock_firings(evidence, reference)), tolerance)
        outcome[routine & (outcome != ACT_HIT)] = ACT_MISSED
    return Replay(fired=fire[fires], hit=hit[fires], acts=acts, act_outcome=outcome)


def _floats(values: NDArray[np.float64]) -> list[float]:
    return [float(v) for v in values]


def chart(evidence: Evidence, result: Replay) -> list[dict[str, Any]]:
    """One row per analysed day: its status and its marks, in local minutes of day."""
    no_data, away = set(evidence.no_data), set(evidence.away)
    rows: dict[int, dict[str, Any]] = {}
    for day in range(evidence.first_day, evidence.last_day + 1):
        status = "no_data" if day in no_data else "away" if day in away else "ok"
        rows[day] = {"day": day, "status": status, "fired": [], "acts": []}
    for stamp, agreed in zip(_floats(result.fired), (bool(h) for h in result.hit), strict=True):
        day = int(stamp // SECONDS_PER_DAY)
        if day in rows:
            rows[day]["fired"].append([round((stamp - day * SECONDS_PER_DAY) / 60, 2), bool(agreed)])
    for stamp, outcome in zip(_floats(result.acts), (int(o) for o in result.act_outcome), strict=True):
        day = int(stamp // SECONDS_PER_DAY)
        if day in rows:
            rows[day]["acts"].append([round((stamp - day * SECONDS_PER_DAY) / 60, 2), int(outcome)])
    return list(rows.values())


def _stamps(log: EventLog, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    """The events' stamps (local seconds), the seconds kept from their UTC time."""
    stamps: NDArray[np.float64] = log.local_stamp(idx).astype(np.float64) * 60.0 + np.mod(log.ts[idx], 60.0)
    return stamps


def _by_time(log: EventLog, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    idx = np.flatnonzero(mask)
    return idx[np.argsort(log.ts[idx], kind="stable")]


def _held(
    log: EventLog, entity: int, chosen: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The chosen events of ``entity`` (stamps, in time order) and the seconds each lasted.

    An event lasts until the entity's next real change; the last one until the window's end.
    """
    mine = _by_time(log, (log.entity == entity) & log.real_mask())
    following = np.append(log.ts[mine][1:], np.inf)
    lasted = (following - log.ts[mine])[chosen[mine]]
    stamps = _stamps(log, mine[chosen[mine]])
    end_of_window = float((log.last_day + 1) * SECONDS_PER_DAY)
    return stamps, np.where(np.isinf(lasted), end_of_window - stamps, lasted)


def away_days(log: EventLog, presence: Presence | FromLog | None = FROM_LOG) -> tuple[int, ...]:
    """Local days of the window on which nobody was home (homes with ``person`` entities)."""
    presence = given_or_read(log, presence)
    if presence is None:
        return ()
    covered = {log.first_day + int(i) for i in np.flatnonzero(log.covered)}
    return tuple(d for d in presence.away_days(log.first_day, log.last_day) if d in covered)


def gather(
    log: EventLog,
    sun: SunTimes | None,
    target: tuple[str, str],
    *,
    trigger: tuple[str, str] | None = None,
    trigger_rows: NDArray[np.int64] | None = None,
    tolerance_s: float,
    away: tuple[int, ...] = (),
    people: tuple[str, ...] = (),
) -> Evidence:
    """The evidence of one direction of a suggestion, read from the job's event log.

    ``target`` is the (entity, state) the automation sets. ``trigger`` is the (entity,
    state) whose changes are its candidates: the trigger entity of a state trigger, or the
    target's own state for a "has been on for" trigger; None for a clock trigger.
    ``trigger_rows``: instead, the log's rows that are the trigger's events (the household
    leaving or coming home). ``people``: whose whereabouts a "someone home" condition reads.
    """
    real = log.real_mask()
    known = set(log.entity_ids)
    eligible = np.zeros(log.day_count, dtype=bool)
    days = np.arange(log.first_day, log.last_day + 1)
    for entity_id in {target[0]} | ({trigger[0]} if trigger else set()):
        if entity_id in known:
            eligible |= np.isin(days, log.eligible_days(entity_id))
    no_data = tuple(int(d) for d in days[~eligible])

    def selected(pair: tuple[str, str]) -> NDArray[np.bool_]:
        if pair[0] not in known or pair[1] not in log.states:
            return np.zeros(len(log), dtype=bool)
        mask: NDArray[np.bool_] = (
            (log.entity == log.entity_ids.index(pair[0])) & (log.state == log.states.index(pair[1])) & real
        )
        return mask

    acts = np.sort(_stamps(log, _by_time(log, selected(target))))
    candidates: tuple[tuple[float, float], ...] = ()
    if trigger is not None and trigger[0] in known:
        stamps, held = _held(log, log.entity_ids.index(trigger[0]), selected(trigger))
        candidates = tuple(zip(_floats(stamps), _floats(held), strict=True))
    elif trigger_rows is not None:
        # Held until the window's end: a coming or going has no "for" of its own here.
        stamps = _stamps(log, trigger_rows)
        end_of_window = float((log.last_day + 1) * SECONDS_PER_DAY)
        candidates = tuple((float(s), end_of_window - float(s)) for s in stamps)

    def sun_table(event: str) -> tuple[float | None, ...]:
        if sun is None:
            return (None,) * log.day_count
        return tuple(None if np.isnan(m) else float(m) for m in sun.minutes(event, days.astype(np.int64)))

    return Evidence(
        first_day=log.first_day,
        last_day=log.last_day,
        no_data=no_data,
        away=away,
        sunrise=sun_table("sunrise"),
        sunset=sun_table("sunset"),
        acts=tuple(_floats(acts)),
        candidates=candidates,
        tolerance_s=float(tolerance_s),
        people=tuple(_whereabouts(log, person) for person in people if person in known),
    )


def _whereabouts(log: EventLog, person: str) -> tuple[str, tuple[float, ...], tuple[bool, ...]]:
    """A person's changes (stamps) and whether each made them home; unavailable skipped."""
    entity = log.entity_ids.index(person)
    skipped = [i for i, s in enumerate(log.states) if s in IGNORED_STATES]
    mine = _by_time(log, (log.entity == entity) & ~np.isin(log.state, skipped))
    home = log.states.index("home") if "home" in log.states else -1
    return person, tuple(_floats(_stamps(log, mine))), tuple(bool(h) for h in log.state[mine] == home)

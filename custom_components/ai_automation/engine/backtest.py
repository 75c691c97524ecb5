"""Replay a candidate automation over the home's own history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .event_log import EventLog, events_where
from .local_time import MINUTES_PER_DAY, weekday_of
from .presence import Presence
from .sun_relative import SunTimes
from .time_of_day import TimeOfDayPattern


@dataclass(frozen=True, slots=True)
class Backtest:
    """What the automation would have done over the analysed window."""

    would_have_fired: int  # days with history its trigger and conditions held
    matched: int  # of those, days the household did the same thing within tolerance
    tolerance_min: int

    @property
    def precision(self) -> float:
        """Share of firings the household agreed with."""
        return round(self.matched / self.would_have_fired, 3) if self.would_have_fired else 0.0


def tolerance_for(pattern: TimeOfDayPattern) -> int:
    """Minutes either side of the trigger time that still count as the same act.

    Twice the routine's spread, at least a quarter of an hour and at most an hour.
    """
    return int(min(60, max(15, round(2 * pattern.spread_min))))


def backtest_time_of_day(
    log: EventLog,
    pattern: TimeOfDayPattern,
    sun: SunTimes | None = None,
    events: NDArray[np.int64] | None = None,
    presence: Presence | None = None,
) -> Backtest:
    """Fire on every day of the pattern's day set on which it could have happened.

    Those are the days the pattern's own share counts (``EventLog.eligible_days``): the
    recorder has history of them and the entity existed. Firing on a day with no history
    would count a miss nobody could have seen.

    At ``pattern.minute``, or at the day's sunrise/sunset plus the offset when the
    pattern follows the sun (then ``sun`` is required); with ``pattern.home``, only when
    one of them is home then (``presence`` says who was). A firing matches when the entity
    reached ``pattern.to_state`` within the tolerance of that day's trigger time (by
    anyone: the household, a wall switch or the automation), midnight notwithstanding.
    """
    tolerance = tolerance_for(pattern)
    days = log.eligible_days(pattern.entity_id)
    fired_days = days[np.isin(weekday_of(days), pattern.days)]
    if pattern.sun_event is not None and sun is not None and pattern.sun_offset_min is not None:
        trigger_minute = sun.minutes(pattern.sun_event, fired_days) + pattern.sun_offset_min
        fired_days = fired_days[~np.isnan(trigger_minute)]  # no sunset, no firing
        trigger_minute = trigger_minute[~np.isnan(trigger_minute)]
    else:
        trigger_minute = np.full(fired_days.shape, float(pattern.minute))
    # Minutes since the epoch, local wall clock: days and minutes on one axis.
    triggers = fired_days * MINUTES_PER_DAY + trigger_minute
    if pattern.home and presence is not None:
        # Its condition: one of them home at the moment it fires.
        rows = [presence.index(p) for p in pattern.home if p in presence.people]
        if rows:
            triggers = triggers[presence.at(triggers.astype(np.float64))[rows].any(axis=0)]
    if triggers.size == 0:
        return Backtest(would_have_fired=0, matched=0, tolerance_min=tolerance)

    if events is None:
        entity_idx = log.entity_ids.index(pattern.entity_id)
        state_idx = log.states.index(pattern.to_state)
        sel = (log.entity == entity_idx) & (log.state == state_idx) & log.real_mask()
        events = log.local_stamp(sel)
    # The trigger nearest each event: the one just before or just after it.
    after = np.clip(np.searchsorted(triggers, events), 0, triggers.size - 1)
    before = np.clip(after - 1, 0, triggers.size - 1)
    nearest = np.where(np.abs(triggers[before] - events) < np.abs(triggers[after] - events), before, after)
    close = np.abs(triggers[nearest] - events) <= tolerance
    matched = int(np.unique(nearest[close]).size)
    return Backtest(would_have_fired=int(triggers.size), matched=matched, tolerance_min=tolerance)


def backtest_many(
    log: EventLog,
    patterns: dict[int, TimeOfDayPattern],
    sun: SunTimes | None = None,
    presence: Presence | None = None,
) -> dict[int, Backtest]:
    """Backtest several patterns with one sort of the log instead of a scan each."""
    if not patterns:
        return {}
    n_states = max(len(log.states), 1)
    wanted = {
        index: log.entity_ids.index(p.entity_id) * n_states + log.states.index(p.to_state)
        for index, p in patterns.items()
    }
    # Only the patterns' own events, sorted by key: one pass over the log (a slice at a
    # time), a small sort.
    table = np.zeros(max(len(log.entity_ids), 1) * n_states, dtype=bool)
    table[list(wanted.values())] = True
    real = log.real_mask()

    def theirs(part: slice) -> NDArray[np.bool_]:
        found: NDArray[np.bool_] = (
            table[log.entity[part].astype(np.int64) * n_states + log.state[part]] & real[part]
        )
        return found

    mine = events_where(len(log), theirs)
    key = log.entity[mine].astype(np.int64) * n_states + log.state[mine]
    by_key = np.argsort(key, kind="stable")
    order, sorted_key = mine[by_key], key[by_key]
    stamp = log.local_stamp(order)
    results: dict[int, Backtest] = {}
    for index, pattern in patterns.items():
        lo, hi = np.searchsorted(sorted_key, [wanted[index], wanted[index] + 1])
        results[index] = backtest_time_of_day(log, pattern, sun, np.sort(stamp[lo:hi]), presence)
    return results

"""Replay a candidate automation over the home's own history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .event_log import EventLog
from .time_of_day import MINUTES_PER_DAY, TimeOfDayPattern


@dataclass(frozen=True, slots=True)
class Backtest:
    """What the automation would have done over the analysed window."""

    would_have_fired: int  # days its trigger and conditions held
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


def backtest_time_of_day(log: EventLog, pattern: TimeOfDayPattern) -> Backtest:
    """Fire at ``pattern.minute`` on every day of its day set inside the window.

    A firing matches when the entity reached ``pattern.to_state`` within the tolerance of
    that day's trigger time (by anyone: the household, a wall switch or the automation).
    """
    tolerance = tolerance_for(pattern)
    days = np.arange(log.first_day, log.last_day + 1, dtype=np.int64)
    fired_days = days[np.isin((days + 3) % 7, pattern.days)]

    entity_idx = log.entity_ids.index(pattern.entity_id)
    state_idx = log.states.index(pattern.to_state)
    sel = (log.entity == entity_idx) & (log.state == state_idx)
    minute = log.local_minute[sel].astype(np.int64)
    day = log.local_day[sel].astype(np.int64)
    # Minutes since the trigger of the event's own day, wrapped so a trigger at 23:50 and
    # an event at 00:05 the next day are 15 minutes apart.
    delta = (minute - pattern.minute + MINUTES_PER_DAY // 2) % MINUTES_PER_DAY - MINUTES_PER_DAY // 2
    trigger_day = day + np.floor_divide(minute - delta, MINUTES_PER_DAY)
    close = np.abs(delta) <= tolerance
    matched_days = np.unique(trigger_day[close])
    matched = int(np.count_nonzero(np.isin(fired_days, matched_days)))
    return Backtest(would_have_fired=int(fired_days.size), matched=matched, tolerance_min=tolerance)

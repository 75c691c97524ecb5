"""The daily schedule's arithmetic: the next run, the one before, DST, catch-up.

Plain functions of the options, the clock and the last handled slot (no ``hass``): the
coordinator asks them, its tests and tests/test_schedule.py check them. Times are local
wall clock (Home Assistant's zone); instants are compared in UTC because within one zone
Python compares wall clocks and ignores ``fold``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from homeassistant.util import dt as dt_util

from .const import CONF_ANALYSIS_DAYS, CONF_ANALYSIS_TIME, CONF_CATCH_UP_GRACE, WEEKDAYS


def parse_time(value: str) -> tuple[int, int, int]:
    """'HH:MM[:SS]' -> (hour, minute, second)."""
    parts = [int(p) for p in value.split(":")]
    return parts[0], parts[1], parts[2] if len(parts) > 2 else 0


def same_slot(handled: datetime | None, slot: datetime) -> bool:
    """Whether ``slot`` is the wall-clock slot already handled.

    The time tracker fires twice for a time in the hour repeated when DST ends; the local
    wall clock (not the instant) says it is the same daily slot.
    """
    if handled is None:
        return False
    return dt_util.as_local(handled).replace(microsecond=0, tzinfo=None) == dt_util.as_local(slot).replace(
        microsecond=0, tzinfo=None
    )


class CatchUp(StrEnum):
    """What to do at start about the latest scheduled slot."""

    NOTHING = "nothing"  # no run day, or the slot had its run
    FIRST_START = "first_start"  # no schedule before: remember the slot, run nothing
    RUN = "run"  # missed by less than the grace
    TOO_LATE = "too_late"  # missed by more: wait for the next slot


@dataclass(frozen=True, slots=True)
class Schedule:
    """A time of day on some weekdays (0 = Monday), with a catch-up grace."""

    hour: int
    minute: int
    second: int
    days: frozenset[int]
    grace: timedelta

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Schedule:
        """The schedule the entry's options describe."""
        hour, minute, second = parse_time(options[CONF_ANALYSIS_TIME])
        days = frozenset(WEEKDAYS.index(d) for d in options[CONF_ANALYSIS_DAYS])
        return cls(hour, minute, second, days, timedelta(minutes=options[CONF_CATCH_UP_GRACE]))

    def runs_at(self, local: datetime, handled: datetime | None) -> bool:
        """Whether the tracker firing at ``local`` is a run: a run day, not handled yet."""
        return local.weekday() in self.days and not same_slot(handled, local)

    def next_slot(self, after: datetime, handled: datetime | None) -> datetime | None:
        """The next time the schedule fires after ``after`` (what the time tracker computes)."""
        if not self.days:
            return None
        candidate = dt_util.as_local(after)
        # Nine: a week of days plus the skipped repeat of a slot at the end of DST.
        for _ in range(9):
            # Step in UTC: local arithmetic drops ``fold`` and would land back in the
            # first pass of a repeated hour.
            candidate = dt_util.find_next_time_expression_time(
                dt_util.as_local(dt_util.as_utc(candidate) + timedelta(seconds=1)),
                [self.second],
                [self.minute],
                [self.hour],
            )
            if self.runs_at(candidate, handled):
                return candidate
        return None

    def previous_slot(self, now: datetime) -> datetime | None:
        """The latest scheduled time at or before ``now`` (local wall clock)."""
        local_now = dt_util.as_local(now)
        for back in range(8):
            date = (local_now - timedelta(days=back)).date()
            candidate = dt_util.start_of_local_day(date).replace(
                hour=self.hour, minute=self.minute, second=self.second
            )
            if candidate.weekday() in self.days and dt_util.as_utc(candidate) <= dt_util.as_utc(local_now):
                return candidate
        return None

    def catch_up(self, now: datetime, handled: datetime | None) -> tuple[CatchUp, datetime | None]:
        """At start: what to do about the latest slot before ``now``, and that slot."""
        slot = self.previous_slot(now)
        if slot is None:
            return CatchUp.NOTHING, None
        if handled is None:
            return CatchUp.FIRST_START, slot
        if slot <= handled:
            return CatchUp.NOTHING, slot
        missed_by = dt_util.as_utc(now) - dt_util.as_utc(slot)
        return (CatchUp.RUN if missed_by <= self.grace else CatchUp.TOO_LATE), slot

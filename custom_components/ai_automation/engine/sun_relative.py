"""Routines that follow the sun: their times as minutes after sunrise or sunset.

The detector looks for routines on three axes: the clock, and minutes from each day's
sunrise and sunset. One routine then shows up on several of them; it is reported on the
clock unless the sun explains its times clearly better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .local_time import MINUTES_PER_DAY
from .minute_histogram import circular_distance

if TYPE_CHECKING:
    from .time_of_day import TimeOfDayPattern

SUN_EVENTS = ("sunrise", "sunset")
# The sun must explain the times clearly better than the clock: a quarter less spread
# and a minute at least, so December (when sunset hardly moves) stays on the clock.
_SUN_SPREAD_RATIO = 0.75


@dataclass(frozen=True, slots=True)
class SunTimes:
    """Sunrise and sunset of each local day of the window, in local minutes of day.

    ``sunrise[i]``/``sunset[i]`` belong to local day ``first_day + i``; NaN where the
    sun does not rise or set (polar days and nights).
    """

    first_day: int
    sunrise: NDArray[np.float64]
    sunset: NDArray[np.float64]

    def minutes(self, event: str, days: NDArray[np.int64]) -> NDArray[np.float64]:
        """The event's local minute on each of ``days`` (NaN outside the table)."""
        table = self.sunrise if event == "sunrise" else self.sunset
        idx = days - self.first_day
        valid = (idx >= 0) & (idx < table.size)
        out = np.full(days.shape, np.nan)
        out[valid] = table[idx[valid]]
        return out


def axis_minutes(
    clock_minute: NDArray[np.int64], day: NDArray[np.int64], sun: SunTimes | None, sun_event: str | None
) -> NDArray[np.int64]:
    """Minutes on an axis: the clock, or minutes after the day's sun event (-1: none)."""
    if sun_event is None:
        return clock_minute
    assert sun is not None
    relative = clock_minute - sun.minutes(sun_event, day)
    known = ~np.isnan(relative)
    out = np.full(clock_minute.shape, -1, dtype=np.int64)
    out[known] = np.round(relative[known]).astype(np.int64) % MINUTES_PER_DAY
    return out


def prefer_tighter(found: list[TimeOfDayPattern]) -> list[TimeOfDayPattern]:
    """One pattern per routine, on the clock unless the sun explains it clearly better.

    Two patterns are the same routine when their typical clock times are close and they
    share most days.
    """
    clock_first = sorted(found, key=lambda p: (p.sun_event is not None, p.spread_min, -p.occurrences))
    kept: list[TimeOfDayPattern] = []
    for pattern in clock_first:
        rival = next((k for k in kept if _same_routine(k, pattern)), None)
        if rival is None:
            kept.append(pattern)
        elif _sun_wins(pattern, rival):
            # The sun explains what the clock split in two (at a DST change): both go.
            kept = [
                k for k in kept if k is rival or not (_same_routine(k, pattern) and _sun_wins(pattern, k))
            ]
            kept[kept.index(rival)] = pattern
    return kept


def _same_routine(a: TimeOfDayPattern, b: TimeOfDayPattern) -> bool:
    if circular_distance(a.minute, b.minute) > 2 * 60:
        return False
    shared = len(set(a.hit_days) & set(b.hit_days))
    return shared * 2 >= min(len(a.hit_days), len(b.hit_days))


def _sun_wins(challenger: TimeOfDayPattern, incumbent: TimeOfDayPattern) -> bool:
    if challenger.sun_event is None:
        return False
    if challenger.since_day is not None and incumbent.since_day is None:
        # Tight over its last days only, where the other explains the whole window.
        return challenger.occurrences > incumbent.occurrences
    if incumbent.since_day is not None and challenger.since_day is None:
        # The clock's routine moved (or began) in the window: the sun's must be tighter
        # over all of it to explain both parts (a DST change moves clock times too).
        return challenger.spread_min <= incumbent.spread_min * _SUN_SPREAD_RATIO - 1.0
    if incumbent.sun_event is not None:  # sunrise vs sunset: the tighter one
        return challenger.spread_min < incumbent.spread_min
    if challenger.occurrences > incumbent.occurrences:  # the clock split it (a DST change)
        return True
    return challenger.spread_min <= incumbent.spread_min * _SUN_SPREAD_RATIO - 1.0

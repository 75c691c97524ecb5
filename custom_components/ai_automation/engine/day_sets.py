"""On which days of the week a routine happens: daily, weekdays, weekends or some days."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .local_time import weekday_of

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Named day sets, tried in this order so a tie goes to the simpler name.
_NAMED_DAY_SETS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("daily", (0, 1, 2, 3, 4, 5, 6)),
    ("weekdays", (0, 1, 2, 3, 4)),
    ("weekends", (5, 6)),
)


@dataclass(frozen=True, slots=True)
class DaySet:
    """The weekdays a routine keeps, and how many days of them it could have happened on."""

    name: str  # daily | weekdays | weekends | custom
    days: tuple[int, ...]  # weekdays, 0 = Monday
    eligible: int  # days of the window on these weekdays the routine could have happened on

    def holds(self, days: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of the local day numbers ``days`` fall on the set's weekdays."""
        mask = np.zeros(7, dtype=bool)
        mask[list(self.days)] = True
        held: NDArray[np.bool_] = mask[weekday_of(days)]
        return held


def eligible_per_weekday(eligible: NDArray[np.bool_], first_day: int) -> NDArray[np.int64]:
    """Per row (entity) and weekday: how many of its eligible window days fall on it.

    ``eligible`` is (entity, window day) with window day 0 = local day ``first_day``.
    """
    days = np.arange(first_day, first_day + eligible.shape[1], dtype=np.int64)
    on_weekday = weekday_of(days) == np.arange(7)[:, np.newaxis]  # (weekday, window day)
    counts: NDArray[np.int64] = eligible.astype(np.int64) @ on_weekday.T.astype(np.int64)
    return counts


def fit_day_set(hit_days: NDArray[np.int64], eligible: list[int]) -> DaySet:
    """The day set that best explains the routine's days: share of its days x coverage.

    ``hit_days`` are local day numbers it happened on; ``eligible`` counts, per weekday,
    the days it could have.
    """
    hits = [int(n) for n in np.bincount(weekday_of(hit_days), minlength=7)]
    name, days = _choose_day_set(hits, eligible)
    return DaySet(name=name, days=days, eligible=sum(eligible[d] for d in days))


def _choose_day_set(
    hits_per_weekday: list[int], eligible_per_weekday: list[int]
) -> tuple[str, tuple[int, ...]]:
    """Seven numbers per call, thousands of calls: plain Python beats numpy here."""
    total_hits = sum(hits_per_weekday)
    # A weekday joins a custom set only if it hit on most of its days, and on at least
    # three of them: two hits in four weeks is what random toggling produces.
    custom = tuple(
        d
        for d in range(7)
        if hits_per_weekday[d] >= 3 and hits_per_weekday[d] >= 0.6 * eligible_per_weekday[d] > 0
    )
    candidates = [*_NAMED_DAY_SETS]
    if custom and custom not in {days for _, days in _NAMED_DAY_SETS}:
        candidates.append(("custom", custom))
    best: tuple[float, str, tuple[int, ...]] = (-1.0, "daily", _NAMED_DAY_SETS[0][1])
    for name, days in candidates:
        eligible = sum(eligible_per_weekday[d] for d in days)
        if eligible == 0 or total_hits == 0:
            continue
        hits = sum(hits_per_weekday[d] for d in days)
        score = (hits / eligible) * (hits / total_hits)
        if score > best[0] + 1e-9:
            best = (score, name, days)
    return best[1], best[2]

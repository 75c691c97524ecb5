"""The part of the day a follower follows in: "the stairs light follows motion, in the evening".

A motion sensor fires all day; the light follows it only after dark. Over the whole day
B follows A on a third of A's events, too few for a routine; inside 18:00-23:30 it
follows on nearly all. The window is the shortest run of half hours (across midnight
too) that holds 90 % of the times B followed, and it counts only when B follows inside
it far more often than outside, provably so (a handful of events outside prove nothing):
then the suggestion carries it as a time condition and is measured (confidence,
backtest) inside it.

A porch light follows the front door when it is dark, and over a month around the end of
summer time sunset moves by two hours on the clock: no clock window holds it without
taking in daylight hours the light never follows in. So the dark of each day (after
that day's sunset or before its sunrise) is the other candidate, measured the same way
on the exact A events. It is the window when it does more than the best clock window:
its right firings times the share of its firings that are right, as suggestions rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .local_time import MINUTES_PER_DAY, SLICE_EVENTS
from .sun_relative import SunTimes

BIN_MIN = 30
BINS = MINUTES_PER_DAY // BIN_MIN
HIT_SHARE = 0.9  # the window holds this share of the times B followed
MAX_BINS = 40  # 20 hours at most: a longer "window" is the whole day
MAX_OUTSIDE_RATIO = 1 / 3  # outside, B follows at most a third as often as inside
_Z = 1.96  # ... and that with 95 % confidence: a few events outside prove nothing


@dataclass(frozen=True, slots=True)
class Window:
    """A part of the day, ``start_min`` (inclusive) to ``end_min`` (exclusive), local minutes.

    ``end_min`` < ``start_min`` runs across midnight. ``dark``: after each day's sunset or
    before its sunrise instead (``start_min``/``end_min`` are then 0).
    """

    start_min: int
    end_min: int
    hits: int  # times B followed an A event inside it
    triggers: int  # A events inside it
    dark: bool = False

    @property
    def confidence(self) -> float:
        """P(B follows | A) inside the window."""
        return self.hits / self.triggers if self.triggers else 0.0

    @property
    def value(self) -> float:
        """What it does for the household: right firings times the share of firings right."""
        return self.hits * self.confidence


def upper_rate(hits: int, trials: int) -> float:
    """The upper end of the 95 % Wilson interval of a rate of ``hits`` in ``trials``."""
    if trials <= 0:
        return 1.0
    p, z2 = hits / trials, _Z * _Z
    centre = p + z2 / (2 * trials)
    spread = _Z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return min(1.0, (centre + spread) / (1 + z2 / trials))


def trigger_histograms(
    key: NDArray[np.int32] | NDArray[np.int64], local_minute: NDArray[np.int16], wanted: NDArray[np.int64]
) -> dict[int, NDArray[np.int64]]:
    """Per wanted trigger key: its events per half hour of the day (``key``/``local_minute``: A events)."""
    sel = np.isin(key, wanted)
    k, minute = key[sel], local_minute[sel].astype(np.int64)
    uniq, inverse = np.unique(k, return_inverse=True)
    flat = np.bincount(inverse * BINS + minute // BIN_MIN, minlength=uniq.size * BINS)
    table = flat.reshape(uniq.size, BINS)
    return {int(u): table[i] for i, u in enumerate(uniq)}


def hit_histogram(follower_minute: NDArray[np.int16], lag_s: NDArray[np.float64]) -> NDArray[np.int64]:
    """The times B followed, per half hour of the A event (B's minute less the lag)."""
    minute = (follower_minute.astype(np.int64) - np.round(lag_s / 60).astype(np.int64)) % MINUTES_PER_DAY
    return np.bincount(minute // BIN_MIN, minlength=BINS)


def dark_mask(
    day: NDArray[np.int32] | NDArray[np.int64], minute: NDArray[np.int16], sun: SunTimes
) -> NDArray[np.bool_]:
    """Per event: the sun was down (after its day's sunset or before its sunrise).

    False on days without a sunrise or sunset (polar day and night) or outside the table.
    """
    dark = np.empty(int(day.shape[0]), dtype=bool)
    for lo in range(0, dark.size, SLICE_EVENTS):  # a slice at a time: float64 work arrays
        days = day[lo : lo + SLICE_EVENTS].astype(np.int64)
        minutes = minute[lo : lo + SLICE_EVENTS].astype(np.float64)
        with np.errstate(invalid="ignore"):
            dark[lo : lo + SLICE_EVENTS] = (minutes >= sun.minutes("sunset", days)) | (
                minutes < sun.minutes("sunrise", days)
            )
    return dark


def _separates(window: Window, total_hits: int, total_triggers: int, min_confidence: float) -> bool:
    """B follows inside often enough, and far more often than outside, provably so.

    A TV that is only switched off in the evening says nothing about the afternoon: the
    few afternoon events must show that B does not follow then, or there is no window.
    """
    outside = upper_rate(total_hits - window.hits, total_triggers - window.triggers)
    return window.confidence >= min_confidence and outside <= MAX_OUTSIDE_RATIO * window.confidence


def dark_or_clock(
    clock: Window | None,
    dark_hits: int,
    dark_triggers: int,
    total_hits: int,
    total_triggers: int,
    min_confidence: float,
) -> Window | None:
    """The dark of the day when it holds the hits and B follows in it more than in ``clock``."""
    if total_hits == 0 or dark_hits < HIT_SHARE * total_hits:
        return clock
    dark = Window(0, 0, dark_hits, dark_triggers, dark=True)
    if not _separates(dark, total_hits, total_triggers, min_confidence):
        return clock
    return dark if clock is None or dark.value > clock.value else clock


def best_window(hits: NDArray[np.int64], triggers: NDArray[np.int64], min_confidence: float) -> Window | None:
    """The window B follows in, if B follows in part of the day only; else None."""
    total_hits, total_triggers = int(hits.sum()), int(triggers.sum())
    if total_hits == 0:
        return None
    cum_hits = np.concatenate(([0], np.cumsum(np.concatenate((hits, hits)))))
    cum_triggers = np.concatenate(([0], np.cumsum(np.concatenate((triggers, triggers)))))
    start = np.arange(BINS)
    for length in range(1, MAX_BINS + 1):
        inside = cum_hits[start + length] - cum_hits[start]
        enough = inside >= HIT_SHARE * total_hits
        if not enough.any():
            continue
        fired = cum_triggers[start + length] - cum_triggers[start]
        confidence = np.where(enough, inside / np.maximum(fired, 1), -1.0)
        best = int(np.argmax(confidence))  # the first of the best: deterministic
        window = Window(best * BIN_MIN, (best + length) % BINS * BIN_MIN, int(inside[best]), int(fired[best]))
        return window if _separates(window, total_hits, total_triggers, min_confidence) else None
    return None

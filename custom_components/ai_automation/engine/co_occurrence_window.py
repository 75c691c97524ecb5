"""The part of the day a follower follows in: "the stairs light follows motion, in the evening".

A motion sensor fires all day; the light follows it only after dark. Over the whole day
B follows A on a third of A's events, too few for a routine; inside 18:00-23:30 it
follows on nearly all. The window is the shortest run of half hours (across midnight
too) that holds 90 % of the times B followed, and it counts only when B follows inside
it far more often than outside: then the suggestion carries it as a time condition and
is measured (confidence, backtest) inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .local_time import MINUTES_PER_DAY

BIN_MIN = 30
BINS = MINUTES_PER_DAY // BIN_MIN
HIT_SHARE = 0.9  # the window holds this share of the times B followed
MAX_BINS = 40  # 20 hours at most: a longer "window" is the whole day
MAX_OUTSIDE_RATIO = 1 / 3  # outside, B follows at most a third as often as inside


@dataclass(frozen=True, slots=True)
class Window:
    """A part of the day, ``start_min`` (inclusive) to ``end_min`` (exclusive), local minutes.

    ``end_min`` < ``start_min`` runs across midnight.
    """

    start_min: int
    end_min: int
    hits: int  # times B followed an A event inside it
    triggers: int  # A events inside it

    @property
    def confidence(self) -> float:
        """P(B follows | A) inside the window."""
        return self.hits / self.triggers if self.triggers else 0.0


def trigger_histograms(
    key: NDArray[np.int64], local_minute: NDArray[np.int16], wanted: NDArray[np.int64]
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
        outside_triggers = total_triggers - window.triggers
        outside = (total_hits - window.hits) / outside_triggers if outside_triggers else 0.0
        if window.confidence >= min_confidence and outside <= MAX_OUTSIDE_RATIO * window.confidence:
            return window
        return None
    return None

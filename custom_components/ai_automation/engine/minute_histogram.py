"""The circular 1-minute histogram of local times that routines are peaks of.

Each day votes at most once per minute (a noisy motion sensor cannot outvote a lamp); the
votes are smoothed with a Gaussian kernel by FFT, circular so that 23:55 and 00:05 are
neighbours. A minute is a peak when the smoothed density is a local maximum, lifted over
the mean, and the window around it holds enough of the votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .local_time import MINUTES_PER_DAY

# The votes are marked on a boolean grid of (group, day, minute) cells instead of sorted
# when there are many events for its size (a sort of n costs about what 16 n cells do),
# and the grid stays within 64 MB.
_DENSE_GRID_CELLS = 64_000_000


@dataclass(frozen=True, slots=True)
class PeakTest:
    """What makes a minute of the histogram a routine's peak (figures in minutes)."""

    kernel: NDArray[np.complex128]  # rfft of the circular Gaussian, see ``gaussian_kernel_fft``
    window_min: int  # half-width of the window around a peak
    min_peak_lift: float  # smoothed density at the peak over the mean density
    min_window_lift: float  # votes inside the window over the average
    # Votes the window must hold: a routine needs that many days in it, so a peak of
    # fewer is no routine however lifted (a text value seen 14 times in a month).
    min_votes: int = 1


def gaussian_kernel_fft(sigma: float) -> NDArray[np.complex128]:
    """The rfft of a circular Gaussian of ``sigma`` minutes, summing to 1."""
    offsets = np.arange(MINUTES_PER_DAY)
    offsets = np.minimum(offsets, MINUTES_PER_DAY - offsets)  # circular distance
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    return np.fft.rfft(kernel)


def circular_offset(minutes: NDArray[np.int64], centre: int) -> NDArray[np.int64]:
    """Signed minutes from ``centre`` to each minute, in [-720, 720)."""
    return (minutes - centre + MINUTES_PER_DAY // 2) % MINUTES_PER_DAY - MINUTES_PER_DAY // 2


def circular_distance(a: int, b: int) -> int:
    """Minutes between two times of day, the short way round the clock."""
    d = abs(a - b) % MINUTES_PER_DAY
    return min(d, MINUTES_PER_DAY - d)


def _peaks(hist: NDArray[np.float64], test: PeakTest) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Per row (one histogram each) and minute: is it a peak? And the smoothed rows."""
    smooth = np.fft.irfft(np.fft.rfft(hist, axis=1) * test.kernel, n=MINUTES_PER_DAY, axis=1)
    mean = hist.sum(axis=1, keepdims=True) / MINUTES_PER_DAY
    peak = (
        (smooth > np.roll(smooth, 1, axis=1))
        & (smooth >= np.roll(smooth, -1, axis=1))
        & (smooth >= test.min_peak_lift * mean)
        & (mean > 0)
        & _dense_windows(hist, test)
    )
    return peak, smooth


def _dense_windows(hist: NDArray[np.float64], test: PeakTest) -> NDArray[np.bool_]:
    """Per row and minute: is the +-window around it dense enough to hold a routine?

    The window lift for every minute at once, from a circular running sum.
    """
    half = test.window_min
    # Wrap the ends round, then window sums are differences of one running sum.
    padded = np.concatenate([hist[:, -half - 1 :], hist, hist[:, :half]], axis=1)
    csum = np.cumsum(padded, axis=1)
    inside = csum[:, 2 * half + 1 :] - csum[:, :MINUTES_PER_DAY]
    total = hist.sum(axis=1, keepdims=True)
    lift = np.divide(
        inside * MINUTES_PER_DAY,
        (2 * half + 1) * total,
        out=np.zeros_like(inside),
        where=total > 0,
    )
    dense: NDArray[np.bool_] = (lift >= test.min_window_lift) & (inside >= test.min_votes)
    return dense


# Groups screened at once: their minute histograms (and FFTs) take about 100 KB each, so
# a home with thousands of (entity, state) groups stays within tens of MB.
SCREEN_GROUPS = 128


def groups_with_peaks(
    group: NDArray[np.int64],
    day: NDArray[np.int64],
    minute: NDArray[np.int64],
    n_groups: int,
    test: PeakTest,
) -> dict[int, NDArray[np.int64]]:
    """The peak minutes of each group that has any, highest smoothed density first.

    All groups at once, ``SCREEN_GROUPS`` at a time: most (entity, state) groups have no
    peak and cost nothing more; those that have one get their peaks from the same
    batched histograms and FFT, no second pass per group. ``group`` is sorted; ``minute`` -1 is no vote (no
    sun event that day); ``day`` counts from any origin.
    """
    if n_groups <= SCREEN_GROUPS:
        return _groups_with_peaks(group, day, minute, n_groups, test)
    out: dict[int, NDArray[np.int64]] = {}
    bounds = np.searchsorted(group, np.arange(0, n_groups + SCREEN_GROUPS, SCREEN_GROUPS))
    for base, lo, hi in zip(range(0, n_groups, SCREEN_GROUPS), bounds[:-1], bounds[1:], strict=False):
        size = min(SCREEN_GROUPS, n_groups - base)
        sl = slice(int(lo), int(hi))
        found = _groups_with_peaks(group[sl] - base, day[sl], minute[sl], size, test)
        out.update((base + g, peaks) for g, peaks in found.items())
    return out


def _groups_with_peaks(
    group: NDArray[np.int64],
    day: NDArray[np.int64],
    minute: NDArray[np.int64],
    n_groups: int,
    test: PeakTest,
) -> dict[int, NDArray[np.int64]]:
    valid = minute >= 0
    g, m = group[valid], minute[valid]
    d = day[valid] - (int(day[valid].min()) if g.size else 0)
    span = int(d.max()) + 1 if d.size else 1
    cells = n_groups * span * MINUTES_PER_DAY
    if cells <= min(_DENSE_GRID_CELLS, 16 * g.size):
        # One vote per (group, day, minute) by marking a grid: O(n), no sort.
        seen = np.zeros(cells, dtype=bool)
        seen[(g * span + d) * MINUTES_PER_DAY + m] = True
        counts = seen.reshape(n_groups, span, MINUTES_PER_DAY).sum(axis=1)
    else:
        votes = np.unique((g * span + d) * MINUTES_PER_DAY + m)
        cell = (votes // (span * MINUTES_PER_DAY)) * MINUTES_PER_DAY + votes % MINUTES_PER_DAY
        counts = np.bincount(cell, minlength=n_groups * MINUTES_PER_DAY).reshape(n_groups, MINUTES_PER_DAY)
    peak, smooth = _peaks(counts.astype(np.float64), test)
    return {int(row): _ordered(peak[row], smooth[row]) for row in np.flatnonzero(peak.any(axis=1))}


def _ordered(peak: NDArray[np.bool_], smooth: NDArray[np.float64]) -> NDArray[np.int64]:
    """One histogram's peak minutes, highest smoothed density first (ties: earliest)."""
    peaks = np.flatnonzero(peak)
    ordered: NDArray[np.int64] = peaks[np.argsort(-smooth[peaks], kind="stable")]
    return ordered

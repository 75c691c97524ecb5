"""Time-of-day routines: "the kitchen light goes on around 06:45 on weekdays".

Per (entity, to_state) we build a circular 1-minute histogram of local times in which
each day votes at most once per minute (a noisy motion sensor cannot outvote a lamp),
smooth it with a Gaussian kernel by FFT (circular, so 23:55 and 00:05 are neighbours),
and take its peaks. Each peak's window keeps the one event per day nearest to it; the
day set (daily, weekdays, weekends or specific days) is the one that best explains on
which days the routine happened.

Days are counted only where the routine could have happened: the recorder has history
of the day (it keeps 10 days by default; Home Assistant may have been off) and the
entity already existed. A routine on all 10 recorded days of a 30-day window happened
on every day it could have, not on a third of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .event_log import IGNORED_STATES, EventLog, Origin

MINUTES_PER_DAY = 1_440
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Named day sets, tried in this order so a tie goes to the simpler name.
_NAMED_DAY_SETS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("daily", (0, 1, 2, 3, 4, 5, 6)),
    ("weekdays", (0, 1, 2, 3, 4)),
    ("weekends", (5, 6)),
)


@dataclass(frozen=True, slots=True)
class TimeOfDayParams:
    """Tuning of the detector; every figure is in local minutes unless named otherwise."""

    kernel_sigma_min: float = 8.0
    window_min: int = 60  # half-width of a routine's window around its peak
    min_peak_lift: float = 3.0  # peak height over the group's mean density
    min_window_lift: float = 3.0  # event density inside the window over the average
    min_occurrences: int = 5  # distinct days
    # Times uniformly random within the +-60 minute window show ~35 minutes of standard
    # deviation; people doing a routine show 5-15.
    max_spread_min: float = 25.0
    min_share: float = 0.5  # share of the day set's days on which it happened: most of them
    # A share is evidence only over enough days: 5 of 10 days can be chance for a plug
    # switched at random a few times a day, 15 of 30 cannot. So the hits must also be
    # unlikely for the entity's own changes at random times of day (the binomial tail at
    # one window, see ``_chance``): one in a thousand.
    max_chance: float = 1e-3
    max_peaks: int = 6  # per (entity, state)
    min_peak_gap_min: int = 90  # two routines of one entity/state at least this far apart


@dataclass(frozen=True, slots=True)
class TimeOfDayPattern:
    """One daily routine of one entity reaching one state."""

    entity_id: str
    to_state: str
    minute: int  # local minute of day, 0..1439 (the median time of the routine)
    days: tuple[int, ...]  # weekdays, 0 = Monday
    day_set: str  # daily | weekdays | weekends | custom
    spread_min: float  # standard deviation of the daily times, minutes
    occurrences: int  # days in the day set on which it happened
    eligible_days: int  # days in the day set it could have happened on (see the module doc)
    share_of_days: float  # occurrences / eligible_days
    confidence: float  # 0..1, see ``_confidence``
    automated: bool  # most occurrences were caused by an automation or script
    origins: dict[str, int] = field(default_factory=dict)
    hit_days: tuple[int, ...] = ()  # local day numbers of the occurrences
    sun_event: str | None = None  # "sunrise"/"sunset" when it follows the sun better
    sun_offset_min: int | None = None  # minutes after (negative: before) the sun event

    @property
    def time(self) -> str:
        """Local time as HH:MM."""
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    @property
    def day_names(self) -> list[str]:
        """Weekdays as the short names Home Assistant's time condition takes."""
        return [WEEKDAY_NAMES[d] for d in self.days]


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


@dataclass(frozen=True, slots=True)
class _Window:
    """What every group's detection shares."""

    first_day: int
    last_day: int
    eligible: NDArray[np.bool_]  # (entity, window day): see EventLog.eligible
    eligible_per_weekday: NDArray[np.int64]  # (entity, weekday): count of eligible days
    kernel: NDArray[np.complex128]
    sun: SunTimes | None
    params: TimeOfDayParams


def routine_state_mask(states: tuple[str, ...]) -> NDArray[np.bool_]:
    """Return which state strings can be a routine's target.

    ``unavailable``/``unknown`` say nothing about the household, and a numeric sensor's
    raw values (21.5, 22.0, ...) are measurements, not decisions.
    """
    mask = np.ones(len(states), dtype=bool)
    for i, s in enumerate(states):
        if s in IGNORED_STATES:
            mask[i] = False
            continue
        try:
            float(s)
        except ValueError:
            continue
        mask[i] = False
    return mask


def _gaussian_kernel_fft(sigma: float) -> NDArray[np.complex128]:
    offsets = np.arange(MINUTES_PER_DAY)
    offsets = np.minimum(offsets, MINUTES_PER_DAY - offsets)  # circular distance
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    return np.fft.rfft(kernel)


def _circular_offset(minutes: NDArray[np.int64], centre: int) -> NDArray[np.int64]:
    """Signed minutes from ``centre`` to each minute, in [-720, 720)."""
    return (minutes - centre + MINUTES_PER_DAY // 2) % MINUTES_PER_DAY - MINUTES_PER_DAY // 2


def _circular_distance(a: int, b: int) -> int:
    """Minutes between two times of day, the short way round the clock."""
    d = abs(a - b) % MINUTES_PER_DAY
    return min(d, MINUTES_PER_DAY - d)


def _choose_day_set(
    hits_per_weekday: list[int], eligible_per_weekday: list[int]
) -> tuple[str, tuple[int, ...]]:
    """Pick the day set that best explains the hits: share of its days x coverage.

    Seven numbers per call, thousands of calls: plain Python beats numpy here.
    """
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


def _chance(hits: int, days: int, per_day: float) -> float:
    """P(at least ``hits`` of ``days`` days have a change in the window) by chance alone.

    ``per_day`` is the chance that one day has one there when the entity's changes fall
    at random times of day: the binomial tail, exact (``days`` is at most the lookback).
    """
    if per_day >= 1.0:
        return 1.0
    return min(
        1.0,
        sum(math.comb(days, k) * per_day**k * (1.0 - per_day) ** (days - k) for k in range(hits, days + 1)),
    )


def _ints(values: NDArray[np.int64]) -> list[int]:
    return [int(v) for v in values]


def _median(values: NDArray[np.float64]) -> float:
    """np.median without its per-call overhead (small arrays, thousands of calls)."""
    ordered = np.sort(values)
    n = ordered.size
    return float(ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def _confidence(share: float, coverage: float, spread_min: float) -> float:
    """How sure we are this is a routine worth automating, 0..1.

    The share of the day set's days it happened on, times the share of all its
    occurrences the day set covers, discounted linearly for spread (90 minutes of
    standard deviation would be no routine at all: clipped to a +-60 minute window,
    uniformly random times show about 35).
    """
    tightness = max(0.0, 1.0 - spread_min / 60.0)
    return round(share * coverage * tightness, 3)


def detect_time_of_day(
    log: EventLog, params: TimeOfDayParams | None = None, sun: SunTimes | None = None
) -> list[TimeOfDayPattern]:
    """Find every daily routine in ``log``; deterministic, strongest first.

    With ``sun``, a routine whose daily times follow sunrise or sunset more tightly than
    the clock is reported relative to it.
    """
    params = params or TimeOfDayParams()
    if len(log) == 0:
        return []
    usable_state = routine_state_mask(log.states)
    keep = usable_state[log.state]
    n_states = max(len(log.states), 1)
    key = log.entity.astype(np.int64)[keep] * n_states + log.state[keep]
    minute = log.local_minute.astype(np.int64)[keep]
    day = log.local_day.astype(np.int64)[keep]
    origin = log.origin[keep]

    order = np.argsort(key, kind="stable")
    key, minute, day, origin = key[order], minute[order], day[order], origin[order]
    group_keys, starts, counts = np.unique(key, return_index=True, return_counts=True)
    group = np.repeat(np.arange(group_keys.size), counts)

    all_days = np.arange(log.first_day, log.last_day + 1, dtype=np.int64)
    eligible = log.eligible()
    weekday_of_day = (all_days + 3) % 7 == np.arange(7)[:, np.newaxis]  # (weekday, window day)
    window = _Window(
        first_day=log.first_day,
        last_day=log.last_day,
        eligible=eligible,
        eligible_per_weekday=eligible.astype(np.int64) @ weekday_of_day.T.astype(np.int64),
        kernel=_gaussian_kernel_fft(params.kernel_sigma_min),
        sun=sun,
        params=params,
    )

    # Which groups have a peak at all, on each axis, for every group at once: most
    # (entity, state) pairs have none, and then cost nothing more.
    events: tuple[str | None, ...] = (None, "sunrise", "sunset") if sun is not None else (None,)
    screened = {
        event: _groups_with_peaks(
            group, day, _axis_minutes(minute, day, window, event), group_keys.size, window
        )
        for event in events
    }

    patterns: list[TimeOfDayPattern] = []
    for g, (gkey, start, count) in enumerate(zip(group_keys, starts, counts, strict=True)):
        if count < params.min_occurrences or not any(screened[e][g] for e in events):
            continue
        sl = slice(int(start), int(start + count))
        entity = int(gkey // n_states)
        names = (log.entity_ids[entity], log.states[int(gkey % n_states)])
        found: list[TimeOfDayPattern] = []
        for event in events:
            if screened[event][g]:
                found += _detect_group(names, entity, minute[sl], day[sl], origin[sl], window, event)
        if sun is not None:
            found = _prefer_tighter(found)
        patterns.extend(found)
    patterns.sort(key=lambda p: (-p.confidence, -p.occurrences, p.entity_id, p.minute))
    return patterns


def _axis_minutes(
    clock_minute: NDArray[np.int64], day: NDArray[np.int64], window: _Window, sun_event: str | None
) -> NDArray[np.int64]:
    """Minutes on an axis: the clock, or minutes after the day's sun event (-1: none)."""
    if sun_event is None:
        return clock_minute
    assert window.sun is not None
    relative = clock_minute - window.sun.minutes(sun_event, day)
    known = ~np.isnan(relative)
    out = np.full(clock_minute.shape, -1, dtype=np.int64)
    out[known] = np.round(relative[known]).astype(np.int64) % MINUTES_PER_DAY
    return out


# The votes are marked on a boolean grid of (group, day, minute) cells instead of sorted
# when there are many events for its size (a sort of n costs about what 16 n cells do),
# and the grid stays within 64 MB.
_DENSE_GRID_CELLS = 64_000_000


def _groups_with_peaks(
    group: NDArray[np.int64],
    day: NDArray[np.int64],
    axis_minute: NDArray[np.int64],
    n_groups: int,
    window: _Window,
) -> NDArray[np.bool_]:
    """Whether each group's smoothed histogram has a peak (the test ``_detect_group`` uses)."""
    valid = axis_minute >= 0
    g, d, m = group[valid], day[valid] - window.first_day + 1, axis_minute[valid]
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
    hist = counts.astype(np.float64)
    smooth = np.fft.irfft(np.fft.rfft(hist, axis=1) * window.kernel, n=MINUTES_PER_DAY, axis=1)
    mean = hist.sum(axis=1, keepdims=True) / MINUTES_PER_DAY
    peak = (
        (smooth > np.roll(smooth, 1, axis=1))
        & (smooth >= np.roll(smooth, -1, axis=1))
        & (smooth >= window.params.min_peak_lift * mean)
        & (mean > 0)
        & _dense_windows(hist, window.params)
    )
    result: NDArray[np.bool_] = peak.any(axis=1)
    return result


def _dense_windows(hist: NDArray[np.float64], params: TimeOfDayParams) -> NDArray[np.bool_]:
    """Per row and minute: is the +-window around it dense enough to hold a routine?

    The same test ``_pattern_at`` applies (window lift), for every minute at once, from a
    circular running sum.
    """
    half = params.window_min
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
    dense: NDArray[np.bool_] = lift >= params.min_window_lift
    return dense


def _prefer_tighter(found: list[TimeOfDayPattern]) -> list[TimeOfDayPattern]:
    """One pattern per routine, on the clock unless the sun explains it clearly better.

    The same routine shows up on the clock, sunrise and sunset axes; two patterns are the
    same routine when their typical clock times are close and they share most days.
    """
    clock_first = sorted(found, key=lambda p: (p.sun_event is not None, p.spread_min, -p.occurrences))
    kept: list[TimeOfDayPattern] = []
    for pattern in clock_first:
        rival = next((k for k in kept if _same_routine(k, pattern)), None)
        if rival is None:
            kept.append(pattern)
        elif _sun_wins(pattern, rival):
            kept[kept.index(rival)] = pattern
    return kept


def _same_routine(a: TimeOfDayPattern, b: TimeOfDayPattern) -> bool:
    if _circular_distance(a.minute, b.minute) > 2 * 60:
        return False
    shared = len(set(a.hit_days) & set(b.hit_days))
    return shared * 2 >= min(len(a.hit_days), len(b.hit_days))


# The sun must explain the times clearly better than the clock: a quarter less spread
# and a minute at least, so December (when sunset hardly moves) stays on the clock.
_SUN_SPREAD_RATIO = 0.75


def _sun_wins(challenger: TimeOfDayPattern, incumbent: TimeOfDayPattern) -> bool:
    if challenger.sun_event is None:
        return False
    if incumbent.sun_event is not None:  # sunrise vs sunset: the tighter one
        return challenger.spread_min < incumbent.spread_min
    if challenger.occurrences > incumbent.occurrences:  # the clock split it (a DST change)
        return True
    return challenger.spread_min <= incumbent.spread_min * _SUN_SPREAD_RATIO - 1.0


def _detect_group(
    names: tuple[str, str],
    entity: int,
    clock_minute: NDArray[np.int64],
    day: NDArray[np.int64],
    origin: NDArray[np.int8],
    window: _Window,
    sun_event: str | None,
) -> list[TimeOfDayPattern]:
    """Routines of one (entity, state) on one axis: the clock, or minutes from the sun.

    ``names`` is its (entity_id, to_state), ``entity`` its index in the log.
    """
    params = window.params
    minute = _axis_minutes(clock_minute, day, window, sun_event)
    known = minute >= 0  # no sunset on a polar day: not on this axis
    minute, day, origin = minute[known], day[known], origin[known]
    if minute.size < params.min_occurrences:
        return []
    # One vote per (day, minute): repeats within a minute are one decision.
    votes = np.unique(day * MINUTES_PER_DAY + minute) % MINUTES_PER_DAY
    hist = np.bincount(votes, minlength=MINUTES_PER_DAY).astype(np.float64)
    smooth = np.fft.irfft(np.fft.rfft(hist) * window.kernel, n=MINUTES_PER_DAY)
    mean_density = hist.sum() / MINUTES_PER_DAY
    is_peak = (
        (smooth > np.roll(smooth, 1))
        & (smooth >= np.roll(smooth, -1))
        & (smooth >= params.min_peak_lift * mean_density)
    )
    peaks = np.flatnonzero(is_peak & _dense_windows(hist[np.newaxis, :], params)[0])
    peaks = peaks[np.argsort(-smooth[peaks], kind="stable")][: params.max_peaks * 2]

    found: list[TimeOfDayPattern] = []
    taken: list[int] = []
    for peak in (int(p) for p in peaks):
        if any(_circular_distance(peak, t) < params.min_peak_gap_min for t in taken):
            continue
        pattern = _pattern_at(names, entity, peak, minute, day, origin, window, sun_event)
        if pattern is None:
            continue
        taken.append(peak)
        found.append(pattern)
        if len(found) >= params.max_peaks:
            break
    return found


def _pattern_at(
    names: tuple[str, str],
    entity: int,
    peak: int,
    minute: NDArray[np.int64],
    day: NDArray[np.int64],
    origin: NDArray[np.int8],
    window: _Window,
    sun_event: str | None,
) -> TimeOfDayPattern | None:
    # The peak's window is dense enough: _dense_windows kept only such peaks.
    params = window.params
    half = params.window_min
    offsets = _circular_offset(minute, peak)
    inside = np.flatnonzero(np.abs(offsets) <= half)
    if inside.size == 0:
        return None
    # The routine's own day: an event at 00:05 of a 23:55 routine belongs to the evening
    # before, so weekday sets of routines that cross midnight stay right. (On a sun axis
    # minute 0 is the sun event, not midnight: the event's own day is the routine's.)
    anchor_day = day[inside]
    if sun_event is None:
        anchor_day = anchor_day + np.floor_divide(minute[inside] - offsets[inside], MINUTES_PER_DAY)
    # ...which may lie outside the window (00:05 of its first day), or be a day it could
    # not have happened on (the evening before the recorder's first day): not one of its
    # days, so occurrences never exceed eligible days.
    in_window = (anchor_day >= window.first_day) & (anchor_day <= window.last_day)
    in_window[in_window] = window.eligible[entity, anchor_day[in_window] - window.first_day]
    inside, anchor_day = inside[in_window], anchor_day[in_window]
    if inside.size == 0:
        return None
    # One occurrence per day: the event nearest the peak.
    order = np.lexsort((np.abs(offsets[inside]), anchor_day))
    first = np.ones(order.size, dtype=bool)
    first[1:] = anchor_day[order][1:] != anchor_day[order][:-1]
    chosen = inside[order[first]]
    hit_days = anchor_day[order[first]]
    hit_offsets = offsets[chosen].astype(np.float64)

    hit_weekday = (hit_days + 3) % 7
    eligible_per_weekday = _ints(window.eligible_per_weekday[entity])
    day_set, days = _choose_day_set(_ints(np.bincount(hit_weekday, minlength=7)), eligible_per_weekday)
    day_mask = np.zeros(7, dtype=bool)
    day_mask[list(days)] = True
    in_set = day_mask[hit_weekday]
    occurrences = int(np.count_nonzero(in_set))
    eligible = sum(eligible_per_weekday[d] for d in days)
    if occurrences < params.min_occurrences or eligible == 0:
        return None
    share = occurrences / eligible
    if share < params.min_share:
        return None
    coverage = occurrences / hit_days.size

    set_offsets = hit_offsets[in_set]
    centre = _median(set_offsets)
    spread = float(np.std(set_offsets))
    if spread > params.max_spread_min:
        return None
    # The entity's changes on the day set's eligible days (one per minute, as they vote),
    # spread at random over the day: how often one would land in the window anyway.
    vote_days = np.unique(day * MINUTES_PER_DAY + minute) // MINUTES_PER_DAY
    counted = day_mask[(vote_days + 3) % 7] & window.eligible[entity, vote_days - window.first_day]
    per_day_rate = np.count_nonzero(counted) / eligible
    per_day = 1.0 - math.exp(-per_day_rate * (2 * half + 1) / MINUTES_PER_DAY)
    if _chance(occurrences, eligible, per_day) > params.max_chance:
        return None
    sun_offset: int | None = None
    if sun_event is None:
        routine_minute = round(peak + centre) % MINUTES_PER_DAY
    else:
        assert window.sun is not None
        sun_offset = (round(peak + centre) + MINUTES_PER_DAY // 2) % MINUTES_PER_DAY - MINUTES_PER_DAY // 2
        # Its typical clock time: the sun event plus the offset, on a middle day.
        clock = window.sun.minutes(sun_event, hit_days[in_set]) + sun_offset
        routine_minute = round(_median(clock)) % MINUTES_PER_DAY
    per_origin = _ints(np.bincount(origin[chosen][in_set], minlength=len(Origin)))
    origins = {o.label: per_origin[o] for o in Origin if per_origin[o]}
    automated = origins.get(Origin.AUTOMATION.label, 0) * 2 > occurrences
    return TimeOfDayPattern(
        entity_id=names[0],
        to_state=names[1],
        minute=routine_minute,
        days=days,
        day_set=day_set,
        spread_min=round(spread, 1),
        occurrences=occurrences,
        eligible_days=eligible,
        share_of_days=round(share, 3),
        confidence=_confidence(share, coverage, spread),
        automated=automated,
        origins=origins,
        hit_days=tuple(int(d) for d in np.sort(hit_days[in_set])),
        sun_event=sun_event,
        sun_offset_min=sun_offset,
    )

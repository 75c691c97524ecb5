"""Time-of-day routines: "the kitchen light goes on around 06:45 on weekdays".

Per (entity, to_state) we take the peaks of its circular 1-minute histogram of local
times (``minute_histogram``). Each peak's window keeps the one event per day nearest to
it; the day set (``day_sets``) is the one that best explains on which days the routine
happened. With the sun's times, the same is done on minutes after sunrise and sunset
(``sun_relative``).

Days are counted only where the routine could have happened: the recorder has history
of the day (it keeps 10 days by default; Home Assistant may have been off) and the
entity already existed. A routine on all 10 recorded days of a 30-day window happened
on every day it could have, not on a third of them.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from .day_sets import WEEKDAY_NAMES, DaySet, eligible_per_weekday, fit_day_set
from .event_log import IGNORED_STATES, EventLog, Origin, bincount_where, events_where, stable_order
from .local_time import MINUTES_PER_DAY
from .minute_histogram import (
    PeakTest,
    circular_distance,
    circular_offset,
    gaussian_kernel_fft,
    groups_with_peaks,
)
from .presence import ANYONE, FROM_LOG, FromLog, Presence, given_or_read
from .sun_relative import SUN_EVENTS, SunTimes, axis_minutes, prefer_tighter


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
    # A routine is "about sunset" only near it: 11 hours before sunrise is a clock time.
    max_sun_offset_min: int = 180
    min_peak_gap_min: int = 90  # two routines of one entity/state at least this far apart
    # A person's routine: never seen on at least this many days they were away and the
    # others home (with fewer, a common routine missed by chance would look like theirs).
    min_person_days: int = 3
    # Habits change. A routine not seen for the last ``stopped_days`` days (on half of
    # which it could have happened, two of them days of its day set) stopped: not suggested. One first seen
    # after a week it could have happened on without a sign of it (three of them days of
    # its day set) started then: its days count from there, once it has happened on
    # ``started_min_days`` of them. One whose time moved by at
    # least ``moved_min`` minutes, and by ``moved_spread_ratio`` times its spread, moved:
    # its days and time count from the move.
    stopped_days: int = 10
    started_quiet_days: int = 7
    started_min_days: int = 7  # a new routine: a week of it (fewer could be a few odd evenings)
    moved_min: float = 15.0
    moved_spread_ratio: float = 3.0


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
    hit_minutes: tuple[int, ...] = ()  # local minute of day of each, in the order of hit_days
    sun_event: str | None = None  # "sunrise"/"sunset" when it follows the sun better
    sun_offset_min: int | None = None  # minutes after (negative: before) the sun event
    # Who must be home: ``presence.ANYONE``, a person's entity id, or None (see presence.py);
    # ``home`` the people of whom one must be (everyone recorded, or that person).
    presence: str | None = None
    home: tuple[str, ...] = ()
    # The local day the routine as it is now began (it moved or started in the window), or None.
    since_day: int | None = None

    @property
    def time(self) -> str:
        """Local time as HH:MM."""
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    @property
    def day_names(self) -> list[str]:
        """Weekdays as the short names Home Assistant's time condition takes."""
        return [WEEKDAY_NAMES[d] for d in self.days]


@dataclass(frozen=True, slots=True)
class _Window:
    """What every group's detection shares."""

    first_day: int
    last_day: int
    eligible: NDArray[np.bool_]  # (entity, window day): see EventLog.eligible
    eligible_per_weekday: NDArray[np.int64]  # (entity, weekday): count of eligible days
    peaks: PeakTest
    sun: SunTimes | None
    params: TimeOfDayParams
    presence: Presence | None = None


@dataclass(frozen=True, slots=True)
class _Group:
    """One (entity, state)'s changes on one axis: the clock, or minutes from a sun event."""

    entity_id: str
    to_state: str
    entity: int  # its index in the log
    minute: NDArray[np.int64]
    day: NDArray[np.int64]
    origin: NDArray[np.int8]


# A date or a time in a state (2025-04-04T00:30:10+00:00, 2025-04-04, 06:45:00): a
# timestamp sensor's value, different every time, never a decision.
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}:\d{2}(:\d{2})?$")
# States people choose are short words (on, playing, not_home, a zone's or an option's
# name); a user-agent or a notification's text is free text.
MAX_STATE_CHARS = 40
# Events per batch of entities the detector works through (a few MB of temporaries each).
BATCH_EVENTS = 1 << 16


def routine_state_mask(states: tuple[str, ...]) -> NDArray[np.bool_]:
    """Return which state strings can be a routine's target or trigger.

    ``unavailable``/``unknown`` say nothing about the household, a numeric sensor's raw
    values (21.5, 22.0, ...) are measurements, timestamps and free text are no state
    anyone switches to.
    """
    mask = np.ones(len(states), dtype=bool)
    for i, s in enumerate(states):
        if s in IGNORED_STATES or len(s) > MAX_STATE_CHARS or _TIMESTAMP.match(s):
            mask[i] = False
            continue
        try:
            float(s)
        except ValueError:
            continue
        mask[i] = False
    return mask


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


def _sorted_median(ordered: list[float]) -> float:
    """The median of an already sorted list."""
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def _confidence(share: float, coverage: float, spread_min: float) -> float:
    """How sure we are this is a routine worth automating, 0..1.

    The share of the day set's days it happened on, times the share of all its
    occurrences the day set covers, discounted linearly for spread (90 minutes of
    standard deviation would be no routine at all: clipped to a +-60 minute window,
    uniformly random times show about 35).
    """
    tightness = max(0.0, 1.0 - spread_min / 60.0)
    return round(share * coverage * tightness, 3)


def _window(
    log: EventLog, params: TimeOfDayParams, sun: SunTimes | None, presence: Presence | None
) -> _Window:
    eligible = log.eligible()
    return _Window(
        first_day=log.first_day,
        last_day=log.last_day,
        eligible=eligible,
        eligible_per_weekday=eligible_per_weekday(eligible, log.first_day),
        peaks=PeakTest(
            kernel=gaussian_kernel_fft(params.kernel_sigma_min),
            window_min=params.window_min,
            min_peak_lift=params.min_peak_lift,
            min_window_lift=params.min_window_lift,
            min_votes=params.min_occurrences,
        ),
        sun=sun,
        params=params,
        presence=presence,
    )


def detect_time_of_day(
    log: EventLog,
    params: TimeOfDayParams | None = None,
    sun: SunTimes | None = None,
    presence: Presence | FromLog | None = FROM_LOG,
) -> list[TimeOfDayPattern]:
    """Find every daily routine in ``log``; deterministic, strongest first.

    With ``sun``, a routine whose daily times follow sunrise or sunset more tightly than
    the clock is reported relative to it. ``presence``: who was home when, if the caller
    read it already (by default it is read from the log).
    """
    params = params or TimeOfDayParams()
    if len(log) == 0:
        return []
    # Real changes only: states restored after a restart are at the restart's time.
    keep = routine_state_mask(log.states)[log.state] & log.real_mask()
    window = _window(log, params, sun, given_or_read(log, presence))
    patterns: list[TimeOfDayPattern] = []
    # Entity by entity, a batch of entities with about ``BATCH_EVENTS`` events at a time:
    # each (entity, state) is a routine or not on its own, and the per-event work of a
    # whole window at once would take several times the log.
    for lo, hi in entity_batches(log.entity, keep, len(log.entity_ids), BATCH_EVENTS):

        def in_batch(part: slice, lo: int = lo, hi: int = hi) -> NDArray[np.bool_]:
            entity = log.entity[part]
            found: NDArray[np.bool_] = keep[part] & (entity >= lo) & (entity < hi)
            return found

        idx = events_where(len(log), in_batch)
        if hi - lo > 1 or idx.size <= BATCH_EVENTS:
            patterns.extend(_detect_events(log, idx, window, params, sun))
            continue
        # One entity busier than a batch (a motion sensor): its states a batch at a time.
        state = log.state[idx]
        for s_lo, s_hi in count_ranges(np.bincount(state, minlength=len(log.states)), BATCH_EVENTS):
            patterns.extend(_detect_events(log, idx[(state >= s_lo) & (state < s_hi)], window, params, sun))
    patterns.sort(key=lambda p: (-p.confidence, -p.occurrences, p.entity_id, p.minute))
    return patterns


def entity_batches(
    entity: NDArray[np.int32], keep: NDArray[np.bool_], n_entities: int, batch_events: int
) -> list[tuple[int, int]]:
    """Ranges ``[lo, hi)`` of entity numbers with about ``batch_events`` kept events each.

    An entity with more than that is a batch of its own.
    """
    return count_ranges(bincount_where(entity, keep, n_entities), batch_events)


def count_ranges(counts: NDArray[np.int64], batch: int) -> list[tuple[int, int]]:
    """Consecutive ranges ``[lo, hi)`` of ``counts``' indices holding about ``batch`` each
    (one index with more is a range of its own); none where all counts are 0."""
    ranges: list[tuple[int, int]] = []
    lo, total = 0, 0
    values: list[int] = [int(c) for c in counts]
    for i, count in enumerate(values):
        if total and total + count > batch:
            ranges.append((lo, i))
            lo, total = i, 0
        total += count
    if total:
        ranges.append((lo, len(counts)))
    return ranges


def _runs(key: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The runs of equal values of a sorted ``key``: (value, start, length) of each."""
    starts = (
        np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1]))) if key.size else np.zeros(0, np.int64)
    )
    counts = np.diff(np.append(starts, key.size))
    return key[starts], starts, counts


def _detect_events(
    log: EventLog, idx: NDArray[np.int64], window: _Window, params: TimeOfDayParams, sun: SunTimes | None
) -> list[TimeOfDayPattern]:
    """The routines of the (entity, state) groups of the log's events ``idx``."""
    n_states = max(len(log.states), 1)
    key = log.entity[idx].astype(np.int64) * n_states + log.state[idx]
    order = stable_order(key)
    idx, key = idx[order], key[order]
    # Only (entity, state) groups with enough events can be a routine: a text sensor's
    # thousands of one-off values are dropped before any per-group work.
    group_keys, starts, counts = _runs(key)
    big = counts >= params.min_occurrences
    if not big.all():
        events_kept = np.repeat(big, counts)
        idx, key = idx[events_kept], key[events_kept]
        group_keys, starts, counts = _runs(key)
    if idx.size == 0:
        return []
    local_minute, local_day = log.local(idx)
    minute, day = local_minute.astype(np.int64), local_day.astype(np.int64)
    origin = log.origin[idx]
    group = np.repeat(np.arange(group_keys.size), counts)

    # Which groups have a peak at all, on each axis, for every group at once: most
    # (entity, state) pairs have none, and then cost nothing more.
    events: tuple[str | None, ...] = (None, *SUN_EVENTS) if sun is not None else (None,)
    screened = {
        event: groups_with_peaks(
            group, day, axis_minutes(minute, day, sun, event), group_keys.size, window.peaks
        )
        for event in events
    }

    patterns: list[TimeOfDayPattern] = []
    for g, (gkey, start, count) in enumerate(zip(group_keys, starts, counts, strict=True)):
        if count < params.min_occurrences or not any(g in screened[e] for e in events):
            continue
        sl = slice(int(start), int(start + count))
        entity = int(gkey // n_states)
        clock = _Group(
            log.entity_ids[entity], log.states[int(gkey % n_states)], entity, minute[sl], day[sl], origin[sl]
        )
        found = [
            p for e in events if g in screened[e] for p in _detect_group(clock, window, e, screened[e][g])
        ]
        found = prefer_tighter(found) if sun is not None else found
        patterns.extend(_current(found))
    return patterns


def _current(found: list[TimeOfDayPattern]) -> list[TimeOfDayPattern]:
    """Without the routines of one entity and state that another took over: one that ended
    before the other began is the old habit (07:00 until last week, 09:00 since)."""
    return [
        p
        for p in found
        if not any(q is not p and q.hit_days and p.hit_days and q.hit_days[0] > p.hit_days[-1] for q in found)
    ]


def _detect_group(
    clock: _Group, window: _Window, sun_event: str | None, peaks: NDArray[np.int64]
) -> list[TimeOfDayPattern]:
    """Routines of one (entity, state) on one axis: the clock, or minutes from the sun.

    ``peaks``: its histogram's peaks on that axis, strongest first (the screen's).
    """
    params = window.params
    minute = axis_minutes(clock.minute, clock.day, window.sun, sun_event)
    known = minute >= 0  # no sunset on a polar day: not on this axis
    group = replace(clock, minute=minute[known], day=clock.day[known], origin=clock.origin[known])
    if group.minute.size < params.min_occurrences:
        return []
    peaks = peaks[: params.max_peaks * 2]

    found: list[TimeOfDayPattern] = []
    taken: list[int] = []
    for peak in (int(p) for p in peaks):
        if any(circular_distance(peak, t) < params.min_peak_gap_min for t in taken):
            continue
        pattern = _pattern_at(group, peak, window, sun_event)
        if pattern is None:
            continue
        taken.append(peak)
        found.append(pattern)
        if len(found) >= params.max_peaks:
            break
    return found


def _daily_hits(
    group: _Group, peak: int, window: _Window, sun_event: str | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]] | None:
    """The peak's occurrences, one a day (the event nearest the peak), on days it could
    have happened: ``(event index, day, offset from the peak)``, None if there are none.
    """
    offsets = circular_offset(group.minute, peak)
    inside = np.flatnonzero(np.abs(offsets) <= window.params.window_min)
    # The routine's own day: an event at 00:05 of a 23:55 routine belongs to the evening
    # before, so weekday sets of routines that cross midnight stay right. (On a sun axis
    # minute 0 is the sun event, not midnight: the event's own day is the routine's.)
    anchor_day = group.day[inside]
    if sun_event is None:
        anchor_day = anchor_day + np.floor_divide(group.minute[inside] - offsets[inside], MINUTES_PER_DAY)
    # ...which may lie outside the window (00:05 of its first day), or be a day it could
    # not have happened on (the evening before the recorder's first day): not one of its
    # days, so occurrences never exceed eligible days.
    in_window = (anchor_day >= window.first_day) & (anchor_day <= window.last_day)
    in_window[in_window] = window.eligible[group.entity, anchor_day[in_window] - window.first_day]
    inside, anchor_day = inside[in_window], anchor_day[in_window]
    if inside.size == 0:
        return None
    order = np.lexsort((np.abs(offsets[inside]), anchor_day))
    first = np.ones(order.size, dtype=bool)
    first[1:] = anchor_day[order][1:] != anchor_day[order][:-1]
    chosen = inside[order[first]]
    return chosen, anchor_day[order[first]], offsets[chosen].astype(np.float64)


def _by_chance(
    group: _Group, day_set: DaySet, occurrences: int, window: _Window, could: NDArray[np.bool_]
) -> bool:
    """Would this many hits come from the entity's own changes at random times of day?

    ``could``: per window day, whether the routine could have happened then.
    """
    # Its changes on the day set's eligible days (one per minute, as they vote), spread
    # at random over the day: how often one would land in the window anyway.
    vote_days = np.unique(group.day * MINUTES_PER_DAY + group.minute) // MINUTES_PER_DAY
    counted = day_set.holds(vote_days) & could[vote_days - window.first_day]
    per_day_rate = np.count_nonzero(counted) / day_set.eligible
    per_day = 1.0 - math.exp(-per_day_rate * (2 * window.params.window_min + 1) / MINUTES_PER_DAY)
    return _chance(occurrences, day_set.eligible, per_day) > window.params.max_chance


def _presence_options(
    group: _Group,
    peak: int,
    window: _Window,
    sun_event: str | None,
    hits: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
) -> list[tuple[str | None, NDArray[np.bool_]]]:
    """The ways the routine may depend on who is home, with the days it could have happened.

    Nobody's whereabouts recorded: none. A routine never seen while nobody was home (at its
    time), where that happened: it depends on someone being home, and those days are not
    days it missed. One never seen while a person was away and the others home (on at
    least ``min_person_days`` such days): it may be that person's. A day it happened is
    judged at the moment it did (coffee at 08:10, out of the door at 08:16), the others at
    the routine's time.
    """
    could = window.eligible[group.entity]
    presence = window.presence
    if presence is None:
        return [(None, could)]
    _chosen, hit_days, hit_offsets = hits
    days = np.arange(window.first_day, window.last_day + 1, dtype=np.int64)
    moments: NDArray[np.float64] = (days * MINUTES_PER_DAY).astype(np.float64) + float(peak)
    if sun_event is not None:
        assert window.sun is not None
        event = window.sun.minutes(sun_event, days)
        # No sun event that day: a moment before anything is known.
        moments = np.where(np.isnan(event), -1.0, moments + event)
    hit_index = hit_days - window.first_day
    moments[hit_index] += hit_offsets
    home = presence.at(moments)
    # Minutes are coarse: someone who left in the minute it happened was still there.
    home[:, hit_index] |= presence.at(moments[hit_index] - 0.5)
    anyone = np.asarray(home.any(axis=0), dtype=bool)
    if np.count_nonzero(could & ~anyone) == 0 or np.any(~anyone[hit_index]):
        return [(None, could)]  # never away at its time, or it happens while away too
    options: list[tuple[str | None, NDArray[np.bool_]]] = [(ANYONE, could & anyone)]
    for i, person in enumerate(presence.people):
        person_home = np.asarray(home[i], dtype=bool)
        others_only = could & anyone & ~person_home
        if np.count_nonzero(others_only) >= window.params.min_person_days and person_home[hit_index].all():
            options.append((person, could & person_home))
    return options


def _pattern_at(group: _Group, peak: int, window: _Window, sun_event: str | None) -> TimeOfDayPattern | None:
    # The peak's window is dense enough: the screen kept only such peaks.
    hits = _daily_hits(group, peak, window, sun_event)
    if hits is None:
        return None
    best: TimeOfDayPattern | None = None
    for presence, could in _presence_options(group, peak, window, sun_event, hits):
        found = _fit(group, peak, window, sun_event, hits, presence, could)
        if found is not None and (best is None or found.confidence > best.confidence):
            best = found
    return best


def _since(
    hit_days: NDArray[np.int64], hit_offsets: NDArray[np.float64], could: NDArray[np.bool_], window: _Window
) -> int | None:
    """The day the routine as it is now began, if it moved or started inside the window."""
    params = window.params
    order = np.argsort(hit_days, kind="stable")
    days, offsets = hit_days[order], hit_offsets[order]
    n = days.size
    best: tuple[float, int] | None = None
    # Moved: a step in its daily times, with enough days after it to be a routine. Every
    # split at once in plain floats (a few dozen days; thousands of routines a run): the
    # sides' sums give their variances, a sorted list grown and one shrunk their medians.
    values = [float(v) for v in offsets]
    sums, squares = [0.0], [0.0]
    for v in values:
        sums.append(sums[-1] + v)
        squares.append(squares[-1] + v * v)
    first = 3
    before = sorted(values[:first])
    after = sorted(values[first:])
    for k in range(first, n - params.min_occurrences + 1):
        if k > first:
            moved = values[k - 1]
            bisect.insort(before, moved)
            del after[bisect.bisect_left(after, moved)]
        step = abs(_sorted_median(after) - _sorted_median(before))
        var_before = squares[k] / k - (sums[k] / k) ** 2
        rest = n - k
        var_after = (squares[n] - squares[k]) / rest - ((sums[n] - sums[k]) / rest) ** 2
        spread = math.sqrt(max(0.0, (var_before * k + var_after * rest) / n))
        if step >= params.moved_min and step >= params.moved_spread_ratio * spread:
            ratio = step / (spread + 1.0)
            if best is None or ratio > best[0]:
                best = (ratio, int(days[k - 1]) + 1)
    if best is not None:
        return best[1]
    # Started: a week it could have happened on, and nothing, before its first day.
    quiet = np.count_nonzero(could[: int(days[0]) - window.first_day])
    if quiet >= params.started_quiet_days and n >= params.started_min_days:
        return int(days[0])
    return None


def _stopped(hit_days: NDArray[np.int64], day_set: DaySet, could: NDArray[np.bool_], window: _Window) -> bool:
    """Not seen for the last ``stopped_days`` days, on half of which it could have happened
    (two of them days of its day set): days away are no sign it stopped, nor are they
    enough to keep it."""
    params = window.params
    last = int(hit_days.max())
    if window.last_day - last < params.stopped_days:
        return False
    all_days = np.arange(window.first_day, window.last_day + 1, dtype=np.int64)
    after = could & (all_days > last)
    in_set_after = np.count_nonzero(after & day_set.holds(all_days))
    return bool(2 * np.count_nonzero(after) >= params.stopped_days and in_set_after >= 2)


def _fit(
    group: _Group,
    peak: int,
    window: _Window,
    sun_event: str | None,
    hits: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    presence: str | None,
    could: NDArray[np.bool_],
) -> TimeOfDayPattern | None:
    """The routine at ``peak`` on the days it ``could`` have happened (per window day)."""
    params = window.params
    chosen, hit_days, hit_offsets = hits
    possible = could[hit_days - window.first_day]
    chosen, hit_days, hit_offsets = chosen[possible], hit_days[possible], hit_offsets[possible]
    if hit_days.size == 0:
        return None
    since = _since(hit_days, hit_offsets, could, window)
    if since is not None:
        could = could & (np.arange(window.first_day, window.last_day + 1) >= since)
        now = hit_days >= since
        chosen, hit_days, hit_offsets = chosen[now], hit_days[now], hit_offsets[now]
    per_weekday = eligible_per_weekday(could[np.newaxis, :], window.first_day)[0]
    day_set = fit_day_set(hit_days, _ints(per_weekday))
    if _stopped(hit_days, day_set, could, window):
        return None
    in_set = day_set.holds(hit_days)
    occurrences = int(np.count_nonzero(in_set))
    if occurrences < params.min_occurrences or day_set.eligible == 0:
        return None
    share = occurrences / day_set.eligible
    if share < params.min_share:
        return None
    set_offsets = hit_offsets[in_set]
    spread = float(np.std(set_offsets))
    if spread > params.max_spread_min or _by_chance(group, day_set, occurrences, window, could):
        return None
    at = round(peak + _median(set_offsets))
    sun_offset: int | None = None
    if sun_event is None:
        routine_minute = at % MINUTES_PER_DAY
    else:
        assert window.sun is not None
        sun_offset = (at + MINUTES_PER_DAY // 2) % MINUTES_PER_DAY - MINUTES_PER_DAY // 2
        if abs(sun_offset) > params.max_sun_offset_min:
            return None
        # Its typical clock time: the sun event plus the offset, on a middle day.
        clock = window.sun.minutes(sun_event, hit_days[in_set]) + sun_offset
        routine_minute = round(_median(clock)) % MINUTES_PER_DAY
    per_origin = _ints(np.bincount(group.origin[chosen][in_set], minlength=len(Origin)))
    origins = {o.label: per_origin[o] for o in Origin if per_origin[o]}
    # Each day's clock time of it, in the order of its days.
    set_days = hit_days[in_set]
    day_order = np.argsort(set_days, kind="stable")
    axis = peak + set_offsets
    clock_times = axis if sun_event is None else window.sun.minutes(sun_event, set_days) + axis  # type: ignore[union-attr]
    return TimeOfDayPattern(
        entity_id=group.entity_id,
        to_state=group.to_state,
        minute=routine_minute,
        days=day_set.days,
        day_set=day_set.name,
        spread_min=round(spread, 1),
        occurrences=occurrences,
        eligible_days=day_set.eligible,
        share_of_days=round(share, 3),
        confidence=_confidence(share, occurrences / hit_days.size, spread),
        automated=origins.get(Origin.AUTOMATION.label, 0) * 2 > occurrences,
        origins=origins,
        hit_days=tuple(int(d) for d in set_days[day_order]),
        hit_minutes=tuple(round(m) % MINUTES_PER_DAY for m in clock_times[day_order]),
        sun_event=sun_event,
        sun_offset_min=sun_offset,
        presence=presence,
        home=_home_of(presence, window.presence),
        since_day=since,
    )


def _home_of(presence: str | None, known: Presence | None) -> tuple[str, ...]:
    if presence is None or known is None:
        return ()
    return known.people if presence == ANYONE else (presence,)

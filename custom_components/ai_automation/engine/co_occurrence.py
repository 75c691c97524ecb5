"""Co-occurrence: "when the hallway motion sensor turns on, the hallway light follows".

Directed: A (an entity reaching a state) -> B (another entity reaching a state) within
``window_s``. Every A event looks ahead with ``searchsorted`` into the (much sparser)
stream of possible followers, so the work is O(n log m) plus the pairs found; A events
are processed in chunks so memory stays bounded however long the history is. Each A
event counts at most one hit per follower (its first), so a chatty trigger cannot
inflate the support.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .co_occurrence_window import (
    Window,
    best_window,
    dark_mask,
    dark_or_clock,
    hit_histogram,
    trigger_histograms,
)
from .event_log import EventLog, Origin, bincount_where, events_where
from .local_time import SLICE_EVENTS
from .sun_relative import SunTimes
from .time_of_day import routine_state_mask

# Pair keys (trigger key x follower key) counted in a dense table up to this size (32 MB).
_DENSE_PAIR_CELLS = 4_000_000


@dataclass(frozen=True, slots=True)
class CoOccurrenceParams:
    """Tuning of the detector."""

    window_s: float = 120.0  # how long after A a B still counts as following it
    min_support: int = 8  # A events followed by B
    min_confidence: float = 0.3  # P(B follows | A), over the day or inside its window
    # Over the whole day, a follower that follows in part of the day only (see
    # co_occurrence_window) needs this much: it then needs ``min_confidence`` inside.
    min_day_confidence: float = 0.1
    min_coverage: float = 0.5  # P(A preceded | B): A explains most of B's changes
    min_lift: float = 5.0  # confidence over B's chance of happening in any such window
    chunk_events: int = 16_384  # A events per chunk at most (memory: their pairs, a few MB)
    chunk_pairs: int = 65_536  # pairs per chunk, about (one A event's are never split)


@dataclass(frozen=True, slots=True)
class CoOccurrencePattern:
    """B follows A: ``entity_id`` reaches ``to_state`` after the trigger does."""

    trigger_entity_id: str
    trigger_to_state: str
    entity_id: str
    to_state: str
    lag_s: float  # median seconds from A to B
    lag_p90_s: float
    occurrences: int  # A events followed by B within the window
    trigger_count: int  # all A events
    follower_count: int  # all B events
    confidence: float  # occurrences / trigger_count: P(B | A)
    coverage: float  # share of B events that followed an A
    lift: float  # confidence / P(B in a random window of the same length)
    automated: bool  # most of the B events that followed were an automation's
    origins: dict[str, int] = field(default_factory=dict)
    # The part of the day it happens in, (start, end) local minutes (end < start: across
    # midnight); None: all day. With a window, the counts and confidence are inside it.
    window: tuple[int, int] | None = None
    # Only when the sun is down (after sunset or before sunrise); counted then, as a window.
    after_dark: bool = False

    @property
    def score(self) -> float:
        """Rank: how often B follows A, discounted when A explains little of B."""
        return round(self.confidence * min(1.0, self.coverage / 0.8), 3)


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Each A event with the first follower of each key: the pair's key, lag and B event."""

    key: NDArray[np.int64]  # A's key * n_keys + B's key
    lag: NDArray[np.float64]  # seconds
    b_event: NDArray[np.int64]  # index in the log

    def take(self, idx: NDArray[np.int64]) -> _Pairs:
        return _Pairs(self.key[idx], self.lag[idx], self.b_event[idx])


@dataclass(frozen=True, slots=True)
class _Followers:
    """The events that may be a B: their numbers in the log and their times."""

    idx: NDArray[np.int64]
    ts: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Keys:
    """A key per event: the rank of its (entity, usable state) among those that occur.

    Ranks, not ``entity * n_states + state``: a home with a text sensor of 25,000 values
    and 70 entities would otherwise count over 1.75 million keys that never occur.
    """

    key: NDArray[np.signedinteger[Any]]  # 0 for an event whose state is not usable (never A or B)
    usable: NDArray[np.bool_]  # per event: its state can be a pattern's
    usable_states: NDArray[np.int64]  # compact state -> index in log.states
    present: NDArray[np.int64]  # key -> entity * n_states + compact state
    n_states: int

    @property
    def n_keys(self) -> int:
        """Keys run 0 .. n_keys - 1."""
        return max(int(self.present.size), 1)

    def names(self, log: EventLog, key: int) -> tuple[str, str]:
        """The (entity_id, state) of a key."""
        raw = int(self.present[key])
        return log.entity_ids[raw // self.n_states], log.states[self.usable_states[raw % self.n_states]]


@dataclass(frozen=True, slots=True)
class _Counts:
    """What a pair's statistics are measured against."""

    trigger: NDArray[np.int64]  # per key: its A events
    follower: NDArray[np.int64]  # per key: its possible B events
    span_s: float  # the time B could have happened in

    def chance(self, follower_keys: NDArray[np.int64], window_s: float) -> NDArray[np.float64]:
        """Chance that B happens in a random window of the same length (Poisson)."""
        rate: NDArray[np.float64] = 1.0 - np.exp(-self.follower[follower_keys] / self.span_s * window_s)
        return rate


def _keys(log: EventLog) -> _Keys:
    # Keys over the usable states only: numeric sensors bring thousands of state strings
    # that can never be a pattern, and would blow the key space up.
    usable_state = routine_state_mask(log.states)
    usable_states = np.flatnonzero(usable_state)
    compact = np.cumsum(usable_state) - 1
    n_states = max(int(usable_states.size), 1)
    # Only real changes: a device back from ``unavailable`` after a restart is no onset.
    usable = usable_state[log.state] & log.real_mask()
    n = len(log)
    slices = [slice(lo, lo + SLICE_EVENTS) for lo in range(0, n, SLICE_EVENTS)]

    def raw(part: slice) -> NDArray[np.int64]:
        """The usable events' ``entity * n_states + compact state``, a slice at a time."""
        mask = usable[part]
        found: NDArray[np.int64] = (
            log.entity[part][mask].astype(np.int64) * n_states + compact[log.state[part][mask]]
        )
        return found

    n_raw = max(len(log.entity_ids), 1) * n_states
    if n_raw <= 2 * n:
        # Few possible keys: rank them with a table as long as the log, no sort.
        seen = np.zeros(n_raw, dtype=bool)
        for part in slices:
            seen[raw(part)] = True
        present = np.flatnonzero(seen)
        table = np.cumsum(seen) - 1

        def rank(found: NDArray[np.int64]) -> NDArray[np.int64]:
            ranked: NDArray[np.int64] = table[found]
            return ranked
    else:
        present = np.unique(
            np.concatenate([np.unique(raw(part)) for part in slices] or [np.empty(0, np.int64)])
        )

        def rank(found: NDArray[np.int64]) -> NDArray[np.int64]:
            return np.searchsorted(present, found)

    # Two bytes an event where the keys fit (a home has hundreds), else four.
    key: NDArray[np.signedinteger[Any]] = np.zeros(n, dtype=np.int16 if present.size < 2**15 else np.int32)
    for part in slices:
        key[part][usable[part]] = rank(raw(part))
    return _Keys(key=key, usable=usable, usable_states=usable_states, present=present, n_states=n_states)


def _chunks(
    log: EventLog, keys: _Keys, can_lead: NDArray[np.bool_], followers: _Followers, params: CoOccurrenceParams
) -> Iterator[tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]]]:
    """The A events (usable, of a key that can lead) in chunks, with where each one's
    followers start and end in ``followers``.

    Found a ``chunk_events`` slice of the log at a time (A is most of the log: all of it
    at once would be 4 bytes an event more), and cut at about ``chunk_pairs`` pairs: a
    home whose sensors fire every few seconds has dozens of followers in every A's window.
    """
    for start in range(0, len(log), params.chunk_events):
        part = slice(start, start + params.chunk_events)
        a = (np.flatnonzero(keys.usable[part] & can_lead[keys.key[part]]) + start).astype(np.int32)
        if a.size == 0:
            continue
        a_ts = log.ts[a]
        lo = np.searchsorted(followers.ts, a_ts, side="right")
        hi = np.searchsorted(followers.ts, a_ts + params.window_s, side="right")
        total = np.cumsum(hi - lo)
        cuts = np.searchsorted(
            total, np.arange(params.chunk_pairs, int(total[-1]), params.chunk_pairs), "right"
        )
        bounds = np.unique(np.concatenate(([0], cuts, [a.size])))
        for b0, b1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            yield a[b0:b1], lo[b0:b1], hi[b0:b1]


def _chunk_pairs(
    log: EventLog,
    keys: _Keys,
    chunk: tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]],
    followers: _Followers,
) -> _Pairs | None:
    """The pairs of a chunk's A events: followers within the window, first of each key."""
    ts, n_keys = log.ts, keys.n_keys
    a, lo, hi = chunk
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return None
    which_a = np.repeat(np.arange(a.size), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    b = followers.idx[lo[which_a] + offsets]
    a_ev = a[which_a]
    other = log.entity[b] != log.entity[a_ev]
    a_ev, b = a_ev[other], b[other]
    if a_ev.size == 0:
        return None
    # One hit per (A event, follower key): the earliest follower. Pairs come grouped
    # by A event and in time order, so a stable sort (timsort: adaptive to those
    # runs) keeps the earliest first, and is much cheaper than unique()'s full sort.
    combined = a_ev.astype(np.int64) * n_keys + keys.key[b]
    order = np.argsort(combined, kind="stable")
    ranked = combined[order]
    first = order[np.concatenate(([True], ranked[1:] != ranked[:-1]))]
    a_ev, b = a_ev[first], b[first]
    return _Pairs(keys.key[a_ev].astype(np.int64) * n_keys + keys.key[b], ts[b] - ts[a_ev], b)


def _all_pairs(
    log: EventLog,
    keys: _Keys,
    can_lead: NDArray[np.bool_],
    followers: _Followers,
    params: CoOccurrenceParams,
    wanted: NDArray[np.bool_] | None = None,
) -> _Pairs | None:
    """Every A event's pairs, chunk by chunk; with ``wanted``, only those of wanted pair keys.

    Only the kept pairs of each chunk are held: with busy sensors most pairs are chance
    coincidences, and holding all of them took 460 MB at 1.4M events.
    """
    chunks: list[_Pairs] = []
    for chunk in _chunks(log, keys, can_lead, followers, params):
        pairs = _chunk_pairs(log, keys, chunk, followers)
        if pairs is not None and wanted is not None:
            pairs = pairs.take(np.flatnonzero(wanted[pairs.key]))
        if pairs is not None and pairs.key.size:
            chunks.append(pairs)
    if not chunks:
        return None
    return _Pairs(
        np.concatenate([p.key for p in chunks]),
        np.concatenate([p.lag for p in chunks]),
        np.concatenate([p.b_event for p in chunks]),
    )


def _support(
    log: EventLog, keys: _Keys, can_lead: NDArray[np.bool_], followers: _Followers, params: CoOccurrenceParams
) -> NDArray[np.int64]:
    """Per pair key (dense): how many A events a B of that key followed; pairs not kept."""
    n_cells = keys.n_keys * keys.n_keys
    support = np.zeros(n_cells, dtype=np.int64)
    for chunk in _chunks(log, keys, can_lead, followers, params):
        pairs = _chunk_pairs(log, keys, chunk, followers)
        if pairs is not None:
            support += np.bincount(pairs.key, minlength=n_cells)
    return support


def _plausible(
    support_all: NDArray[np.int64], n_keys: int, counts: _Counts, params: CoOccurrenceParams
) -> NDArray[np.bool_]:
    """Per pair key: whether it passes the cheap tests (support, confidence, lift).

    Most pairs are chance coincidences: every pair key is counted in one pass first.
    """
    cand = np.flatnonzero(support_all >= params.min_support)
    conf = support_all[cand] / counts.trigger[cand // n_keys]
    chance = counts.chance(cand % n_keys, params.window_s)
    passing = cand[(conf >= params.min_day_confidence) & (conf >= params.min_lift * chance)]
    wanted = np.zeros(n_keys * n_keys, dtype=bool)
    wanted[passing] = True
    return wanted


def detect_co_occurrence(
    log: EventLog,
    follower_entities: NDArray[np.bool_] | None = None,
    params: CoOccurrenceParams | None = None,
    sun: SunTimes | None = None,
) -> list[CoOccurrencePattern]:
    """Find directed A -> B pairs; ``follower_entities`` masks which entities may be B.

    With ``sun``, a follower that follows only when it is dark gets that as its window.
    """
    params = params or CoOccurrenceParams()
    if len(log) == 0:
        return []
    keys = _keys(log)
    n_keys = keys.n_keys
    may_follow = keys.usable if follower_entities is None else keys.usable & follower_entities[log.entity]
    counts = _Counts(
        trigger=bincount_where(keys.key, keys.usable, n_keys),
        follower=bincount_where(keys.key, may_follow, n_keys),
        # The time B could have happened in: not the days without history inside (Home
        # Assistant off), or B's chance looks too small.
        span_s=max(log.span_s(), params.window_s),
    )
    # No pair can pass with an A of fewer events than the support needed, or a B so busy
    # that it is in most windows anyway (P(B | A) is at most 1: its lift at most 1/chance).
    # Their pairs would be most of the work in a home of busy sensors: not made at all.
    can_lead = counts.trigger >= params.min_support
    can_follow = counts.chance(np.arange(n_keys), params.window_s) * params.min_lift <= 1.0
    b_idx = np.flatnonzero(may_follow & can_follow[keys.key])
    del may_follow
    if not can_lead.any() or b_idx.size == 0:
        return []
    followers = _Followers(b_idx, log.ts[b_idx])
    wanted = None
    if n_keys * n_keys <= _DENSE_PAIR_CELLS:
        # Two passes over the pairs: count every pair key, then keep the plausible ones.
        wanted = _plausible(_support(log, keys, can_lead, followers, params), n_keys, counts, params)
        if not wanted.any():
            return []
        # The second pass pairs only the A and B keys of plausible pairs (a pair's hits
        # depend on its own two keys only): a small share of the first pass's work.
        pairs_of = wanted.reshape(n_keys, n_keys)
        can_lead &= np.any(pairs_of, axis=1)
        can_be_b = np.asarray(np.any(pairs_of, axis=0), dtype=bool)
        kept = can_be_b[keys.key[followers.idx]]
        followers = _Followers(followers.idx[kept], followers.ts[kept])
    pairs = _all_pairs(log, keys, can_lead, followers, params, wanted)
    if pairs is None:
        return []
    dark = None if sun is None else _dark(log, sun)
    return _patterns(log, keys, pairs, counts, params, dark)


def _dark(log: EventLog, sun: SunTimes) -> NDArray[np.bool_]:
    """Per event of the log: the sun was down (its local times a slice at a time)."""
    dark = np.empty(len(log), dtype=bool)
    for lo in range(0, len(log), SLICE_EVENTS):
        part = slice(lo, lo + SLICE_EVENTS)
        minute, day = log.local(part)
        dark[part] = dark_mask(day, minute, sun)
    return dark


def _patterns(
    log: EventLog,
    keys: _Keys,
    pairs: _Pairs,
    counts: _Counts,
    params: CoOccurrenceParams,
    dark: NDArray[np.bool_] | None,
) -> list[CoOccurrencePattern]:
    """The pairs of keys that pass every test, as patterns, strongest first.

    ``dark``: per event of the log, the sun was down (None: the home has no sun times).
    """
    n_keys = keys.n_keys
    pairs = pairs.take(np.argsort(pairs.key, kind="stable"))
    groups, starts, support = np.unique(pairs.key, return_index=True, return_counts=True)

    # Every pair's statistics at once; only the survivors are looked at one by one.
    ka, kb = groups // n_keys, groups % n_keys
    n_a, n_b = counts.trigger[ka], counts.follower[kb]
    confidence = support / n_a
    # Followers can be shared by several A events: count distinct B events per pair.
    distinct = np.unique(pairs.key * len(log) + pairs.b_event) // len(log)
    explained = np.bincount(np.searchsorted(groups, distinct), minlength=groups.size)
    coverage = np.divide(explained, n_b, out=np.zeros(groups.size), where=n_b > 0)
    base_rate = counts.chance(kb, params.window_s)
    lift = np.divide(confidence, base_rate, out=np.full(groups.size, np.inf), where=base_rate > 0)
    strong = np.flatnonzero(
        (support >= params.min_support)
        & (confidence >= params.min_day_confidence)
        & (coverage >= params.min_coverage)
        & (lift >= params.min_lift)
    )
    # A events per half hour, for the pairs that may follow in part of the day only: the
    # A events of those pairs' triggers.
    leads = np.zeros(n_keys, dtype=bool)
    leads[ka[strong]] = True
    a_strong = events_where(len(log), lambda part: keys.usable[part] & leads[keys.key[part]])
    per_half_hour = trigger_histograms(keys.key[a_strong], log.local_minute(a_strong), np.unique(ka[strong]))
    dark_triggers = (
        None if dark is None else np.bincount(keys.key[a_strong[dark[a_strong]]], minlength=n_keys)
    )

    found: list[CoOccurrencePattern] = []
    for g in strong:
        hits = int(support[g])
        sl = slice(int(starts[g]), int(starts[g]) + hits)
        window = best_window(
            hit_histogram(log.local_minute(pairs.b_event[sl]), pairs.lag[sl]),
            per_half_hour[int(ka[g])],
            params.min_confidence,
        )
        if dark is not None and dark_triggers is not None:
            window = dark_or_clock(
                window,
                int(np.count_nonzero(dark[_a_events(log, pairs, sl)])),
                int(dark_triggers[ka[g]]),
                hits,
                int(n_a[g]),
                params.min_confidence,
            )
        if window is None and confidence[g] < params.min_confidence:
            continue
        if window is not None and window.hits < params.min_support:
            continue
        trigger, follower = keys.names(log, int(ka[g])), keys.names(log, int(kb[g]))
        day = _DayStats(int(n_a[g]), int(n_b[g]), float(confidence[g]), float(coverage[g]), float(lift[g]))
        found.append(_pattern(log, trigger, follower, pairs, sl, day, window))
    found = _first_response(found)
    found.sort(key=lambda p: (-p.score, -p.occurrences, p.trigger_entity_id, p.entity_id))
    return found


def _first_response(found: list[CoOccurrencePattern]) -> list[CoOccurrencePattern]:
    """Per trigger and follower entity, only the state B reaches first.

    Motion on, the light on 3 s later and off when the motion is over, 2 min later: the
    light going off follows motion on too, but it ends what the motion started.
    """
    first: dict[tuple[str, str, str], CoOccurrencePattern] = {}
    for pattern in found:
        key = (pattern.trigger_entity_id, pattern.trigger_to_state, pattern.entity_id)
        kept = first.get(key)
        if kept is None or (pattern.lag_s, pattern.to_state) < (kept.lag_s, kept.to_state):
            first[key] = pattern
    return list(first.values())


def _a_events(log: EventLog, pairs: _Pairs, sl: slice) -> NDArray[np.int64]:
    """The A event of each pair in ``sl`` (an event at its instant: the same local time)."""
    a_ts = log.ts[pairs.b_event[sl]] - pairs.lag[sl]
    return np.minimum(np.searchsorted(log.ts, a_ts - 1e-3), len(log) - 1)


@dataclass(frozen=True, slots=True)
class _DayStats:
    """A pair's statistics over the whole day."""

    triggers: int
    followers: int
    confidence: float
    coverage: float
    lift: float


def _pattern(
    log: EventLog,
    trigger: tuple[str, str],
    follower: tuple[str, str],
    pairs: _Pairs,
    sl: slice,
    day: _DayStats,
    window: Window | None,
) -> CoOccurrencePattern:
    """The pattern of one pair: its hits are ``pairs[sl]``; counted inside ``window`` if any."""
    hits = sl.stop - sl.start
    follower_origin = log.origin[pairs.b_event[sl]]
    origins = {o.label: int(np.count_nonzero(follower_origin == o)) for o in Origin}
    origins = {k: v for k, v in origins.items() if v}
    return CoOccurrencePattern(
        trigger_entity_id=trigger[0],
        trigger_to_state=trigger[1],
        entity_id=follower[0],
        to_state=follower[1],
        lag_s=round(float(np.median(pairs.lag[sl])), 1),
        lag_p90_s=round(float(np.quantile(pairs.lag[sl], 0.9)), 1),
        occurrences=window.hits if window else hits,
        trigger_count=window.triggers if window else day.triggers,
        follower_count=day.followers,
        confidence=round(window.confidence if window else day.confidence, 3),
        coverage=round(day.coverage, 3),
        lift=round(min(_lift(window, day.lift, day.confidence), 1e6), 1),
        automated=bool(origins.get(Origin.AUTOMATION.label, 0) * 2 > hits),
        origins=origins,
        window=(window.start_min, window.end_min) if window and not window.dark else None,
        after_dark=bool(window and window.dark),
    )


def _lift(window: Window | None, day_lift: float, day_confidence: float) -> float:
    """Lift over the chance of B in any window, inside the time window when there is one."""
    if window is None or day_confidence <= 0:
        return day_lift
    return day_lift * window.confidence / day_confidence

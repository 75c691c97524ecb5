"""Co-occurrence: "when the hallway motion sensor turns on, the hallway light follows".

Directed: A (an entity reaching a state) -> B (another entity reaching a state) within
``window_s``. Every A event looks ahead with ``searchsorted`` into the (much sparser)
stream of possible followers, so the work is O(n log m) plus the pairs found; A events
are processed in chunks so memory stays bounded however long the history is. Each A
event counts at most one hit per follower (its first), so a chatty trigger cannot
inflate the support.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .event_log import EventLog, Origin
from .time_of_day import routine_state_mask

# Pair keys (trigger key x follower key) counted in a dense table up to this size (32 MB).
_DENSE_PAIR_CELLS = 4_000_000


@dataclass(frozen=True, slots=True)
class CoOccurrenceParams:
    """Tuning of the detector."""

    window_s: float = 120.0  # how long after A a B still counts as following it
    min_support: int = 8  # A events followed by B
    min_confidence: float = 0.3  # P(B follows | A)
    min_coverage: float = 0.5  # P(A preceded | B): A explains most of B's changes
    min_lift: float = 5.0  # confidence over B's chance of happening in any such window
    chunk_events: int = 200_000  # A events per chunk


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

    @property
    def score(self) -> float:
        """Rank: how often B follows A, discounted when A explains little of B."""
        return round(self.confidence * min(1.0, self.coverage / 0.8), 3)


def detect_co_occurrence(
    log: EventLog,
    follower_entities: NDArray[np.bool_] | None = None,
    params: CoOccurrenceParams | None = None,
) -> list[CoOccurrencePattern]:
    """Find directed A -> B pairs; ``follower_entities`` masks which entities may be B."""
    params = params or CoOccurrenceParams()
    if len(log) == 0:
        return []
    # Keys over the usable states only: numeric sensors bring thousands of state strings
    # that can never be a pattern, and would blow the key space up.
    usable_state = routine_state_mask(log.states)
    usable_states = np.flatnonzero(usable_state)
    compact = np.cumsum(usable_state) - 1
    n_states = max(int(usable_states.size), 1)
    usable = usable_state[log.state]
    key = log.entity.astype(np.int64) * n_states + np.where(usable, compact[log.state], 0)
    ts = log.ts

    a_idx = np.flatnonzero(usable)
    b_mask = usable.copy()
    if follower_entities is not None:
        b_mask &= follower_entities[log.entity]
    b_idx = np.flatnonzero(b_mask)
    if a_idx.size == 0 or b_idx.size == 0:
        return []
    b_ts = ts[b_idx]

    pair_keys: list[NDArray[np.int64]] = []
    pair_lags: list[NDArray[np.float64]] = []
    pair_b: list[NDArray[np.int64]] = []
    n_keys = int(key.max()) + 1
    for start in range(0, a_idx.size, params.chunk_events):
        a = a_idx[start : start + params.chunk_events]
        lo = np.searchsorted(b_ts, ts[a], side="right")
        hi = np.searchsorted(b_ts, ts[a] + params.window_s, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            continue
        which_a = np.repeat(np.arange(a.size), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        b = b_idx[lo[which_a] + offsets]
        a_ev = a[which_a]
        other = log.entity[b] != log.entity[a_ev]
        a_ev, b = a_ev[other], b[other]
        if a_ev.size == 0:
            continue
        # One hit per (A event, follower key): the earliest follower. Pairs come grouped
        # by A event and in time order, so a stable sort (timsort: adaptive to those
        # runs) keeps the earliest first, and is much cheaper than unique()'s full sort.
        combined = a_ev * n_keys + key[b]
        order = np.argsort(combined, kind="stable")
        ranked = combined[order]
        first = order[np.concatenate(([True], ranked[1:] != ranked[:-1]))]
        a_ev, b = a_ev[first], b[first]
        pair_keys.append(key[a_ev] * n_keys + key[b])
        pair_lags.append(ts[b] - ts[a_ev])
        pair_b.append(b)
    if not pair_keys:
        return []

    pkey = np.concatenate(pair_keys)
    lags = np.concatenate(pair_lags)
    b_events = np.concatenate(pair_b)
    key_counts = np.bincount(key[a_idx], minlength=n_keys)
    follower_counts = np.bincount(key[b_idx], minlength=n_keys)
    # The time B could have happened in: from the first event to the last, but not the
    # days without history inside (Home Assistant off), or B's chance looks too small.
    span_s = max(min(float(ts[-1] - ts[0]), log.days_analysed * 86_400.0), params.window_s)

    if n_keys * n_keys <= _DENSE_PAIR_CELLS:
        # Most pairs are chance coincidences: count every pair key in one pass and keep
        # only the pairs of keys that pass the cheap tests, before any sort.
        support_all = np.bincount(pkey, minlength=n_keys * n_keys)
        cand = np.flatnonzero(support_all >= params.min_support)
        conf = support_all[cand] / key_counts[cand // n_keys]
        chance = 1.0 - np.exp(-follower_counts[cand % n_keys] / span_s * params.window_s)
        passing = cand[(conf >= params.min_confidence) & (conf >= params.min_lift * chance)]
        wanted = np.zeros(n_keys * n_keys, dtype=bool)
        wanted[passing] = True
        pick = np.flatnonzero(wanted[pkey])
        pkey, lags, b_events = pkey[pick], lags[pick], b_events[pick]
        if pkey.size == 0:
            return []
    order = np.argsort(pkey, kind="stable")
    pkey, lags, b_events = pkey[order], lags[order], b_events[order]
    groups, starts, support = np.unique(pkey, return_index=True, return_counts=True)

    # Every pair's statistics at once; only the survivors are looked at one by one.
    ka, kb = groups // n_keys, groups % n_keys
    n_a, n_b = key_counts[ka], follower_counts[kb]
    confidence = support / n_a
    # Followers can be shared by several A events: count distinct B events per pair.
    distinct = np.unique(pkey * len(log) + b_events) // len(log)
    explained = np.bincount(np.searchsorted(groups, distinct), minlength=groups.size)
    coverage = np.divide(explained, n_b, out=np.zeros(groups.size), where=n_b > 0)
    # Chance that B happens in a random window of the same length (Poisson).
    base_rate = 1.0 - np.exp(-n_b / span_s * params.window_s)
    lift = np.divide(confidence, base_rate, out=np.full(groups.size, np.inf), where=base_rate > 0)
    strong = np.flatnonzero(
        (support >= params.min_support)
        & (confidence >= params.min_confidence)
        & (coverage >= params.min_coverage)
        & (lift >= params.min_lift)
    )

    found: list[CoOccurrencePattern] = []
    for g in strong:
        hits = int(support[g])
        sl = slice(int(starts[g]), int(starts[g]) + hits)
        group_lags = lags[sl]
        follower_origin = log.origin[b_events[sl]]
        origins = {o.label: int(np.count_nonzero(follower_origin == o)) for o in Origin}
        origins = {k: v for k, v in origins.items() if v}
        a_key, b_key = int(ka[g]), int(kb[g])
        found.append(
            CoOccurrencePattern(
                trigger_entity_id=log.entity_ids[a_key // n_states],
                trigger_to_state=log.states[usable_states[a_key % n_states]],
                entity_id=log.entity_ids[b_key // n_states],
                to_state=log.states[usable_states[b_key % n_states]],
                lag_s=round(float(np.median(group_lags)), 1),
                lag_p90_s=round(float(np.quantile(group_lags, 0.9)), 1),
                occurrences=hits,
                trigger_count=int(n_a[g]),
                follower_count=int(n_b[g]),
                confidence=round(float(confidence[g]), 3),
                coverage=round(float(coverage[g]), 3),
                lift=round(min(float(lift[g]), 1e6), 1),
                automated=bool(origins.get(Origin.AUTOMATION.label, 0) * 2 > hits),
                origins=origins,
            )
        )
    found.sort(key=lambda p: (-p.score, -p.occurrences, p.trigger_entity_id, p.entity_id))
    return found

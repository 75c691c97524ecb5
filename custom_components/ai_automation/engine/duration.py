"""Durations: "the coffee machine goes off again about 25 minutes after it goes on".

For every controllable entity, each real change to a state starts an *episode* that the
entity's next real change ends. When most episodes of one state end the same way after
about the same time, the household is doing by hand what a state trigger with ``for:``
does: "when it has been on for 25 minutes, turn it off". The typical time is the densest
band of durations on a log scale (a band a fixed factor wide: 2 min ± 40 % and 2 h ± 40 %
are equally tight for a person), so a second habit (left on all morning on Sundays) does
not drag it. An episode broken by ``unavailable``/``unknown`` says nothing and is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .event_log import EventLog, Origin, stable_order
from .time_of_day import BATCH_EVENTS, entity_batches, routine_state_mask


@dataclass(frozen=True, slots=True)
class DurationParams:
    """Tuning of the detector."""

    min_occurrences: int = 8  # episodes that ended in the band
    # Share of all the state's episodes that ended in the band. Durations at random
    # (exponential) put at most ~30 % of episodes in a band this wide: a habit puts most.
    min_share: float = 0.6
    band: float = 0.4  # the band is the typical duration -40 % .. +40 %
    min_duration_s: float = 60.0  # quicker is the device's own doing (a pulse, a bounce)
    max_duration_s: float = 12 * 3600.0
    # The duration must explain when it ends clearly better than the clock does: the
    # lamp on at dusk and off at bedtime has a usual duration too, but bedtime is the
    # routine (a clock one). Spread of the durations at most this share of the spread of
    # the end's time of day.
    max_spread_vs_clock: float = 0.5
    # A habit is a peak: the band holds at least this many times the episodes of the two
    # bands of the same width either side of it (plus one each). Durations spread over a
    # wide range (a TV watched for 10 minutes to 2 hours) fill a band too, and its
    # neighbours with it.
    min_contrast: float = 3.0
    # And it is tight as a person judges it: off "after about 25 minutes" may be a couple
    # of minutes either way, not half an hour. The band's standard deviation at most this
    # share of the typical duration, or this many seconds for short ones.
    max_relative_spread: float = 0.15
    max_spread_s: float = 90.0


@dataclass(frozen=True, slots=True)
class DurationPattern:
    """``entity_id`` goes from ``from_state`` to ``to_state`` after about ``duration_s``."""

    entity_id: str
    from_state: str
    to_state: str
    duration_s: float  # median of the episodes in the band
    low_s: float  # the band: episodes that ended between low_s and high_s
    high_s: float
    occurrences: int  # episodes that ended in the band, to ``to_state``
    episodes: int  # all episodes of ``from_state`` (ended by any real change)
    # The backtest of "after ``duration_s`` in ``from_state``, set ``to_state``": the
    # episodes that lasted that long (it would have fired), and those of them the
    # household ended in the band anyway (it did what they did, a little earlier).
    would_have_fired: int
    matched: int
    automated: bool  # most of the ending changes were an automation's
    origins: dict[str, int] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        """Share of the state's episodes that ended this way, in the band."""
        return round(self.occurrences / self.episodes, 3) if self.episodes else 0.0


def _episodes(
    log: EventLog, entities: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Every episode of the wanted entities: (entity, from state, to state, seconds, ending event)."""
    real = log.real_mask()
    usable = routine_state_mask(log.states)[log.state]
    rows = np.flatnonzero(entities[log.entity])
    order = rows[stable_order(log.entity[rows])]  # per entity, in time order
    # A row repeating the entity's state continues its episode (nothing changed).
    repeat = np.zeros(order.size, dtype=bool)
    repeat[1:] = (log.entity[order][1:] == log.entity[order][:-1]) & (
        log.state[order][1:] == log.state[order][:-1]
    )
    order = order[~repeat]
    ent = log.entity[order].astype(np.int64)
    start, end = order[:-1], order[1:]
    # A row and the entity's next row, both real and usable: unavailable in between breaks it.
    ok = (ent[:-1] == ent[1:]) & real[start] & real[end] & usable[start] & usable[end]
    start, end = start[ok], end[ok]
    return (
        log.entity[start].astype(np.int64),
        log.state[start].astype(np.int64),
        log.state[end].astype(np.int64),
        log.ts[end] - log.ts[start],
        end,
    )


def _circular_std_min(minute: NDArray[np.int16]) -> float:
    """Circular standard deviation of local minutes of day (23:50 and 00:10 are close)."""
    angle = minute.astype(np.float64) * (2 * math.pi / 1440)
    r = float(np.hypot(np.mean(np.cos(angle)), np.mean(np.sin(angle))))
    # Identical minutes give r = 1 give or take a rounding error: no spread, not a crash.
    return math.sqrt(max(-2 * math.log(min(max(r, 1e-12), 1.0)), 0.0)) * 1440 / (2 * math.pi)


def _is_peak(all_of_state: NDArray[np.float64], band: NDArray[np.float64], params: DurationParams) -> bool:
    """Whether the band stands out of the state's durations (see ``min_contrast``)."""
    ratio = (1 + params.band) / (1 - params.band)
    low, high = float(band[0]), float(band[-1])
    below = np.count_nonzero((all_of_state >= low / ratio) & (all_of_state < low))
    above = np.count_nonzero((all_of_state > high) & (all_of_state <= high * ratio))
    # One pseudo-episode either side: with few episodes, an empty neighbour proves little.
    return bool(band.size >= params.min_contrast * (below + above + 2))


def _densest_band(durations: NDArray[np.float64], band: float) -> tuple[int, int]:
    """Indices ``[i, j)`` into the sorted ``durations`` of the fullest band ``x .. x * ratio``."""
    logs = np.log(durations)
    width = math.log((1 + band) / (1 - band))
    ends = np.searchsorted(logs, logs + width, side="right")
    counts = ends - np.arange(logs.size)
    best = int(np.argmax(counts))  # the first of the fullest: deterministic
    return best, int(ends[best])


def detect_durations(
    log: EventLog, follower_entities: NDArray[np.bool_] | None = None, params: DurationParams | None = None
) -> list[DurationPattern]:
    """Find "back to B about N minutes after A" habits; strongest first, deterministic."""
    params = params or DurationParams()
    if len(log) == 0:
        return []
    entities = (
        follower_entities if follower_entities is not None else np.ones(len(log.entity_ids), dtype=bool)
    )
    found: list[DurationPattern] = []
    # A batch of entities at a time (an episode is one entity's): bounded work arrays.
    number = np.arange(len(log.entity_ids))
    for lo, hi in entity_batches(log.entity, entities[log.entity], len(log.entity_ids), BATCH_EVENTS):
        found.extend(_durations_of(log, entities & (number >= lo) & (number < hi), params))
    found.sort(key=lambda p: (-p.confidence, -p.occurrences, p.entity_id, p.from_state, p.to_state))
    return found


def _durations_of(
    log: EventLog, entities: NDArray[np.bool_], params: DurationParams
) -> list[DurationPattern]:
    """The duration habits of the ``entities``, unsorted."""
    entity, from_state, to_state, seconds, ending = _episodes(log, entities)
    if entity.size == 0:
        return []
    n_states = len(log.states)
    # All episodes of an (entity, from state), however they ended: the share's denominator.
    episode_key = entity * n_states + from_state
    episodes_of = dict(zip(*np.unique(episode_key, return_counts=True), strict=True))
    pair_key = episode_key * n_states + to_state
    in_range = (seconds >= params.min_duration_s) & (seconds <= params.max_duration_s)
    found: list[DurationPattern] = []
    order = np.lexsort((seconds, pair_key))
    keys, starts, counts = np.unique(pair_key[order], return_index=True, return_counts=True)
    for key, start, count in zip(keys, starts, counts, strict=True):
        if count < params.min_occurrences:
            continue
        idx = order[start : start + count]
        idx = idx[in_range[idx]]
        if idx.size < params.min_occurrences:
            continue
        lo, hi = _densest_band(seconds[idx], params.band)
        band_idx = idx[lo:hi]
        total = int(episodes_of[int(key) // n_states])
        if band_idx.size < params.min_occurrences or band_idx.size < params.min_share * total:
            continue
        if not _is_peak(seconds[episode_key == int(key) // n_states], seconds[band_idx], params):
            continue
        spread_s = float(np.std(seconds[band_idx]))
        if spread_s > max(
            params.max_spread_s, params.max_relative_spread * float(np.median(seconds[band_idx]))
        ):
            continue
        clock_spread_s = _circular_std_min(log.local_minute(ending[band_idx])) * 60
        if spread_s > params.max_spread_vs_clock * clock_spread_s:
            continue
        pattern = _pattern(log, int(key), n_states, seconds, band_idx, ending, total, episode_key)
        found.append(pattern)
    return found


def _pattern(
    log: EventLog,
    key: int,
    n_states: int,
    seconds: NDArray[np.float64],
    band_idx: NDArray[np.int64],
    ending: NDArray[np.int64],
    total: int,
    episode_key: NDArray[np.int64],
) -> DurationPattern:
    entity, rest = divmod(key, n_states * n_states)
    from_state, to_state = divmod(rest, n_states)
    low, high = float(seconds[band_idx[0]]), float(seconds[band_idx[-1]])
    typical = float(np.median(seconds[band_idx]))
    mine = episode_key == entity * n_states + from_state
    ending_origin = log.origin[ending[band_idx]]
    per_origin = {o.label: int(np.count_nonzero(ending_origin == o)) for o in Origin}
    origins = {k: v for k, v in per_origin.items() if v}
    return DurationPattern(
        entity_id=log.entity_ids[entity],
        from_state=log.states[from_state],
        to_state=log.states[to_state],
        duration_s=round(typical, 1),
        low_s=round(low, 1),
        high_s=round(high, 1),
        occurrences=int(band_idx.size),
        episodes=total,
        would_have_fired=int(np.count_nonzero(mine & (seconds >= typical))),
        matched=int(np.count_nonzero(seconds[band_idx] >= typical)),
        automated=origins.get(Origin.AUTOMATION.label, 0) * 2 > band_idx.size,
        origins=origins,
    )

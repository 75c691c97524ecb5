"""The columnar event log the detectors work on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .local_time import SLICE_EVENTS, local_fields, local_minutes


class Origin(IntEnum):
    """Who caused a state change."""

    SYSTEM = 0  # sensors and the rest: nobody decided it
    PHYSICAL = 1  # a controllable device changed with no user and no automation behind it
    USER = 2  # the context carries a user id: UI, app, voice
    AUTOMATION = 3  # an automation or script caused it

    @property
    def label(self) -> str:
        """Return the lower-case name used in the job contract."""
        return self.name.lower()


# States that say nothing about what the household did.
IGNORED_STATES = frozenset({"unavailable", "unknown", ""})


def stable_order(key: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
    """``argsort(key, kind="stable")``; as numpy's radix sort of 16-bit keys where the span
    of the keys fits (entities, or a batch's (entity, state) pairs): several times faster."""
    if key.size == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(key.min())
    if int(key.max()) - low < 2**16:
        return np.argsort((key - low).astype(np.uint16), kind="stable")
    return np.argsort(key, kind="stable")


def real_changes(
    entity: NDArray[np.int32], state: NDArray[np.int32], states: tuple[str, ...]
) -> NDArray[np.bool_]:
    """Per change (sorted by time): whether it is one someone or something in the home made.

    Not one: a change to or from ``unavailable``/``unknown``. Home Assistant restarting,
    a device dropping off the network and coming back, restore states nobody chose, at
    the restart's time. (Attribute-only updates are not read at all.)
    """
    n = int(entity.shape[0])
    if n == 0:
        return np.zeros(0, dtype=bool)
    ignored = np.fromiter((s in IGNORED_STATES for s in states), dtype=bool, count=len(states))
    out = np.empty(n, dtype=bool)
    # A slice at a time (its sort's int64 order is 8 bytes an event), the state each
    # entity ended the slices before in carried over: -1 for none yet.
    last = np.full(int(entity.max()) + 1, -1, dtype=np.int64)
    for lo in range(0, n, SLICE_EVENTS):
        ent, st = entity[lo : lo + SLICE_EVENTS], state[lo : lo + SLICE_EVENTS]
        order = stable_order(ent)  # per entity, still in time order
        ent, st = ent[order], st[order]
        prev = np.empty(ent.size, dtype=np.int64)
        prev[1:] = st[:-1]
        first = np.ones(ent.size, dtype=bool)
        first[1:] = ent[1:] != ent[:-1]
        prev[first] = last[ent[first]]
        has_prev = prev >= 0
        real = ~ignored[st]
        real[has_prev] &= ~ignored[prev[has_prev]]
        out[lo + order] = real
        ends = np.ones(ent.size, dtype=bool)
        ends[:-1] = first[1:]
        last[ent[ends]] = st[ends]
    return out


def bincount_where(
    values: NDArray[np.integer[Any]], where: NDArray[np.bool_], length: int
) -> NDArray[np.int64]:
    """``bincount(values[where], minlength=length)``, a slice at a time."""
    found = np.zeros(length, dtype=np.int64)
    for lo in range(0, int(values.shape[0]), SLICE_EVENTS):
        part = slice(lo, lo + SLICE_EVENTS)
        found += np.bincount(values[part][where[part]], minlength=length)
    return found


def events_where(
    n: int, holds: Callable[[slice], NDArray[np.bool_]], dtype: type[np.int32] | type[np.int64] = np.int64
) -> NDArray[Any]:
    """The numbers of the events ``0 .. n - 1`` for which ``holds`` (given a slice of them,
    it answers per event), found a slice at a time: the work arrays of a whole log never
    exist, only its mask (a byte an event) and the answer, as ``dtype``."""
    masks = [holds(slice(lo, min(lo + SLICE_EVENTS, n))) for lo in range(0, n, SLICE_EVENTS)]
    found = np.empty(sum(int(np.count_nonzero(m)) for m in masks), dtype=dtype)
    at = 0
    for i, mask in enumerate(masks):
        picked = np.flatnonzero(mask)
        found[at : at + picked.size] = picked + i * SLICE_EVENTS
        at += picked.size
    return found


# Which events: their indices, a mask over the log, or a slice of it.
type Rows = NDArray[np.integer[Any]] | NDArray[np.bool_] | slice


@dataclass(frozen=True, slots=True)
class StateChanges:
    """State changes as parallel numpy columns, sorted by time.

    ``entity[i]`` indexes ``entity_ids`` and ``state[i]`` ``states``; ``ts`` is UTC epoch
    seconds; ``origin[i]`` is an ``Origin``.
    """

    entity_ids: tuple[str, ...]
    states: tuple[str, ...]
    entity: NDArray[np.int32]
    state: NDArray[np.int32]
    ts: NDArray[np.float64]
    origin: NDArray[np.int8]

    def __len__(self) -> int:
        """Return the number of state changes."""
        return int(self.ts.shape[0])


@dataclass(frozen=True, slots=True)
class EventLog(StateChanges):
    """State changes with their local wall-clock fields and the window they fill.

    ``offset_change_ts``/``offset_s`` are the zone's UTC offsets over the window
    (``local_time.utc_offsets``): ``local_minute`` (0..1439), ``local_day`` (days since
    1970-01-01 in the home's local calendar; ``local_time.weekday_of`` gives its weekday)
    and ``local_stamp`` give the DST-correct local wall-clock fields of the events asked
    for, computed from their times. They are not kept per event: 6 bytes an event, 28 MB
    of a window of 4.6 million changes, for the whole of a detection.
    ``first_day``/``last_day`` bound the analysed window in local days (inclusive).

    Not every day of the window has history: the recorder keeps 10 days by default, and
    Home Assistant may have been off. ``covered[i]`` says whether the recorder has any
    row of local day ``first_day + i``; ``entity_first_day[e]`` is the local day of
    entity ``e``'s first row in the window (an entity added last week has no earlier
    days; ``last_day + 1`` for an entity without rows). Detectors count days only where
    both hold: see ``eligible``.
    """

    offset_change_ts: NDArray[np.float64]
    offset_s: NDArray[np.int64]
    first_day: int
    last_day: int
    covered: NDArray[np.bool_]
    entity_first_day: NDArray[np.int32]
    # ``real_changes`` of the log, when the builder computed it; else computed on use.
    real: NDArray[np.bool_] | None = None
    # Seconds of the window the recorder was recording (its hours with any row), when known.
    recorded_s: float | None = None

    def local(self, rows: Rows) -> tuple[NDArray[np.int16], NDArray[np.int32]]:
        """``(local_minute, local_day)`` of the events ``rows`` (indices, a mask or a slice)."""
        return local_fields(np.atleast_1d(self.ts[rows]), self.offset_change_ts, self.offset_s)

    def local_minute(self, rows: Rows) -> NDArray[np.int16]:
        """The local minute of the day (0..1439) of the events ``rows``."""
        return self.local(rows)[0]

    def local_day(self, rows: Rows) -> NDArray[np.int32]:
        """The local day (days since 1970-01-01) of the events ``rows``."""
        return self.local(rows)[1]

    def local_stamp(self, rows: Rows) -> NDArray[np.int64]:
        """``local_day * 1440 + local_minute`` of the events ``rows``, in one int64."""
        return local_minutes(np.atleast_1d(self.ts[rows]), self.offset_change_ts, self.offset_s)

    def span_s(self) -> float:
        """The time anything could have happened in: the recorded hours, when known.

        Else from the first change to the last, but not more than the covered days (Home
        Assistant off): which rows were kept (no numeric readings) then moves it a little.
        """
        if self.recorded_s:
            return self.recorded_s
        if not len(self):
            return 0.0
        return min(float(self.ts[-1] - self.ts[0]), self.days_analysed * 86_400.0)

    def real_mask(self) -> NDArray[np.bool_]:
        """Per event: a change someone or something made (see ``real_changes``)."""
        if self.real is not None:
            return self.real
        return real_changes(self.entity, self.state, self.states)

    @property
    def day_count(self) -> int:
        """Number of local days in the analysed window."""
        return self.last_day - self.first_day + 1

    @property
    def days_analysed(self) -> int:
        """Local days of the window the recorder has history of."""
        return int(np.count_nonzero(self.covered))

    def eligible(self) -> NDArray[np.bool_]:
        """Per entity and window day: could it have done anything that day?

        Shape ``(len(entity_ids), day_count)``: the day is covered and the entity
        existed (its rows had started).
        """
        days = np.arange(self.first_day, self.last_day + 1)
        started: NDArray[np.bool_] = days[np.newaxis, :] >= self.entity_first_day[:, np.newaxis]
        return started & self.covered[np.newaxis, :]

    def eligible_days(self, entity_id: str) -> NDArray[np.int64]:
        """Local day numbers on which ``entity_id`` could have acted (covered days if unknown)."""
        days = np.arange(self.first_day, self.last_day + 1, dtype=np.int64)
        mask = self.covered.copy()
        if entity_id in self.entity_ids:
            mask &= days >= self.entity_first_day[self.entity_ids.index(entity_id)]
        return days[mask]

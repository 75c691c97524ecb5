"""What a read of the recorder returns, and what its two ways of reading share.

``recorder_reader`` reads the recorder's tables itself (the fast path); ``history_api_reader``
reads the public history API where it cannot. Both fill a ``HistoryColumns`` within a
``HistoryRead`` (the window, the entities wanted, the caller's stop) and ask the recorder
which hours it was recording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from homeassistant.core import HomeAssistant, split_entity_id
from homeassistant.helpers.recorder import session_scope
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from .const import CONTROLLABLE_DOMAINS
from .engine.event_log import Origin, StateChanges

SOURCE_RECORDER = "recorder"
SOURCE_HISTORY_API = "history_api"
HOUR_S = 3600

# The next recorded row at or after a time: one index seek (min() over the timestamp
# index), so finding the hours with data costs one seek per hour, not a scan.
_SELECT_NEXT_ROW_TS = text(
    "SELECT MIN(last_updated_ts) FROM states WHERE last_updated_ts >= :start AND last_updated_ts < :end"
)


class FetchCancelled(Exception):
    """The caller asked the read to stop (Home Assistant stopping, the entry unloading)."""


def never_stop() -> bool:
    """The default ``should_stop``: read to the end."""
    return False


@dataclass(frozen=True, slots=True)
class HistoryRead:
    """What to read: the significant state changes in ``[start, end)`` of ``wanted`` entities.

    ``should_stop`` is asked from the reading thread, between chunks and between the hour
    probes: True ends the read with ``FetchCancelled``.
    """

    start: datetime
    end: datetime
    wanted: Callable[[str], bool]
    should_stop: Callable[[], bool] = never_stop

    def bounds(self) -> dict[str, float]:
        """The window as query parameters, UTC epoch seconds."""
        return {"start": self.start.timestamp(), "end": self.end.timestamp()}

    def check(self) -> None:
        """Raise ``FetchCancelled`` if the caller asked the read to stop."""
        if self.should_stop():
            raise FetchCancelled


@dataclass(frozen=True, slots=True)
class FetchedHistory(StateChanges):
    """State changes of the included entities, time-ordered, and where they came from."""

    source: str  # "recorder" (raw query) or "history_api" (fallback)
    # Who caused each change is known (the fast path) or not (the history API: every
    # change then looks physical or system, automations' included).
    origin_known: bool
    # UTC epoch hours (floor(ts / 3600)) in the window in which the recorder has any row of
    # any entity, sorted: the time it was recording. Empty: unknown.
    recorded_hours: NDArray[np.int64]
    # Why the fast path was not taken: what the database lacks ("table.column").
    missing: tuple[str, ...] = ()


class HistoryColumns:
    """Accumulates row chunks into arrays, mapping strings to small integers as it goes."""

    def __init__(self) -> None:
        self.entity_index: dict[str, int] = {}
        self.state_index: dict[str, int] = {}
        self.parts: list[
            tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64], NDArray[np.int8]]
        ] = []

    def entity(self, entity_id: str) -> int:
        return self.entity_index.setdefault(entity_id, len(self.entity_index))

    def state_codes(self, states: Sequence[str | None]) -> NDArray[np.int32]:
        index = self.state_index
        return np.fromiter(
            (index.setdefault(s or "", len(index)) for s in states), dtype=np.int32, count=len(states)
        )

    def add(
        self,
        entities: NDArray[np.int32],
        states: NDArray[np.int32],
        ts: NDArray[np.float64],
        origins: NDArray[np.int8],
    ) -> None:
        self.parts.append((entities, states, ts, origins))

    def hours(self) -> NDArray[np.int64]:
        """The UTC epoch hours the rows so far fall in, sorted."""
        if not self.parts:
            return np.empty(0, np.int64)
        ts = np.concatenate([p[2] for p in self.parts])
        hours: NDArray[np.int64] = np.unique(np.floor_divide(ts, HOUR_S).astype(np.int64))
        return hours

    def result(self, source: str, recorded_hours: NDArray[np.int64] | None = None) -> FetchedHistory:
        if self.parts:
            entity, state, ts, origin = (np.concatenate(cols) for cols in zip(*self.parts, strict=True))
            order = np.argsort(ts, kind="stable")
            entity, state, ts, origin = entity[order], state[order], ts[order], origin[order]
        else:
            entity = np.empty(0, np.int32)
            state = np.empty(0, np.int32)
            ts = np.empty(0, np.float64)
            origin = np.empty(0, np.int8)
        return FetchedHistory(
            entity_ids=tuple(self.entity_index),
            states=tuple(self.state_index),
            entity=entity,
            state=state,
            ts=ts,
            origin=origin,
            source=source,
            origin_known=source == SOURCE_RECORDER,
            recorded_hours=recorded_hours if recorded_hours is not None else np.empty(0, np.int64),
        )


def default_origin(entity_id: str) -> int:
    """The origin of a change with neither user nor automation behind it, by domain."""
    return int(Origin.PHYSICAL if split_entity_id(entity_id)[0] in CONTROLLABLE_DOMAINS else Origin.SYSTEM)


@contextmanager
def read_session(hass: HomeAssistant) -> Iterator[Session]:
    """The recorder's read-only session, which a requested stop leaves quietly.

    ``session_scope`` logs any exception that leaves it as a failed query, traceback
    and all; a stop is no failure.
    """
    stopped: FetchCancelled | None = None
    with session_scope(hass=hass, read_only=True) as session:
        try:
            yield session
        except FetchCancelled as err:
            stopped = err
    if stopped is not None:
        raise stopped


def recorded_hours(
    session: Session, read: HistoryRead, known: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """The hours of the window in which the recorder wrote any row, one seek each.

    ``known``: hours already seen to have rows (those of the rows just read): no seek for
    them, so a busy home asks only about the hours its entities were quiet in.
    """
    hours: list[int] = []
    seen: set[int] = set() if known is None else {int(h) for h in known}
    bounds = read.bounds()
    at, end_ts = bounds["start"], bounds["end"]
    while at < end_ts:
        hour = int(at // HOUR_S)
        if hour in seen:
            hours.append(hour)
            at = float((hour + 1) * HOUR_S)
            continue
        read.check()
        found = session.execute(_SELECT_NEXT_ROW_TS, {"start": at, "end": end_ts}).scalar()
        if found is None:
            break
        hour = int(float(found) // HOUR_S)
        hours.append(hour)
        at = float((hour + 1) * HOUR_S)
    return np.asarray(hours, dtype=np.int64)

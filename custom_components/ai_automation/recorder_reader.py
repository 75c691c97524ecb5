"""Read state changes from the recorder into numpy columns.

The fast path is one query through the recorder's own connection (in the recorder's
executor): ``states`` without joining ``states_meta``, significant changes only (an
attribute-only update has ``last_changed_ts`` != ``last_updated_ts``; ``NULL`` means they
are equal), with the context columns that tell who caused each change.

It depends on the schema, so it is chosen by the tables and columns it reads (checked
once per recorder), not by a list of schema versions: schemas 48 to 53 have them, and
so will any later one that keeps them. Where one is missing (or the recorder is still
migrating its entity ids), the public history API is read instead: slower, and without
context, so the origin of every change is unknown (``origin_known`` False).

A read can be long (a million rows take seconds); the caller's ``should_stop`` is asked
between chunks and between the hour probes, and a stop ends the read with
``FetchCancelled`` before the recorder closes its connection on the way down.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import numpy as np
from homeassistant.components.recorder import history
from homeassistant.const import (
    COMPRESSED_STATE_LAST_CHANGED,
    COMPRESSED_STATE_LAST_UPDATED,
    COMPRESSED_STATE_STATE,
)
from homeassistant.core import HomeAssistant, State, split_entity_id
from homeassistant.helpers.recorder import get_instance, session_scope
from numpy.typing import NDArray
from sqlalchemy import CursorResult, bindparam, inspect, text
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.orm import Session

from .compat import states_meta_ready
from .const import LOGGER
from .engine.event_log import Origin

# What the fast path reads, by table (db_schema names them the same in schemas 48-53).
FAST_PATH_COLUMNS: dict[str, frozenset[str]] = {
    "states": frozenset(
        {
            "metadata_id",
            "state",
            "last_updated_ts",
            "last_changed_ts",
            "context_id_bin",
            "context_user_id_bin",
            "context_parent_id_bin",
        }
    ),
    "states_meta": frozenset({"metadata_id", "entity_id"}),
    "events": frozenset({"event_type_id", "context_id_bin", "time_fired_ts"}),
    "event_types": frozenset({"event_type_id", "event_type"}),
}
SOURCE_RECORDER = "recorder"
SOURCE_HISTORY_API = "history_api"

# Domains a person switches (by hand, app or voice); any other change with neither user
# nor automation behind it is the system's own doing.
CONTROLLABLE_DOMAINS = frozenset(
    {
        "climate",
        "cover",
        "fan",
        "humidifier",
        "input_boolean",
        "input_select",
        "light",
        "lock",
        "media_player",
        "scene",
        "select",
        "siren",
        "switch",
        "vacuum",
        "valve",
        "water_heater",
    }
)
AUTOMATION_EVENT_TYPES = ("automation_triggered", "script_started")
_CHUNK_ROWS = 50_000

_SELECT_META = text("SELECT metadata_id, entity_id FROM states_meta")
_SELECT_AUTOMATION_CONTEXTS = text(
    "SELECT e.context_id_bin FROM events e"
    " JOIN event_types t ON e.event_type_id = t.event_type_id"
    " WHERE t.event_type IN :types AND e.time_fired_ts >= :start AND e.time_fired_ts < :end"
).bindparams(bindparam("types", expanding=True))
_STATE_COLUMNS = (
    "SELECT metadata_id, state, last_updated_ts,"
    " context_user_id_bin IS NOT NULL, context_parent_id_bin IS NOT NULL, context_id_bin"
    " FROM states"
    " WHERE last_updated_ts >= :start AND last_updated_ts < :end"
    " AND (last_changed_ts IS NULL OR last_changed_ts = last_updated_ts)"
)
# Most entities wanted: walk the timestamp index in time order (the table is written in
# time order, so this reads it nearly sequentially) and drop unwanted rows in numpy. With
# "metadata_id IN (...)" SQLite would walk the per-entity index instead: random reads and
# a sort of every row, twice as slow on a big window.
_SELECT_STATES_ALL = text(_STATE_COLUMNS)
# A few entities wanted: their index is the shorter way.
_SELECT_STATES_OF = text(_STATE_COLUMNS + " AND metadata_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
# Below this share of all entities, ask for them by id.
_FEW_ENTITIES = 0.25
# The next recorded row at or after a time: one index seek (min() over the timestamp
# index), so finding the hours with data costs one seek per hour, not a scan.
_SELECT_NEXT_ROW_TS = text(
    "SELECT MIN(last_updated_ts) FROM states WHERE last_updated_ts >= :start AND last_updated_ts < :end"
)
_HOUR_S = 3600


class FetchCancelled(Exception):
    """The caller asked the read to stop (Home Assistant stopping, the entry unloading)."""


def _never() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ReaderSupport:
    """Whether this recorder's database has what the fast path reads."""

    fast: bool
    missing: tuple[str, ...]  # "table.column" (or "table") the fast path needs and lacks
    schema_version: int


# Checked once per recorder instance (a test or a restart makes a new one).
_SUPPORT: weakref.WeakKeyDictionary[Any, ReaderSupport] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class FetchedHistory:
    """State changes of the included entities, time-ordered."""

    entity_ids: tuple[str, ...]
    states: tuple[str, ...]
    entity: NDArray[np.int32]
    state: NDArray[np.int32]
    ts: NDArray[np.float64]
    origin: NDArray[np.int8]
    source: str  # "recorder" (raw query) or "history_api" (fallback)
    # Who caused each change is known (the fast path) or not (the history API: every
    # change then looks physical or system, automations' included).
    origin_known: bool
    # UTC epoch hours (floor(ts / 3600)) in the window in which the recorder has any row of
    # any entity, sorted: the time it was recording. Empty: unknown.
    recorded_hours: NDArray[np.int64]
    # Why the fast path was not taken: what the database lacks ("table.column").
    missing: tuple[str, ...] = ()

    def __len__(self) -> int:
        """Return the number of state changes."""
        return int(self.ts.shape[0])


class _Columns:
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


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of row tuples come and go.

    They are freed by reference counting either way; but each batch of allocations
    would trigger full collections over all of Home Assistant's objects, which hold the
    GIL for 150-250 ms and so stall the event loop (measured by scripts/bench).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _read_session(hass: HomeAssistant) -> Iterator[Session]:
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


def _check(should_stop: Callable[[], bool]) -> None:
    if should_stop():
        raise FetchCancelled


def _fallback_origin(entity_id: str) -> int:
    return int(Origin.PHYSICAL if split_entity_id(entity_id)[0] in CONTROLLABLE_DOMAINS else Origin.SYSTEM)


def reader_support(hass: HomeAssistant) -> ReaderSupport:
    """Whether the fast path can read this recorder's database; run in its executor."""
    instance = get_instance(hass)
    if (known := _SUPPORT.get(instance)) is not None:
        return known
    missing: list[str] = []
    with session_scope(hass=hass, read_only=True) as session:
        inspector = inspect(session.connection())
        for table, needed in FAST_PATH_COLUMNS.items():
            try:
                have = {column["name"] for column in inspector.get_columns(table)}
            except NoSuchTableError:
                missing.append(table)
                continue
            missing += sorted(f"{table}.{column}" for column in needed - have)
    # Entity ids move into states_meta by a migration that may still be running.
    migrating = not states_meta_ready(instance)
    if migrating:
        missing.append("states_meta (migration in progress)")
    support = ReaderSupport(fast=not missing, missing=tuple(missing), schema_version=instance.schema_version)
    if not migrating:
        _SUPPORT[instance] = support
    return support


def _recorded_hours(
    session: Session, start_ts: float, end_ts: float, should_stop: Callable[[], bool] = _never
) -> NDArray[np.int64]:
    """The hours of ``[start, end)`` in which the recorder wrote any row, one seek each."""
    hours: list[int] = []
    at = start_ts
    while at < end_ts:
        _check(should_stop)
        found = session.execute(_SELECT_NEXT_ROW_TS, {"start": at, "end": end_ts}).scalar()
        if found is None:
            break
        hour = int(float(found) // _HOUR_S)
        hours.append(hour)
        at = float((hour + 1) * _HOUR_S)
    return np.asarray(hours, dtype=np.int64)


def _fetch_raw(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    should_stop: Callable[[], bool] = _never,
) -> FetchedHistory:
    columns = _Columns()
    start_ts, end_ts = start.timestamp(), end.timestamp()
    with _read_session(hass) as session, _cyclic_gc_paused():
        recorded = _recorded_hours(session, start_ts, end_ts, should_stop)
        meta_rows = [(m, e) for m, e in session.execute(_SELECT_META) if e]
        if not meta_rows:
            return columns.result(SOURCE_RECORDER, recorded)
        # metadata_id -> our entity index (-1: not wanted), and the origin of a change
        # with neither user nor automation behind it (physical or system, by domain).
        size = max(m for m, _ in meta_rows) + 1
        entity_of = np.full(size, -1, dtype=np.int32)
        default_origin = np.zeros(size, dtype=np.int8)
        for metadata_id, entity_id in meta_rows:
            if wanted(entity_id):
                entity_of[metadata_id] = columns.entity(entity_id)
                default_origin[metadata_id] = _fallback_origin(entity_id)
        wanted_ids = np.flatnonzero(entity_of >= 0)
        if wanted_ids.size == 0:
            return columns.result(SOURCE_RECORDER, recorded)
        automation_contexts = {
            bytes(row[0])
            for row in session.execute(
                _SELECT_AUTOMATION_CONTEXTS,
                {"types": list(AUTOMATION_EVENT_TYPES), "start": start_ts, "end": end_ts},
            )
            if row[0] is not None
        }
        _check(should_stop)
        params: dict[str, Any] = {"start": start_ts, "end": end_ts}
        query = _SELECT_STATES_ALL
        if wanted_ids.size < _FEW_ENTITIES * len(meta_rows):
            query = _SELECT_STATES_OF
            params["ids"] = [int(m) for m in wanted_ids]
        if session.get_bind().dialect.name == "sqlite":
            # SQLite's cursor reads lazily: take plain tuples straight from it, no Row
            # objects (a third of the read time at 1M rows).
            result = session.execute(query, params)
            cursor = cast(CursorResult[Any], result).cursor
            chunks: Iterable[Sequence[Sequence[Any]]] = iter(lambda: cursor.fetchmany(_CHUNK_ROWS), [])
        else:
            # A server-side cursor streams the rows; SQLAlchemy buffers its first batch,
            # so read through the result, not around it.
            result = session.execute(query, params, execution_options={"yield_per": _CHUNK_ROWS})
            chunks = result.partitions(_CHUNK_ROWS)
        try:
            for rows in chunks:
                _check(should_stop)
                _add_chunk(columns, rows, entity_of, default_origin, automation_contexts)
        finally:
            result.close()
    return columns.result(SOURCE_RECORDER, recorded)


def _add_chunk(
    columns: _Columns,
    rows: Sequence[Sequence[Any]],
    entity_of: NDArray[np.int32],
    default_origin: NDArray[np.int8],
    automation_contexts: set[bytes],
) -> None:
    """Turn one chunk of rows into columns; origin vectorised where it can be."""
    metadata_ids, states, stamps, has_user, has_parent, context_ids = zip(*rows, strict=True)
    n = len(rows)
    meta = np.fromiter(metadata_ids, dtype=np.int64, count=n)
    entity = entity_of[meta]
    keep = entity >= 0
    origin = default_origin[meta].copy()
    user = np.fromiter(has_user, dtype=bool, count=n)
    parent = np.fromiter(has_parent, dtype=bool, count=n)
    origin[parent] = Origin.AUTOMATION
    origin[user] = Origin.USER
    if automation_contexts:
        # A time-triggered automation's change: no user, no parent, but its context id is
        # an automation_triggered event's. Only a controllable entity's change matters.
        maybe = np.flatnonzero(keep & ~user & ~parent & (origin == Origin.PHYSICAL))
        hits = [
            i for i in maybe if context_ids[i] is not None and bytes(context_ids[i]) in automation_contexts
        ]
        origin[hits] = Origin.AUTOMATION
    idx = np.flatnonzero(keep)
    columns.add(
        entity[idx],
        columns.state_codes([states[i] for i in idx]),
        np.fromiter(stamps, dtype=np.float64, count=n)[idx],
        origin[idx],
    )


def _entities_with_history(hass: HomeAssistant, current: list[str]) -> list[str]:
    """Every entity the recorder has history of, not only those in the state machine now."""
    try:
        with session_scope(hass=hass, read_only=True) as session:
            known = get_instance(hass).states_meta_manager.get_metadata_id_to_entity_id(session)
    except SQLAlchemyError:
        LOGGER.debug("Cannot list the recorder's entities", exc_info=True)
        known = {}
    return sorted({*known.values(), *current})


def _fetch_history_api(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    current_entity_ids: list[str],
    should_stop: Callable[[], bool] = _never,
) -> FetchedHistory:
    columns = _Columns()
    entity_ids = [e for e in _entities_with_history(hass, current_entity_ids) if wanted(e)]
    recorded: NDArray[np.int64] | None = None
    try:
        with _read_session(hass) as session:
            recorded = _recorded_hours(session, start.timestamp(), end.timestamp(), should_stop)
    except SQLAlchemyError:
        LOGGER.debug("Cannot tell which hours the recorder recorded", exc_info=True)
    if not entity_ids:
        return columns.result(SOURCE_HISTORY_API, recorded)
    # One call, which cannot be stopped part way: ask before it.
    _check(should_stop)
    found = history.get_significant_states(
        hass,
        start,
        end,
        entity_ids=entity_ids,
        include_start_time_state=False,
        significant_changes_only=True,
        minimal_response=True,
        no_attributes=True,
        compressed_state_format=True,
    )
    for entity_id, entries in found.items():
        entity = columns.entity(entity_id)
        origin = _fallback_origin(entity_id)
        states: list[str | None] = []
        stamps: list[float] = []
        for entry in entries:
            if isinstance(entry, State):
                states.append(entry.state)
                stamps.append(entry.last_changed_timestamp)
            else:
                states.append(entry[COMPRESSED_STATE_STATE])
                stamps.append(
                    float(entry.get(COMPRESSED_STATE_LAST_CHANGED, entry[COMPRESSED_STATE_LAST_UPDATED]))
                )
        n = len(states)
        columns.add(
            np.full(n, entity, dtype=np.int32),
            columns.state_codes(states),
            np.asarray(stamps, dtype=np.float64),
            np.full(n, origin, dtype=np.int8),
        )
    if recorded is None and columns.parts:  # what the fetched rows show, at least
        stamps_all = np.concatenate([ts for _, _, ts, _ in columns.parts])
        recorded = np.unique(np.floor_divide(stamps_all, _HOUR_S).astype(np.int64))
    return columns.result(SOURCE_HISTORY_API, recorded)


def fetch_history(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    current_entity_ids: list[str],
    should_stop: Callable[[], bool] = _never,
) -> FetchedHistory:
    """Read significant state changes in ``[start, end)``; run in the recorder's executor.

    ``current_entity_ids`` (the state machine's wanted entities) only adds to what the
    fallback finds in the recorder's entity list. ``should_stop`` (called from this
    thread) True between chunks ends the read with ``FetchCancelled``.
    """
    support = reader_support(hass)
    if support.fast:
        return _fetch_raw(hass, start, end, wanted, should_stop)
    LOGGER.warning(
        "The recorder's database (schema %s) lacks %s, which the fast reader needs; reading"
        " the history API instead, which cannot tell automations' changes from people's",
        support.schema_version,
        ", ".join(support.missing),
    )
    fetched = _fetch_history_api(hass, start, end, wanted, current_entity_ids, should_stop)
    return replace(fetched, missing=support.missing)


async def async_fetch_history(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    should_stop: Callable[[], bool] = _never,
) -> FetchedHistory:
    """Read history in the recorder's executor (queries from other threads are flagged).

    ``should_stop`` is called from that thread: make it thread-safe (``Event.is_set``).
    """
    current = sorted(e for e in hass.states.async_entity_ids() if wanted(e))
    return await get_instance(hass).async_add_executor_job(
        fetch_history, hass, start, end, wanted, current, should_stop
    )

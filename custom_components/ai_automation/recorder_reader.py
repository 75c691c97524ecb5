"""Read state changes from the recorder into numpy columns.

The fast path is one query through the recorder's own connection (in the recorder's
executor): ``states`` without joining ``states_meta``, significant changes only (an
attribute-only update has ``last_changed_ts`` != ``last_updated_ts``; ``NULL`` means they
are equal), with the context columns that tell who caused each change.

It depends on the schema, so it is chosen by the tables and columns it reads (checked
once per recorder), not by a list of schema versions: schemas 48 to 53 have them, and
so will any later one that keeps them. Where one is missing (or the recorder is still
migrating its entity ids), the public history API is read instead (``history_api_reader``):
slower, and without context, so the origin of every change is unknown (``origin_known``
False).

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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance, session_scope
from numpy.typing import NDArray
from sqlalchemy import CursorResult, TextClause, bindparam, inspect, text
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.orm import Session

from .compat import states_meta_ready
from .const import LOGGER
from .engine.event_log import Origin
from .fetched_history import (
    SOURCE_RECORDER,
    FetchCancelled,
    FetchedHistory,
    HistoryColumns,
    HistoryRead,
    default_origin,
    never_stop,
    read_session,
    recorded_hours,
)
from .history_api_reader import fetch_from_history_api

# What callers use; the rest is this module's own.
__all__ = [
    "FAST_PATH_COLUMNS",
    "FetchCancelled",
    "FetchedHistory",
    "ReaderSupport",
    "async_fetch_history",
    "cyclic_gc_paused",
    "fetch_history",
    "reader_support",
]

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
_NOT_WANTED, _NO_ENTITY = -1, -2
# Below this share of all entities, ask for them by id.
_FEW_ENTITIES = 0.25
# Else, with some not wanted: walk the timestamp index and leave those out in the query
# (SQLite checks the id against a small table per row; no Python tuple is made for them).
_SELECT_STATES_BUT = text(_STATE_COLUMNS + " AND metadata_id NOT IN :skip").bindparams(
    bindparam("skip", expanding=True)
)


@dataclass(frozen=True, slots=True)
class ReaderSupport:
    """Whether this recorder's database has what the fast path reads."""

    fast: bool
    missing: tuple[str, ...]  # "table.column" (or "table") the fast path needs and lacks
    schema_version: int


# Checked once per recorder instance (a test or a restart makes a new one).
_SUPPORT: weakref.WeakKeyDictionary[Any, ReaderSupport] = weakref.WeakKeyDictionary()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of row tuples come and go.

    They are freed by reference counting either way; but each batch of allocations
    would trigger full collections over all of Home Assistant's objects, which hold the
    GIL for 150-250 ms and so stall the event loop (measured by scripts/bench). Nested
    pauses end with the outermost (the compact history holds one over all the days it
    reads).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def _map_entities(
    session: Session, columns: HistoryColumns, wanted: Callable[[str], bool]
) -> tuple[NDArray[np.int32], NDArray[np.int8], int] | None:
    """``(entity_of, default origin, entity count)`` by metadata_id; None: nothing wanted.

    ``entity_of`` is our entity index (-1: an entity not wanted, -2: no such metadata_id);
    the default origin is that of a change with neither user nor automation behind it
    (physical or system, by domain).
    """
    meta_rows = [(m, e) for m, e in session.execute(_SELECT_META) if e]
    if not meta_rows:
        return None
    size = max(m for m, _ in meta_rows) + 1
    entity_of = np.full(size, _NO_ENTITY, dtype=np.int32)
    origin_of = np.zeros(size, dtype=np.int8)
    for metadata_id, entity_id in meta_rows:
        entity_of[metadata_id] = _NOT_WANTED
        if wanted(entity_id):
            entity_of[metadata_id] = columns.entity(entity_id)
            origin_of[metadata_id] = default_origin(entity_id)
    if not np.any(entity_of >= 0):
        return None
    return entity_of, origin_of, len(meta_rows)


def _automation_contexts(session: Session, read: HistoryRead) -> set[bytes]:
    """The context ids of the window's automation and script runs."""
    params = {"types": list(AUTOMATION_EVENT_TYPES), **read.bounds()}
    return {
        bytes(row[0]) for row in session.execute(_SELECT_AUTOMATION_CONTEXTS, params) if row[0] is not None
    }


def _states_query(
    entity_of: NDArray[np.int32], n_entities: int, read: HistoryRead
) -> tuple[TextClause, dict[str, Any]]:
    params: dict[str, Any] = read.bounds()
    wanted_ids = np.flatnonzero(entity_of >= 0)
    if wanted_ids.size < _FEW_ENTITIES * n_entities:
        return _SELECT_STATES_OF, {**params, "ids": [int(m) for m in wanted_ids]}
    unwanted = np.flatnonzero(entity_of == _NOT_WANTED)
    if unwanted.size:
        return _SELECT_STATES_BUT, {**params, "skip": [int(m) for m in unwanted]}
    return _SELECT_STATES_ALL, params


def _fetch_raw(hass: HomeAssistant, read: HistoryRead) -> FetchedHistory:
    columns = HistoryColumns()
    with read_session(hass) as session, cyclic_gc_paused():
        mapped = _map_entities(session, columns, read.wanted)
        if mapped is None:
            return columns.result(SOURCE_RECORDER, recorded_hours(session, read))
        entity_of, origin_of, n_entities = mapped
        automation_contexts = _automation_contexts(session, read)
        read.check()
        query, params = _states_query(entity_of, n_entities, read)
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
                read.check()
                _add_chunk(columns, rows, entity_of, origin_of, automation_contexts)
        finally:
            result.close()
        recorded = recorded_hours(session, read, columns.hours())
    return columns.result(SOURCE_RECORDER, recorded)


def _add_chunk(
    columns: HistoryColumns,
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
        # an automation_triggered event's. A script a user started: the user's id, but the
        # context is the script_started event's, so the script did it, not the user's hand.
        # Only a controllable entity's change matters.
        maybe = np.flatnonzero(keep & ~parent & ((origin == Origin.PHYSICAL) | user))
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


def fetch_history(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    current_entity_ids: list[str],
    should_stop: Callable[[], bool] = never_stop,
) -> FetchedHistory:
    """Read significant state changes in ``[start, end)``; run in the recorder's executor.

    ``current_entity_ids`` (the state machine's wanted entities) only adds to what the
    fallback finds in the recorder's entity list. ``should_stop`` (called from this
    thread) True between chunks ends the read with ``FetchCancelled``.
    """
    read = HistoryRead(start, end, wanted, should_stop)
    support = reader_support(hass)
    if support.fast:
        return _fetch_raw(hass, read)
    LOGGER.warning(
        "The recorder's database (schema %s) lacks %s, which the fast reader needs; reading"
        " the history API instead, which cannot tell automations' changes from people's",
        support.schema_version,
        ", ".join(support.missing),
    )
    fetched = fetch_from_history_api(hass, read, current_entity_ids)
    return replace(fetched, missing=support.missing)


async def async_fetch_history(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    should_stop: Callable[[], bool] = never_stop,
) -> FetchedHistory:
    """Read history in the recorder's executor (queries from other threads are flagged).

    ``should_stop`` is called from that thread: make it thread-safe (``Event.is_set``).
    """
    current = sorted(e for e in hass.states.async_entity_ids() if wanted(e))
    return await get_instance(hass).async_add_executor_job(
        fetch_history, hass, start, end, wanted, current, should_stop
    )

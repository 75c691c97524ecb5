"""Read state changes from the recorder into numpy columns.

The fast path is one query through the recorder's own connection (in the recorder's
executor): ``states`` without joining ``states_meta``, significant changes only (an
attribute-only update has ``last_changed_ts`` != ``last_updated_ts``; ``NULL`` means they
are equal), with the context columns that tell who caused each change. It depends on
the schema, so on a schema we do not know we fall back to the public history API,
which is slower and has no context (every change is then physical or system).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
from sqlalchemy import CursorResult, bindparam, text

from .const import LOGGER
from .engine.event_log import Origin

# Schema versions whose ``states``/``events`` columns the raw query was written for.
KNOWN_SCHEMA_VERSIONS = frozenset({48, 49, 50})

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

    def result(self, source: str) -> FetchedHistory:
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


def _fallback_origin(entity_id: str) -> int:
    return int(Origin.PHYSICAL if split_entity_id(entity_id)[0] in CONTROLLABLE_DOMAINS else Origin.SYSTEM)


def _fetch_raw(
    hass: HomeAssistant, start: datetime, end: datetime, wanted: Callable[[str], bool]
) -> FetchedHistory:
    columns = _Columns()
    start_ts, end_ts = start.timestamp(), end.timestamp()
    with session_scope(hass=hass, read_only=True) as session, _cyclic_gc_paused():
        meta_rows = [(m, e) for m, e in session.execute(_SELECT_META) if e]
        if not meta_rows:
            return columns.result("recorder")
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
            return columns.result("recorder")
        automation_contexts = {
            bytes(row[0])
            for row in session.execute(
                _SELECT_AUTOMATION_CONTEXTS,
                {"types": list(AUTOMATION_EVENT_TYPES), "start": start_ts, "end": end_ts},
            )
            if row[0] is not None
        }
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
                _add_chunk(columns, rows, entity_of, default_origin, automation_contexts)
        finally:
            result.close()
    return columns.result("recorder")


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


def _fetch_history_api(
    hass: HomeAssistant, start: datetime, end: datetime, entity_ids: list[str]
) -> FetchedHistory:
    columns = _Columns()
    if not entity_ids:
        return columns.result("history_api")
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
    return columns.result("history_api")


def fetch_history(
    hass: HomeAssistant,
    start: datetime,
    end: datetime,
    wanted: Callable[[str], bool],
    current_entity_ids: list[str],
) -> FetchedHistory:
    """Read significant state changes in ``[start, end)``; run in the recorder's executor.

    ``current_entity_ids`` (the state machine's wanted entities) is only used by the
    fallback, which cannot list the recorder's entities itself.
    """
    schema_version = get_instance(hass).schema_version
    if schema_version in KNOWN_SCHEMA_VERSIONS:
        return _fetch_raw(hass, start, end, wanted)
    LOGGER.info(
        "Recorder schema version %s is not one the fast reader knows; using the history API",
        schema_version,
    )
    return _fetch_history_api(hass, start, end, current_entity_ids)


async def async_fetch_history(
    hass: HomeAssistant, start: datetime, end: datetime, wanted: Callable[[str], bool]
) -> FetchedHistory:
    """Read history in the recorder's executor (queries from other threads are flagged)."""
    current = sorted(e for e in hass.states.async_entity_ids() if wanted(e))
    return await get_instance(hass).async_add_executor_job(fetch_history, hass, start, end, wanted, current)

"""Read state changes from the recorder into numpy columns.

The fast path is one query through the recorder's own connection (in the recorder's
executor): ``states`` without joining ``states_meta``, significant changes only (an
attribute-only update has ``last_changed_ts`` != ``last_updated_ts``; ``NULL`` means they
are equal), with the context columns that tell who caused each change. It depends on
the schema, so on a schema we do not know we fall back to the public history API,
which is slower and has no context (every change is then physical or system).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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
from sqlalchemy import bindparam, text

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
_SELECT_STATES = text(
    "SELECT metadata_id, state, last_updated_ts,"
    " context_user_id_bin IS NOT NULL, context_parent_id_bin IS NOT NULL, context_id_bin"
    " FROM states"
    " WHERE metadata_id IN :ids AND last_updated_ts >= :start AND last_updated_ts < :end"
    " AND (last_changed_ts IS NULL OR last_changed_ts = last_updated_ts)"
    " ORDER BY last_updated_ts"
).bindparams(bindparam("ids", expanding=True))


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
    """Accumulates rows into arrays, mapping strings to small integers as it goes."""

    def __init__(self) -> None:
        self.entity_index: dict[str, int] = {}
        self.state_index: dict[str, int] = {}
        self.parts: list[
            tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64], NDArray[np.int8]]
        ] = []

    def entity(self, entity_id: str) -> int:
        return self.entity_index.setdefault(entity_id, len(self.entity_index))

    def add(self, entities: list[int], states: list[str | None], ts: list[float], origins: list[int]) -> None:
        index = self.state_index
        state_codes = [index.setdefault(s or "", len(index)) for s in states]
        self.parts.append(
            (
                np.asarray(entities, dtype=np.int32),
                np.asarray(state_codes, dtype=np.int32),
                np.asarray(ts, dtype=np.float64),
                np.asarray(origins, dtype=np.int8),
            )
        )

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


def _fallback_origin(entity_id: str) -> int:
    return int(Origin.PHYSICAL if split_entity_id(entity_id)[0] in CONTROLLABLE_DOMAINS else Origin.SYSTEM)


def _fetch_raw(
    hass: HomeAssistant, start: datetime, end: datetime, wanted: Callable[[str], bool]
) -> FetchedHistory:
    columns = _Columns()
    start_ts, end_ts = start.timestamp(), end.timestamp()
    with session_scope(hass=hass, read_only=True) as session:
        # metadata_id -> (our entity index, origin of a change with no user/automation)
        meta: dict[int, tuple[int, int]] = {}
        for metadata_id, entity_id in session.execute(_SELECT_META):
            if entity_id and wanted(entity_id):
                meta[metadata_id] = (columns.entity(entity_id), _fallback_origin(entity_id))
        if not meta:
            return columns.result("recorder")
        automation_contexts = {
            bytes(row[0])
            for row in session.execute(
                _SELECT_AUTOMATION_CONTEXTS,
                {"types": list(AUTOMATION_EVENT_TYPES), "start": start_ts, "end": end_ts},
            )
            if row[0] is not None
        }
        result = session.execute(
            _SELECT_STATES,
            {"ids": list(meta), "start": start_ts, "end": end_ts},
            execution_options={"yield_per": _CHUNK_ROWS},
        )
        user, automation = int(Origin.USER), int(Origin.AUTOMATION)
        for rows in result.partitions(_CHUNK_ROWS):
            entities: list[int] = []
            origins: list[int] = []
            for row in rows:
                entity, default_origin = meta[row[0]]
                entities.append(entity)
                if row[3]:
                    origins.append(user)
                elif row[4] or (row[5] is not None and bytes(row[5]) in automation_contexts):
                    origins.append(automation)
                else:
                    origins.append(default_origin)
            columns.add(entities, [row[1] for row in rows], [row[2] for row in rows], origins)
    return columns.result("recorder")


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
        columns.add([entity] * len(states), states, stamps, [origin] * len(states))
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

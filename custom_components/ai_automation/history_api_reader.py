"""Read state changes through the public history API: the fallback of ``recorder_reader``.

Taken where the recorder's database lacks what the fast path reads (or is still moving
entity ids into ``states_meta``). Slower, and without context: the origin of every change
is guessed by its domain (``origin_known`` False).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from homeassistant.components.recorder import history
from homeassistant.const import (
    COMPRESSED_STATE_LAST_CHANGED,
    COMPRESSED_STATE_LAST_UPDATED,
    COMPRESSED_STATE_STATE,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance, session_scope
from numpy.typing import NDArray
from sqlalchemy.exc import SQLAlchemyError

from .const import LOGGER
from .fetched_history import (
    HOUR_S,
    SOURCE_HISTORY_API,
    FetchedHistory,
    HistoryColumns,
    HistoryRead,
    default_origin,
    read_session,
    recorded_hours,
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


def _add_entity(columns: HistoryColumns, entity_id: str, entries: Sequence[State | dict[str, Any]]) -> None:
    """One entity's entries (``State`` objects or compressed dicts) as columns."""
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
        np.full(n, columns.entity(entity_id), dtype=np.int32),
        columns.state_codes(states),
        np.asarray(stamps, dtype=np.float64),
        np.full(n, default_origin(entity_id), dtype=np.int8),
    )


def fetch_from_history_api(
    hass: HomeAssistant, read: HistoryRead, current_entity_ids: list[str]
) -> FetchedHistory:
    """Read ``read`` through the history API; run in the recorder's executor.

    ``current_entity_ids`` (the state machine's wanted entities) adds to what the
    recorder's entity list holds.
    """
    columns = HistoryColumns()
    entity_ids = [e for e in _entities_with_history(hass, current_entity_ids) if read.wanted(e)]
    recorded: NDArray[np.int64] | None = None
    try:
        with read_session(hass) as session:
            recorded = recorded_hours(session, read)
    except SQLAlchemyError:
        LOGGER.debug("Cannot tell which hours the recorder recorded", exc_info=True)
    if not entity_ids:
        return columns.result(SOURCE_HISTORY_API, recorded)
    # One call, which cannot be stopped part way: ask before it.
    read.check()
    found = history.get_significant_states(
        hass,
        read.start,
        read.end,
        entity_ids=entity_ids,
        include_start_time_state=False,
        significant_changes_only=True,
        minimal_response=True,
        no_attributes=True,
        compressed_state_format=True,
    )
    for entity_id, entries in found.items():
        _add_entity(columns, entity_id, entries)
    if recorded is None and columns.parts:  # what the fetched rows show, at least
        stamps_all = np.concatenate([ts for _, _, ts, _ in columns.parts])
        recorded = np.unique(np.floor_divide(stamps_all, HOUR_S).astype(np.int64))
    return columns.result(SOURCE_HISTORY_API, recorded)

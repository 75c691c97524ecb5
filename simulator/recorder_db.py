"""Write a simulated history into a recorder database, with the recorder's own schema.

Raw inserts into the tables HA's ``Base.metadata.create_all`` makes run at ~100k rows/s;
going through ``hass.states.async_set`` would be ~40x slower. We also write the rows the
recorder expects of a cleanly shut down database (schema version, a closed run, a
statistics run), so HA neither migrates nor warns about an unclean shutdown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from homeassistant.components.recorder.db_schema import (
    SCHEMA_VERSION,
    Base,
    Events,
    EventTypes,
    RecorderRuns,
    SchemaChanges,
    StateAttributes,
    States,
    StatesMeta,
    StatisticsRuns,
)

from .household import AUTOMATION, AUTOMATION_CHILD, USER, Change

# A stable, made-up user id for the household's app/UI actions (16 bytes, like a ULID).
HOUSEHOLD_USER_ID = bytes.fromhex("01a1b2c3d4e5f60718293a4b5c6d7e8f")
_BATCH = 20_000


def _context_id(ts: float) -> bytes:
    # ULID layout: 48-bit millisecond timestamp, then 80 random bits.
    return int(ts * 1000).to_bytes(6, "big") + os.urandom(10)


def seed_database(db_url: str, changes: Iterable[Change], *, create: bool = True) -> int:
    """Insert ``changes`` into the recorder database at ``db_url``; return rows written.

    With ``create`` the schema is created first (a new database file).
    """
    # Long on purpose: the schema, the entities' metadata and the states, in one transaction.
    engine = sa.create_engine(db_url)
    written = 0
    try:
        if create:
            Base.metadata.create_all(engine)
        with engine.begin() as conn:
            if create:
                conn.execute(
                    sa.insert(SchemaChanges),
                    [{"schema_version": SCHEMA_VERSION, "changed": datetime.now(UTC)}],
                )
            meta: dict[str, int] = {
                row.entity_id: row.metadata_id
                for row in conn.execute(sa.select(StatesMeta.entity_id, StatesMeta.metadata_id))
            }
            event_type_id = conn.execute(
                sa.select(EventTypes.event_type_id).where(EventTypes.event_type == "automation_triggered")
            ).scalar()
            if event_type_id is None:
                # inserted_primary_key rather than RETURNING: MariaDB before 10.5 has none.
                event_type_id = conn.execute(
                    sa.insert(EventTypes).values(event_type="automation_triggered")
                ).inserted_primary_key[0]

            # Attributes are shared rows, as the recorder keeps them: one per distinct JSON.
            shared: dict[str, int] = {}

            def attributes_id(attributes: str | None) -> int | None:
                if attributes is None:
                    return None
                if attributes not in shared:
                    shared[attributes] = conn.execute(
                        sa.insert(StateAttributes).values(
                            hash=StateAttributes.hash_shared_attrs_bytes(attributes.encode()),
                            shared_attrs=attributes,
                        )
                    ).inserted_primary_key[0]
                return shared[attributes]

            states_batch: list[dict[str, object]] = []
            events_batch: list[dict[str, object]] = []
            first_ts = last_ts = None
            for change in changes:
                metadata_id = meta.get(change.entity_id)
                if metadata_id is None:
                    metadata_id = conn.execute(
                        sa.insert(StatesMeta).values(entity_id=change.entity_id)
                    ).inserted_primary_key[0]
                    meta[change.entity_id] = metadata_id
                context_id = _context_id(change.ts)
                states_batch.append(
                    {
                        "metadata_id": metadata_id,
                        "state": change.state,
                        "attributes_id": attributes_id(change.attributes),
                        "last_updated_ts": change.ts,
                        "last_changed_ts": None,  # NULL means "same as last_updated"
                        "origin_idx": 0,
                        "context_id_bin": context_id,
                        "context_user_id_bin": HOUSEHOLD_USER_ID if change.origin == USER else None,
                        # A state-triggered automation's context has the trigger's as parent.
                        "context_parent_id_bin": _context_id(change.ts - 0.5)
                        if change.origin == AUTOMATION_CHILD
                        else None,
                    }
                )
                if change.origin == AUTOMATION:
                    # A time-triggered automation: no parent, no user; only the recorded
                    # automation_triggered event shares the context id.
                    events_batch.append(
                        {
                            "event_type_id": event_type_id,
                            "time_fired_ts": change.ts - 0.01,
                            "origin_idx": 0,
                            "context_id_bin": context_id,
                        }
                    )
                first_ts = change.ts if first_ts is None else min(first_ts, change.ts)
                last_ts = change.ts if last_ts is None else max(last_ts, change.ts)
                if len(states_batch) >= _BATCH:
                    conn.execute(sa.insert(States), states_batch)
                    written += len(states_batch)
                    states_batch.clear()
            if states_batch:
                conn.execute(sa.insert(States), states_batch)
                written += len(states_batch)
            if events_batch:
                conn.execute(sa.insert(Events), events_batch)
            if create and first_ts is not None and last_ts is not None:
                now = datetime.now(UTC)
                conn.execute(
                    sa.insert(RecorderRuns),
                    [
                        {
                            "start": datetime.fromtimestamp(first_ts, UTC),
                            "end": max(now, datetime.fromtimestamp(last_ts, UTC)),
                            "closed_incorrect": False,
                            "created": now,
                        }
                    ],
                )
                conn.execute(
                    sa.insert(StatisticsRuns),
                    [{"start": now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)}],
                )
    finally:
        engine.dispose()
    return written

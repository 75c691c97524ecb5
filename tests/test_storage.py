"""The files in .storage: a corrupt suggestions store loses no decision; deleting the entry leaves none.

These tests use real files. The test plugin keeps every ``Store`` in memory (the
``hass_storage`` dict, which never sees a corrupt file nor Home Assistant's quarantine of
one); here our own stores read and write ``<tmp_path>/.storage`` as in production, while
Home Assistant's own stores stay in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation.const import DOMAIN
from custom_components.ai_automation.history_store import HISTORY_KEY
from custom_components.ai_automation.storage import (
    DECISIONS_BACKUP_KEY,
    DECISIONS_KEY,
    DECISIONS_VERSION,
    EVIDENCE_KEY,
    JOBS_KEY,
    LLM_SPEND_KEY,
)

from .conftest import async_run
from .decisions_helpers import (
    WORKDAYS,
    async_dismiss,
    async_list,
    async_remove_automations,
    async_setup_automations,
    has_notification,
    kitchen_automation,
    record,
    write_config,
)

# Store's own methods, taken before the plugin's ``hass_storage`` fixture patches them.
_REAL_LOAD = Store._async_load
_REAL_WRITE = Store._async_write_data
_REAL_REMOVE = Store.async_remove

PENDING_ID = "ai_00000000000000aa"
ACCEPTED_ID = "ai_00000000000000bb"
DISMISSED_ID = "ai_00000000000000cc"
INCLUDE = "automation: !include automations.yaml\n"


def _ours(store: Store[Any]) -> bool:
    return store.key.startswith(DOMAIN)


@pytest.fixture
def storage_dir(hass: HomeAssistant, tmp_path: Path) -> Generator[Path]:
    """``<tmp_path>/.storage``, where this integration's stores are real files.

    The config directory moves to ``tmp_path`` (the plugin's own is shared by all tests).
    """
    hass.config.config_dir = str(tmp_path)
    mocked_load, mocked_write, mocked_remove = Store._async_load, Store._async_write_data, Store.async_remove

    async def load(store: Store[Any]) -> Any:
        return await (_REAL_LOAD if _ours(store) else mocked_load)(store)

    async def write(store: Store[Any], *args: Any) -> None:
        await (_REAL_WRITE if _ours(store) else mocked_write)(store, *args)

    async def remove(store: Store[Any]) -> None:
        await (_REAL_REMOVE if _ours(store) else mocked_remove)(store)

    with (
        patch.object(Store, "_async_load", load),
        patch.object(Store, "_async_write_data", write),
        patch.object(Store, "async_remove", remove),
    ):
        yield tmp_path / ".storage"


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Automations set up here go before hass stops (their time triggers would linger)."""
    yield
    await async_remove_automations(hass)


def _write_store(storage_dir: Path, key: str, records: list[dict[str, Any]]) -> Path:
    """A suggestions file as ``Store`` writes it."""
    storage_dir.mkdir(exist_ok=True)
    path = storage_dir / key
    document = {
        "version": DECISIONS_VERSION,
        "minor_version": 1,
        "key": key,
        "data": {"suggestions": records},
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _stored_ids(path: Path) -> dict[str, str]:
    return {r["id"]: r["status"] for r in json.loads(path.read_text(encoding="utf-8"))["data"]["suggestions"]}


def _records() -> list[dict[str, Any]]:
    return [
        record(PENDING_ID, kitchen_automation(PENDING_ID, "06:45:00", WORKDAYS)),
        record(
            ACCEPTED_ID,
            kitchen_automation(ACCEPTED_ID, "07:15:00"),
            "accepted",
            accepted_at="2026-01-02T12:00:00+00:00",
            automation_entity_id="automation.turn_on_kitchen_light_at_07_15",
            enabled=True,
        ),
        record(
            DISMISSED_ID,
            kitchen_automation(DISMISSED_ID, "21:30:00"),
            "dismissed",
            dismissed_at="2026-01-03T12:00:00+00:00",
        ),
    ]


async def _async_setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_corrupt_store_is_recovered_from_its_last_good_copy(
    hass: HomeAssistant,
    storage_dir: Path,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Garbage in the suggestions file: every decision comes back from the copy, with a warning."""
    key = f"{DECISIONS_KEY}.{config_entry.entry_id}"
    _write_store(storage_dir, f"{DECISIONS_BACKUP_KEY}.{config_entry.entry_id}", _records())
    (storage_dir / key).write_bytes(b'{"version": 1, "data": {"suggestions": [{"id": "ai_0')

    with caplog.at_level(logging.WARNING):
        await _async_setup(hass, config_entry)

    listed = await async_list(hass)
    assert [r["id"] for r in listed["pending"]] == [PENDING_ID]
    assert [r["id"] for r in listed["accepted"]] == [ACCEPTED_ID]
    assert [r["id"] for r in listed["dismissed"]] == [DISMISSED_ID]
    assert listed["accepted"][0]["accepted_at"] == "2026-01-02T12:00:00+00:00"
    assert has_notification(hass, PENDING_ID)
    assert not has_notification(hass, DISMISSED_ID)
    [warning] = [r for r in caplog.records if r.name.startswith(f"custom_components.{DOMAIN}")]
    assert warning.levelno == logging.WARNING
    assert "recovered 3 suggestions (1 pending, 1 accepted, 1 dismissed): 3 from its last good copy" in (
        warning.getMessage()
    )
    # Home Assistant kept the corrupt file aside; the store is whole again.
    assert len(list(storage_dir.glob(f"{key}.corrupt.*"))) == 1
    assert _stored_ids(storage_dir / key) == {
        PENDING_ID: "pending",
        ACCEPTED_ID: "accepted",
        DISMISSED_ID: "dismissed",
    }


async def test_the_copy_follows_every_save(
    hass: HomeAssistant, storage_dir: Path, recorder_mock: Any, config_entry: MockConfigEntry
) -> None:
    """A dismissal is in both files, so a store corrupted later still has it."""
    _write_store(storage_dir, f"{DECISIONS_KEY}.{config_entry.entry_id}", _records()[:1])
    await _async_setup(hass, config_entry)

    await async_dismiss(hass, PENDING_ID)

    main = storage_dir / f"{DECISIONS_KEY}.{config_entry.entry_id}"
    copy = storage_dir / f"{DECISIONS_BACKUP_KEY}.{config_entry.entry_id}"
    assert _stored_ids(main) == _stored_ids(copy) == {PENDING_ID: "dismissed"}


async def test_accepted_suggestions_are_rebuilt_from_automations_yaml(
    hass: HomeAssistant,
    storage_dir: Path,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Store and copy both corrupt: the accepted ones come back from their automations (ids ``ai_…``)."""
    accepted = kitchen_automation(ACCEPTED_ID, "07:15:00")
    mine = {"id": "mine", "alias": "Mine", "triggers": [{"trigger": "sun", "event": "sunset"}], "actions": []}
    write_config(storage_dir.parent, INCLUDE, json.dumps([mine, accepted]))
    await async_setup_automations(hass, storage_dir.parent)
    storage_dir.mkdir()
    for key in (DECISIONS_KEY, DECISIONS_BACKUP_KEY):
        (storage_dir / f"{key}.{config_entry.entry_id}").write_bytes(b"\x00\x00garbage")

    with caplog.at_level(logging.WARNING):
        await _async_setup(hass, config_entry)

    listed = await async_list(hass)
    assert listed["pending"] == listed["dismissed"] == []
    [rebuilt] = listed["accepted"]
    assert rebuilt["id"] == ACCEPTED_ID
    assert rebuilt["automation"] == accepted
    assert rebuilt["title"] == accepted["alias"]
    assert rebuilt["automation_entity_id"] == "automation.turn_on_kitchen_light_at_07_15"
    assert "recovered 1 suggestions (0 pending, 1 accepted, 0 dismissed): 0 from its last good copy, 1 " in (
        caplog.text
    )
    # Written back, and found by the next run like any accepted one.
    assert _stored_ids(storage_dir / f"{DECISIONS_KEY}.{config_entry.entry_id}") == {ACCEPTED_ID: "accepted"}


async def test_deleting_the_entry_leaves_no_file(
    hass: HomeAssistant, storage_dir: Path, recorder_mock: Any, config_entry: MockConfigEntry
) -> None:
    """Jobs, suggestions, their copy, the LLM spend, the evidence, the compact history, a
    quarantined corrupt file: all gone."""
    entry_id = config_entry.entry_id
    _write_store(storage_dir, f"{DECISIONS_KEY}.{entry_id}", _records()[:1])
    # The job history is corrupt: Home Assistant moves it aside when the entry loads.
    (storage_dir / f"{JOBS_KEY}.{entry_id}").write_text("{not json", encoding="utf-8")
    await _async_setup(hass, config_entry)
    await async_run(hass)
    await async_dismiss(hass, PENDING_ID)
    await config_entry.runtime_data.llm.async_add(0.01, 1200)
    names = {p.name for p in storage_dir.iterdir() if p.name.startswith(DOMAIN)}
    quarantined = {n for n in names if n.startswith(f"{JOBS_KEY}.{entry_id}.corrupt.")}
    assert len(quarantined) == 1
    keys = (JOBS_KEY, DECISIONS_KEY, DECISIONS_BACKUP_KEY, LLM_SPEND_KEY, EVIDENCE_KEY, HISTORY_KEY)
    assert names - quarantined == {f"{key}.{entry_id}" for key in keys}

    assert await hass.config_entries.async_remove(entry_id)
    await hass.async_block_till_done()

    assert [p.name for p in storage_dir.iterdir() if p.name.startswith(DOMAIN)] == []

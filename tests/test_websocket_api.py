"""The panel's websocket commands: list, accept, undo, dismiss, run — admins only, input checked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ai_automation.const import DOMAIN

from .decisions_helpers import (
    WORKDAYS,
    async_remove_automations,
    async_setup_automations,
    kitchen_automation,
    record,
    store_records,
    write_config,
)

PENDING_ID = "ai_00000000000000aa"
OTHER_ID = "ai_00000000000000bb"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A configuration directory of this test: configuration.yaml includes automations.yaml."""
    write_config(tmp_path, "automation: !include automations.yaml\n", "[]\n")
    return tmp_path


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Created automations go before hass stops (their time triggers would linger)."""
    yield
    await async_remove_automations(hass)


@pytest.fixture
def household() -> None:
    """No history: stored suggestions are enough."""


@pytest.fixture(autouse=True)
def pending(hass_storage: dict[str, Any], config_entry: MockConfigEntry) -> None:
    """Two pending suggestions stored before the entry loads."""
    store_records(
        hass_storage,
        config_entry.entry_id,
        [
            record(PENDING_ID, kitchen_automation(PENDING_ID, "06:45:00", WORKDAYS)),
            record(OTHER_ID, kitchen_automation(OTHER_ID, "19:00:00")),
        ],
    )


async def _call(client: Any, **msg: Any) -> dict[str, Any]:
    await client.send_json_auto_id(msg)
    response: dict[str, Any] = await client.receive_json()
    return response


def _written(config_dir: Path) -> list[dict[str, Any]]:
    return yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8")) or []


async def test_accept_then_undo_round_trip(
    hass: HomeAssistant,
    config_dir: Path,
    load_int: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> None:
    """Listed, accepted (an automation entity in automations.yaml), undone (file, entity and
    registry entry gone, pending again) — every step as the editor would do it."""
    await async_setup_automations(hass, config_dir)
    client = await hass_ws_client(hass)

    listed = await _call(client, type=f"{DOMAIN}/suggestions")
    assert listed["success"]
    assert {r["id"] for r in listed["result"]["pending"]} == {PENDING_ID, OTHER_ID}
    assert listed["result"]["running"] is False

    accepted = await _call(client, type=f"{DOMAIN}/accept", suggestion_id=PENDING_ID)
    assert accepted["success"], accepted
    entity_id = accepted["result"]["automation_entity_id"]
    assert accepted["result"]["accepted_by"] == hass_admin_user.id
    assert hass.states.get(entity_id) is not None
    assert [a["id"] for a in _written(config_dir)] == [PENDING_ID]

    undone = await _call(client, type=f"{DOMAIN}/undo", suggestion_id=PENDING_ID)
    assert undone["success"], undone
    await hass.async_block_till_done()
    assert undone["result"]["status"] == "pending"
    assert undone["result"]["automation_entity_id"] is None
    assert _written(config_dir) == []
    assert hass.states.get(entity_id) is None
    assert er.async_get(hass).async_get_entity_id("automation", "automation", PENDING_ID) is None
    listed = await _call(client, type=f"{DOMAIN}/suggestions")
    assert {r["id"] for r in listed["result"]["pending"]} == {PENDING_ID, OTHER_ID}
    assert listed["result"]["accepted"] == []

    # Accepted again after the undo: the same automation comes back.
    again = await _call(client, type=f"{DOMAIN}/accept", suggestion_id=PENDING_ID, enabled=False)
    assert again["success"], again
    assert hass.states.get(again["result"]["automation_entity_id"]).state == "off"


async def test_undo_keeps_other_automations_and_refuses_what_is_not_accepted(
    hass: HomeAssistant, config_dir: Path, load_int: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Only its own entry leaves the file; a pending suggestion has nothing to undo."""
    mine = {"id": "my_own", "alias": "Mine", "triggers": [], "actions": []}
    write_config(config_dir, "automation: !include automations.yaml\n", yaml.safe_dump([mine]))
    await async_setup_automations(hass, config_dir)
    client = await hass_ws_client(hass)

    refused = await _call(client, type=f"{DOMAIN}/undo", suggestion_id=PENDING_ID)
    assert not refused["success"]
    assert refused["error"]["translation_key"] == "not_accepted"
    unknown = await _call(client, type=f"{DOMAIN}/undo", suggestion_id="ai_00000000000000cc")
    assert unknown["error"]["translation_key"] == "unknown_suggestion"

    assert (await _call(client, type=f"{DOMAIN}/accept", suggestion_id=PENDING_ID))["success"]
    assert [a["id"] for a in _written(config_dir)] == ["my_own", PENDING_ID]
    assert (await _call(client, type=f"{DOMAIN}/undo", suggestion_id=PENDING_ID))["success"]
    assert _written(config_dir) == [mine]


async def test_dismiss_keeps_the_reason_and_the_days(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> None:
    client = await hass_ws_client(hass)
    dismissed = await _call(
        client, type=f"{DOMAIN}/dismiss", suggestion_id=OTHER_ID, days=14, reason="We eat out on Fridays"
    )
    assert dismissed["success"], dismissed
    result = dismissed["result"]
    assert (result["status"], result["dismiss_reason"], result["dismissed_by"]) == (
        "dismissed",
        "We eat out on Fridays",
        hass_admin_user.id,
    )
    assert result["until"] is not None
    listed = await _call(client, type=f"{DOMAIN}/suggestions")
    assert [r["id"] for r in listed["result"]["dismissed"]] == [OTHER_ID]
    # Dismissed again without a reason: the old one does not stay behind.
    again = await _call(client, type=f"{DOMAIN}/dismiss", suggestion_id=OTHER_ID)
    assert (again["result"]["dismiss_reason"], again["result"]["until"]) == (None, None)


@pytest.mark.parametrize(
    "msg",
    [
        {"type": f"{DOMAIN}/accept", "suggestion_id": "not-an-id"},
        {"type": f"{DOMAIN}/accept"},
        {"type": f"{DOMAIN}/dismiss", "suggestion_id": OTHER_ID, "days": 0},
        {"type": f"{DOMAIN}/dismiss", "suggestion_id": OTHER_ID, "reason": "x" * 501},
        {"type": f"{DOMAIN}/run", "lookback_days": 91},
        {"type": f"{DOMAIN}/undo", "suggestion_id": 7},
    ],
    ids=["bad id", "no id", "zero days", "long reason", "lookback too long", "id not text"],
)
async def test_bad_input_is_refused_by_the_schema(
    hass: HomeAssistant, load_int: MockConfigEntry, hass_ws_client: WebSocketGenerator, msg: dict[str, Any]
) -> None:
    client = await hass_ws_client(hass)
    response = await _call(client, **msg)
    assert not response["success"]
    assert response["error"]["code"] == "invalid_format"


@pytest.mark.parametrize("command", ["suggestions", "run", "accept", "dismiss", "undo"])
async def test_a_non_admin_is_refused_every_command(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    command: str,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    extra = {} if command in ("suggestions", "run") else {"suggestion_id": PENDING_ID}
    response = await _call(client, type=f"{DOMAIN}/{command}", **extra)
    assert not response["success"]
    assert response["error"]["code"] == "unauthorized"
    listed = load_int.runtime_data.decisions.as_response()
    assert {r["id"] for r in listed["pending"]} == {PENDING_ID, OTHER_ID}


async def test_run_starts_a_job_and_a_second_is_refused_while_it_runs(
    hass: HomeAssistant, load_int: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    started = await _call(client, type=f"{DOMAIN}/run", lookback_days=7)
    assert started["success"], started
    busy = await _call(client, type=f"{DOMAIN}/run")
    if not busy["success"]:  # refused while the first runs (the empty home's job may be over)
        assert busy["error"]["translation_key"] == "already_running"
    coordinator = load_int.runtime_data.coordinator
    # The job runs as a background task, which async_block_till_done does not wait for.
    for _ in range(600):
        if not coordinator.running and coordinator.last_job is not None:
            break
        await asyncio.sleep(0.05)
    listed = await _call(client, type=f"{DOMAIN}/suggestions")
    assert listed["result"]["running"] is False
    assert listed["result"]["last_job"]["id"] in {
        started["result"]["job_id"],
        busy.get("result", {}).get("job_id"),
    }

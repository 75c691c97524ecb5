"""Reviewing a suggestion in the panel: its evidence chart, an edit replayed, the edit created.

A real job over the seeded month (real recorder), then the panel's websocket commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ai_automation.const import DEFAULT_OPTIONS, DOMAIN
from simulator.household import Household

from .conftest import async_run
from .decisions_helpers import (
    async_remove_automations,
    async_setup_automations,
    kitchen_morning,
    write_config,
)


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """The simulated month."""
    return seeded_household


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """No cap: these tests follow particular suggestions, whichever make the top ten."""
    return {**DEFAULT_OPTIONS, "max_suggestions": 50}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """configuration.yaml includes automations.yaml."""
    write_config(tmp_path, "automation: !include automations.yaml\n", "[]\n")
    return tmp_path


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Created automations go before hass stops (their time triggers would linger)."""
    yield
    await async_remove_automations(hass)


@pytest.fixture
async def suggestions(
    hass: HomeAssistant, config_dir: Path, load_int: MockConfigEntry
) -> list[dict[str, Any]]:
    """The job's suggestions over the seeded month."""
    await async_setup_automations(hass, config_dir)
    response = await async_run(hass)
    found: list[dict[str, Any]] = response["suggestions"]
    return found


async def _call(client: Any, **msg: Any) -> dict[str, Any]:
    await client.send_json_auto_id(msg)
    response: dict[str, Any] = await client.receive_json()
    return response


async def _review(client: Any, suggestion_id: str, **form: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": f"{DOMAIN}/review", "suggestion_id": suggestion_id}
    if form:
        msg["form"] = form
    response = await _call(client, **msg)
    assert response["success"], response
    result: dict[str, Any] = response["result"]
    return result


def _motion_light(suggestions: list[dict[str, Any]]) -> dict[str, Any]:
    """A light that follows a motion sensor (on and back off)."""
    return next(
        s
        for s in suggestions
        if s["pattern"]["type"] == "co_occurrence"
        and s["pattern"]["trigger_entity_id"].startswith("binary_sensor.")
        and s["pattern"]["entity_id"].startswith("light.")
    )


async def test_the_suggestion_as_found_replays_its_own_backtest(
    hass: HomeAssistant, suggestions: list[dict[str, Any]], hass_ws_client: WebSocketGenerator
) -> None:
    """The chart has a row per analysed day; unedited, the replay is the job's backtest."""
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    client = await hass_ws_client(hass)

    review = await _review(client, kitchen["id"])

    assert review["form"]["trigger"] == "time"
    assert review["form"]["time"] == kitchen["pattern"]["time"]
    assert review["automation"] == kitchen["automation"]
    assert yaml.safe_load(review["yaml"]) == kitchen["automation"]
    for key in ("would_have_fired", "matched", "precision"):
        assert review["backtest"][key] == kitchen["backtest"][key]
    (rows,) = review["chart"]
    assert 30 <= len(rows["days"]) <= 31
    hits = sum(1 for day in rows["days"] for _, agreed in day["fired"] if agreed)
    assert hits == kitchen["backtest"]["matched"]
    assert {day["status"] for day in rows["days"]} <= {"ok", "no_data", "away"}


async def test_an_edited_time_changes_the_backtest_and_the_yaml(
    hass: HomeAssistant, suggestions: list[dict[str, Any]], hass_ws_client: WebSocketGenerator
) -> None:
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    client = await hass_ws_client(hass)

    moved = await _review(client, kitchen["id"], time="10:30", weekdays=["sat", "sun"])

    assert moved["backtest"]["matched"] < kitchen["backtest"]["matched"]
    automation = yaml.safe_load(moved["yaml"])
    assert automation["triggers"] == [{"trigger": "time", "at": "10:30:00"}]
    assert {"condition": "time", "weekday": ["sat", "sun"]} in automation["conditions"]
    assert "10:30" in automation["alias"]
    assert automation["id"] == kitchen["id"]


async def test_accepting_the_edited_version_creates_it_and_undo_removes_it(
    hass: HomeAssistant,
    config_dir: Path,
    suggestions: list[dict[str, Any]],
    hass_ws_client: WebSocketGenerator,
) -> None:
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    client = await hass_ws_client(hass)
    form = {"time": "07:05", "conditions": {"not_already": False}, "alias": "Breakfast light"}

    accepted = await _call(client, type=f"{DOMAIN}/accept", suggestion_id=kitchen["id"], form=form)

    assert accepted["success"], accepted
    (written,) = yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8"))
    assert written["alias"] == "Breakfast light"
    assert written["triggers"] == [{"trigger": "time", "at": "07:05:00"}]
    assert all(c["condition"] != "not" for c in written["conditions"])
    assert accepted["result"]["accepted_automation"]["alias"] == "Breakfast light"
    assert hass.states.get(accepted["result"]["automation_entity_id"]) is not None

    undone = await _call(client, type=f"{DOMAIN}/undo", suggestion_id=kitchen["id"])

    assert undone["success"], undone
    assert undone["result"]["accepted_automation"] is None
    assert yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8")) == []


async def test_two_edits_accepted_at_once_create_one_automation(
    hass: HomeAssistant,
    config_dir: Path,
    suggestions: list[dict[str, Any]],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Two browsers accept two versions at the same moment: one wins, the other is told."""
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    first, second = await hass_ws_client(hass), await hass_ws_client(hass)

    results = await asyncio.gather(
        _call(first, type=f"{DOMAIN}/accept", suggestion_id=kitchen["id"], form={"time": "06:50"}),
        _call(second, type=f"{DOMAIN}/accept", suggestion_id=kitchen["id"], form={"time": "07:10"}),
    )

    assert sorted(r["success"] for r in results) == [False, True]
    refused = next(r for r in results if not r["success"])
    assert refused["error"]["translation_key"] == "already_accepted"
    (written,) = yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8"))
    winner = next(r for r in results if r["success"])
    assert written["triggers"] == winner["result"]["accepted_automation"]["triggers"]


async def test_a_motion_light_edited(
    hass: HomeAssistant, suggestions: list[dict[str, Any]], hass_ws_client: WebSocketGenerator
) -> None:
    """A state trigger: a ``for`` longer than the motion lasts fires never; conditions toggle."""
    motion = _motion_light(suggestions)
    client = await hass_ws_client(hass)

    found = await _review(client, motion["id"])
    never = await _review(client, motion["id"], for_s=6 * 3600)

    assert found["form"]["trigger"] == "state"
    assert found["backtest"]["matched"] > 0
    assert never["backtest"]["would_have_fired"] < found["backtest"]["would_have_fired"]
    assert yaml.safe_load(never["yaml"])["triggers"][0]["for"] == {"hours": 6, "minutes": 0, "seconds": 0}
    if "dark" in found["form"]["conditions"]:
        always = await _review(client, motion["id"], conditions={"dark": False})
        assert always["backtest"]["would_have_fired"] > found["backtest"]["would_have_fired"]


async def test_another_target_reads_what_that_entity_did(
    hass: HomeAssistant, suggestions: list[dict[str, Any]], hass_ws_client: WebSocketGenerator
) -> None:
    """The kitchen routine on another light: that light's own history decides the hits."""
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    other = next(
        s.entity_id for s in hass.states.async_all("light") if s.entity_id != kitchen["pattern"]["entity_id"]
    )
    client = await hass_ws_client(hass)

    moved = await _review(client, kitchen["id"], target=other)

    assert moved["form"]["target"] == other
    assert moved["backtest"]["matched"] < kitchen["backtest"]["matched"]
    automation = yaml.safe_load(moved["yaml"])
    assert automation["actions"][0]["target"] == {"entity_id": other}


@pytest.mark.parametrize(
    ("form", "key"),
    [
        ({"target": "switch.nowhere"}, "invalid_target"),
        ({"target": "light.not_in_this_home"}, "invalid_target"),
        ({"sun_offset_min": 10}, "edit_not_possible"),
        ({"conditions": {"dark": True}}, "edit_not_possible"),
    ],
)
async def test_an_edit_that_does_not_fit_is_refused_with_its_reason(
    hass: HomeAssistant,
    suggestions: list[dict[str, Any]],
    hass_ws_client: WebSocketGenerator,
    form: dict[str, Any],
    key: str,
) -> None:
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    client = await hass_ws_client(hass)

    response = await _call(client, type=f"{DOMAIN}/review", suggestion_id=kitchen["id"], form=form)

    assert not response["success"]
    assert response["error"]["translation_key"] == key


@pytest.mark.parametrize(
    "form",
    [{"time": "25:00"}, {"weekdays": []}, {"weekdays": ["monday"]}, {"for_s": -1}, {"colour": "red"}],
)
async def test_bad_input_is_refused_by_the_schema(
    hass: HomeAssistant,
    suggestions: list[dict[str, Any]],
    hass_ws_client: WebSocketGenerator,
    form: dict[str, Any],
) -> None:
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    client = await hass_ws_client(hass)

    response = await _call(client, type=f"{DOMAIN}/review", suggestion_id=kitchen["id"], form=form)

    assert response["error"]["code"] == "invalid_format"


async def test_review_is_for_administrators(
    hass: HomeAssistant,
    suggestions: list[dict[str, Any]],
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> None:
    hass_admin_user.groups = []
    client = await hass_ws_client(hass)

    response = await _call(client, type=f"{DOMAIN}/review", suggestion_id=suggestions[0]["id"])

    assert response["error"]["code"] == "unauthorized"


async def test_the_evidence_outlives_a_restart_of_the_entry(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    suggestions: list[dict[str, Any]],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Stored with the job: after a reload the chart is there without running again."""
    before = await _review(await hass_ws_client(hass), suggestions[0]["id"])

    assert await hass.config_entries.async_reload(load_int.entry_id)
    await hass.async_block_till_done()
    after = await _review(await hass_ws_client(hass), suggestions[0]["id"])

    assert after["chart"] == before["chart"]
    assert after["backtest"] == before["backtest"]

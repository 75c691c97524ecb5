"""Insights on the home's own automations, with a real hass: in the job record and the panel's list."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ai_automation import job_phases
from custom_components.ai_automation.const import DOMAIN

from .conftest import async_run
from .decisions_helpers import WORKDAYS, kitchen_automation, record, store_records

PENDING_ID = "ai_00000000000000aa"

pytestmark = pytest.mark.usefixtures("remove_automations")


def _automation(
    config_id: str, alias: str, trigger: dict[str, Any], action: dict[str, Any], **more: Any
) -> dict[str, Any]:
    return {"id": config_id, "alias": alias, "triggers": [trigger], "actions": [action], **more}


def _light(service: str, entity_id: str) -> dict[str, Any]:
    return {"action": f"light.{service}", "target": {"entity_id": entity_id}}


HOME_AUTOMATIONS = [
    _automation(
        "porch_sunset",
        "Porch at sunset",
        {"trigger": "sun", "event": "sunset"},
        _light("turn_on", "light.porch"),
    ),
    _automation(
        "porch_dusk",
        "Porch lights on",
        {"trigger": "sun", "event": "sunset", "offset": "00:05:00"},
        {"action": "homeassistant.turn_on", "target": {"entity_id": "light.porch"}},
    ),
    # Off: it does not run, so it is left out (and counted).
    _automation(
        "porch_old",
        "Old porch",
        {"trigger": "sun", "event": "sunset"},
        _light("turn_on", "light.porch"),
        initial_state=False,
    ),
    _automation(
        "lounge_on", "Lounge on", {"trigger": "time", "at": "22:30:00"}, _light("turn_on", "light.lounge")
    ),
    _automation(
        "lounge_off", "Lounge off", {"trigger": "time", "at": "22:31"}, _light("turn_off", "light.lounge")
    ),
    _automation(
        "kitchen_off",
        "Kitchen off",
        {"trigger": "time", "at": "06:50:00"},
        _light("turn_off", "light.kitchen"),
        conditions=[{"condition": "time", "weekday": WORKDAYS}],
    ),
    # Motion on turns on, motion off turns off: a pair, no contradiction.
    _automation(
        "hall_on",
        "Hall on",
        {"trigger": "state", "entity_id": "binary_sensor.hall_motion", "to": "on"},
        _light("turn_on", "light.hall"),
    ),
    _automation(
        "hall_off",
        "Hall off",
        {"trigger": "state", "entity_id": "binary_sensor.hall_motion", "to": "off"},
        _light("turn_off", "light.hall"),
    ),
]


@pytest.fixture(autouse=True)
def pending(hass_storage: dict[str, Any], config_entry: MockConfigEntry) -> None:
    """A pending suggestion: Kitchen light on at 06:45 on workdays."""
    store_records(
        hass_storage,
        config_entry.entry_id,
        [record(PENDING_ID, kitchen_automation(PENDING_ID, "06:45:00", WORKDAYS))],
    )


@pytest.fixture
async def home_automations(hass: HomeAssistant, recorder_mock: Any) -> None:
    """The home's automations, set up once the recorder is (HA 2026 wants its listener first)."""
    assert await async_setup_component(hass, "automation", {"automation": HOME_AUTOMATIONS})
    await hass.async_block_till_done()


def _entry(entity_id: str, config_id: str, alias: str, service: str) -> dict[str, Any]:
    return {"entity_id": entity_id, "id": config_id, "alias": alias, "service": service}


EXPECTED = [
    {
        "kind": "contradiction",
        "target": "light.kitchen",
        "automations": [_entry("automation.kitchen_off", "kitchen_off", "Kitchen off", "light.turn_off")],
        "suggestion_id": PENDING_ID,
        "detail": {"trigger": "time", "times": ["06:50", "06:45"], "suggestion_service": "light.turn_on"},
    },
    {
        "kind": "contradiction",
        "target": "light.lounge",
        "automations": [
            _entry("automation.lounge_on", "lounge_on", "Lounge on", "light.turn_on"),
            _entry("automation.lounge_off", "lounge_off", "Lounge off", "light.turn_off"),
        ],
        "detail": {"trigger": "time", "times": ["22:30", "22:31"]},
    },
    {
        "kind": "duplicate",
        "target": "light.porch",
        "automations": [
            _entry("automation.porch_at_sunset", "porch_sunset", "Porch at sunset", "light.turn_on"),
            _entry("automation.porch_lights_on", "porch_dusk", "Porch lights on", "light.turn_on"),
        ],
        "detail": {"trigger": "sun", "event": "sunset", "offsets_min": [0, 5]},
    },
]


@pytest.mark.usefixtures("home_automations")
async def test_the_job_record_and_the_panel_list_show_the_insights(
    hass: HomeAssistant, load_int: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Duplicates and contradictions among the automations that are on, and with the pending suggestion."""
    job = (await async_run(hass))["job"]

    assert job["status"] == "no_data"  # no history: the insights need none
    assert job["insights"] == EXPECTED
    assert (job["insights_error"], job["automations_compared"], job["automations_disabled"]) == (None, 7, 1)
    # Read-only: every automation is as it was.
    assert hass.states.get("automation.old_porch").state == "off"
    assert hass.states.get("automation.lounge_off").state == "on"

    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": f"{DOMAIN}/suggestions"})
    response = await client.receive_json()
    assert response["success"], response
    assert response["result"]["last_job"]["insights"] == EXPECTED
    assert [r["id"] for r in response["result"]["pending"]] == [PENDING_ID]


@pytest.mark.usefixtures("home_automations")
async def test_turned_off_an_automation_leaves_its_insight(
    hass: HomeAssistant, load_int: MockConfigEntry
) -> None:
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "automation.lounge_off"}, blocking=True
    )

    job = (await async_run(hass))["job"]

    assert [i["target"] for i in job["insights"]] == ["light.kitchen", "light.porch"]
    assert (job["automations_compared"], job["automations_disabled"]) == (6, 2)


async def test_no_automations_no_insights(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    job = (await async_run(hass))["job"]

    assert (job["insights"], job["insights_error"], job["automations_compared"]) == ([], None, 0)


@pytest.mark.usefixtures("home_automations")
async def test_a_failing_insight_step_fails_no_job(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("unreadable automation")

    monkeypatch.setattr(job_phases, "find_automation_insights", broken)

    job = (await async_run(hass))["job"]

    assert (job["status"], job["error"]) == ("no_data", None)
    assert (job["insights"], job["insights_error"]) == ([], "unreadable automation")
    assert "Cannot compare the home's automations" in caplog.text

"""After accept, through a real job: an accepted automation the household undoes is a Repairs issue.

The simulated month is seeded into the real recorder; the kitchen routine is accepted; then
the days go by on a frozen clock: the automation's own time trigger fires (its action sets
the light under the automation's context, as a light integration does), and the household
switches the light off again two minutes later (or an hour later), under a context of its
own, as a wall switch leaves it. The next job reads all of it back from the recorder.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.ai_automation.const import DEFAULT_OPTIONS, DOMAIN
from simulator.household import Household

from .conftest import async_run
from .decisions_helpers import (
    WORKDAYS,
    async_accept,
    async_list,
    async_remove_automations,
    async_setup_automations,
    kitchen_automation,
    kitchen_morning,
    record,
    store_records,
    write_config,
)

KITCHEN = "light.kitchen"
DAYS = 5  # at least three working days: three firings to undo


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """The simulated month in the recorder: the kitchen routine is found and suggested."""
    return seeded_household


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Every suggestion: these tests follow the kitchen one."""
    return {**DEFAULT_OPTIONS, "max_suggestions": 50}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """configuration.yaml includes automations.yaml."""
    write_config(tmp_path, "automation: !include automations.yaml\n", "[]\n")
    return tmp_path


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Created automations go before hass stops."""
    yield
    await async_remove_automations(hass)


def lights_follow_their_services(hass: HomeAssistant) -> None:
    """light.turn_on/turn_off set the state under the caller's context, as a real light does."""

    async def switch(call: ServiceCall) -> None:
        state = "on" if call.service == "turn_on" else "off"
        for entity_id in call.data[ATTR_ENTITY_ID]:
            hass.states.async_set(entity_id, state, context=call.context)

    for service in ("turn_on", "turn_off"):
        hass.services.async_register("light", service, switch)


async def _accept_kitchen(hass: HomeAssistant, config_dir: Path) -> dict[str, Any]:
    await async_setup_automations(hass, config_dir)
    lights_follow_their_services(hass)
    kitchen = kitchen_morning((await async_run(hass))["suggestions"])
    assert kitchen is not None
    await async_accept(hass, kitchen["id"], enabled=True)
    return kitchen


async def _at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """The clock at ``when``: timers due fire, and what they started (a night's job) finishes."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _live(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    kitchen: dict[str, Any],
    off_after: timedelta,
    on_by_hand: time | None = None,
) -> int:
    """``DAYS`` days: each time the automation switches the light on, off by hand ``off_after``
    later (and on by hand at ``on_by_hand``). Returns how often it fired."""
    at = time.fromisoformat(kitchen["automation"]["triggers"][0]["at"])
    tz = dt_util.get_default_time_zone()
    fired = 0
    for _day in range(DAYS):
        day = dt_util.now().date() + timedelta(days=1)
        trigger = datetime.combine(day, at, tz)
        await _at(hass, freezer, trigger - timedelta(seconds=1))
        await _at(hass, freezer, trigger + timedelta(seconds=1))
        state = hass.states.get(KITCHEN)
        assert state is not None
        if state.state != "on":
            continue  # not one of its days
        fired += 1
        await _at(hass, freezer, trigger + off_after)
        hass.states.async_set(KITCHEN, "off", context=Context())  # the wall switch
        if on_by_hand is not None:
            await _at(hass, freezer, datetime.combine(day, on_by_hand, tz))
            hass.states.async_set(KITCHEN, "on", context=Context())
            await _at(hass, freezer, datetime.combine(day, on_by_hand, tz) + timedelta(hours=1))
            hass.states.async_set(KITCHEN, "off", context=Context())
    # The next morning: the job reads whole days, up to last night.
    await _at(hass, freezer, datetime.combine(dt_util.now().date() + timedelta(days=1), time(9, 0), tz))
    await async_wait_recording_done(hass)
    return fired


async def _done_first(hass: HomeAssistant, freezer: FrozenDateTimeFactory, kitchen: dict[str, Any]) -> int:
    """``DAYS`` days: on by hand 25 minutes before the automation is due, off an hour after it.

    Returns on how many of them it was due (its conditions then find the light on).
    """
    at = time.fromisoformat(kitchen["automation"]["triggers"][0]["at"])
    tz = dt_util.get_default_time_zone()
    weekdays = next(c["weekday"] for c in kitchen["automation"]["conditions"] if "weekday" in c)
    due = 0
    for _day in range(DAYS):
        trigger = datetime.combine(dt_util.now().date() + timedelta(days=1), at, tz)
        await _at(hass, freezer, trigger - timedelta(minutes=25))
        hass.states.async_set(KITCHEN, "on", context=Context())
        await _at(hass, freezer, trigger + timedelta(seconds=1))
        due += trigger.strftime("%a").lower() in weekdays
        await _at(hass, freezer, trigger + timedelta(hours=1))
        hass.states.async_set(KITCHEN, "off", context=Context())
    # The next morning before it is due (on a working day it would fire at 09:00).
    next_due = datetime.combine(dt_util.now().date() + timedelta(days=1), at, tz)
    await _at(hass, freezer, next_due - timedelta(hours=1))
    await async_wait_recording_done(hass)
    return due


def _issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith("after_accept_")
    }


async def test_undone_by_hand_and_done_later_is_a_repair_that_moves_it(
    hass: HomeAssistant, config_dir: Path, load_int: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Off two minutes after it fires, on by hand at 07:30: the repair moves it to 07:30."""
    kitchen = await _accept_kitchen(hass, config_dir)
    fired = await _live(hass, freezer, kitchen, timedelta(minutes=2), on_by_hand=time(7, 30))
    assert fired >= 3

    job = (await async_run(hass))["job"]

    [finding] = job["after_accept"]
    assert finding["suggestion_id"] == kitchen["id"]
    assert (finding["problem"], finding["proposal"], finding["new_time"]) == ("reverted", "move", "07:30")
    assert finding["fired"] == finding["undone"] == min(fired, 7)
    [issue] = _issues(hass).values()
    assert issue.translation_key == "after_accept_reverted_move"
    assert issue.is_fixable
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["undone"] == str(min(fired, 7))
    assert issue.translation_placeholders["usual_time"] == "07:30"

    # The fix: the automation rewritten at 07:30 in automations.yaml, reloaded, the issue gone.
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert flow["type"] == "form"
    result = await manager.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] == "create_entry"
    [written] = yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8"))
    assert written["id"] == kitchen["id"]
    assert written["triggers"] == [{"trigger": "time", "at": "07:30:00"}]
    [accepted] = (await async_list(hass))["accepted"]
    assert accepted["accepted_automation"]["triggers"] == written["triggers"]
    assert _issues(hass) == {}


async def test_done_by_hand_before_it_is_due_is_a_repair_that_moves_it_earlier(
    hass: HomeAssistant, config_dir: Path, load_int: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """On by hand 25 minutes early every day: it never fires (the light is on), the repair says so."""
    kitchen = await _accept_kitchen(hass, config_dir)
    due = await _done_first(hass, freezer, kitchen)
    assert due >= 3
    automation = hass.states.get(
        load_int.runtime_data.coordinator.decisions.accepted[0]["automation_entity_id"]
    )
    assert automation is not None
    assert automation.attributes["last_triggered"] is None  # its condition stopped it every time

    job = (await async_run(hass))["job"]

    [finding] = job["after_accept"]
    assert (finding["problem"], finding["proposal"]) == ("done_before", "move")
    assert finding["fired"] == finding["undone"] == min(due, 7)
    at = datetime.combine(
        datetime(2026, 1, 1), time.fromisoformat(kitchen["automation"]["triggers"][0]["at"])
    )
    assert finding["new_time"] == (at - timedelta(minutes=25)).strftime("%H:%M")
    [issue] = _issues(hass).values()
    assert issue.translation_key == "after_accept_done_before_move"


async def test_kept_on_is_no_repair(
    hass: HomeAssistant, config_dir: Path, load_int: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Off an hour after it fires: what the household wanted, nothing to repair."""
    kitchen = await _accept_kitchen(hass, config_dir)
    assert await _live(hass, freezer, kitchen, timedelta(hours=1)) >= 3

    job = (await async_run(hass))["job"]

    assert job["after_accept"] == []
    assert "after_accept_error" not in job
    assert _issues(hass) == {}


OURS = "ai_00000000000000aa"
# At 05:15: long before the household's own 06:45 (an automation at 06:45 would find the
# light on by hand on some mornings, a "done before" rather than an idle one).
OURS_ENTITY = "automation.turn_on_kitchen_light_at_05_15"
THEIRS = {
    **kitchen_automation("1700000000000", "06:45:00", WORKDAYS),
    "alias": "Our own kitchen light",
}


@pytest.fixture
def accepted_long_ago(hass_storage: dict[str, Any], config_entry: MockConfigEntry, config_dir: Path) -> str:
    """Ours, accepted 40 days ago and never fired, beside one the household wrote itself."""
    ours = kitchen_automation(OURS, "05:15:00", WORKDAYS)
    write_config(config_dir, "automation: !include automations.yaml\n", yaml.safe_dump([ours, THEIRS]))
    accepted_at = (dt_util.utcnow() - timedelta(days=40)).isoformat()
    stored = record(
        OURS,
        ours,
        status="accepted",
        accepted_at=accepted_at,
        automation_entity_id=OURS_ENTITY,
        enabled=True,
        pattern={"type": "time_of_day", "entity_id": KITCHEN, "to_state": "on"},
    )
    store_records(hass_storage, config_entry.entry_id, [stored])
    return OURS


async def test_ours_idle_for_thirty_days_is_a_repair_that_removes_it(
    hass: HomeAssistant, accepted_long_ago: str, config_dir: Path, load_int: MockConfigEntry
) -> None:
    """Never fired in 40 days: the repair removes it (and it is not suggested again); the
    household's own automation, as idle, is not ours to report."""
    await async_setup_automations(hass, config_dir)
    assert hass.states.get(OURS_ENTITY) is not None

    job = (await async_run(hass))["job"]

    [finding] = job["after_accept"]
    assert (finding["suggestion_id"], finding["automation_entity_id"]) == (OURS, OURS_ENTITY)
    assert (finding["problem"], finding["proposal"], finding["fired"]) == ("not_triggered", "remove", 0)
    [issue] = _issues(hass).values()
    assert issue.translation_key == "after_accept_not_triggered_remove"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"] == "Turn on Kitchen light at 05:15"

    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    result = await manager.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()

    assert result["type"] == "create_entry"
    written = yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8"))
    assert [a["id"] for a in written] == [THEIRS["id"]]
    assert hass.states.get(OURS_ENTITY) is None
    listed = await async_list(hass)
    assert [r["id"] for r in listed["dismissed"]] == [OURS]
    assert _issues(hass) == {}


async def test_the_issue_goes_once_it_is_undone(
    hass: HomeAssistant, accepted_long_ago: str, config_dir: Path, load_int: MockConfigEntry
) -> None:
    await async_setup_automations(hass, config_dir)
    await async_run(hass)
    assert list(_issues(hass)) == [f"after_accept_{OURS}"]

    await load_int.runtime_data.coordinator.decisions.async_undo(OURS, context=None)
    job = (await async_run(hass))["job"]

    assert job["after_accept"] == []
    assert _issues(hass) == {}


async def test_a_failed_check_is_recorded_and_the_job_goes_on(
    hass: HomeAssistant, accepted_long_ago: str, config_dir: Path, load_int: MockConfigEntry
) -> None:
    """The issue of the last good check stays: a failure says nothing about the automation."""
    await async_setup_automations(hass, config_dir)
    await async_run(hass)
    with patch(
        "custom_components.ai_automation.accepted_checks.check_all", side_effect=RuntimeError("broken check")
    ):
        response = await async_run(hass)

    job = response["job"]
    assert job["status"] == "success"
    assert job["after_accept"] == []
    assert job["after_accept_error"] == "broken check"
    assert response["suggestions"]
    assert list(_issues(hass)) == [f"after_accept_{OURS}"]

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
    async_accept,
    async_list,
    async_remove_automations,
    async_setup_automations,
    kitchen_morning,
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

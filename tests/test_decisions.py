"""Decisions on suggestions over runs: dedupe, dismiss (forever, for days, a shifted time), persistence."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation.const import CONF_MAX_SUGGESTIONS, DEFAULT_OPTIONS
from custom_components.ai_automation.notifications import notification_id
from custom_components.ai_automation.storage import JOBS_KEY, JOBS_VERSION
from simulator.household import Household

from .conftest import async_run
from .decisions_helpers import (
    WORKDAYS,
    async_accept,
    async_dismiss,
    async_list,
    async_remove_automations,
    async_setup_automations,
    has_notification,
    kitchen_automation,
    kitchen_morning,
    notification_ids,
    record,
    store_records,
    write_config,
)

PENDING = "sensor.ai_automation_pending_suggestions"
# A fixed Thursday noon (US/Pacific): the same seeded weeks, whatever day the tests run.
pytestmark = pytest.mark.freeze_time("2026-01-15 20:00:00+00:00")


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Automations set up here go before hass stops (their time triggers would linger)."""
    yield
    await async_remove_automations(hass)


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """Seed the recorder with the simulated household (kitchen light ~06:45 on weekdays)."""
    return seeded_household


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """No cap that could push the kitchen routine out of a run (these tests follow it)."""
    return {**DEFAULT_OPTIONS, CONF_MAX_SUGGESTIONS: 50}


def _pending_count(hass: HomeAssistant) -> int:
    state = hass.states.get(PENDING)
    assert state is not None
    return int(state.state)


def _kitchen_automation_config(at: str, **extra: Any) -> dict[str, Any]:
    """A hand-written automation in the older style (platform/service keys)."""
    return {
        "id": "by_hand",
        "alias": "Morning kitchen",
        "trigger": {"platform": "time", "at": at},
        "condition": [{"condition": "time", "weekday": WORKDAYS}],
        "action": {"service": "light.turn_on", "entity_id": "light.kitchen"},
        **extra,
    }


async def test_an_existing_automation_is_not_suggested_again(
    hass: HomeAssistant, load_int: MockConfigEntry
) -> None:
    """Found, then someone writes their own 06:30 automation: gone from pending, never suggested again."""
    first = await async_run(hass)
    kitchen = kitchen_morning(first["suggestions"])
    assert kitchen is not None
    assert first["job"]["deduplicated"] == 0
    assert first["job"]["new_suggestions"] == len(first["suggestions"])
    assert has_notification(hass, kitchen["id"])

    # Same trigger kind (time) and target, 15 minutes apart: the same thing.
    assert await async_setup_component(
        hass, "automation", {"automation": [_kitchen_automation_config("06:30")]}
    )
    await hass.async_block_till_done()
    second = await async_run(hass)

    assert kitchen_morning(second["suggestions"]) is None
    assert second["job"]["deduplicated"] == 1
    assert second["job"]["suggestions"] == len(second["suggestions"])
    listed = await async_list(hass)
    assert kitchen["id"] not in {r["id"] for r in listed["pending"]}
    assert not has_notification(hass, kitchen["id"])
    assert _pending_count(hass) == len(listed["pending"])


async def test_an_automation_at_another_time_is_another_thing(
    hass: HomeAssistant, load_int: MockConfigEntry
) -> None:
    """The kitchen light at 19:00 does not make the 06:45 routine a duplicate."""
    assert await async_setup_component(
        hass, "automation", {"automation": [_kitchen_automation_config("19:00")]}
    )
    await hass.async_block_till_done()
    response = await async_run(hass)
    assert kitchen_morning(response["suggestions"]) is not None
    assert response["job"]["deduplicated"] == 0


async def test_a_pending_suggestion_is_updated_not_duplicated(
    hass: HomeAssistant, load_int: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Two runs: the same ids, still pending, created once, refreshed, no second notification."""
    first = await async_run(hass)
    created = {r["id"]: r["created_at"] for r in (await async_list(hass))["pending"]}
    freezer.tick(timedelta(minutes=5))
    second = await async_run(hass)

    assert [s["id"] for s in second["suggestions"]] == [s["id"] for s in first["suggestions"]]
    assert second["job"]["new_suggestions"] == 0
    listed = await async_list(hass)
    assert {r["id"]: r["created_at"] for r in listed["pending"]} == created
    assert all(r["updated_at"] > r["created_at"] for r in listed["pending"])
    assert _pending_count(hass) == len(first["suggestions"])
    ours = {i for i in notification_ids(hass) if i.startswith(notification_id(""))}
    assert ours == {notification_id(s["id"]) for s in first["suggestions"]}


async def test_dismissed_forever_stays_dismissed(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Dismissed: its notification goes, and later runs leave it out."""
    kitchen = kitchen_morning((await async_run(hass))["suggestions"])
    assert kitchen is not None
    before = _pending_count(hass)

    await async_dismiss(hass, kitchen["id"])

    assert not has_notification(hass, kitchen["id"])
    assert _pending_count(hass) == before - 1
    [dismissed] = (await async_list(hass))["dismissed"]
    assert dismissed["id"] == kitchen["id"]
    assert dismissed["until"] is None
    assert dismissed["dismissed_at"] is not None
    again = await async_run(hass)
    assert kitchen_morning(again["suggestions"]) is None
    assert again["job"]["deduplicated"] == 1
    assert not has_notification(hass, kitchen["id"])


async def test_dismissed_for_days_comes_back_after_them(
    hass: HomeAssistant, load_int: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Dismissed for 2 days: left out the next day, back (same id, pending, notified) after them."""
    kitchen = kitchen_morning((await async_run(hass))["suggestions"])
    assert kitchen is not None
    await async_dismiss(hass, kitchen["id"], days=2)
    [dismissed] = (await async_list(hass))["dismissed"]
    until = dt_util.parse_datetime(dismissed["until"])
    assert until is not None
    assert until - dt_util.utcnow() == timedelta(days=2)

    # The seeded history ends today: every day moved forward is a day less of it.
    freezer.tick(timedelta(days=1))
    assert kitchen_morning((await async_run(hass))["suggestions"]) is None

    freezer.tick(timedelta(days=1, seconds=1))
    back = await async_run(hass)
    again = kitchen_morning(back["suggestions"])
    assert again is not None
    assert again["id"] == kitchen["id"]
    assert back["job"]["new_suggestions"] >= 1
    listed = await async_list(hass)
    assert kitchen["id"] in {r["id"] for r in listed["pending"]}
    assert listed["dismissed"] == []
    assert has_notification(hass, kitchen["id"])


@pytest.mark.parametrize(
    ("dismissed_at", "days", "suggested"),
    [
        ("06:05:00", WORKDAYS, False),  # 40 minutes earlier, another half hour: still the same routine
        ("07:30:00", None, False),  # every day includes the weekdays
        ("08:10:00", WORKDAYS, True),  # 80 minutes later: another routine
        ("06:45:00", ["sat", "sun"], True),  # the weekend is other days
    ],
)
async def test_a_dismissal_tolerates_a_shifted_time(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    recorder_mock: Any,
    dismissed_at: str,
    days: list[str] | None,
    suggested: bool,
) -> None:
    """Dismissed when the routine was found at another time (another id): matched by fingerprint."""
    old_id = "ai_dismissedearlier"
    store_records(
        hass_storage,
        config_entry.entry_id,
        [
            record(
                old_id,
                kitchen_automation(old_id, dismissed_at, days),
                "dismissed",
                dismissed_at="2026-01-01T12:00:00+00:00",
            )
        ],
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    response = await async_run(hass)

    kitchen = kitchen_morning(response["suggestions"])
    assert (kitchen is not None) is suggested
    assert response["job"]["deduplicated"] == (0 if suggested else 1)
    if kitchen is not None:
        assert kitchen["id"] != old_id


async def test_a_shifted_pending_suggestion_keeps_its_id(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry, recorder_mock: Any
) -> None:
    """Pending from a run that saw it at 06:20 (another id): the new run refreshes that record."""
    old_id = "ai_foundat0620"
    store_records(
        hass_storage,
        config_entry.entry_id,
        [record(old_id, kitchen_automation(old_id, "06:20:00", WORKDAYS))],
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    response = await async_run(hass)

    kitchen = kitchen_morning(response["suggestions"])
    assert kitchen is not None
    assert kitchen["id"] == kitchen["automation"]["id"] == old_id
    [stored] = [r for r in (await async_list(hass))["pending"] if r["id"] == old_id]
    assert stored["automation"]["triggers"][0]["at"] != "06:20:00"
    assert stored["created_at"] == "2026-01-01T12:00:00+00:00"
    assert stored["evidence"].startswith("On ")
    assert response["job"]["new_suggestions"] == len(response["suggestions"]) - 1


async def test_decisions_survive_a_restart(
    hass: HomeAssistant, load_int: MockConfigEntry, tmp_path: Path, hass_storage: dict[str, Any]
) -> None:
    """Pending, accepted and dismissed, with their timestamps, come back after a reload of the entry."""
    write_config(tmp_path, "automation: !include automations.yaml\n", "[]\n")
    await async_setup_automations(hass, tmp_path)
    response = await async_run(hass)
    first, second, *rest = response["suggestions"]
    await async_accept(hass, first["id"], enabled=False)
    await async_dismiss(hass, second["id"], days=30)
    before = await async_list(hass)
    persistent_notification.async_dismiss_all(hass)

    assert await hass.config_entries.async_reload(load_int.entry_id)
    await hass.async_block_till_done()

    after = await async_list(hass)
    assert after == before
    assert [r["id"] for r in after["accepted"]] == [first["id"]]
    assert [r["id"] for r in after["dismissed"]] == [second["id"]]
    assert {r["id"] for r in after["pending"]} == {s["id"] for s in rest}
    # Persistent notifications live in memory: the pending ones are shown again.
    assert all(has_notification(hass, s["id"]) for s in rest)
    assert not has_notification(hass, first["id"])
    assert not has_notification(hass, second["id"])
    assert _pending_count(hass) == len(rest)


async def test_suggestions_of_an_older_version_become_pending(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry, recorder_mock: Any
) -> None:
    """The job store used to hold the last run's suggestions: they are migrated as pending ones."""
    legacy = record("ai_legacy", kitchen_automation("ai_legacy", "06:45:00", WORKDAYS))
    suggestion = {
        k: legacy[k] for k in ("id", "pattern_ids", "title", "description", "automation", "backtest")
    }
    key = f"{JOBS_KEY}.{config_entry.entry_id}"
    hass_storage[key] = {
        "version": JOBS_VERSION,
        "minor_version": 1,
        "key": key,
        "data": {"jobs": [], "patterns": [], "suggestions": [suggestion], "last_slot": None},
    }
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    [pending] = (await async_list(hass))["pending"]
    assert pending["id"] == "ai_legacy"
    assert pending["automation"] == suggestion["automation"]
    assert pending["created_at"] is not None
    assert has_notification(hass, "ai_legacy")
    assert _pending_count(hass) == 1


async def test_deleting_the_entry_deletes_its_suggestions(
    hass: HomeAssistant, load_int: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Removing the integration takes its notifications and its stored suggestions and jobs away."""
    response = await async_run(hass)
    assert response["suggestions"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_remove(load_int.entry_id)
    await hass.async_block_till_done()
    assert not any(i.startswith(notification_id("")) for i in notification_ids(hass))
    assert not any(key.endswith(load_int.entry_id) for key in hass_storage)

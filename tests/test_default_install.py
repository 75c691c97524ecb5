"""A default install: the recorder keeps 10 days, the lookback is 30.

Through the real recorder and the real job: the days with history are the days counted,
the job says how many it analysed, and a recorder purge leaves the routines findable.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_purge_done

from custom_components.ai_automation.const import EVENT_ANALYSIS_COMPLETE
from simulator.household import Household, simulate

from .conftest import TEST_LATITUDE, TEST_LONGITUDE, TEST_TIME_ZONE, async_run

# Thursday noon, US/Pacific: the same simulated days whatever day the suite runs.
FROZEN_NOW = "2026-01-15 20:00:00+00:00"


def _household(days_before_today: int) -> Household:
    """``days_before_today`` complete days of household, and this morning's."""
    return simulate(
        seed=7,
        days=days_before_today + 1,
        end=dt_util.now(dt_util.get_time_zone(TEST_TIME_ZONE)),
        time_zone=TEST_TIME_ZONE,
        latitude=TEST_LATITUDE,
        longitude=TEST_LONGITUDE,
    )


def _kitchen_on(response: dict[str, Any]) -> dict[str, Any]:
    (kitchen,) = [
        p
        for p in response["patterns"]
        if p["type"] == "time_of_day"
        and (p["entity_id"], p["to_state"]) == ("light.kitchen", "on")
        and p["time"].startswith("06:")
    ]
    return kitchen


class TestTenDaysOfHistory:
    """What a default recorder holds when the default 30-day lookback reads it."""

    @pytest.fixture
    def household(self) -> Household:
        return _household(10)

    @pytest.mark.recorder_db
    @pytest.mark.freeze_time(FROZEN_NOW)
    async def test_the_routines_are_found_over_the_days_with_history(
        self, hass: HomeAssistant, load_int: MockConfigEntry, household: Household
    ) -> None:
        events = async_capture_events(hass, EVENT_ANALYSIS_COMPLETE)
        response = await async_run(hass)
        job = response["job"]
        assert (job["status"], job["lookback_days"], job["days_analysed"]) == ("success", 30, 10)
        kitchen = _kitchen_on(response)
        assert kitchen["days"] == ["mon", "tue", "wed", "thu", "fri"]
        # 5 to 15 January: Monday to Friday twice.
        assert kitchen["eligible_days"] == 8
        assert kitchen["occurrences"] / kitchen["eligible_days"] >= 0.75
        suggestion = next(s for s in response["suggestions"] if kitchen["id"] in s["pattern_ids"])
        assert suggestion["backtest"]["would_have_fired"] == 8
        daily = [
            p
            for p in response["patterns"]
            if p["type"] == "time_of_day" and p["day_set"] == "daily" and not p["automated"]
        ]
        assert {p["entity_id"] for p in daily} >= {"cover.living_room_blinds", "light.living_room"}
        assert all(p["eligible_days"] <= 10 for p in daily)
        await hass.async_block_till_done()
        assert events[0].data["days_analysed"] == 10


class TestAPurgedHistory:
    """45 days recorded, purged to 10, read with a 45-day lookback."""

    @pytest.fixture
    def household(self) -> Household:
        return _household(45)

    @pytest.mark.recorder_db
    @pytest.mark.freeze_time(FROZEN_NOW)
    async def test_the_routines_survive_the_purge(
        self, hass: HomeAssistant, load_int: MockConfigEntry, household: Household
    ) -> None:
        before = await async_run(hass, lookback_days=45)
        assert before["job"]["days_analysed"] == 45
        assert _kitchen_on(before)["eligible_days"] > 25

        await hass.services.async_call("recorder", "purge", {"keep_days": 10}, blocking=True)
        await async_wait_purge_done(hass)

        after = await async_run(hass, lookback_days=45)
        job = after["job"]
        # The purge keeps 10 x 24 hours before now (noon): half of the first day, then 9.
        assert (job["status"], job["days_analysed"]) == ("success", 10)
        assert job["events"] < before["job"]["events"] / 3
        kitchen = _kitchen_on(after)
        assert kitchen["days"] == ["mon", "tue", "wed", "thu", "fri"]
        # Monday 5 January is kept from noon on: the kitchen light's first row left is on
        # Tuesday, so its weekdays are 7 (that morning could not be seen anyway).
        assert kitchen["eligible_days"] == 7
        found = {(p["entity_id"], p["to_state"]) for p in after["patterns"] if p["type"] == "time_of_day"}
        assert {
            ("light.kitchen", "off"),
            ("cover.living_room_blinds", "open"),
            ("cover.living_room_blinds", "closed"),
        } <= found

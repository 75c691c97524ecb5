"""A default install: the recorder keeps 10 days, the lookback is 30.

Through the real recorder and the real job: the days with history are the days counted,
the job and a Repairs issue say how many there are and when the lookback is reached, and
a recorder purge loses nothing the compact history already has.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_purge_done

from custom_components.ai_automation.const import DOMAIN, EVENT_ANALYSIS_COMPLETE
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
        # Filling: 10 of 30 days; from 5 January on, the window's 30 days end on 3 February.
        assert job["history"]["filling"] is True
        assert (job["history"]["days_available"], job["history"]["first_day"]) == (10, "2026-01-05")
        assert job["history"]["complete_on"] == "2026-02-04"
        issue = ir.async_get(hass).async_get_issue(DOMAIN, "history_filling")
        assert issue is not None
        assert issue.translation_placeholders == {"days": "10", "lookback": "30", "date": "2026-02-04"}

    @pytest.mark.recorder_db
    @pytest.mark.freeze_time(FROZEN_NOW)
    async def test_a_lookback_the_history_has_clears_the_issue(
        self, hass: HomeAssistant, load_int: MockConfigEntry, household: Household
    ) -> None:
        await async_run(hass)
        assert ir.async_get(hass).async_get_issue(DOMAIN, "history_filling") is not None
        job = (await async_run(hass, lookback_days=7))["job"]
        assert (job["history"]["filling"], job["history"]["complete_on"]) == (False, None)
        assert ir.async_get(hass).async_get_issue(DOMAIN, "history_filling") is None
        assert date.fromisoformat(job["history"]["first_day"]) < date(2026, 1, 8)


class TestAPurgedHistory:
    """45 days recorded, purged to 10, read with a 45-day lookback."""

    @pytest.fixture
    def household(self) -> Household:
        return _household(45)

    @pytest.mark.recorder_db
    @pytest.mark.freeze_time(FROZEN_NOW)
    async def test_the_compact_history_keeps_what_the_purge_removes(
        self, hass: HomeAssistant, load_int: MockConfigEntry, household: Household
    ) -> None:
        """After the purge the recorder has 10 days; the job still reads 45, the same patterns."""
        before = await async_run(hass, lookback_days=45)
        assert before["job"]["days_analysed"] == 45
        assert _kitchen_on(before)["eligible_days"] > 25

        await hass.services.async_call("recorder", "purge", {"keep_days": 10}, blocking=True)
        await async_wait_purge_done(hass)

        after = await async_run(hass, lookback_days=45)
        job = after["job"]
        assert (job["status"], job["days_analysed"], job["events"]) == (
            "success",
            45,
            before["job"]["events"],
        )
        assert job["history"]["days_read"] == 0
        assert [p["id"] for p in after["patterns"]] == [p["id"] for p in before["patterns"]]
        assert _kitchen_on(after) == _kitchen_on(before)
        assert [s["id"] for s in after["suggestions"]] == [s["id"] for s in before["suggestions"]]

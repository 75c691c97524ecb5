"""The daily schedule: local time, DST days, run days and option changes.

No household is seeded: every job ends as 'no_data', which still leaves a job record
(all these tests look at is when and how often a job starts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ai_automation.const import (
    CONF_ANALYSIS_DAYS,
    CONF_ANALYSIS_TIME,
    STATUS_NO_DATA,
    TRIGGER_SCHEDULE,
)
from custom_components.ai_automation.coordinator import AnalysisCoordinator
from tests.conftest import setup_entry

TIME_ZONE = "America/New_York"
NEXT_RUN_SENSOR = "sensor.ai_automation_next_run"


def utc(*args: int) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=UTC)


async def setup_at(
    hass: HomeAssistant, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory, now: datetime
) -> AnalysisCoordinator:
    """Set up the entry at ``now`` in New York (the zone is set before the entry loads)."""
    await hass.config.async_set_time_zone(TIME_ZONE)
    freezer.move_to(now)
    coordinator = await setup_entry(hass, config_entry, wait_background_tasks=True)
    # A first start: nothing was missed, so nothing ran.
    assert coordinator.jobs == []
    return coordinator


async def move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """Move the clock, fire the due timers and let every job finish."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def walk(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinator: AnalysisCoordinator,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=15),
) -> list[datetime]:
    """Step the clock from ``start`` to ``end``; return the UTC times at which jobs appeared."""
    started: list[datetime] = []
    when = start
    while when <= end:
        before = len(coordinator.jobs)
        await move_to(hass, freezer, when)
        started.extend([when] * (len(coordinator.jobs) - before))
        when += step
    return started


def next_run(coordinator: AnalysisCoordinator) -> datetime:
    """The coordinator's next run in UTC.

    In UTC because an aware datetime in the repeated hour of a DST end never compares
    equal to one in another zone (PEP 495), even at the same instant.
    """
    assert coordinator.next_run is not None
    return dt_util.as_utc(coordinator.next_run)


def next_run_state(hass: HomeAssistant) -> datetime:
    """The next-run sensor's state as a datetime."""
    state = hass.states.get(NEXT_RUN_SENSOR)
    assert state is not None
    value = dt_util.parse_datetime(state.state)
    assert value is not None
    return value


@pytest.fixture
def entry_options(entry_options: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """Default options, with whatever a test parametrizes as ``options`` on top."""
    return {**entry_options, **getattr(request, "param", {})}


@pytest.mark.parametrize("entry_options", [{CONF_ANALYSIS_TIME: "22:15:00"}], indirect=True)
async def test_fires_at_configured_local_time(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """22:15 New York time (EDT, UTC-4) is 02:15 UTC the next day; the record says 'schedule'."""
    coordinator = await setup_at(hass, config_entry, freezer, utc(2026, 6, 10, 16))  # 12:00 EDT

    assert next_run(coordinator) == utc(2026, 6, 11, 2, 15)
    assert next_run_state(hass) == utc(2026, 6, 11, 2, 15)

    # 22:15 UTC would be the time if the zone were ignored: nothing happens then.
    await move_to(hass, freezer, utc(2026, 6, 10, 22, 15))
    await move_to(hass, freezer, utc(2026, 6, 11, 2, 14, 59))
    assert coordinator.jobs == []

    await move_to(hass, freezer, utc(2026, 6, 11, 2, 15))
    assert len(coordinator.jobs) == 1
    job = coordinator.jobs[0]
    assert job["trigger"] == TRIGGER_SCHEDULE
    assert job["status"] == STATUS_NO_DATA
    assert dt_util.parse_datetime(job["started_at"]) == utc(2026, 6, 11, 2, 15)
    assert coordinator.last_slot == datetime(2026, 6, 10, 22, 15, tzinfo=dt_util.get_default_time_zone())
    assert next_run(coordinator) == utc(2026, 6, 12, 2, 15)
    assert next_run_state(hass) == utc(2026, 6, 12, 2, 15)


async def test_spring_forward_runs_once_at_03_edt(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """2026-03-08 02:00 EST jumps to 03:00 EDT: the 03:00 run happens once, at 07:00 UTC."""
    coordinator = await setup_at(hass, config_entry, freezer, utc(2026, 3, 7, 17))  # 12:00 EST
    assert next_run(coordinator) == utc(2026, 3, 8, 7)
    assert next_run_state(hass) == utc(2026, 3, 8, 7)

    # The whole local day of 2026-03-08 (23 hours), from 00:00 EST to 00:00 EDT.
    started = await walk(hass, freezer, coordinator, utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    assert started == [utc(2026, 3, 8, 7)]
    assert coordinator.jobs[0]["trigger"] == TRIGGER_SCHEDULE
    assert dt_util.parse_datetime(coordinator.jobs[0]["started_at"]) == utc(2026, 3, 8, 7)
    assert coordinator.last_slot is not None
    assert coordinator.last_slot.isoformat() == "2026-03-08T03:00:00-04:00"
    # The next day is a whole EDT day: 03:00 EDT is 07:00 UTC again.
    assert next_run(coordinator) == utc(2026, 3, 9, 7)
    assert next_run_state(hass) == utc(2026, 3, 9, 7)


async def test_fall_back_runs_once_at_03_est(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """2026-11-01 repeats 01:00-02:00; 03:00 comes once, in EST, at 08:00 UTC."""
    coordinator = await setup_at(hass, config_entry, freezer, utc(2026, 10, 31, 16))  # 12:00 EDT
    assert next_run(coordinator) == utc(2026, 11, 1, 8)
    assert next_run_state(hass) == utc(2026, 11, 1, 8)

    # The whole local day of 2026-11-01 (25 hours), from 00:00 EDT to 00:00 EST.
    started = await walk(hass, freezer, coordinator, utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))
    assert started == [utc(2026, 11, 1, 8)]
    assert coordinator.last_slot is not None
    assert coordinator.last_slot.isoformat() == "2026-11-01T03:00:00-05:00"
    assert next_run(coordinator) == utc(2026, 11, 2, 8)
    assert next_run_state(hass) == utc(2026, 11, 2, 8)


@pytest.mark.parametrize("entry_options", [{CONF_ANALYSIS_TIME: "01:30:00"}], indirect=True)
async def test_fall_back_repeated_hour_runs_once(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """01:30 happens twice on 2026-11-01 (05:30 and 06:30 UTC): the job runs at the first only.

    Home Assistant's time tracker fires in both folds of the repeated hour, so the
    coordinator has to skip the second one; next_run must not point at it either.
    """
    coordinator = await setup_at(hass, config_entry, freezer, utc(2026, 10, 31, 16))  # 12:00 EDT
    assert next_run(coordinator) == utc(2026, 11, 1, 5, 30)

    # Up to the end of the first 01:30 (EDT).
    started = await walk(hass, freezer, coordinator, utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30))
    assert started == [utc(2026, 11, 1, 5, 30)]
    assert coordinator.last_slot is not None
    assert coordinator.last_slot.isoformat() == "2026-11-01T01:30:00-04:00"
    # Not the repeated 01:30 EST an hour later: the next local day's 01:30 (EST).
    assert next_run(coordinator) == utc(2026, 11, 2, 6, 30)
    assert next_run_state(hass) == utc(2026, 11, 2, 6, 30)

    # Through the repeated hour and the rest of the day: no second run.
    started = await walk(hass, freezer, coordinator, utc(2026, 11, 1, 5, 45), utc(2026, 11, 2, 5))
    assert started == []
    assert len(coordinator.jobs) == 1
    assert next_run(coordinator) == utc(2026, 11, 2, 6, 30)

    # The next day runs normally, once.
    started = await walk(hass, freezer, coordinator, utc(2026, 11, 2, 6), utc(2026, 11, 2, 7, 30))
    assert started == [utc(2026, 11, 2, 6, 30)]
    assert next_run(coordinator) == utc(2026, 11, 3, 6, 30)


@pytest.mark.parametrize("entry_options", [{CONF_ANALYSIS_DAYS: ["sun"]}], indirect=True)
async def test_runs_only_on_the_configured_days(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With only Sunday, the 03:00 tracker fires every day but the job runs on Sunday only."""
    coordinator = await setup_at(hass, config_entry, freezer, utc(2026, 6, 10, 16))  # Wed 12:00 EDT
    assert next_run(coordinator) == utc(2026, 6, 14, 7)  # Sun 03:00 EDT
    assert next_run_state(hass) == utc(2026, 6, 14, 7)

    # 03:00 EDT (07:00 UTC) of Thursday 2026-06-11 through Wednesday 2026-06-17.
    started = await walk(
        hass, freezer, coordinator, utc(2026, 6, 11, 7), utc(2026, 6, 17, 7), step=timedelta(days=1)
    )
    assert started == [utc(2026, 6, 14, 7)]
    started_at = dt_util.parse_datetime(coordinator.jobs[0]["started_at"])
    assert started_at is not None
    assert dt_util.as_local(started_at).weekday() == 6  # Sunday
    assert coordinator.last_slot is not None
    assert coordinator.last_slot.isoformat() == "2026-06-14T03:00:00-04:00"
    # The days in between moved next_run on to the next Sunday and kept it there.
    assert next_run(coordinator) == utc(2026, 6, 21, 7)
    assert next_run_state(hass) == utc(2026, 6, 21, 7)


async def test_options_change_reschedules_without_reload(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A new analysis time takes effect at once; the entry is not reloaded; the old time is dropped."""
    coordinator = await setup_at(hass, config_entry, freezer, utc(2026, 6, 10, 16))  # 12:00 EDT
    assert next_run(coordinator) == utc(2026, 6, 11, 7)  # 03:00 EDT tomorrow

    with patch.object(hass.config_entries, "async_reload") as reload:
        hass.config_entries.async_update_entry(
            config_entry, options={**config_entry.options, CONF_ANALYSIS_TIME: "14:00:00"}
        )
        await hass.async_block_till_done()
    reload.assert_not_called()
    assert config_entry.runtime_data.coordinator is coordinator
    assert next_run(coordinator) == utc(2026, 6, 10, 18)  # 14:00 EDT today
    assert next_run_state(hass) == utc(2026, 6, 10, 18)

    started = await walk(
        hass, freezer, coordinator, utc(2026, 6, 10, 17), utc(2026, 6, 11, 17), step=timedelta(minutes=30)
    )
    # 14:00 EDT today ran; 03:00 EDT tomorrow (the old time) did not.
    assert started == [utc(2026, 6, 10, 18)]
    assert coordinator.jobs[0]["trigger"] == TRIGGER_SCHEDULE
    assert next_run(coordinator) == utc(2026, 6, 11, 18)

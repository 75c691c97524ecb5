"""The schedule's arithmetic (schedule.py), without a ``hass``: next run, DST, run days, catch-up.

Europe/Berlin: in 2026 its clocks go 02:00 -> 03:00 on Sunday 29 March and 03:00 -> 02:00
on Sunday 25 October, so 02:30 does not exist on the one night and happens twice on the other.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from homeassistant.util import dt as dt_util

from custom_components.ai_automation.const import DEFAULT_OPTIONS
from custom_components.ai_automation.schedule import CatchUp, Schedule, parse_time, same_slot

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def berlin() -> Generator[None]:
    """Home Assistant's zone is Berlin for the test, and what it was afterwards."""
    before = dt_util.get_default_time_zone()
    dt_util.set_default_time_zone(BERLIN)
    yield
    dt_util.set_default_time_zone(before)


def _schedule(at: str = "03:00", days: tuple[str, ...] | None = None, grace: int = 60) -> Schedule:
    options: dict[str, Any] = {**DEFAULT_OPTIONS, "analysis_time": at, "catch_up_grace_minutes": grace}
    if days is not None:
        options["analysis_days"] = list(days)
    return Schedule.from_options(options)


def _local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


def test_parse_time() -> None:
    """Seconds are optional."""
    assert parse_time("03:15") == (3, 15, 0)
    assert parse_time("23:59:30") == (23, 59, 30)


def test_next_slot_is_the_next_wall_clock_time() -> None:
    """Before the time: today; at or after it: tomorrow."""
    schedule = _schedule("03:00")
    assert schedule.next_slot(_local(2026, 6, 10, 1, 0), None) == _local(2026, 6, 10, 3, 0)
    assert schedule.next_slot(_local(2026, 6, 10, 3, 0), None) == _local(2026, 6, 11, 3, 0)


def test_run_days_skip_the_days_off() -> None:
    """Mondays only: from a Tuesday the next run is the coming Monday; no day at all: never."""
    monday = _schedule("03:00", ("mon",))
    tuesday = _local(2026, 6, 9, 12, 0)
    assert tuesday.weekday() == 1
    assert monday.next_slot(tuesday, None) == _local(2026, 6, 15, 3, 0)
    assert not monday.runs_at(tuesday.replace(hour=3), None)
    assert _schedule("03:00", ()).next_slot(tuesday, None) is None


def test_spring_forward_a_missing_slot_is_the_next_day_as_for_the_tracker() -> None:
    """02:30 does not exist on 29 March: Home Assistant's time tracker skips that night.

    ``find_next_time_expression_time`` (what ``async_track_time_change`` fires by) moves a
    time in the gap to the next day, on purpose; the next run shown says the same.
    """
    schedule = _schedule("02:30")
    slot = schedule.next_slot(_local(2026, 3, 28, 12, 0), None)
    assert slot == _local(2026, 3, 30, 2, 30)
    # 03:00 exists that night (the clocks jump from 02:00 to it).
    assert _schedule("03:00").next_slot(_local(2026, 3, 28, 12, 0), None) == _local(2026, 3, 29, 3, 0)


def test_fall_back_a_repeated_slot_runs_once() -> None:
    """02:30 happens twice on 25 October: once handled, the next run is the 26th."""
    schedule = _schedule("02:30")
    first = schedule.next_slot(_local(2026, 10, 24, 12, 0), None)
    assert first == _local(2026, 10, 25, 2, 30)
    assert dt_util.as_utc(first) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first pass (CEST)
    second_pass = _local(2026, 10, 25, 2, 30, fold=1)
    assert same_slot(first, second_pass)
    assert not schedule.runs_at(second_pass, first)
    assert schedule.next_slot(second_pass, first) == _local(2026, 10, 26, 2, 30)


def test_previous_slot_across_days_off() -> None:
    """The latest scheduled time at or before now, on a run day."""
    schedule = _schedule("03:00", ("mon", "thu"))
    saturday = _local(2026, 6, 13, 10, 0)
    assert schedule.previous_slot(saturday) == _local(2026, 6, 11, 3, 0)  # Thursday
    assert schedule.previous_slot(_local(2026, 6, 11, 3, 0)) == _local(2026, 6, 11, 3, 0)
    assert _schedule("03:00", ()).previous_slot(saturday) is None


def test_catch_up() -> None:
    """First start remembers; a slot missed by less than the grace runs; more waits."""
    schedule = _schedule("03:00", grace=60)
    slot = _local(2026, 6, 10, 3, 0)
    assert schedule.catch_up(slot + timedelta(minutes=30), None) == (CatchUp.FIRST_START, slot)
    before = slot - timedelta(days=1)
    assert schedule.catch_up(slot + timedelta(minutes=30), before) == (CatchUp.RUN, slot)
    assert schedule.catch_up(slot + timedelta(minutes=60), before) == (CatchUp.RUN, slot)
    assert schedule.catch_up(slot + timedelta(minutes=61), before) == (CatchUp.TOO_LATE, slot)
    assert schedule.catch_up(slot + timedelta(minutes=30), slot) == (CatchUp.NOTHING, slot)
    assert _schedule("03:00", ()).catch_up(slot, before) == (CatchUp.NOTHING, None)


def test_catch_up_grace_is_measured_in_real_time_over_dst() -> None:
    """Down at 01:30 before the spring jump, up at 03:10: 40 real minutes, inside a 45-minute grace."""
    schedule = _schedule("01:30", grace=45)
    slot = _local(2026, 3, 29, 1, 30)
    up = _local(2026, 3, 29, 3, 10)
    assert schedule.catch_up(up, slot - timedelta(days=1)) == (CatchUp.RUN, slot)

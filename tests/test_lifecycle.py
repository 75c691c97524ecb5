"""The job's life around Home Assistant's: catch-up at start, one job at a time, stop, failure, history."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ai_automation import job_phases, recorder_reader
from custom_components.ai_automation.const import (
    CONF_CATCH_UP_GRACE,
    DOMAIN,
    JOB_HISTORY_SIZE,
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_NO_DATA,
    STATUS_NO_PATTERNS,
    STATUS_SKIPPED_BUSY,
    STATUS_SUCCESS,
    TRIGGER_CATCH_UP,
    TRIGGER_MANUAL,
    TRIGGER_SCHEDULE,
)
from custom_components.ai_automation.coordinator import (
    ERROR_NEVER_FINISHED,
    ERROR_STOPPED,
    AnalysisCoordinator,
)
from tests.conftest import FetchSpy, LogRecords, setup_entry

BUTTON = "button.ai_automation_run_analysis"
RUNNING_SENSOR = "binary_sensor.ai_automation_analysis_running"
STATUS_SENSOR = "sensor.ai_automation_last_run_status"
# The conftest's zone (US/Pacific): in January 03:00 PST is 11:00 UTC.
TODAY_SLOT = datetime(2026, 1, 15, 11, tzinfo=UTC)
YESTERDAY_SLOT = "2026-01-14T03:00:00-08:00"


def storage_key(entry: MockConfigEntry) -> str:
    """The entry's storage key."""
    return f"{DOMAIN}.{entry.entry_id}"


def stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """What the entry's store holds now."""
    data: dict[str, Any] = hass_storage[storage_key(entry)]["data"]
    return data


def seed_store(hass_storage: dict[str, Any], entry: MockConfigEntry, **data: Any) -> None:
    """What a previous run of Home Assistant left in the entry's store."""
    hass_storage[storage_key(entry)] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key(entry),
        "data": {"jobs": [], "patterns": [], "suggestions": [], "last_slot": None, **data},
    }


def old_job(number: int) -> dict[str, Any]:
    """A finished job record of an earlier run."""
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=number)
    return {
        "id": f"old-{number:02d}",
        "status": STATUS_NO_DATA,
        "trigger": TRIGGER_SCHEDULE,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(seconds=1)).isoformat(),
        "duration_s": 1.0,
        "phases": {"fetch_s": 0.5, "detect_s": 0.5, "suggest_s": 0.0, "llm_s": 0.0, "publish_s": 0.0},
        "lookback_days": 30,
        "events": 0,
        "entities": 0,
        "patterns": 0,
        "suggestions": 0,
        "invalid_suggestions": 0,
        "llm_tokens": 0,
        "llm_cost_usd": 0.0,
        "source": "recorder",
        "error": None,
    }


async def start_hass(hass: HomeAssistant) -> None:
    """Finish a start that began with ``CoreState.starting``."""
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done(wait_background_tasks=True)


async def spin_until(condition: Callable[[], bool], iterations: int = 200) -> None:
    """Let the loop run until ``condition`` holds (no clock involved)."""
    for _ in range(iterations):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def press_button(hass: HomeAssistant) -> Any:
    """The button press as a service call coroutine."""
    return hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)


def run_service(hass: HomeAssistant) -> Any:
    """The run_analysis service without a response, as a coroutine."""
    return hass.services.async_call(DOMAIN, "run_analysis", {}, blocking=True)


# --- catch-up at start --------------------------------------------------------------


async def test_catch_up_within_grace(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Down at 03:00, back at 03:30 (grace 60 min): one catch-up job once HA has started."""
    seed_store(hass_storage, config_entry, last_slot=YESTERDAY_SLOT)
    freezer.move_to(TODAY_SLOT + timedelta(minutes=30))
    hass.set_state(CoreState.starting)
    coordinator = await setup_entry(hass, config_entry)
    assert coordinator.jobs == []  # not before Home Assistant has started

    await start_hass(hass)
    assert len(coordinator.jobs) == 1
    job = coordinator.jobs[0]
    assert job["trigger"] == TRIGGER_CATCH_UP
    assert job["status"] == STATUS_NO_DATA
    assert coordinator.last_slot == TODAY_SLOT
    assert dt_util.parse_datetime(stored(hass_storage, config_entry)["last_slot"]) == TODAY_SLOT
    assert stored(hass_storage, config_entry)["jobs"][0]["id"] == job["id"]

    # Nothing more that day; the next run is tomorrow's slot.
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(coordinator.jobs) == 1
    assert coordinator.next_run == TODAY_SLOT + timedelta(days=1)


async def test_catch_up_when_already_running(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry set up while HA is already running (e.g. a reload) checks for a missed slot at once."""
    seed_store(hass_storage, config_entry, last_slot=YESTERDAY_SLOT)
    freezer.move_to(TODAY_SLOT + timedelta(minutes=59))
    coordinator = await setup_entry(hass, config_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [j["trigger"] for j in coordinator.jobs] == [TRIGGER_CATCH_UP]


@pytest.mark.parametrize("entry_options", [{CONF_CATCH_UP_GRACE: 60}], indirect=True)
async def test_no_catch_up_past_grace(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    logs: LogRecords,
) -> None:
    """Back two hours after the slot with a 60 min grace: no job, a log line, slot marked handled."""
    seed_store(hass_storage, config_entry, last_slot=YESTERDAY_SLOT)
    freezer.move_to(TODAY_SLOT + timedelta(hours=2))
    hass.set_state(CoreState.starting)
    coordinator = await setup_entry(hass, config_entry)
    await start_hass(hass)

    assert coordinator.jobs == []
    messages = logs.at(logging.INFO)
    assert any("past the catch-up grace" in m for m in messages), messages
    # The missed slot counts as handled: a restart later that day does not catch it up.
    assert dt_util.parse_datetime(stored(hass_storage, config_entry)["last_slot"]) == TODAY_SLOT


async def test_first_start_does_not_run(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """No stored last slot (first start): nothing was missed, nothing runs; the slot is stored."""
    freezer.move_to(TODAY_SLOT + timedelta(minutes=10))
    hass.set_state(CoreState.starting)
    coordinator = await setup_entry(hass, config_entry)
    await start_hass(hass)

    assert coordinator.jobs == []
    assert dt_util.parse_datetime(stored(hass_storage, config_entry)["last_slot"]) == TODAY_SLOT
    assert stored(hass_storage, config_entry)["jobs"] == []


# --- one job at a time --------------------------------------------------------------


async def test_triggers_while_running_are_refused(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    held_fetch: FetchSpy,
) -> None:
    """While a job runs, the schedule, the service and the button all start in one iteration.

    The scheduled one leaves a 'skipped_busy' record; the two manual ones are refused
    with the translated 'already_running' error; only the first job ever runs.
    """
    freezer.move_to(TODAY_SLOT + timedelta(hours=6))
    coordinator = await setup_entry(hass, config_entry)
    await run_service(hass)
    await held_fetch.entered.wait()
    assert coordinator.running
    assert coordinator.current_job is not None
    running_id = coordinator.current_job["id"]

    # Same loop iteration: no await between these three.
    freezer.move_to(TODAY_SLOT + timedelta(days=1))  # tomorrow's 03:00 slot
    service = hass.async_create_task(run_service(hass))
    button = hass.async_create_task(press_button(hass))
    async_fire_time_changed(hass)  # the scheduled callback
    results = await asyncio.gather(service, button, return_exceptions=True)

    for result in results:
        # A refusal, not a fault: HA logs no traceback for a ServiceValidationError.
        assert isinstance(result, ServiceValidationError), result
        assert result.translation_domain == DOMAIN
        assert result.translation_key == "already_running"
    await spin_until(lambda: len(coordinator.jobs) == 1)
    skipped = coordinator.jobs[0]
    assert skipped["status"] == STATUS_SKIPPED_BUSY
    assert skipped["trigger"] == TRIGGER_SCHEDULE
    assert coordinator.running

    held_fetch.release.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert held_fetch.calls == 1
    ran = [j for j in coordinator.jobs if j["status"] != STATUS_SKIPPED_BUSY]
    assert [(j["id"], j["trigger"], j["status"]) for j in ran] == [
        (running_id, TRIGGER_MANUAL, STATUS_NO_DATA)
    ]
    assert coordinator.last_job is not None
    assert coordinator.last_job["id"] == running_id


@pytest.mark.parametrize("first", ["schedule", "service", "button"])
async def test_simultaneous_triggers_start_one_job(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    held_fetch: FetchSpy,
    first: str,
) -> None:
    """Idle, then the schedule, the service and the button in one iteration: exactly one job runs.

    Whichever reaches the coordinator first runs; a losing scheduled trigger is recorded
    as 'skipped_busy', a losing manual one is refused with 'already_running'.
    """
    freezer.move_to(TODAY_SLOT + timedelta(hours=6))
    coordinator = await setup_entry(hass, config_entry)

    # Same loop iteration: no await between these three.
    freezer.move_to(TODAY_SLOT + timedelta(days=1))
    manual: dict[str, asyncio.Task[Any]] = {}
    for trigger in [first, *(t for t in ("schedule", "service", "button") if t != first)]:
        if trigger == "schedule":
            async_fire_time_changed(hass)
        elif trigger == "service":
            manual[trigger] = hass.async_create_task(run_service(hass))
        else:
            manual[trigger] = hass.async_create_task(press_button(hass))
    results = dict(zip(manual, await asyncio.gather(*manual.values(), return_exceptions=True), strict=True))

    held_fetch.release.set()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert held_fetch.calls == 1
    ran = [j for j in coordinator.jobs if j["status"] != STATUS_SKIPPED_BUSY]
    skipped = [j for j in coordinator.jobs if j["status"] == STATUS_SKIPPED_BUSY]
    assert len(ran) == 1
    # The window (yesterday) holds only this integration's own entity states.
    assert ran[0]["status"] in (STATUS_NO_DATA, STATUS_NO_PATTERNS)
    refused = [k for k, r in results.items() if isinstance(r, ServiceValidationError)]
    assert all(results[k].translation_key == "already_running" for k in refused)
    if ran[0]["trigger"] == TRIGGER_SCHEDULE:
        assert skipped == []
        assert sorted(refused) == ["button", "service"]
    else:
        assert [j["trigger"] for j in skipped] == [TRIGGER_SCHEDULE]
        assert len(refused) == 1
        assert all(r is None for k, r in results.items() if k not in refused)
    # With eager tasks the first one started is the one that runs.
    assert ran[0]["trigger"] == (TRIGGER_SCHEDULE if first == "schedule" else TRIGGER_MANUAL)


# --- stopping mid-run ---------------------------------------------------------------


async def test_unload_mid_run_interrupts_at_phase_boundary(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    held_fetch: FetchSpy,
) -> None:
    """Unloading while the job is in fetch stops it before detect; the record is kept."""
    coordinator = await setup_entry(hass, config_entry)
    await run_service(hass)
    await held_fetch.entered.wait()

    unload = hass.async_create_task(hass.config_entries.async_unload(config_entry.entry_id))
    await spin_until(lambda: coordinator._stop_requested)
    assert not unload.done()  # the unload waits for the job
    held_fetch.release.set()
    assert await unload
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert not coordinator.running
    job = coordinator.jobs[0]
    assert job["status"] == STATUS_INTERRUPTED
    assert job["error"] == ERROR_STOPPED
    assert job["trigger"] == TRIGGER_MANUAL
    assert job["finished_at"] is not None
    assert job["phases"]["detect_s"] == 0.0  # it never got to detect
    assert stored(hass_storage, config_entry)["jobs"][0] == job


async def test_unload_cancels_a_job_stuck_in_a_phase(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    held_fetch: FetchSpy,
) -> None:
    """A phase that does not end within the shutdown bound is cancelled; still recorded."""
    coordinator = await setup_entry(hass, config_entry)
    await run_service(hass)
    await held_fetch.entered.wait()

    unload = hass.async_create_task(hass.config_entries.async_unload(config_entry.entry_id))
    await spin_until(lambda: coordinator._stop_requested)
    # Past SHUTDOWN_WAIT_S (10 s) without the fetch ever being released.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    assert await unload
    await hass.async_block_till_done()

    assert held_fetch.calls == 1
    job = coordinator.jobs[0]
    assert job["status"] == STATUS_INTERRUPTED
    assert job["error"] == "Cancelled while running"
    assert stored(hass_storage, config_entry)["jobs"][0]["status"] == STATUS_INTERRUPTED


async def test_hass_stop_mid_run_interrupts(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    held_fetch: FetchSpy,
) -> None:
    """EVENT_HOMEASSISTANT_STOP while the job is in fetch: 'interrupted', persisted."""
    coordinator = await setup_entry(hass, config_entry)
    await run_service(hass)
    await held_fetch.entered.wait()

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await spin_until(lambda: coordinator._stop_requested)
    held_fetch.release.set()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert not coordinator.running
    job = coordinator.jobs[0]
    assert job["status"] == STATUS_INTERRUPTED
    assert job["error"] == ERROR_STOPPED
    assert stored(hass_storage, config_entry)["jobs"][0] == job
    assert stored(hass_storage, config_entry)["running_job"] is None


@pytest.mark.parametrize("household", ["seeded"], indirect=True)
async def test_hass_stop_during_the_read_stops_it_between_chunks(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGTERM while the recorder is being read: the read stops at the next chunk, quietly.

    Thousands of seeded rows read ten at a time; after the first chunk, the reader's
    thread fires EVENT_HOMEASSISTANT_STOP on the loop and waits until the coordinator has
    asked it to stop. The job is 'interrupted', keeps the time its fetch took, and nothing
    is logged as an error (a read left to run would meet a closed connection instead).
    """
    coordinator = await setup_entry(hass, config_entry)
    real_add_chunk = recorder_reader._add_chunk
    chunks = 0
    asked = threading.Event()

    def add_chunk(*args: Any) -> None:
        nonlocal chunks
        chunks += 1
        real_add_chunk(*args)
        if chunks == 1:
            hass.loop.call_soon_threadsafe(hass.bus.async_fire, EVENT_HOMEASSISTANT_STOP)
            asked.set()
            assert coordinator._stop.wait(10)

    with (
        patch.object(recorder_reader, "_CHUNK_ROWS", 10),
        patch.object(recorder_reader, "_add_chunk", add_chunk),
    ):
        response: Any = await hass.services.async_call(
            DOMAIN, "run_analysis", {}, blocking=True, return_response=True
        )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert asked.is_set()
    assert chunks == 1  # the read stopped at the next chunk, not at the end
    job = response["job"]
    assert job["status"] == STATUS_INTERRUPTED
    assert job["error"] == ERROR_STOPPED
    assert job["phases"]["fetch_s"] > 0
    assert job["phases"]["detect_s"] == 0.0
    assert job["events"] == 0  # nothing half-read is reported
    assert coordinator.jobs[0] == job
    assert stored(hass_storage, config_entry)["jobs"][0] == job
    faults = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert faults == []


# --- killed mid-run -----------------------------------------------------------------


async def test_a_running_job_is_stored_as_it_starts(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    held_fetch: FetchSpy,
) -> None:
    """While the job runs the store holds it (no status yet); once it ends, only the history does."""
    coordinator = await setup_entry(hass, config_entry)
    await run_service(hass)
    await held_fetch.entered.wait()
    assert coordinator.current_job is not None
    running = stored(hass_storage, config_entry)["running_job"]
    assert running["id"] == coordinator.current_job["id"]
    assert running["status"] is None
    assert running["finished_at"] is None
    assert stored(hass_storage, config_entry)["jobs"] == []

    held_fetch.release.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert stored(hass_storage, config_entry)["running_job"] is None
    assert [j["id"] for j in stored(hass_storage, config_entry)["jobs"]] == [running["id"]]


async def test_a_job_killed_mid_run_is_interrupted_at_the_next_start(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """kill -9 or power loss mid-run: the job stored as it started becomes 'interrupted'.

    When it ended is unknown: ``finished_at`` and ``duration_s`` stay None. It is the
    newest job of the history, in the store and on the status sensor.
    """
    killed = {**old_job(40), "id": "killed", "status": None, "finished_at": None, "duration_s": None}
    killed["phases"] = dict.fromkeys(killed["phases"], 0.0)
    seed_store(hass_storage, config_entry, jobs=[old_job(1)], running_job=killed)
    coordinator = await setup_entry(hass, config_entry)

    job = coordinator.jobs[0]
    assert job == {
        **killed,
        "status": STATUS_INTERRUPTED,
        "error": ERROR_NEVER_FINISHED,
        "finished_at": None,
        "duration_s": None,
    }
    assert [j["id"] for j in coordinator.jobs] == ["killed", "old-01"]
    assert coordinator.last_job == job
    saved = stored(hass_storage, config_entry)
    assert saved["jobs"] == coordinator.jobs
    assert saved["running_job"] is None
    state = hass.states.get(STATUS_SENSOR)
    assert state is not None
    assert state.state == STATUS_INTERRUPTED
    assert state.attributes["error"] == ERROR_NEVER_FINISHED
    assert state.attributes["history"][0]["id"] == "killed"

    # Once only: a reload finds it in the history, not again as running.
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    reloaded: AnalysisCoordinator = config_entry.runtime_data.coordinator
    assert [j["id"] for j in reloaded.jobs] == ["killed", "old-01"]


# --- failure ------------------------------------------------------------------------


@pytest.mark.parametrize("household", ["seeded"], indirect=True)
async def test_failed_phase_is_recorded_and_the_next_run_succeeds(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    hass_storage: dict[str, Any],
    logs: LogRecords,
) -> None:
    """detect raises once: the job is 'failed' with the error, logged once with traceback; then success."""
    # Mocked because no history makes the real detector raise; the failure path must
    # still be proven (a bug in a later version, a numpy error on odd data).
    real_detect = job_phases.detect
    calls = 0

    def detect_failing_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("matrix is singular")
        return real_detect(*args, **kwargs)

    with patch.object(job_phases, "detect", detect_failing_once):
        failed: Any = await hass.services.async_call(
            DOMAIN, "run_analysis", {}, blocking=True, return_response=True
        )
        assert failed["job"]["status"] == STATUS_FAILED
        assert failed["job"]["error"] == "detect: matrix is singular"
        assert failed["job"]["events"] > 0  # fetch did its part
        assert failed["patterns"] == []
        assert failed["suggestions"] == []
        errors = logs.at_least(logging.ERROR)
        assert len(errors) == 1
        assert errors[0].exc_info is not None
        assert isinstance(errors[0].exc_info[1], ValueError)
        assert "failed in phase detect" in errors[0].getMessage()

        succeeded: Any = await hass.services.async_call(
            DOMAIN, "run_analysis", {}, blocking=True, return_response=True
        )
    assert succeeded["job"]["status"] == STATUS_SUCCESS
    assert succeeded["job"]["error"] is None
    assert succeeded["patterns"]
    assert len(logs.at_least(logging.ERROR)) == 1
    coordinator: AnalysisCoordinator = load_int.runtime_data.coordinator
    assert [j["status"] for j in coordinator.jobs] == [STATUS_SUCCESS, STATUS_FAILED]
    assert [j["status"] for j in stored(hass_storage, load_int)["jobs"]] == [STATUS_SUCCESS, STATUS_FAILED]


# --- history ------------------------------------------------------------------------


async def test_history_survives_reload_and_restart(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Jobs are stored as they finish and come back after a reload."""
    coordinator = await setup_entry(hass, config_entry)
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    job = response["job"]
    assert stored(hass_storage, config_entry)["jobs"] == [job]

    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    reloaded: AnalysisCoordinator = config_entry.runtime_data.coordinator
    assert reloaded is not coordinator
    assert reloaded.jobs == [job]
    state = hass.states.get("sensor.ai_automation_last_run_status")
    assert state is not None
    assert state.state == STATUS_NO_DATA


@pytest.mark.parametrize("stored_jobs", [JOB_HISTORY_SIZE, JOB_HISTORY_SIZE + 5])
async def test_history_is_capped(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    stored_jobs: int,
) -> None:
    """At most 30 jobs, newest first, in memory and in the store; the oldest drop off."""
    jobs = [old_job(n) for n in reversed(range(stored_jobs))]  # newest first
    seed_store(hass_storage, config_entry, jobs=jobs)  # no last slot: no catch-up run
    coordinator = await setup_entry(hass, config_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.jobs == jobs[:JOB_HISTORY_SIZE]

    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    saved = stored(hass_storage, config_entry)["jobs"]
    assert len(coordinator.jobs) == JOB_HISTORY_SIZE
    assert saved == coordinator.jobs
    assert saved[0]["id"] == response["job"]["id"]
    assert [j["id"] for j in saved[1:]] == [j["id"] for j in jobs[: JOB_HISTORY_SIZE - 1]]

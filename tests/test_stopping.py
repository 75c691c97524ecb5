"""Stopping mid-run: an unload, Home Assistant's stop (SIGTERM) and a kill; the job is 'interrupted'.

An unload or EVENT_HOMEASSISTANT_STOP stops the job at the next phase boundary (or
between two chunks of the recorder read), cancelling a phase stuck past the shutdown
bound; the record is kept. A job is stored as it starts, so one killed mid-run is found
unfinished at the next start. A real process killed with SIGKILL: tests/test_killed_run.py.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ai_automation import recorder_reader
from custom_components.ai_automation.const import DOMAIN, STATUS_INTERRUPTED, TRIGGER_MANUAL
from custom_components.ai_automation.coordinator import (
    ERROR_NEVER_FINISHED,
    ERROR_STOPPED,
    AnalysisCoordinator,
)
from tests.conftest import FetchSpy, setup_entry
from tests.job_helpers import old_job, run_service, seed_store, spin_until, stored

STATUS_SENSOR = "sensor.ai_automation_last_run_status"


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
    freezer: FrozenDateTimeFactory,
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
        freezer.tick(0.5)  # the seeded month's clock is frozen: the chunk took half a second
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

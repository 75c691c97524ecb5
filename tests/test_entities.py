"""The entities: sensors, the running binary sensor and the button, on a seeded recorder."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from custom_components.ai_automation.const import DOMAIN, PHASES, TRIGGER_MANUAL
from simulator.household import Household
from tests.conftest import async_run, setup_entry
from tests.ha_compat import device_config_entries, get_device

LAST_RUN = "sensor.ai_automation_last_run"
STATUS = "sensor.ai_automation_last_run_status"
NEXT_RUN = "sensor.ai_automation_next_run"
DURATION = "sensor.ai_automation_last_run_duration"
PATTERNS = "sensor.ai_automation_patterns_found"
PENDING = "sensor.ai_automation_pending_suggestions"
RUNNING = "binary_sensor.ai_automation_analysis_running"
BUTTON = "button.ai_automation_run_analysis"
UNRECORDED = {STATUS: "history", PATTERNS: "patterns", PENDING: "suggestions"}

# Thursday noon in the conftest's US/Pacific: the same simulated month on any day.
FROZEN_NOW = "2026-01-15 20:00:00+00:00"
# What a run measures or draws at random: snapshotted as its type, not its value.
VOLATILE = path_type(
    {
        r"attributes\.history\.\d+\.id": (str,),
        r"attributes\.history\.\d+\.duration_s": (float,),
        r"attributes\.[a-z]+_s": (float,),
    },
    regex=True,
)


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """Seed the recorder with the simulated household."""
    return seeded_household


def _state(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


def _timestamp(state: State) -> datetime:
    value = dt_util.parse_datetime(state.state)
    assert value is not None, state
    assert value.tzinfo is not None
    return value


@pytest.mark.freeze_time(FROZEN_NOW)
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.BUTTON])
async def test_entities_after_a_run(
    hass: HomeAssistant,
    recorder_mock: Any,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Each platform's registry entries and states after one run over the seeded month."""
    with patch("custom_components.ai_automation.PLATFORMS", [platform]):
        await setup_entry(hass, config_entry)
        # The recorder also reads this integration's own entities; let their first
        # states land first so the job's event count does not depend on commit timing.
        await async_wait_recording_done(hass)
        job = (await async_run(hass))["job"]
        assert job["status"] == "success"

        await snapshot_platform(
            hass, entity_registry, snapshot.with_defaults(matcher=VOLATILE), config_entry.entry_id
        )


async def test_states_before_any_run(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Nothing ran yet: unknown results, no suggestions, next run at 03:00 local."""
    for entity_id in (LAST_RUN, STATUS, DURATION, PATTERNS, BUTTON):
        assert _state(hass, entity_id).state == STATE_UNKNOWN, entity_id

    status = _state(hass, STATUS)
    assert (status.attributes["trigger"], status.attributes["error"]) == (None, None)
    assert status.attributes["history"] == []

    pending = _state(hass, PENDING)
    assert pending.state == "0"
    assert pending.attributes["suggestions"] == []

    when = _timestamp(_state(hass, NEXT_RUN))
    local = dt_util.as_local(when)
    assert str(local.tzinfo) == "US/Pacific"
    assert local.time() == time(3, 0, 0)
    assert timedelta(0) < when - dt_util.now() <= timedelta(days=1)
    assert when == load_int.runtime_data.coordinator.next_run

    running = _state(hass, RUNNING)
    assert running.state == STATE_OFF
    assert {k: running.attributes[k] for k in ("phase", "step", "steps", "job_id")} == {
        "phase": None,
        "step": None,
        "steps": len(PHASES),
        "job_id": None,
    }


async def test_states_after_run_are_the_job_record(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """A run fills every sensor from its job record (the snapshot above pins the shapes)."""
    response = await async_run(hass)
    job = response["job"]
    assert job["status"] == "success"

    finished = dt_util.parse_datetime(job["finished_at"])
    assert finished is not None
    assert _timestamp(_state(hass, LAST_RUN)) == finished.replace(microsecond=0)

    [summary] = _state(hass, STATUS).attributes["history"]
    assert summary == {key: job[key] for key in summary}

    duration = _state(hass, DURATION)
    assert float(duration.state) == job["duration_s"] >= 0  # the seeded month's clock is frozen
    assert {k: duration.attributes[k] for k in job["phases"]} == job["phases"]

    patterns = _state(hass, PATTERNS)
    assert int(patterns.state) == len(response["patterns"]) == job["patterns"] > 0
    assert patterns.attributes["patterns"] == response["patterns"]

    pending = _state(hass, PENDING)
    assert int(pending.state) == len(response["suggestions"]) > 0
    assert pending.attributes["suggestions"] == [
        {"id": s["id"], "title": s["title"]} for s in response["suggestions"]
    ]
    assert not load_int.runtime_data.coordinator.running


async def test_running_sensor_off_after_run(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Once the job finished, 'Analysis running' is off (not left on until the next update)."""
    await async_run(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not load_int.runtime_data.coordinator.running
    running = _state(hass, RUNNING)
    assert running.state == STATE_OFF
    assert running.attributes["phase"] is None


async def test_bulky_attributes_not_recorded(
    hass: HomeAssistant, load_int: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """history, patterns and suggestions are on the state but kept out of the recorder."""
    start = dt_util.utcnow()
    freezer.tick(1)  # the seeded month's clock is frozen: the run's states come after ``start``
    await async_run(hass)
    await async_wait_recording_done(hass)

    recorded = await get_instance(hass).async_add_executor_job(
        get_significant_states, hass, start, None, [*UNRECORDED, DURATION], None, True, False
    )
    for entity_id, attribute in UNRECORDED.items():
        live = _state(hass, entity_id)
        assert attribute in live.attributes
        rows = recorded[entity_id]
        last = rows[-1]
        assert isinstance(last, State)
        assert last.state == live.state
        assert attribute not in last.attributes, entity_id
        # Everything else is recorded as usual (the sensor component itself drops 'options').
        assert last.attributes == {
            k: v for k, v in live.attributes.items() if k not in (attribute, "options")
        }
    assert recorded[STATUS][-1].attributes["trigger"] == TRIGGER_MANUAL
    # Small attributes stay recorded.
    assert recorded[DURATION][-1].attributes == _state(hass, DURATION).attributes


async def test_button_starts_run_in_background(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Pressing the button starts a second job in the background, triggered 'manual'."""
    first = (await async_run(hass))["job"]

    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    # The press returns before the job is done.
    assert load_int.runtime_data.coordinator.running
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not load_int.runtime_data.coordinator.running

    pressed = _timestamp(_state(hass, BUTTON))
    assert timedelta(0) <= dt_util.utcnow() - pressed < timedelta(minutes=1)

    status = _state(hass, STATUS)
    assert status.state == "success"
    assert status.attributes["trigger"] == TRIGGER_MANUAL
    history = status.attributes["history"]
    assert len(history) == 2
    assert history[0]["trigger"] == TRIGGER_MANUAL
    assert history[0]["status"] == "success"
    assert history[0]["id"] != first["id"]
    assert history[1]["id"] == first["id"]
    assert [j["id"] for j in load_int.runtime_data.coordinator.jobs] == [history[0]["id"], first["id"]]


async def test_running_sensor_walks_phases(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """While a job runs the sensor is on and shows each phase in turn; then it turns off."""
    running_states: list[State] = []

    @callback
    def _record(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            running_states.append(new)

    unsub = async_track_state_change_event(hass, RUNNING, _record)
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    unsub()

    job_id = load_int.runtime_data.coordinator.jobs[0]["id"]
    on_states = [s for s in running_states if s.state == STATE_ON]
    assert [s.attributes["phase"] for s in on_states] == list(PHASES)
    assert [s.attributes["step"] for s in on_states] == list(range(1, len(PHASES) + 1))
    assert {s.attributes["job_id"] for s in on_states} == {job_id}
    assert {s.attributes["trigger"] for s in on_states} == {TRIGGER_MANUAL}
    assert running_states[-1].state == STATE_OFF
    assert running_states[-1].attributes["phase"] is None
    assert _state(hass, RUNNING).state == STATE_OFF


async def test_one_service_device_holds_every_entity(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """One service device of the entry holds every entity (names and ids: the snapshot)."""
    entries = er.async_entries_for_config_entry(entity_registry, load_int.entry_id)
    assert {e.entity_id for e in entries} == {
        LAST_RUN,
        STATUS,
        NEXT_RUN,
        DURATION,
        PATTERNS,
        PENDING,
        RUNNING,
        BUTTON,
    }

    device = get_device(device_registry, (DOMAIN, load_int.entry_id), load_int.entry_id)
    assert device is not None
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert (device.name, device.manufacturer, device.model) == (
        "AI Automation",
        "AI Automation",
        "Routine analysis",
    )
    assert device_config_entries(device) == {load_int.entry_id}
    assert dr.async_entries_for_config_entry(device_registry, load_int.entry_id) == [device]
    assert {e.device_id for e in entries} == {device.id}

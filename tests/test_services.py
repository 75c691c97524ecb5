"""The run_analysis service: its response contract, background mode, validation, errors, bus event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser, async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from custom_components.ai_automation.const import (
    DOMAIN,
    EVENT_ANALYSIS_COMPLETE,
    STATUS_NO_DATA,
    STATUS_SUCCESS,
    TRIGGER_MANUAL,
)
from custom_components.ai_automation.coordinator import AnalysisCoordinator
from tests.conftest import FetchSpy

RUNNING_SENSOR = "binary_sensor.ai_automation_analysis_running"

# Volatile job fields: kept in the snapshot as their type, not their value.
VOLATILE = path_type(
    {
        r"job\.id": (str,),
        r"job\.started_at": (str,),
        r"job\.finished_at": (str,),
        r"job\.duration_s": (float,),
        r"job\.phases\.[a-z]+_s": (float,),
        # The compressed files' size depends on numpy's and zlib's versions.
        r"job\.history\.size_bytes": (int,),
    },
    regex=True,
)


@pytest.mark.freeze_time("2026-01-15 20:00:00+00:00")  # Thursday noon in the conftest's US/Pacific
@pytest.mark.parametrize("household", ["seeded"], indirect=True)
async def test_response_contract(
    hass: HomeAssistant, load_int: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """With a response: the finished job, the patterns and the suggestions (frozen date, seeded)."""
    # The recorder also reads this integration's own entities; let their first states
    # land first so the job's entity count does not depend on commit timing.
    await async_wait_recording_done(hass)
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    assert set(response) == {"job", "patterns", "suggestions"}
    job = response["job"]
    assert job["status"] == STATUS_SUCCESS
    assert job["trigger"] == TRIGGER_MANUAL
    assert job["patterns"] == len(response["patterns"]) > 0
    assert job["suggestions"] == len(response["suggestions"]) > 0
    coordinator: AnalysisCoordinator = load_int.runtime_data.coordinator
    assert coordinator.jobs[0] == job
    assert response == coordinator.response(job)
    assert response == snapshot(matcher=VOLATILE)


async def test_without_response_returns_at_once(
    hass: HomeAssistant, load_int: MockConfigEntry, fetch_spy: FetchSpy
) -> None:
    """Without a response the call returns while the job still runs; it finishes in the background."""
    fetch_spy.hold = True
    coordinator: AnalysisCoordinator = load_int.runtime_data.coordinator

    result = await hass.services.async_call(DOMAIN, "run_analysis", {}, blocking=True)
    assert result is None
    await fetch_spy.entered.wait()
    assert coordinator.running
    assert coordinator.jobs == []
    assert coordinator.current_job is not None
    assert coordinator.current_job["trigger"] == TRIGGER_MANUAL
    state = hass.states.get(RUNNING_SENSOR)
    assert state is not None
    assert state.attributes["phase"] == "fetch"
    assert state.state == STATE_ON

    fetch_spy.release.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not coordinator.running
    assert [(j["trigger"], j["status"]) for j in coordinator.jobs] == [(TRIGGER_MANUAL, STATUS_NO_DATA)]
    state = hass.states.get(RUNNING_SENSOR)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["phase"] is None


@pytest.mark.parametrize("lookback_days", [0, 91, -1, "many", 1.5, 30.5, True, False, "abc", "1.5", "", None])
async def test_lookback_days_out_of_range_is_rejected(
    hass: HomeAssistant, load_int: MockConfigEntry, fetch_spy: FetchSpy, lookback_days: Any
) -> None:
    """Whole days 1-90 only: a fraction or a boolean is not taken as 1, and no job starts."""
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "run_analysis", {"lookback_days": lookback_days}, blocking=True, return_response=True
        )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert load_int.runtime_data.coordinator.jobs == []
    assert fetch_spy.windows == []


# The UI's number selector sends 7 or 7.0; YAML may send "7".
@pytest.mark.parametrize("lookback_days", [7, 7.0, "7"])
async def test_lookback_days_is_used_and_recorded(
    hass: HomeAssistant, load_int: MockConfigEntry, fetch_spy: FetchSpy, lookback_days: Any
) -> None:
    """lookback_days 7: the job reads the 7 complete local days before today and says so."""
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {"lookback_days": lookback_days}, blocking=True, return_response=True
    )
    assert response["job"]["lookback_days"] == 7
    assert type(response["job"]["lookback_days"]) is int
    assert load_int.runtime_data.coordinator.jobs[0]["lookback_days"] == 7
    [(start, end)] = fetch_spy.windows
    today = dt_util.start_of_local_day()
    assert end == today
    assert start == dt_util.start_of_local_day((today - timedelta(days=7) + timedelta(hours=12)).date())
    assert (end.date() - start.date()).days == 7


async def test_lookback_days_defaults_to_the_option(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Without lookback_days the option (30 by default) is used."""
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    assert response["job"]["lookback_days"] == 30


@pytest.mark.parametrize("return_response", [True, False])
async def test_not_loaded_after_unload(
    hass: HomeAssistant, load_int: MockConfigEntry, return_response: bool
) -> None:
    """The service stays registered after unload, and says the integration is not loaded."""
    assert await hass.config_entries.async_unload(load_int.entry_id)
    await hass.async_block_till_done()
    assert hass.services.has_service(DOMAIN, "run_analysis")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "run_analysis", {}, blocking=True, return_response=return_response
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "not_loaded"


async def test_not_loaded_without_entry(hass: HomeAssistant, recorder_mock: Any) -> None:
    """Set up without any config entry: the service exists and refuses with 'not_loaded'."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "run_analysis", {}, blocking=True)
    assert err.value.translation_key == "not_loaded"


async def test_complete_event_carries_the_job(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """ai_automation_analysis_complete fires once per job with the job record as its data."""
    events = async_capture_events(hass, EVENT_ANALYSIS_COMPLETE)

    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {"lookback_days": 3}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data == response["job"]
    assert events[0].data["lookback_days"] == 3
    assert events[0].data["trigger"] == TRIGGER_MANUAL

    # In the background too: the event comes when the job is done.
    await hass.services.async_call(DOMAIN, "run_analysis", {}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events) == 2
    assert events[1].data == load_int.runtime_data.coordinator.jobs[0]
    assert events[1].data["id"] != events[0].data["id"]
    assert set(events[1].data) == set(response["job"])


# --- who may run it, and refusals ------------------------------------------------------


async def test_run_analysis_is_refused_to_a_non_admin(
    hass: HomeAssistant, load_int: MockConfigEntry, fetch_spy: FetchSpy, hass_read_only_user: MockUser
) -> None:
    """A non-admin user cannot start runs; no job starts, with or without a response."""
    for return_response in (True, False):
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                "run_analysis",
                {},
                blocking=True,
                return_response=return_response,
                context=Context(user_id=hass_read_only_user.id),
            )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fetch_spy.windows == []
    assert load_int.runtime_data.coordinator.jobs == []


@pytest.mark.parametrize("user", ["admin", "none"])
async def test_run_analysis_by_an_admin_or_an_automation(
    hass: HomeAssistant, load_int: MockConfigEntry, hass_admin_user: MockUser, user: str
) -> None:
    """An admin may run it; so may an automation or a script (a call with no user)."""
    context = Context(user_id=hass_admin_user.id) if user == "admin" else Context()
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True, context=context
    )
    assert response["job"]["status"] == STATUS_NO_DATA


async def test_already_running_is_a_validation_error(
    hass: HomeAssistant, load_int: MockConfigEntry, fetch_spy: FetchSpy
) -> None:
    """A second run while one runs is refused as the caller's mistake (no traceback in the log)."""
    fetch_spy.hold = True
    await hass.services.async_call(DOMAIN, "run_analysis", {}, blocking=True)
    await fetch_spy.entered.wait()
    for return_response in (True, False):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "run_analysis", {}, blocking=True, return_response=return_response
            )
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "already_running"
    fetch_spy.release.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(load_int.runtime_data.coordinator.jobs) == 1


@pytest.mark.parametrize(
    ("service", "extra"), [("accept_suggestion", {}), ("dismiss_suggestion", {"days": 3})]
)
async def test_an_overlong_suggestion_id_is_refused_without_echo(
    hass: HomeAssistant, load_int: MockConfigEntry, service: str, extra: dict[str, Any]
) -> None:
    """A 20,000-character id fails the schema; the error does not carry it whole."""
    with pytest.raises(vol.Invalid) as err:
        await hass.services.async_call(
            DOMAIN, service, {"suggestion_id": "x" * 20_000, **extra}, blocking=True
        )
    assert len(str(err.value)) < 600


@pytest.mark.parametrize(("service", "extra"), [("accept_suggestion", {}), ("dismiss_suggestion", {})])
async def test_an_unknown_suggestion_id_of_fair_length_is_looked_up(
    hass: HomeAssistant, load_int: MockConfigEntry, service: str, extra: dict[str, Any]
) -> None:
    """Up to the cap the id reaches the lookup, which says there is no such suggestion."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, service, {"suggestion_id": "ai_" + "f" * 61, **extra}, blocking=True
        )
    assert err.value.translation_key == "unknown_suggestion"


@pytest.mark.parametrize("days", [1.5, True, "abc"])
async def test_dismiss_days_must_be_whole(hass: HomeAssistant, load_int: MockConfigEntry, days: Any) -> None:
    """dismiss_suggestion's days, like lookback_days: 1.5 or true is not taken as 1."""
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "dismiss_suggestion", {"suggestion_id": "ai_" + "f" * 16, "days": days}, blocking=True
        )

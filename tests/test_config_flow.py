"""The config flow (one entry; the default writer needs nothing) and the options flow.

Choosing an LLM writer, reconfigure and reauth: test_llm_flow.py; the options an LLM writer
adds: test_llm_options.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ai_automation.const import (
    CONF_ANALYSIS_DAYS,
    CONF_ANALYSIS_TIME,
    CONF_CATCH_UP_GRACE,
    CONF_EXCLUDE_DOMAINS,
    CONF_EXCLUDE_ENTITIES,
    CONF_INCLUDE_DOMAINS,
    CONF_INCLUDE_ENTITIES,
    CONF_LOOKBACK_DAYS,
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    CONF_NOTIFY_SERVICES,
    CONF_WRITER,
    DEFAULT_OPTIONS,
    DOMAIN,
    TRIGGER_SCHEDULE,
    WEEKDAYS,
)

NEXT_RUN = "sensor.ai_automation_next_run"
STATUS = "sensor.ai_automation_last_run_status"


def _valid_input(**overrides: Any) -> dict[str, Any]:
    """A complete, valid options form submission."""
    return {
        CONF_ANALYSIS_TIME: "03:00:00",
        CONF_ANALYSIS_DAYS: list(WEEKDAYS),
        CONF_LOOKBACK_DAYS: 30,
        CONF_MAX_SUGGESTIONS: 10,
        CONF_MIN_CONFIDENCE: 50,
        CONF_CATCH_UP_GRACE: 60,
        CONF_INCLUDE_ENTITIES: [],
        CONF_INCLUDE_DOMAINS: [],
        CONF_EXCLUDE_ENTITIES: [],
        CONF_EXCLUDE_DOMAINS: [],
        **overrides,
    }


def _next_local(now: datetime, hour: int, minute: int, weekday: int) -> datetime:
    """The first ``weekday`` at ``hour:minute`` local strictly after ``now`` (computed by hand)."""
    today = dt_util.as_local(now).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        candidate = dt_util.start_of_local_day(day).replace(hour=hour, minute=minute)
        if candidate.weekday() == weekday and candidate > now:
            return candidate
    raise AssertionError("no slot within a week")


# --- config flow ------------------------------------------------------------------


async def test_user_flow_creates_entry(hass: HomeAssistant, recorder_mock: Any) -> None:
    """The user step offers the writers, built-in first; submitting it as is creates the entry."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert [str(k) for k in result["data_schema"].schema] == [CONF_WRITER]
    assert not result["errors"]

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "AI Automation"
    assert result["data"] == {}
    assert result["options"] == DEFAULT_OPTIONS

    entries = hass.config_entries.async_entries(DOMAIN)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data == {}
    assert dict(entry.options) == DEFAULT_OPTIONS


async def test_single_instance(hass: HomeAssistant) -> None:
    """A second flow aborts: the manifest allows a single config entry."""
    MockConfigEntry(domain=DOMAIN, title="AI Automation", data={}, options=dict(DEFAULT_OPTIONS)).add_to_hass(
        hass
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


# --- options flow -----------------------------------------------------------------


async def test_options_form_prefilled(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """The options form shows every option, pre-filled with the current values."""
    result = await hass.config_entries.options.async_init(load_int.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert not result["errors"]
    schema = result["data_schema"]
    assert schema is not None
    defaults = {str(key): key.default() for key in schema.schema}
    assert defaults == {**DEFAULT_OPTIONS, CONF_NOTIFY_SERVICES: []}


async def test_options_saved_normalised(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Numbers are saved as int and the days in week order, whatever order they came in."""
    result = await hass.config_entries.options.async_init(load_int.entry_id)
    user_input = _valid_input(
        **{
            CONF_ANALYSIS_TIME: "22:15:00",
            CONF_ANALYSIS_DAYS: ["sun", "wed", "mon"],
            CONF_LOOKBACK_DAYS: 14,
            CONF_MAX_SUGGESTIONS: 5.0,
            CONF_MIN_CONFIDENCE: 75,
            CONF_CATCH_UP_GRACE: 0,
            CONF_INCLUDE_ENTITIES: ["light.kitchen"],
            CONF_INCLUDE_DOMAINS: ["switch"],
            CONF_EXCLUDE_ENTITIES: ["switch.heater"],
            CONF_EXCLUDE_DOMAINS: ["media_player"],
            CONF_NOTIFY_SERVICES: ["mobile_app_pixel"],
        }
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()

    expected = {
        CONF_ANALYSIS_TIME: "22:15:00",
        CONF_ANALYSIS_DAYS: ["mon", "wed", "sun"],
        CONF_LOOKBACK_DAYS: 14,
        CONF_MAX_SUGGESTIONS: 5,
        CONF_MIN_CONFIDENCE: 75,
        CONF_CATCH_UP_GRACE: 0,
        CONF_INCLUDE_ENTITIES: ["light.kitchen"],
        CONF_INCLUDE_DOMAINS: ["switch"],
        CONF_EXCLUDE_ENTITIES: ["switch.heater"],
        CONF_EXCLUDE_DOMAINS: ["media_player"],
        CONF_NOTIFY_SERVICES: ["mobile_app_pixel"],
    }
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == expected
    assert dict(load_int.options) == expected
    for key in (CONF_LOOKBACK_DAYS, CONF_MAX_SUGGESTIONS, CONF_MIN_CONFIDENCE, CONF_CATCH_UP_GRACE):
        assert type(load_int.options[key]) is int, key


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({CONF_ANALYSIS_DAYS: []}, CONF_ANALYSIS_DAYS, "no_days"),
        (
            {
                CONF_INCLUDE_ENTITIES: ["light.kitchen", "light.hall"],
                CONF_EXCLUDE_ENTITIES: ["light.hall"],
            },
            CONF_EXCLUDE_ENTITIES,
            "included_and_excluded",
        ),
    ],
    ids=["no_days", "included_and_excluded"],
)
async def test_options_errors_then_recover(
    hass: HomeAssistant,
    load_int: MockConfigEntry,
    overrides: dict[str, Any],
    field: str,
    error: str,
) -> None:
    """An invalid submission re-shows the form with the error; a fixed one saves."""
    result = await hass.config_entries.options.async_init(load_int.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], _valid_input(**overrides))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["errors"] == {field: error}
    # Nothing saved.
    assert dict(load_int.options) == DEFAULT_OPTIONS

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _valid_input(**{CONF_ANALYSIS_DAYS: ["sat"]})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert load_int.options[CONF_ANALYSIS_DAYS] == ["sat"]


async def test_both_errors_at_once(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Both checks run on the same submission."""
    result = await hass.config_entries.options.async_init(load_int.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        _valid_input(
            **{
                CONF_ANALYSIS_DAYS: [],
                CONF_INCLUDE_ENTITIES: ["light.hall"],
                CONF_EXCLUDE_ENTITIES: ["light.hall"],
            }
        ),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        CONF_ANALYSIS_DAYS: "no_days",
        CONF_EXCLUDE_ENTITIES: "included_and_excluded",
    }


async def test_options_reschedule_without_reload(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """Saving new options moves the next run at once, on the same (not reloaded) coordinator."""
    coordinator = load_int.runtime_data.coordinator
    now = dt_util.now()
    old_next = coordinator.next_run
    assert old_next == _next_local(now, 3, 0, old_next.weekday())
    assert dt_util.parse_datetime(hass.states.get(NEXT_RUN).state) == old_next

    # Only on the weekday of the old next run, at 21:30 local: the old 03:00 slot of that
    # day would run a job if its tracker had survived.
    day = WEEKDAYS[old_next.weekday()]
    result = await hass.config_entries.options.async_init(load_int.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _valid_input(**{CONF_ANALYSIS_TIME: "21:30:00", CONF_ANALYSIS_DAYS: [day]})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY

    expected = dt_util.start_of_local_day(old_next.date()).replace(hour=21, minute=30)
    assert expected == _next_local(dt_util.now(), 21, 30, old_next.weekday())
    assert load_int.state is ConfigEntryState.LOADED
    assert load_int.runtime_data.coordinator is coordinator  # rescheduled, not reloaded
    assert coordinator.next_run == expected
    state = hass.states.get(NEXT_RUN)
    assert state is not None
    assert dt_util.parse_datetime(state.state) == expected

    # Walk the clock through every old and new slot up to the new one, in order.
    today = dt_util.as_local(now).date()
    points = sorted(
        t
        for offset in range(3)
        for hour, minute in ((3, 0), (21, 30))
        if now
        < (t := dt_util.start_of_local_day(today + timedelta(days=offset)).replace(hour=hour, minute=minute))
        <= expected
    )
    assert old_next in points
    assert points[-1] == expected
    for point in points:
        async_fire_time_changed(hass, point)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(coordinator.jobs) == (1 if point == expected else 0), point

    assert coordinator.jobs[0]["trigger"] == TRIGGER_SCHEDULE
    assert hass.states.get(STATUS).attributes["trigger"] == TRIGGER_SCHEDULE
    # After firing, the next run is a week later.
    assert coordinator.next_run == _next_local(expected, 21, 30, old_next.weekday())
    assert dt_util.parse_datetime(hass.states.get(NEXT_RUN).state) == coordinator.next_run

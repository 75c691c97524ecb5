"""The recorder reader on a real recorder database: rows, significance and origin."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util import ulid as ulid_util

from custom_components.ai_automation import recorder_reader
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.recorder_reader import FetchedHistory, async_fetch_history
from simulator.household import AUTOMATION, PHYSICAL, SYSTEM, USER, Change, Household

# What the reader reads is the recorder's; these entities are in no state machine.
pytestmark = [pytest.mark.recorder_db, pytest.mark.history_only]


@pytest.fixture
def household() -> Household:
    """Four changes, one of each origin, two days ago; plus one outside the window."""
    base = (dt_util.utcnow() - timedelta(days=2)).timestamp()
    changes = [
        Change("light.kitchen", "on", base, USER),
        Change("light.kitchen", "off", base + 60, PHYSICAL),
        Change("light.porch", "on", base + 120, AUTOMATION),
        Change("binary_sensor.motion", "on", base + 180, SYSTEM),
        Change("sensor.power", "unavailable", base + 240, SYSTEM),
        Change("light.kitchen", "on", base - 10 * 86_400, PHYSICAL),  # before the window
    ]
    return Household(changes=changes, routines=[], negative_controls=[])


def _as_rows(fetched: FetchedHistory) -> list[tuple[str, str, str]]:
    return [
        (fetched.entity_ids[e], fetched.states[s], Origin(o).label)
        for e, s, o in zip(fetched.entity, fetched.state, fetched.origin, strict=True)
    ]


async def _fetch(hass: HomeAssistant, wanted: Any = lambda _e: True) -> FetchedHistory:
    end = dt_util.utcnow() - timedelta(hours=1)  # leaves out what the test writes now
    return await async_fetch_history(hass, end - timedelta(days=5), end, wanted)


async def test_origin_comes_from_the_context_columns(hass: HomeAssistant, recorder_mock: Any) -> None:
    """User id -> user; automation_triggered with the same context id -> automation.

    The porch light's automation was time-triggered: its change has neither user nor
    parent, only the recorded event ties it to the automation.
    """
    fetched = await _fetch(hass)
    assert fetched.source == "recorder"
    assert _as_rows(fetched) == [
        ("light.kitchen", "on", "user"),
        ("light.kitchen", "off", "physical"),
        ("light.porch", "on", "automation"),
        ("binary_sensor.motion", "on", "system"),
        ("sensor.power", "unavailable", "system"),
    ]
    assert np.all(np.diff(fetched.ts) > 0)


async def test_only_wanted_entities_are_read(hass: HomeAssistant, recorder_mock: Any) -> None:
    """The include/exclude filter is applied before the query."""
    fetched = await _fetch(hass, lambda e: e.startswith("light."))
    assert set(fetched.entity_ids) == {"light.kitchen", "light.porch"}
    assert len(fetched) == 3


async def test_streamed_in_chunks(
    hass: HomeAssistant, recorder_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows come through a server-side cursor in chunks (yield_per); small chunks, same rows."""
    whole = _as_rows(await _fetch(hass))
    monkeypatch.setattr(recorder_reader, "_CHUNK_ROWS", 2)
    chunked = await _fetch(hass)
    assert _as_rows(chunked) == whole
    assert np.all(np.diff(chunked.ts) > 0)


async def test_context_written_by_the_recorder(hass: HomeAssistant, recorder_mock: Any) -> None:
    """The recorder's own rows: a user's context -> user, a parent context -> automation."""
    hass.states.async_set("switch.fan", "on", context=Context(user_id=uuid.uuid4().hex))
    await hass.async_block_till_done()
    hass.states.async_set("switch.fan", "off", context=Context(parent_id=ulid_util.ulid_now()))
    await hass.async_block_till_done()
    hass.states.async_set("switch.fan", "on")
    await hass.async_block_till_done()
    await hass.async_add_executor_job(recorder_mock.block_till_done)
    end = dt_util.utcnow() + timedelta(seconds=1)
    fetched = await async_fetch_history(hass, end - timedelta(hours=1), end, lambda e: e == "switch.fan")
    assert _as_rows(fetched) == [
        ("switch.fan", "on", "user"),
        ("switch.fan", "off", "automation"),
        ("switch.fan", "on", "physical"),
    ]


async def test_a_script_a_user_started_is_automated(hass: HomeAssistant, recorder_mock: Any) -> None:
    """A user runs a script: its changes carry the user's id, and the script_started context.

    The script did them, not the user's hand: automation. The user's own switch, after, is the user's.
    """
    script_context = Context(user_id=uuid.uuid4().hex)
    hass.bus.async_fire(
        "script_started", {"name": "Movie mode", "entity_id": "script.movie"}, context=script_context
    )
    hass.states.async_set("switch.fan", "on", context=script_context)
    hass.states.async_set("input_boolean.movie", "on", context=script_context)
    await hass.async_block_till_done()
    hass.states.async_set("switch.fan", "off", context=Context(user_id=script_context.user_id))
    await hass.async_block_till_done()
    await hass.async_add_executor_job(recorder_mock.block_till_done)
    end = dt_util.utcnow() + timedelta(seconds=1)
    fetched = await async_fetch_history(
        hass, end - timedelta(hours=1), end, lambda e: e in {"switch.fan", "input_boolean.movie"}
    )
    assert sorted(_as_rows(fetched)) == [
        ("input_boolean.movie", "on", "automation"),
        ("switch.fan", "off", "user"),
        ("switch.fan", "on", "automation"),
    ]


async def test_attribute_only_updates_are_not_changes(hass: HomeAssistant, recorder_mock: Any) -> None:
    """A brightness change keeps last_changed: it is not a state change."""
    hass.states.async_set("light.desk", "on", {"brightness": 10})
    await hass.async_block_till_done()
    hass.states.async_set("light.desk", "on", {"brightness": 200})
    await hass.async_block_till_done()
    hass.states.async_set("light.desk", "off", {"brightness": 200})
    await hass.async_block_till_done()
    await hass.async_add_executor_job(recorder_mock.block_till_done)
    end = dt_util.utcnow() + timedelta(seconds=1)
    fetched = await async_fetch_history(hass, end - timedelta(hours=1), end, lambda e: e == "light.desk")
    assert [fetched.states[s] for s in fetched.state] == ["on", "off"]


async def test_the_fast_path_is_chosen_by_the_columns_it_reads(
    hass: HomeAssistant, recorder_mock: Any
) -> None:
    """Whatever the schema version (50 on 2025.4, 53 on 2026.x), its tables and columns decide."""
    support = await recorder_mock.async_add_executor_job(recorder_reader.reader_support, hass)
    assert support.fast, support.missing
    assert support.missing == ()
    assert support.schema_version == recorder_mock.schema_version >= 48
    fetched = await _fetch(hass)
    assert (fetched.source, fetched.origin_known) == ("recorder", True)


async def test_a_missing_column_falls_back_to_the_history_api(
    hass: HomeAssistant, recorder_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows through the public API, for every entity the recorder has history of.

    Not one of them is in the state machine now; without context, origin is unknown (by
    domain only) and the record says so.
    """
    assert hass.states.async_entity_ids() == []
    needed = dict(recorder_reader.FAST_PATH_COLUMNS)
    needed["states"] = needed["states"] | {"context_origin_bin"}  # a column no schema has
    monkeypatch.setattr(recorder_reader, "FAST_PATH_COLUMNS", needed)
    monkeypatch.setattr(recorder_reader, "_SUPPORT", recorder_reader.weakref.WeakKeyDictionary())
    support = await recorder_mock.async_add_executor_job(recorder_reader.reader_support, hass)
    assert (support.fast, support.missing) == (False, ("states.context_origin_bin",))
    fetched = await _fetch(hass, lambda e: e in {"light.kitchen", "light.porch", "binary_sensor.motion"})
    assert (fetched.source, fetched.origin_known) == ("history_api", False)
    assert sorted(_as_rows(fetched)) == sorted(
        [
            ("light.kitchen", "on", "physical"),
            ("light.kitchen", "off", "physical"),
            ("light.porch", "on", "physical"),
            ("binary_sensor.motion", "on", "system"),
        ]
    )
    everything = await _fetch(hass)
    assert fetched.recorded_hours.tolist() == _hours_of(everything)


def _hours_of(fetched: FetchedHistory) -> list[int]:
    return sorted({int(ts // 3600) for ts in fetched.ts})


async def test_recorded_hours_are_the_hours_with_any_row(hass: HomeAssistant, recorder_mock: Any) -> None:
    """Hours with a row of any entity count, wanted or not; hours without any do not."""
    porch = await _fetch(hass, lambda e: e == "light.porch")
    everything = await _fetch(hass)
    assert porch.recorded_hours.dtype == np.int64
    # The fixture's rows lie within four minutes (one hour, or two), days after the
    # window's start: those hours and no others.
    assert porch.recorded_hours.tolist() == _hours_of(everything)
    assert len(_hours_of(everything)) in (1, 2)

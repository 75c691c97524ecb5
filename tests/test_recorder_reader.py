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

pytestmark = pytest.mark.recorder_db


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


async def test_unknown_schema_falls_back_to_the_history_api(
    hass: HomeAssistant, recorder_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows through the public API; without context, origin is by domain only."""
    hass.states.async_set("light.kitchen", "off")  # the fallback lists entities from the state machine
    hass.states.async_set("light.porch", "off")
    hass.states.async_set("binary_sensor.motion", "off")
    monkeypatch.setattr(recorder_reader, "KNOWN_SCHEMA_VERSIONS", frozenset())
    fetched = await _fetch(hass, lambda e: e in {"light.kitchen", "light.porch", "binary_sensor.motion"})
    assert fetched.source == "history_api"
    assert sorted(_as_rows(fetched)) == sorted(
        [
            ("light.kitchen", "on", "physical"),
            ("light.kitchen", "off", "physical"),
            ("light.porch", "on", "physical"),
            ("binary_sensor.motion", "on", "system"),
        ]
    )

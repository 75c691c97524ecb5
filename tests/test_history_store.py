"""The compact history on a real recorder: filled day by day, the same patterns as one read.

Through the real recorder (SQLite here; scripts/test runs the ``recorder_db`` tests on
PostgreSQL and MariaDB too) and the real job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation.const import CONF_EXCLUDE_ENTITIES, DEFAULT_OPTIONS, DOMAIN
from custom_components.ai_automation.detection import detect, sun_times
from custom_components.ai_automation.diagnostics import async_get_config_entry_diagnostics
from custom_components.ai_automation.engine.history_files import HistoryFiles
from custom_components.ai_automation.history_store import HistoryStore, history_dir, selection_of
from custom_components.ai_automation.job_phases import analysis_window
from custom_components.ai_automation.jobs import entity_filter
from custom_components.ai_automation.recorder_reader import async_fetch_history
from custom_components.ai_automation.suggestions import patterns_to_dicts
from simulator.household import Household

from .conftest import async_run

pytestmark = [pytest.mark.recorder_db]

KITCHEN = "light.kitchen"


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """The simulated month in the recorder."""
    return seeded_household


def _never() -> bool:
    return False


async def _patterns(
    hass: HomeAssistant, fetched: Any, window: tuple[datetime, datetime]
) -> list[dict[str, Any]]:
    start, end = window
    detection = await hass.async_add_executor_job(
        lambda: detect(fetched, dt_util.get_default_time_zone(), start, end, sun=sun_times(hass, start, end))
    )
    return patterns_to_dicts(detection)


def _differences(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> list[tuple[str, str, Any, Any]]:
    return [
        (a["id"], key, a.get(key), b.get(key))
        for a, b in zip(ours, theirs, strict=True)
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


async def test_back_fill_and_nightly_days_find_what_one_full_read_finds(
    hass: HomeAssistant, recorder_mock: Any, tmp_path: Path
) -> None:
    """Installed ten days ago: a back-fill then one day a night gives the same patterns.

    The reference is one read of the whole window straight from the recorder, every
    row (numeric readings included), as the job read it before the compact history.
    """
    window = analysis_window(30)
    wanted = entity_filter(DEFAULT_OPTIONS)
    selection = selection_of(DEFAULT_OPTIONS)
    store = HistoryStore(hass, "increments")
    start, end = window
    read_days = []
    for nights_ago in range(10, -1, -1):
        night_end = end - timedelta(days=nights_ago)
        night = (dt_util.start_of_local_day((night_end - timedelta(days=29, hours=12)).date()), night_end)
        _fetched, status = await store.async_read(night, wanted, selection, _never)
        read_days.append(status.days_read)
    # The first run reads what the recorder has (the month, but the ten days not yet
    # over); then one new day a night.
    assert read_days[0] >= 18
    assert read_days[1:] == [1] * 10
    fetched, status = await store.async_read(window, wanted, selection, _never)
    assert status.days_read == 0
    # The simulated month is today and the 29 days before: tomorrow's job has all 30.
    assert (status.filling, status.days_available) == (True, 29)
    assert status.complete_on == dt_util.now().date() + timedelta(days=1)

    reference = await async_fetch_history(hass, start, end, wanted)
    assert len(fetched) < len(reference)  # the readings are not kept
    ours, theirs = await _patterns(hass, fetched, window), await _patterns(hass, reference, window)
    assert [p["id"] for p in ours] == [p["id"] for p in theirs]
    assert _differences(ours, theirs) == []
    # Stored: a few hundred KB for this home's month.
    assert 0 < status.size_bytes < 2_000_000


async def test_the_job_reads_the_recorder_once_and_survives_a_restart(
    hass: HomeAssistant, load_int: MockConfigEntry
) -> None:
    """The second job, after a reload, reads no recorder day and finds the same."""
    first = await async_run(hass)
    assert first["job"]["history"]["days_read"] == 29
    assert await hass.config_entries.async_reload(load_int.entry_id)
    await hass.async_block_till_done()
    second = await async_run(hass)
    assert second["job"]["history"]["days_read"] == 0
    assert second["job"]["events"] == first["job"]["events"]
    assert [p["id"] for p in second["patterns"]] == [p["id"] for p in first["patterns"]]
    assert [s["id"] for s in second["suggestions"]] == [s["id"] for s in first["suggestions"]]


async def test_an_entity_excluded_later_leaves_the_history(
    hass: HomeAssistant, load_int: MockConfigEntry
) -> None:
    """Excluded: gone from every stored day. Included again: read again from the recorder."""
    first = await async_run(hass)
    assert any(p["entity_id"] == KITCHEN for p in first["patterns"])
    directory = history_dir(hass, load_int.entry_id)

    hass.config_entries.async_update_entry(
        load_int, options={**load_int.options, CONF_EXCLUDE_ENTITIES: [KITCHEN]}
    )
    await hass.async_block_till_done()
    excluded = await async_run(hass)
    assert not any(KITCHEN in (p["entity_id"], p.get("trigger_entity_id")) for p in excluded["patterns"])
    files = HistoryFiles(directory)
    stored = await hass.async_add_executor_job(lambda: files.window(0, 4e9))
    assert KITCHEN not in stored.columns.entity_ids
    assert stored.spans == 29

    hass.config_entries.async_update_entry(load_int, options={**load_int.options, CONF_EXCLUDE_ENTITIES: []})
    await hass.async_block_till_done()
    again = await async_run(hass)
    assert again["job"]["history"]["days_read"] == 29  # the recorder still has them
    assert [p["id"] for p in again["patterns"]] == [p["id"] for p in first["patterns"]]


async def test_clear_history_and_removing_the_entry(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """The service forgets the history (the next job reads the recorder again); removal deletes it."""
    await async_run(hass)
    directory = history_dir(hass, load_int.entry_id)
    assert (directory / "index.json").is_file()
    info = await load_int.runtime_data.coordinator.history.async_info()
    assert info["rows"] > 0 and info["size_bytes"] > 0

    await hass.services.async_call(DOMAIN, "clear_history", {}, blocking=True)
    assert not directory.exists()
    after = await async_run(hass)
    assert after["job"]["history"]["days_read"] == 29

    assert await hass.config_entries.async_remove(load_int.entry_id)
    await hass.async_block_till_done()
    assert not directory.exists()


async def test_a_corrupt_day_is_read_again(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """A stored day whose file is damaged is read again from the recorder: nothing is lost."""
    first = await async_run(hass)
    directory = history_dir(hass, load_int.entry_id)
    files = HistoryFiles(directory)
    spans = await hass.async_add_executor_job(files.spans)
    damaged = next(s for s in spans[5:] if s.file)
    (directory / str(damaged.file)).write_bytes(b"PK\x03\x04 not a zip")
    assert await hass.config_entries.async_reload(load_int.entry_id)
    await hass.async_block_till_done()
    # Found unreadable while the window is read: read again from the recorder at once.
    second = await async_run(hass)
    assert second["job"]["history"]["days_read"] == 1
    assert second["job"]["events"] == first["job"]["events"]
    assert [p["id"] for p in second["patterns"]] == [p["id"] for p in first["patterns"]]


async def test_diagnostics_show_the_size(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    await async_run(hass)
    diagnostics = await async_get_config_entry_diagnostics(hass, load_int)
    assert diagnostics["history"]["spans_with_changes"] == 29
    assert diagnostics["history"]["size_bytes"] > 0
    assert diagnostics["history"]["sources"] == ["recorder"]

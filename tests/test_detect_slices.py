"""Detection works through the log a slice, a chunk or a batch of entities at a time (so
its memory stays bounded at any size): the sizes change nothing it finds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.ai_automation import detection
from custom_components.ai_automation.engine import (
    co_occurrence,
    co_occurrence_window,
    duration,
    event_log,
    local_time,
)
from custom_components.ai_automation.engine import time_of_day as time_of_day_module
from custom_components.ai_automation.engine.history_files import Columns, compact
from custom_components.ai_automation.engine.sun_relative import SunTimes
from custom_components.ai_automation.fetched_history import FetchedHistory
from simulator.large import large_home

TZ = ZoneInfo("Europe/Amsterdam")


def _inputs() -> tuple[FetchedHistory, datetime, datetime, SunTimes]:
    home = large_home(80_000, seed=3, time_zone=TZ, end=datetime(2026, 3, 30, tzinfo=TZ))
    kept = compact(Columns(home.entity_ids, home.states, home.entity, home.state, home.ts, home.origin))
    hours = np.unique((kept.ts // 3_600).astype(np.int64))
    fetched = FetchedHistory(
        kept.entity_ids, kept.states, kept.entity, kept.state, kept.ts, kept.origin,
        source="recorder", origin_known=True, recorded_hours=hours,
    )  # fmt: skip
    first = local_time.local_day_of(TZ, home.start.timestamp())
    days = (home.end - home.start).days + 2
    # A sunrise and sunset a minute later each day: the sun axes get real work.
    sun = SunTimes(
        first_day=first - 1,
        sunrise=420.0 + np.arange(days, dtype=np.float64),
        sunset=1_140.0 - np.arange(days, dtype=np.float64),
    )
    return fetched, home.start, home.end, sun


def _found(fetched: FetchedHistory, start: datetime, end: datetime, sun: SunTimes) -> tuple[object, ...]:
    found = detection.detect(fetched, TZ, start, end, sun=sun)
    log = found.log
    return (
        log.local_minute(slice(None)).tolist(),
        log.local_day(slice(None)).tolist(),
        log.real_mask().tolist(),
        found.time_of_day,
        found.co_occurrence,
        found.durations,
        found.comings_and_goings,
        sorted(found.backtests.items()),
    )


def test_slices_chunks_and_batches_change_nothing_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched, start, end, sun = _inputs()
    whole = _found(fetched, start, end, sun)
    assert whole[4] and whole[5], "the home has routines and followers to find"
    for module in (local_time, event_log, co_occurrence_window, co_occurrence, detection):
        monkeypatch.setattr(module, "SLICE_EVENTS", 997)
    monkeypatch.setattr(time_of_day_module, "BATCH_EVENTS", 1_500)
    monkeypatch.setattr(duration, "BATCH_EVENTS", 1_500)
    default = co_occurrence.CoOccurrenceParams()
    monkeypatch.setattr(
        co_occurrence, "CoOccurrenceParams", lambda: replace(default, chunk_events=613, chunk_pairs=211)
    )
    assert _found(fetched, start, end, sun) == whole


def test_entity_batches_cover_every_entity_once() -> None:
    entity = np.array([0, 1, 1, 2, 2, 2, 3, 5, 5], dtype=np.int32)
    keep = np.ones(entity.size, dtype=bool)
    keep[0] = False
    batches = time_of_day_module.entity_batches(entity, keep, 6, 3)
    assert batches == [(0, 2), (2, 3), (3, 6)]  # entity 2 alone: its 3 events fill a batch
    assert time_of_day_module.entity_batches(entity, np.zeros(entity.size, dtype=bool), 6, 3) == []

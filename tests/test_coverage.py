"""Which local days the recorder has history of, and since when each entity exists.

``build_event_log`` turns the recorder's hours with rows (UTC) into covered local days;
DST and half-hour zones must not move an hour onto the wrong day.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.ai_automation.detection import build_event_log
from custom_components.ai_automation.engine.event_log import EventLog, Origin
from custom_components.ai_automation.engine.local_time import local_day_of
from custom_components.ai_automation.recorder_reader import FetchedHistory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass: ``build_event_log`` is plain numpy."""


def hour_of(when: datetime) -> int:
    """The UTC epoch hour (floor(ts / 3600)) of an aware datetime."""
    return int(when.timestamp() // 3600)


def fetched(
    rows: list[tuple[str, str, datetime]] | None = None,
    hours: list[int] | None = None,
    entity_ids: tuple[str, ...] | None = None,
) -> FetchedHistory:
    rows = sorted(rows or [], key=lambda r: r[2])
    entity_ids = entity_ids or tuple(sorted({r[0] for r in rows}))
    states = tuple(sorted({r[1] for r in rows}))
    return FetchedHistory(
        entity_ids=entity_ids,
        states=states,
        entity=np.array([entity_ids.index(r[0]) for r in rows], dtype=np.int32),
        state=np.array([states.index(r[1]) for r in rows], dtype=np.int32),
        ts=np.array([r[2].timestamp() for r in rows], dtype=np.float64),
        origin=np.full(len(rows), int(Origin.SYSTEM), dtype=np.int8),
        source="recorder",
        origin_known=True,
        recorded_hours=np.array(sorted(set(hours or [])), dtype=np.int64),
    )


def log_of(history: FetchedHistory, tz: tzinfo, start: datetime, end: datetime) -> EventLog:
    return build_event_log(history, tz, start.replace(tzinfo=tz), end.replace(tzinfo=tz))


def covered_dates(log: EventLog, tz: tzinfo, start: datetime) -> list[int]:
    """Covered days as offsets from the window's first day."""
    assert log.first_day == local_day_of(tz, start.replace(tzinfo=tz).timestamp())
    return [int(i) for i in np.flatnonzero(log.covered)]


@pytest.mark.parametrize(
    ("local_hour", "day"),
    [
        # 25 October 2026: clocks go back at 03:00 CEST; the day has 25 hours.
        (datetime(2026, 10, 25, 0, 30, tzinfo=AMSTERDAM), 1),  # its first hour (+02:00)
        (datetime(2026, 10, 25, 2, 30, tzinfo=AMSTERDAM, fold=1), 1),  # the repeated hour
        (datetime(2026, 10, 25, 23, 30, tzinfo=AMSTERDAM), 1),  # its 25th hour (+01:00)
        (datetime(2026, 10, 26, 0, 30, tzinfo=AMSTERDAM), 2),  # the next day's first
    ],
)
def test_the_hours_of_a_25_hour_day_cover_that_day(local_hour: datetime, day: int) -> None:
    """UTC 22:30 on 25 October is 23:30 there, not 00:30 the next day as +02:00 would say."""
    start, end = datetime(2026, 10, 24), datetime(2026, 10, 28)
    log = log_of(fetched(hours=[hour_of(local_hour)]), AMSTERDAM, start, end)
    assert log.day_count == 4
    assert covered_dates(log, AMSTERDAM, start) == [day]


@pytest.mark.parametrize(
    ("local_hour", "day"),
    [
        (datetime(2026, 3, 29, 3, 30, tzinfo=AMSTERDAM), 1),  # just after the lost hour
        (datetime(2026, 3, 29, 23, 30, tzinfo=AMSTERDAM), 1),
        (datetime(2026, 3, 30, 0, 30, tzinfo=AMSTERDAM), 2),  # +01:00 would say 23:30 the day before
    ],
)
def test_the_hours_of_a_23_hour_day_cover_that_day(local_hour: datetime, day: int) -> None:
    start, end = datetime(2026, 3, 28), datetime(2026, 3, 31)
    log = log_of(fetched(hours=[hour_of(local_hour)]), AMSTERDAM, start, end)
    assert covered_dates(log, AMSTERDAM, start) == [day]


def test_an_hour_a_half_hour_zone_splits_covers_both_local_days() -> None:
    """UTC 18:00-19:00 is 23:30-00:30 in Kolkata: a row in it may be on either day."""
    start, end = datetime(2026, 5, 1), datetime(2026, 5, 4)
    hour = hour_of(datetime(2026, 5, 2, 18, 0, tzinfo=UTC))
    log = log_of(fetched(hours=[hour]), KOLKATA, start, end)
    assert covered_dates(log, KOLKATA, start) == [1, 2]


def test_days_analysed_counts_the_covered_days() -> None:
    """Ten days of rows in a 30-day window, with the hourly rows of a running home."""
    start, end = datetime(2026, 10, 9), datetime(2026, 11, 8)
    hours = [
        hour_of(datetime(2026, 10, 29 + d // 24, d % 24, 10, tzinfo=AMSTERDAM))
        for d in range(3 * 24)  # 29-31 October
    ]
    hours += [hour_of(datetime(2026, 11, d, 12, 0, tzinfo=AMSTERDAM)) for d in range(1, 8)]
    log = log_of(fetched(hours=hours), AMSTERDAM, start, end)
    assert log.day_count == 30
    assert log.days_analysed == 10
    assert covered_dates(log, AMSTERDAM, start) == list(range(20, 30))


def test_an_entity_starts_on_the_day_of_its_first_row_whatever_its_state() -> None:
    """A plug added on the 5th: its first row is 'unavailable' (just paired), then it works."""
    start, end = datetime(2026, 5, 1), datetime(2026, 5, 11)
    rows = [("sensor.temperature", "20.5", datetime(2026, 5, d, 12, tzinfo=AMSTERDAM)) for d in range(1, 11)]
    rows += [
        ("switch.new_plug", "unavailable", datetime(2026, 5, 5, 23, 58, tzinfo=AMSTERDAM)),
        ("switch.new_plug", "on", datetime(2026, 5, 6, 7, 0, tzinfo=AMSTERDAM)),
    ]
    history = fetched(
        rows,
        hours=[hour_of(r[2]) for r in rows],
        entity_ids=("sensor.temperature", "switch.new_plug", "light.gone"),
    )
    log = log_of(history, AMSTERDAM, start, end)
    first = dict(zip(log.entity_ids, log.entity_first_day.tolist(), strict=True))
    assert first["sensor.temperature"] == log.first_day
    assert first["switch.new_plug"] == log.first_day + 4  # 5 May
    assert first["light.gone"] == log.last_day + 1  # no rows: no day to count
    assert len(log.eligible_days("switch.new_plug")) == 6
    assert len(log.eligible_days("light.gone")) == 0


def test_unknown_hours_with_rows_mean_the_whole_window() -> None:
    """A reader that cannot tell which hours it recorded: every day counts, as before."""
    start, end = datetime(2026, 5, 1), datetime(2026, 5, 8)
    rows = [("light.a", "on", datetime(2026, 5, 7, 7, tzinfo=AMSTERDAM))]
    log = log_of(fetched(rows), AMSTERDAM, start, end)
    assert log.days_analysed == 7


def test_no_hours_and_no_rows_is_no_day() -> None:
    start, end = datetime(2026, 5, 1), datetime(2026, 5, 8)
    assert log_of(fetched(), AMSTERDAM, start, end).days_analysed == 0

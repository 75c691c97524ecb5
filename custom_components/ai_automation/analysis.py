"""The job's pure-ish middle: fetched rows -> local-time event log -> patterns.

Runs in an executor thread; nothing here touches the event loop or the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from .engine.backtest import Backtest, backtest_time_of_day
from .engine.event_log import EventLog
from .engine.local_time import local_day_of, local_fields, utc_offsets
from .engine.time_of_day import TimeOfDayParams, TimeOfDayPattern, detect_time_of_day
from .recorder_reader import CONTROLLABLE_DOMAINS, FetchedHistory


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detect phase hands to the suggest phase."""

    log: EventLog
    patterns: list[TimeOfDayPattern]
    # Backtests of the patterns that may become suggestions, keyed by pattern index.
    backtests: dict[int, Backtest]


def build_event_log(fetched: FetchedHistory, tz: tzinfo, start: datetime, end: datetime) -> EventLog:
    """Attach DST-correct local wall-clock fields to every fetched change."""
    start_ts, end_ts = start.timestamp(), end.timestamp()
    change_ts, offsets = utc_offsets(tz, start_ts, end_ts)
    minute, day, weekday = local_fields(fetched.ts, change_ts, offsets)
    return EventLog(
        entity_ids=fetched.entity_ids,
        states=fetched.states,
        entity=fetched.entity,
        state=fetched.state,
        ts=fetched.ts,
        origin=fetched.origin,
        local_minute=minute,
        local_day=day,
        local_weekday=weekday,
        first_day=local_day_of(tz, start_ts),
        last_day=local_day_of(tz, end_ts - 1),
    )


def suggestable(pattern: TimeOfDayPattern) -> bool:
    """Whether a pattern may become an automation: a person's act on a controllable device."""
    return not pattern.automated and pattern.entity_id.split(".", 1)[0] in CONTROLLABLE_DOMAINS


def detect(
    fetched: FetchedHistory, tz: tzinfo, start: datetime, end: datetime, params: TimeOfDayParams | None = None
) -> Detection:
    """Run the detectors and backtest every pattern that could be suggested."""
    log = build_event_log(fetched, tz, start, end)
    patterns = detect_time_of_day(log, params)
    backtests = {i: backtest_time_of_day(log, p) for i, p in enumerate(patterns) if suggestable(p)}
    return Detection(log=log, patterns=patterns, backtests=backtests)

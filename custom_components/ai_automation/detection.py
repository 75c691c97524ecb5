"""The job's middle: fetched rows -> local-time event log -> patterns -> backtests.

``detect`` runs in an executor thread; nothing in it touches the event loop or the
state machine. ``sun_times`` reads the home's location and runs on the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

import numpy as np
from homeassistant.const import SUN_EVENT_SUNRISE, SUN_EVENT_SUNSET
from homeassistant.core import HomeAssistant
from homeassistant.helpers.sun import get_astral_event_date
from homeassistant.util import dt as dt_util
from numpy.typing import NDArray

from .const import CONTROLLABLE_DOMAINS
from .engine.backtest import Backtest, backtest_many
from .engine.co_occurrence import CoOccurrencePattern, detect_co_occurrence
from .engine.duration import DurationPattern, detect_durations
from .engine.event_log import EventLog, real_changes
from .engine.local_time import SLICE_EVENTS, local_day_of, local_fields, utc_offsets
from .engine.presence import Presence, presence_of
from .engine.presence_triggers import PresencePattern, detect_presence_triggers
from .engine.sun_relative import SunTimes
from .engine.time_of_day import TimeOfDayParams, TimeOfDayPattern, detect_time_of_day

if TYPE_CHECKING:
    from .fetched_history import FetchedHistory

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detect phase hands to the suggest phase."""

    log: EventLog
    time_of_day: list[TimeOfDayPattern]
    co_occurrence: list[CoOccurrencePattern]
    # Backtests of the time-of-day patterns that may become suggestions, by index.
    backtests: dict[int, Backtest]
    durations: list[DurationPattern] = field(default_factory=list)
    sun: SunTimes | None = None  # the window's sunrises and sunsets (None: no location)
    presence: Presence | None = None  # who was home when (None: nobody's whereabouts recorded)
    # What the household does when the last one leaves, or on coming home.
    comings_and_goings: list[PresencePattern] = field(default_factory=list)

    @property
    def pattern_count(self) -> int:
        """All patterns found."""
        return (
            len(self.time_of_day)
            + len(self.co_occurrence)
            + len(self.durations)
            + len(self.comings_and_goings)
        )


def _covered_days(
    fetched: FetchedHistory,
    change_ts: NDArray[np.float64],
    offsets: NDArray[np.int64],
    first_day: int,
    last_day: int,
) -> NDArray[np.bool_]:
    """Which local days of the window the recorder has any row of.

    A local day is covered if any of its hours has a row: sensors report all day, so a
    running Home Assistant leaves no day empty; a purged or switched-off day has none.
    (Not finer than a day: a quiet home can go an hour at night without a single row.)
    Both ends of each UTC hour are mapped, so an hour a :30 zone splits between two local
    days covers both. No hours at all means the reader could not tell: with rows, the
    whole window; without, nothing.
    """
    covered = np.zeros(last_day - first_day + 1, dtype=bool)
    hours = fetched.recorded_hours
    if hours.size == 0:
        covered[:] = len(fetched) > 0
        return covered
    ends = np.concatenate([hours * 3_600, hours * 3_600 + 3_599]).astype(np.float64)
    _minute, day = local_fields(ends, change_ts, offsets)
    day = day[(day >= first_day) & (day <= last_day)]
    covered[day - first_day] = True
    return covered


def _entity_first_days(
    fetched: FetchedHistory, change_ts: NDArray[np.float64], offsets: NDArray[np.int64], last_day: int
) -> NDArray[np.int32]:
    """Local day of each entity's first row in the window, any state (``last_day + 1``: none).

    An entity added during the window starts then: its first row is its creation (even
    as ``unavailable``). For an older entity that first changes a few days in, this
    starts it late too; then its shares are those of the days since it was first used.
    (The rows' local days a slice at a time: they are not kept, see ``EventLog``.)
    """
    first = np.full(len(fetched.entity_ids), last_day + 1, dtype=np.int32)
    for lo in range(0, len(fetched), SLICE_EVENTS):
        part = slice(lo, lo + SLICE_EVENTS)
        np.minimum.at(first, fetched.entity[part], local_fields(fetched.ts[part], change_ts, offsets)[1])
    return first


def build_event_log(fetched: FetchedHistory, tz: tzinfo, start: datetime, end: datetime) -> EventLog:
    """Attach DST-correct local wall-clock fields to every fetched change, and the days it covers."""
    start_ts, end_ts = start.timestamp(), end.timestamp()
    change_ts, offsets = utc_offsets(tz, start_ts, end_ts)
    first_day, last_day = local_day_of(tz, start_ts), local_day_of(tz, end_ts - 1)
    return EventLog(
        entity_ids=fetched.entity_ids,
        states=fetched.states,
        entity=fetched.entity,
        state=fetched.state,
        ts=fetched.ts,
        origin=fetched.origin,
        offset_change_ts=change_ts,
        offset_s=offsets,
        first_day=first_day,
        last_day=last_day,
        covered=_covered_days(fetched, change_ts, offsets, first_day, last_day),
        entity_first_day=_entity_first_days(fetched, change_ts, offsets, last_day),
        real=real_changes(fetched.entity, fetched.state, fetched.states),
        recorded_s=_recorded_s(fetched, start_ts, end_ts),
    )


def _recorded_s(fetched: FetchedHistory, start_ts: float, end_ts: float) -> float | None:
    """Seconds of ``[start_ts, end_ts)`` in the recorder's hours with any row (None: unknown)."""
    hours = fetched.recorded_hours
    if hours.size == 0:
        return None
    lo = np.maximum(hours * 3_600.0, start_ts)
    hi = np.minimum(hours * 3_600.0 + 3_600.0, end_ts)
    return float(np.sum(np.clip(hi - lo, 0.0, None)))


def controllable(entity_id: str) -> bool:
    """Whether a person (and so an automation) switches this entity."""
    return entity_id.split(".", 1)[0] in CONTROLLABLE_DOMAINS


def suggestable(pattern: TimeOfDayPattern | CoOccurrencePattern | DurationPattern | PresencePattern) -> bool:
    """Whether a pattern may become an automation: a person's act on a controllable device."""
    return not pattern.automated and controllable(pattern.entity_id)


def _local_sun_event(hass: HomeAssistant, event: str, day: date) -> datetime | None:
    """The sunrise/sunset that happens on local date ``day``.

    ``get_astral_event_date`` answers for the UTC date: west of Greenwich a local
    evening's sunset falls on the next UTC date, east of it a morning's sunrise on the
    previous one. So look at the neighbouring UTC dates too and keep the local match.
    """
    for candidate in (day, day + timedelta(days=1), day - timedelta(days=1)):
        when = get_astral_event_date(hass, event, candidate)
        if when is not None and dt_util.as_local(when).date() == day:
            return when
    return None  # polar day or night


def sun_times(hass: HomeAssistant, start: datetime, end: datetime) -> SunTimes:
    """Sunrise and sunset of each local day in ``[start, end)``, in local minutes."""
    tz = dt_util.get_default_time_zone()
    first_day = local_day_of(tz, start.timestamp())
    last_day = local_day_of(tz, end.timestamp() - 1)
    table: dict[str, list[float]] = {SUN_EVENT_SUNRISE: [], SUN_EVENT_SUNSET: []}
    for day_no in range(first_day, last_day + 1):
        day = _EPOCH + timedelta(days=day_no)
        for event, minutes in table.items():
            when = _local_sun_event(hass, event, day)
            if when is None:
                minutes.append(float("nan"))
                continue
            local = dt_util.as_local(when)
            minutes.append(local.hour * 60 + local.minute + local.second / 60)
    return SunTimes(
        first_day=first_day,
        sunrise=np.asarray(table[SUN_EVENT_SUNRISE], dtype=np.float64),
        sunset=np.asarray(table[SUN_EVENT_SUNSET], dtype=np.float64),
    )


def detect(
    fetched: FetchedHistory,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    *,
    sun: SunTimes | None = None,
    params: TimeOfDayParams | None = None,
) -> Detection:
    """Run the detectors and backtest every time-of-day pattern that could be suggested."""
    log = build_event_log(fetched, tz, start, end)
    presence = presence_of(log)
    routines = detect_time_of_day(log, params, sun, presence)
    followers = np.fromiter((controllable(e) for e in log.entity_ids), dtype=bool, count=len(log.entity_ids))
    pairs = detect_co_occurrence(log, followers, sun=sun)
    durations = detect_durations(log, followers)
    comings_and_goings = detect_presence_triggers(log, [e for e in log.entity_ids if controllable(e)], sun)
    backtests = backtest_many(log, {i: p for i, p in enumerate(routines) if suggestable(p)}, sun, presence)
    return Detection(
        log=log,
        time_of_day=routines,
        co_occurrence=pairs,
        backtests=backtests,
        durations=durations,
        sun=sun,
        presence=presence,
        comings_and_goings=comings_and_goings,
    )

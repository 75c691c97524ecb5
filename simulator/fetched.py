"""A simulated home's changes as the job's read hands them on, and the home's sun times.

As the compact history keeps them (``history_files.compact``): no numeric readings,
timestamps or free text; the hours with any row are those of every row.

Shared by the scored tests (``tests/test_scored.py``) and the suggestion score
(``simulator/score.py``): the detectors run on the simulator's changes without a hass.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import numpy as np

from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.history_files import Columns, compact
from custom_components.ai_automation.engine.local_time import local_day_of
from custom_components.ai_automation.engine.sun_relative import SunTimes
from custom_components.ai_automation.fetched_history import FetchedHistory
from simulator.household import AUTOMATION, AUTOMATION_CHILD, PHYSICAL, SYSTEM, USER, Household, _sun_minutes
from simulator.real_home import SCRIPT

# The recorder's nightly purge runs at 04:12 and keeps ``purge_keep_days`` days before it.
PURGE_TIME = timedelta(hours=4, minutes=12)
# The simulator's origins as the recorder reader reports them.
ORIGINS = {
    USER: Origin.USER,
    PHYSICAL: Origin.PHYSICAL,
    AUTOMATION: Origin.AUTOMATION,
    AUTOMATION_CHILD: Origin.AUTOMATION,
    SYSTEM: Origin.SYSTEM,
    # A script a user started: the reader should see the script's context (not built yet).
    SCRIPT: Origin.AUTOMATION,
}


def fetched_history(
    household: Household,
    start: datetime,
    end: datetime,
    keep_days: int | None = None,
    *,
    compacted: bool = True,
) -> FetchedHistory:
    """The changes in ``[start, end)`` (after the purge of ``keep_days``, if given), as read.

    ``compacted`` False: every row, as the recorder has it (what the detectors would get
    if the compact history kept everything).
    """
    entity_ids = sorted({c.entity_id for c in household.changes})
    states = sorted({c.state for c in household.changes})
    e_idx = {e: i for i, e in enumerate(entity_ids)}
    s_idx = {s: i for i, s in enumerate(states)}
    first_ts = start.timestamp()
    if keep_days is not None:
        purged_before = end.replace(hour=0) - timedelta(days=keep_days) + PURGE_TIME
        first_ts = max(first_ts, purged_before.timestamp())
    changes = [c for c in household.changes if first_ts <= c.ts < end.timestamp()]
    ts = np.array([c.ts for c in changes], dtype=np.float64)
    read = Columns(
        entity_ids=tuple(entity_ids),
        states=tuple(states),
        entity=np.array([e_idx[c.entity_id] for c in changes], dtype=np.int32),
        state=np.array([s_idx[c.state] for c in changes], dtype=np.int32),
        ts=ts,
        origin=np.array([ORIGINS[c.origin] for c in changes], dtype=np.int8),
    )
    kept = compact(read) if compacted else read
    return FetchedHistory(
        entity_ids=kept.entity_ids,
        states=kept.states,
        entity=kept.entity,
        state=kept.state,
        ts=kept.ts,
        origin=kept.origin,
        source="simulator",
        origin_known=True,
        # Every simulated entity is analysed, so the hours with rows are those of its rows.
        recorded_hours=np.unique(np.floor_divide(ts, 3600).astype(np.int64)),
    )


def home_sun_times(
    tz: tzinfo, start: datetime, end: datetime, latitude: float = 52.37, longitude: float = 4.89
) -> SunTimes:
    """Sunrise and sunset of each local day in ``[start, end)``, as ``detection.sun_times`` gives."""
    first, last = local_day_of(tz, start.timestamp()), local_day_of(tz, end.timestamp() - 1)
    days = [start.date() + timedelta(days=i) for i in range(last - first + 1)]
    table = np.array([_sun_minutes(d, tz, latitude, longitude) for d in days])
    return SunTimes(first_day=first, sunrise=table[:, 0], sunset=table[:, 1])

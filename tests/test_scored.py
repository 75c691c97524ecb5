"""Scored on simulated homes: recall of what was planted, silence on the controls.

Each seed is a different household month that crosses the end of DST (Europe/Amsterdam,
25 October 2026). The detectors run on the simulator's changes directly (the recorder
path is covered by test_job and test_recorder_reader), so many seeds stay fast.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.ai_automation.analysis import Detection, detect, suggestable
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.local_time import local_day_of
from custom_components.ai_automation.engine.time_of_day import SunTimes
from custom_components.ai_automation.recorder_reader import FetchedHistory
from simulator.household import (
    AUTOMATION,
    AUTOMATION_CHILD,
    PHYSICAL,
    SYSTEM,
    USER,
    Household,
    PlantedCoOccurrence,
    PlantedRoutine,
    _sun_minutes,
    simulate,
)

TZ = ZoneInfo("Europe/Amsterdam")
END = datetime(2026, 11, 8, 0, 0, tzinfo=TZ)  # 30 days from 9 October: DST ends inside
START = datetime(2026, 10, 9, 0, 0, tzinfo=TZ)
SEEDS = (1, 2, 3, 4, 5, 6)
_ORIGIN = {
    USER: Origin.USER,
    PHYSICAL: Origin.PHYSICAL,
    AUTOMATION: Origin.AUTOMATION,
    AUTOMATION_CHILD: Origin.AUTOMATION,
    SYSTEM: Origin.SYSTEM,
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass: the scored runs call the detectors directly."""


def _fetched(household: Household) -> FetchedHistory:
    entity_ids = sorted({c.entity_id for c in household.changes})
    states = sorted({c.state for c in household.changes})
    e_idx = {e: i for i, e in enumerate(entity_ids)}
    s_idx = {s: i for i, s in enumerate(states)}
    changes = [c for c in household.changes if START.timestamp() <= c.ts < END.timestamp()]
    return FetchedHistory(
        entity_ids=tuple(entity_ids),
        states=tuple(states),
        entity=np.array([e_idx[c.entity_id] for c in changes], dtype=np.int32),
        state=np.array([s_idx[c.state] for c in changes], dtype=np.int32),
        ts=np.array([c.ts for c in changes], dtype=np.float64),
        origin=np.array([_ORIGIN[c.origin] for c in changes], dtype=np.int8),
        source="simulator",
    )


def _sun() -> SunTimes:
    first, last = local_day_of(TZ, START.timestamp()), local_day_of(TZ, END.timestamp() - 1)
    days = [START.date().fromordinal(START.date().toordinal() + i) for i in range(last - first + 1)]
    table = np.array([_sun_minutes(d, TZ, 52.37, 4.89) for d in days])
    return SunTimes(first_day=first, sunrise=table[:, 0], sunset=table[:, 1])


def _run(seed: int) -> tuple[Household, Detection]:
    household = simulate(seed=seed, days=31, end=END, time_zone=TZ)
    return household, detect(_fetched(household), TZ, START, END, sun=_sun())


def _found_routine(planted: PlantedRoutine, detection: Detection) -> bool:
    for p in detection.time_of_day:
        if (p.entity_id, p.to_state) != (
            planted.entity_id,
            planted.to_state,
        ) or p.automated != planted.automated:
            continue
        if set(p.days) != set(planted.days):
            continue
        if planted.sun_event is not None:
            if (
                p.sun_event == planted.sun_event
                and abs((p.sun_offset_min or 0) - (planted.sun_offset_min or 0)) <= 10
            ):
                return True
            continue
        h, m = (int(x) for x in planted.time.split(":"))
        distance = abs(p.minute - (h * 60 + m)) % 1440
        if min(distance, 1440 - distance) <= 15:
            return True
    return False


def _found_pair(planted: PlantedCoOccurrence, detection: Detection) -> bool:
    return any(
        (p.trigger_entity_id, p.trigger_to_state, p.entity_id, p.to_state)
        == (planted.trigger_entity_id, planted.trigger_to_state, planted.entity_id, planted.to_state)
        and p.lag_p90_s <= planted.max_lag_s + 1
        and p.automated == planted.automated
        for p in detection.co_occurrence
    )


def test_recall_of_planted_routines_and_co_occurrences() -> None:
    """At least 95% of everything planted is found, with its day set, time and origin."""
    found = total = 0
    missed: list[str] = []
    for seed in SEEDS:
        household, detection = _run(seed)
        for routine in household.routines:
            total += 1
            if _found_routine(routine, detection):
                found += 1
            else:
                missed.append(f"seed {seed}: {routine}")
        for pair in household.co_occurrences:
            total += 1
            if _found_pair(pair, detection):
                found += 1
            else:
                missed.append(f"seed {seed}: {pair}")
    assert found / total >= 0.95, missed


@pytest.mark.parametrize("seed", SEEDS)
def test_no_patterns_on_the_negative_controls(seed: int) -> None:
    """A plug toggled at random and a busy motion sensor are no routine and trigger nothing."""
    household, detection = _run(seed)
    controls = set(household.negative_controls)
    assert not [p for p in detection.time_of_day if p.entity_id in controls]
    assert not [p for p in detection.co_occurrence if {p.entity_id, p.trigger_entity_id} & controls]


@pytest.mark.parametrize("seed", SEEDS)
def test_automated_behaviour_is_never_suggested(seed: int) -> None:
    """The porch light (time-triggered automation) and the entrance light (state-triggered)."""
    _household, detection = _run(seed)
    automated = [p for p in (*detection.time_of_day, *detection.co_occurrence) if p.automated]
    assert {p.entity_id for p in automated} >= {"light.porch", "light.entrance"}
    assert not [p for p in automated if suggestable(p)]


def test_unavailable_and_numeric_states_make_no_patterns() -> None:
    """The flaky plug's 'unavailable' and the temperature sensors' readings are ignored."""
    _household, detection = _run(1)
    states = {p.to_state for p in (*detection.time_of_day, *detection.co_occurrence)}
    assert "unavailable" not in states
    assert not any(p.entity_id.startswith("sensor.") for p in detection.time_of_day)

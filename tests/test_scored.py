"""Scored on simulated homes: recall of what was planted, silence on the controls.

Each seed is a different household month that crosses the end of DST (Europe/Amsterdam,
25 October 2026). The detectors run on the simulator's changes directly (the recorder
path is covered by test_job and test_recorder_reader), so many seeds stay fast.

Besides the month, the history a default install has: the recorder keeps 10 days
(``purge_keep_days``) while the lookback is 30, or a longer history purged to 10 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from custom_components.ai_automation.detection import Detection, detect, suggestable
from simulator.fetched import fetched_history, home_sun_times
from simulator.household import Household, PlantedCoOccurrence, PlantedRoutine, simulate

TZ = ZoneInfo("Europe/Amsterdam")
END = datetime(2026, 11, 8, 0, 0, tzinfo=TZ)  # 30 days from 9 October: DST ends inside
START = datetime(2026, 10, 9, 0, 0, tzinfo=TZ)
SEEDS = (1, 2, 3, 4, 5, 6)


@dataclass(frozen=True, slots=True)
class History:
    """What the recorder holds when the job runs at END, and what the job reads."""

    name: str
    simulated_days: int  # complete local days of household before END
    lookback_days: int
    keep_days: int | None = None  # purge_keep_days: older rows are gone

    @property
    def start(self) -> datetime:
        """The window's first local midnight, as the coordinator computes it."""
        return (END - timedelta(days=self.lookback_days)).replace(hour=0)


MONTH = History("a month of history, lookback 30", simulated_days=30, lookback_days=30)
DEFAULT_INSTALL = History("10 days of history, default options", simulated_days=10, lookback_days=30)
PURGED = History("45 days purged to the last 10, lookback 45", 45, 45, keep_days=10)
assert MONTH.start == START


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass: the scored runs call the detectors directly."""


@cache
def _run(seed: int, history: History = MONTH) -> tuple[Household, Detection]:
    # The simulator's days end on END's date, which (at midnight) has no hours before END.
    household = simulate(seed=seed, days=history.simulated_days + 1, end=END, time_zone=TZ)
    start = history.start
    fetched = fetched_history(household, start, END, keep_days=history.keep_days)
    return household, detect(fetched, TZ, start, END, sun=home_sun_times(TZ, start, END))


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


@pytest.mark.parametrize("history", [MONTH, DEFAULT_INSTALL, PURGED], ids=lambda h: h.name)
@pytest.mark.parametrize("seed", SEEDS)
def test_no_patterns_on_the_negative_controls(seed: int, history: History) -> None:
    """A plug toggled at random and a busy motion sensor are no routine and trigger nothing."""
    household, detection = _run(seed, history)
    controls = set(household.negative_controls)
    assert not [p for p in detection.time_of_day if p.entity_id in controls]
    assert not [p for p in detection.co_occurrence if {p.entity_id, p.trigger_entity_id} & controls]


@pytest.mark.parametrize("history", [MONTH, DEFAULT_INSTALL, PURGED], ids=lambda h: h.name)
@pytest.mark.parametrize("seed", SEEDS)
def test_automated_behaviour_is_never_suggested(seed: int, history: History) -> None:
    """The porch light (time-triggered automation) and the entrance light (state-triggered)."""
    _household, detection = _run(seed, history)
    automated = [p for p in (*detection.time_of_day, *detection.co_occurrence) if p.automated]
    assert {p.entity_id for p in automated} >= {"light.porch", "light.entrance"}
    assert not [p for p in automated if suggestable(p)]


def _clock_routine_every_week_day_of_ten(routine: PlantedRoutine) -> bool:
    """A routine of every day or every weekday: 10 days hold enough of its days.

    Weekend and three-days-a-week routines do not: 10 days hold 2 to 4 of their days,
    under the 5 occurrences any routine needs.
    """
    return routine.sun_event is None and set(routine.days) in ({0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 4})


@pytest.mark.parametrize("history", [DEFAULT_INSTALL, PURGED], ids=lambda h: h.name)
def test_ten_days_of_history_find_the_daily_and_weekday_routines(history: History) -> None:
    """A lookback longer than the recorder keeps: only the days with history count.

    Before, a routine on all 10 recorded days was a third of the 30 (or 45) lookback days,
    under the 50% share a routine needs, and nothing time-of-day was found at all.
    """
    found = total = 0
    missed: list[str] = []
    for seed in SEEDS:
        household, detection = _run(seed, history)
        assert detection.log.days_analysed == 10
        for routine in filter(_clock_routine_every_week_day_of_ten, household.routines):
            total += 1
            if _found_routine(routine, detection):
                found += 1
            else:
                missed.append(f"seed {seed}: {routine}")
        for p in detection.time_of_day:
            assert p.occurrences <= p.eligible_days <= 10
    assert total == 7 * len(SEEDS)
    assert found / total >= 0.9, missed


@pytest.mark.parametrize("history", [DEFAULT_INSTALL, PURGED], ids=lambda h: h.name)
def test_ten_days_of_history_keep_the_co_occurrences(history: History) -> None:
    """Hallway motion -> hallway light and the front door's automation: ratios of events,
    unaffected by days without history."""
    for seed in SEEDS:
        household, detection = _run(seed, history)
        hallway, _tv, door = household.co_occurrences
        assert _found_pair(hallway, detection), seed
        assert _found_pair(door, detection), seed


def test_a_kitchen_routine_on_the_ten_recorded_days_reads_as_ten_days() -> None:
    """The share and the backtest are over the recorded weekdays, not the lookback's."""
    _household, detection = _run(1, DEFAULT_INSTALL)
    kitchen = next(
        (i, p)
        for i, p in enumerate(detection.time_of_day)
        if (p.entity_id, p.to_state, p.day_set) == ("light.kitchen", "on", "weekdays")
    )
    index, pattern = kitchen
    recorded_weekdays = sum(
        1
        for d in range(detection.log.first_day, detection.log.last_day + 1)
        if detection.log.covered[d - detection.log.first_day] and (d + 3) % 7 < 5
    )
    assert pattern.eligible_days == recorded_weekdays
    assert pattern.share_of_days == round(pattern.occurrences / recorded_weekdays, 3) >= 0.5
    assert detection.backtests[index].would_have_fired == recorded_weekdays


def test_unavailable_and_numeric_states_make_no_patterns() -> None:
    """The flaky plug's 'unavailable' and the temperature sensors' readings are ignored."""
    _household, detection = _run(1)
    states = {p.to_state for p in (*detection.time_of_day, *detection.co_occurrence)}
    assert "unavailable" not in states
    assert not any(p.entity_id.startswith("sensor.") for p in detection.time_of_day)

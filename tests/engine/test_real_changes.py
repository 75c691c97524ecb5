"""Which state changes are the household's (or a device's) and which a restart restored."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.ai_automation.engine import event_log
from custom_components.ai_automation.engine.backtest import backtest_time_of_day
from custom_components.ai_automation.engine.event_log import Origin, real_changes, stable_order
from custom_components.ai_automation.engine.time_of_day import detect_time_of_day

from .builders import FOUR_WEEKS, Row, hm, make_log

STATES = ("off", "on", "unavailable", "unknown")


def test_changes_to_and_from_unavailable_or_unknown_are_not_real() -> None:
    """Per entity in time order: off, unavailable, on (restored), on by hand after off."""
    entity = np.array([0, 1, 0, 0, 1, 1, 0, 0], dtype=np.int32)
    state = np.array([0, 1, 2, 1, 3, 1, 0, 1], dtype=np.int32)
    assert real_changes(entity, state, STATES).tolist() == [
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    assert real_changes(entity[:0], state[:0], STATES).tolist() == []


def _nightly_restart(entity_id: str, state: str) -> list[Row]:
    """Home Assistant restarts at 03:00 every night (a backup add-on): the light comes back ``state``."""
    rows: list[Row] = []
    for day in FOUR_WEEKS:
        rows += [
            (entity_id, "unavailable", day, hm(3, 0), Origin.SYSTEM),
            (entity_id, state, day, hm(3, 1), Origin.PHYSICAL),
        ]
    return rows


def test_a_nightly_restart_is_no_routine() -> None:
    """Twenty-eight nights of 'on at 03:01' restored by the restart: nothing to find."""
    assert detect_time_of_day(make_log(_nightly_restart("light.porch", "on"))) == []


def test_restored_states_do_not_match_a_backtest() -> None:
    """A routine's firing is not matched by the state a restart put back."""
    rows = _nightly_restart("light.porch", "on")
    log = make_log(rows)
    # The same times as real changes make a routine; replayed on the restarts, it matches nothing.
    (first,) = detect_time_of_day(make_log([r for r in rows if r[1] == "on"]))
    result = backtest_time_of_day(log, first)
    assert (result.would_have_fired, result.matched) == (len(FOUR_WEEKS), 0)


def test_stable_order_is_a_stable_argsort_for_any_span_of_keys() -> None:
    rng = np.random.default_rng(5)
    for low, high in ((0, 7), (-40, 40), (1_000, 1_000 + 2**16 - 1), (0, 2**20), (-(2**40), 2**40)):
        key = rng.integers(low, high, size=5_000, endpoint=True)
        assert stable_order(key).tolist() == np.argsort(key, kind="stable").tolist()
    assert stable_order(np.zeros(0, dtype=np.int64)).tolist() == []


def test_events_where_finds_across_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_log, "SLICE_EVENTS", 7)
    values = np.arange(100) % 9
    found = event_log.events_where(values.size, lambda part: values[part] == 3, np.int32)
    assert found.dtype == np.int32
    assert found.tolist() == np.flatnonzero(values == 3).tolist()
    assert event_log.events_where(0, lambda part: values[part] == 3).tolist() == []


def test_real_changes_carry_the_previous_state_across_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    entity = rng.integers(0, 5, size=400).astype(np.int32)
    state = rng.integers(0, len(STATES), size=400).astype(np.int32)
    whole = real_changes(entity, state, STATES).tolist()
    monkeypatch.setattr(event_log, "SLICE_EVENTS", 13)
    assert real_changes(entity, state, STATES).tolist() == whole

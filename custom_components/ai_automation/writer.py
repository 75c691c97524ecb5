"""The built-in writer: titles and descriptions from templates; nothing leaves the house."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .engine.co_occurrence import CoOccurrencePattern
from .engine.time_of_day import TimeOfDayPattern

_DAY_SET_TEXT = {"daily": "every day", "weekdays": "on weekdays", "weekends": "at weekends"}
_DAY_SET_NOUN = {"daily": "days", "weekdays": "weekdays", "weekends": "weekend days"}
_FULL_DAY = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_VERB = {
    "on": "Turn on",
    "off": "Turn off",
    "open": "Open",
    "closed": "Close",
    "locked": "Lock",
}


@dataclass(frozen=True, slots=True)
class Wording:
    """Text shown to the user for one suggestion."""

    title: str
    description: str


def days_text(pattern: TimeOfDayPattern) -> str:
    """'on weekdays', 'every day', or 'on Monday, Wednesday and Friday'."""
    if pattern.day_set in _DAY_SET_TEXT:
        return _DAY_SET_TEXT[pattern.day_set]
    names = [_FULL_DAY[d] for d in pattern.day_names]
    return "on " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def _days_noun(pattern: TimeOfDayPattern) -> str:
    return _DAY_SET_NOUN.get(pattern.day_set, "matching days")


def action_phrase(to_state: str, name: str) -> str:
    """'Turn on Kitchen light', or 'Set Thermostat to heat' for other states."""
    verb = _VERB.get(to_state)
    return f"{verb} {name}" if verb else f"Set {name} to {to_state}"


def _hhmm(minute: int) -> str:
    minute %= 1440
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _sun_phrase(event: str, offset_min: int) -> str:
    if offset_min == 0:
        return f"at {event}"
    return f"{abs(offset_min)} minutes {'after' if offset_min > 0 else 'before'} {event}"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 1 else "under a second"


def word_time_of_day(pattern: TimeOfDayPattern, name: str, backtest: dict[str, Any]) -> Wording:
    """Word a time-of-day (or sun-relative) suggestion from the numbers behind it."""
    when = days_text(pattern)
    spread = round(pattern.spread_min)
    if pattern.sun_event is not None and pattern.sun_offset_min is not None:
        at = _sun_phrase(pattern.sun_event, pattern.sun_offset_min)
        title = f"{action_phrase(pattern.to_state, name)} {at}"
        evidence = (
            f"{name} went {pattern.to_state} {at} (give or take {spread} minutes) on "
            f"{pattern.occurrences} of the last {pattern.eligible_days} {_days_noun(pattern)}; "
            f"it follows the sun more closely than the clock. This automation does it for you "
            f"{at} {when}"
        )
    else:
        title = f"{action_phrase(pattern.to_state, name)} at {pattern.time} {when}"
        evidence = (
            f"{name} went {pattern.to_state} around {pattern.time} on {pattern.occurrences} of the last "
            f"{pattern.eligible_days} {_days_noun(pattern)} (usually between "
            f"{_hhmm(pattern.minute - spread)} and {_hhmm(pattern.minute + spread)}). This automation "
            f"does it for you at {pattern.time} {when}"
        )
    description = (
        f"{evidence}, unless it is already {pattern.to_state}. Replayed over that history it would "
        f"have fired {backtest['would_have_fired']} times and matched what you did "
        f"{backtest['matched']} times (within {backtest['tolerance_min']} minutes)."
    )
    return Wording(title=title, description=description)


def word_co_occurrence(
    pattern: CoOccurrencePattern, name: str, trigger_name: str, backtest: dict[str, Any]
) -> Wording:
    """Word a "B follows A" suggestion."""
    title = f"{action_phrase(pattern.to_state, name)} when {trigger_name} turns {pattern.trigger_to_state}"
    description = (
        f"{name} went {pattern.to_state} within {_seconds(pattern.lag_p90_s)} (typically "
        f"{_seconds(pattern.lag_s)}) after {trigger_name} went {pattern.trigger_to_state}, "
        f"{pattern.occurrences} of {pattern.trigger_count} times ({pattern.confidence:.0%}); "
        f"{pattern.coverage:.0%} of the times {name} went {pattern.to_state}, {trigger_name} had just "
        f"done so. This automation does it for you, unless it is already {pattern.to_state}. Replayed "
        f"over that history it would have fired {backtest['would_have_fired']} times and matched "
        f"what you did {backtest['matched']} times."
    )
    return Wording(title=title, description=description)


def word(
    pattern: TimeOfDayPattern | CoOccurrencePattern,
    backtest: dict[str, Any],
    name_of: Callable[[str], str],
) -> Wording:
    """Word any suggestion; ``name_of`` gives an entity's friendly name."""
    if isinstance(pattern, CoOccurrencePattern):
        return word_co_occurrence(
            pattern, name_of(pattern.entity_id), name_of(pattern.trigger_entity_id), backtest
        )
    return word_time_of_day(pattern, name_of(pattern.entity_id), backtest)

"""The built-in writer: titles and descriptions from templates; nothing leaves the house.

The text is plain (it is also the automation's alias and the phone push); names and
states come in as a device chose them and are shown through ``display.plain_name``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .display import DESCRIPTION_SHOWN_MAX_CHARS, TITLE_MAX_CHARS, fit, plain_name, shorten
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


def _action(to_state: str) -> str:
    """'Turn on {name}', or 'Set {name} to {state}' for other states (a ``fit`` template)."""
    verb = _VERB.get(to_state)
    return f"{verb} {{name}}" if verb else "Set {name} to {state}"


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
    state = plain_name(pattern.to_state)
    if pattern.sun_event is not None and pattern.sun_offset_min is not None:
        at = _sun_phrase(pattern.sun_event, pattern.sun_offset_min)
        title = fit(f"{_action(pattern.to_state)} {at}", TITLE_MAX_CHARS, name=name, state=state)
        evidence = (
            f"{name} went {state} {at} (give or take {spread} minutes) on "
            f"{pattern.occurrences} of the last {pattern.eligible_days} {_days_noun(pattern)}; "
            f"it follows the sun more closely than the clock. This automation does it for you "
            f"{at} {when}"
        )
    else:
        title = fit(
            f"{_action(pattern.to_state)} at {pattern.time} {when}", TITLE_MAX_CHARS, name=name, state=state
        )
        evidence = (
            f"{name} went {state} around {pattern.time} on {pattern.occurrences} of the last "
            f"{pattern.eligible_days} {_days_noun(pattern)} (usually between "
            f"{_hhmm(pattern.minute - spread)} and {_hhmm(pattern.minute + spread)}). This automation "
            f"does it for you at {pattern.time} {when}"
        )
    description = (
        f"{evidence}, unless it is already {state}. Replayed over that history it would "
        f"have fired {backtest['would_have_fired']} times and matched what you did "
        f"{backtest['matched']} times (within {backtest['tolerance_min']} minutes)."
    )
    return Wording(title=title, description=shorten(description, DESCRIPTION_SHOWN_MAX_CHARS))


def word_co_occurrence(
    pattern: CoOccurrencePattern, name: str, trigger_name: str, backtest: dict[str, Any]
) -> Wording:
    """Word a "B follows A" suggestion."""
    state, trigger_state = plain_name(pattern.to_state), plain_name(pattern.trigger_to_state)
    title = fit(
        f"{_action(pattern.to_state)} when {{trigger}} turns {{trigger_state}}",
        TITLE_MAX_CHARS,
        name=name,
        state=state,
        trigger=trigger_name,
        trigger_state=trigger_state,
    )
    description = (
        f"{name} went {state} within {_seconds(pattern.lag_p90_s)} (typically "
        f"{_seconds(pattern.lag_s)}) after {trigger_name} went {trigger_state}, "
        f"{pattern.occurrences} of {pattern.trigger_count} times ({pattern.confidence:.0%}); "
        f"{pattern.coverage:.0%} of the times {name} went {state}, {trigger_name} had just "
        f"done so. This automation does it for you, unless it is already {state}. Replayed "
        f"over that history it would have fired {backtest['would_have_fired']} times and matched "
        f"what you did {backtest['matched']} times."
    )
    return Wording(title=title, description=shorten(description, DESCRIPTION_SHOWN_MAX_CHARS))


def word(
    pattern: TimeOfDayPattern | CoOccurrencePattern,
    backtest: dict[str, Any],
    name_of: Callable[[str], str],
) -> Wording:
    """Word any suggestion; ``name_of`` gives an entity's friendly name (as the device set it)."""

    def name(entity_id: str) -> str:
        return plain_name(name_of(entity_id)) or entity_id

    if isinstance(pattern, CoOccurrencePattern):
        return word_co_occurrence(pattern, name(pattern.entity_id), name(pattern.trigger_entity_id), backtest)
    return word_time_of_day(pattern, name(pattern.entity_id), backtest)

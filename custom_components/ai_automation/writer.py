"""The built-in writer: titles and descriptions from templates; nothing leaves the house."""

from __future__ import annotations

from dataclasses import dataclass

from .engine.backtest import Backtest
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


def word_time_of_day(pattern: TimeOfDayPattern, name: str, backtest: Backtest) -> Wording:
    """Word a time-of-day suggestion from the numbers behind it."""
    when = days_text(pattern)
    title = f"{action_phrase(pattern.to_state, name)} at {pattern.time} {when}"
    lo = (pattern.minute - round(pattern.spread_min)) % 1440
    hi = (pattern.minute + round(pattern.spread_min)) % 1440
    description = (
        f"{name} went {pattern.to_state} around {pattern.time} on {pattern.occurrences} of the last "
        f"{pattern.eligible_days} {_days_noun(pattern)} (usually between {lo // 60:02d}:{lo % 60:02d} "
        f"and {hi // 60:02d}:{hi % 60:02d}). This automation does it for you at {pattern.time} "
        f"{when}, unless it is already {pattern.to_state}. Replayed over that history it would have "
        f"fired {backtest.would_have_fired} times and matched what you did {backtest.matched} times "
        f"(within {backtest.tolerance_min} minutes)."
    )
    return Wording(title=title, description=description)

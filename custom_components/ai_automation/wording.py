"""Every built-in word about a suggestion: title, description and evidence, from its pattern.

Nothing leaves the house: the text comes from templates over the pattern's numbers. It is
plain (it is also the automation's alias and the phone push); names and states come in as
a device chose them and are shown through ``display.plain_name``. The LLM prompt takes its
time and day words from here too. No Home Assistant import (the type only, for checkers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .display import DESCRIPTION_SHOWN_MAX_CHARS, TITLE_MAX_CHARS, fit, plain_name, shorten
from .engine.co_occurrence import CoOccurrencePattern
from .engine.duration import DurationPattern
from .engine.presence import ANYONE
from .engine.presence_triggers import LEAVE, PresencePattern
from .engine.time_of_day import TimeOfDayPattern

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

DAY_SETS = ("daily", "weekdays", "weekends")
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
    evidence: str  # the numbers behind it in one sentence (the notification's "Evidence")
    # Routines done together: when it runs, as the title says it ("at 22:41 every day").
    when: str = ""


def friendly_name(hass: HomeAssistant, entity_id: str) -> str | None:
    """An entity's name as every text shows it (one line, capped), or None when it has none.

    The one lookup of a device's name: the built-in wording shows the entity id instead
    of None, the prompt sends a pseudonym.
    """
    state = hass.states.get(entity_id)
    return (plain_name(state.name) or None) if state is not None else None


def hhmm(minute: float) -> str:
    """A local minute of day (any number, wrapped around midnight) as 'HH:MM'."""
    m = round(minute) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def usual_window(minute: int, spread_min: float) -> tuple[str, str]:
    """The typical time ± one standard deviation, as ('HH:MM', 'HH:MM') across midnight."""
    spread = round(spread_min)
    return hhmm(minute - spread), hhmm(minute + spread)


def seconds(value: float) -> str:
    """'6 s', or 'under a second'."""
    return f"{value:.0f} s" if value >= 1 else "under a second"


def span(seconds_: float) -> str:
    """A duration as a person says it: '45 seconds', '25 minutes', '1 hour 30 minutes'."""
    whole = round(seconds_)
    if whole < 120:
        return f"{whole} seconds"
    minutes = round(whole / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"{hours} hours" + (f" {rest} minutes" if rest else "")


def sun_phrase(event: str, offset_min: int) -> str:
    """'at sunset', '15 minutes after sunset', '20 minutes before sunrise'."""
    if offset_min == 0:
        return f"at {event}"
    return f"{abs(offset_min)} minutes {'after' if offset_min > 0 else 'before'} {event}"


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def days_text(pattern: TimeOfDayPattern) -> str:
    """'on weekdays', 'every day', or 'on Monday, Wednesday and Friday'."""
    if pattern.day_set in _DAY_SET_TEXT:
        return _DAY_SET_TEXT[pattern.day_set]
    return "on " + _listed([_FULL_DAY[d] for d in pattern.day_names])


def days_noun(pattern: TimeOfDayPattern) -> str:
    """What the days counted are: 'weekdays', 'days', or 'Mondays, Wednesdays and Fridays'."""
    if pattern.day_set in _DAY_SET_NOUN:
        return _DAY_SET_NOUN[pattern.day_set]
    names = [f"{_FULL_DAY[d]}s" for d in pattern.day_names]
    return _listed(names) if names else "matching days"


def _action(to_state: str) -> str:
    """'Turn on {name}', or 'Set {name} to {state}' for other states (a ``fit`` template)."""
    verb = _VERB.get(to_state)
    return f"{verb} {{name}}" if verb else "Set {name} to {state}"


def _replayed(backtest: dict[str, Any]) -> str:
    return (
        f"Replayed over that history it would have fired {backtest['would_have_fired']} times and "
        f"matched what you did {backtest['matched']} times"
    )


def word_time_of_day(
    pattern: TimeOfDayPattern, name: str, backtest: dict[str, Any], who: str | None = None
) -> Wording:
    """Word a time-of-day (or sun-relative) suggestion from the numbers behind it.

    ``who`` must be home for it ("someone", or a person's name), when it depends on that.
    """
    when = days_text(pattern) + (f" when {who} is home" if who else "")
    spread = round(pattern.spread_min)
    state = plain_name(pattern.to_state)
    went = f"{name} went {state}"
    counted = f"{pattern.occurrences} of the last {pattern.eligible_days} {days_noun(pattern)}"
    if pattern.sun_event is not None and pattern.sun_offset_min is not None:
        at = sun_phrase(pattern.sun_event, pattern.sun_offset_min)
        title = fit(f"{_action(pattern.to_state)} {at}", TITLE_MAX_CHARS, name=name, state=state)
        told = (
            f"{went} {at} (give or take {spread} minutes) on {counted}; it follows the sun more "
            f"closely than the clock. This automation does it for you {at} {when}"
        )
        evidence = f"On {counted}, {went} {at}, give or take {spread} minutes."
    else:
        title = fit(
            f"{_action(pattern.to_state)} at {pattern.time} {when}", TITLE_MAX_CHARS, name=name, state=state
        )
        early, late = usual_window(pattern.minute, pattern.spread_min)
        told = (
            f"{went} around {pattern.time} on {counted} (usually between {early} and {late}). "
            f"This automation does it for you at {pattern.time} {when}"
        )
        evidence = (
            f"On {counted}, {went} at {pattern.time}."
            if spread == 0
            else f"On {counted}, {went} between {early} and {late} (typically {pattern.time})."
        )
    if who:
        evidence += f" Days {who} was not home are not counted."
    description = (
        f"{told}, unless it is already {state}. {_replayed(backtest)} "
        f"(within {backtest['tolerance_min']} minutes)."
    )
    return Wording(title, shorten(description, DESCRIPTION_SHOWN_MAX_CHARS), evidence)


def _group_actions(states: list[str]) -> str:
    """'Turn off {n0} and {n1}, then lock {n2}': the parts in order, one verb for a run of
    parts that reach the same state (a ``fit`` template over ``n0``, ``n1``, ...)."""
    runs: list[tuple[str, list[int]]] = []
    for index, state in enumerate(states):
        if runs and runs[-1][0] == state:
            runs[-1][1].append(index)
        else:
            runs.append((state, [index]))
    phrases: list[str] = []
    for state, indices in runs:
        names = _listed([f"{{n{i}}}" for i in indices])
        verb = _VERB.get(state)
        phrase = f"{verb} {names}" if verb else f"Set {names} to {plain_name(state)}"
        phrases.append(phrase if not phrases else phrase[0].lower() + phrase[1:])
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + ", then " + phrases[-1]


def _level(state: Mapping[str, Any]) -> str:
    """' at 30 % brightness', ' to 40 %', ' on Radio' (a scene part's level), or ''."""
    if (brightness := state.get("brightness")) is not None:
        return f" at {round(float(brightness) / 2.55)} % brightness"
    if (position := state.get("current_position")) is not None:
        return f" to {position} %"
    if (source := state.get("source")) is not None:
        return f" on {plain_name(str(source))}"
    return ""


def _part_told(part: TimeOfDayPattern, name: str) -> str:
    """'Lounge went off around 22:31 on 25 of the last 28 days'."""
    counted = f"{part.occurrences} of the last {part.eligible_days} {days_noun(part)}"
    return f"{name} went {plain_name(part.to_state)} around {part.time} on {counted}"


def word_group(
    lead: TimeOfDayPattern,
    parts: list[TimeOfDayPattern],
    names: list[str],
    backtest: dict[str, Any],
    who: str | None = None,
    scene: Mapping[str, Mapping[str, Any]] | None = None,
) -> Wording:
    """Word routines done together: one automation at the first one's time doing them all.

    As a scene, the title sets them and the text names each one's level.
    """
    when = days_text(lead) + (f" when {who} is home" if who else "")
    if lead.sun_event is not None and lead.sun_offset_min is not None:
        at = sun_phrase(lead.sun_event, lead.sun_offset_min)
    else:
        at = f"at {lead.time}"
    title = group_title(
        [p.to_state for p in parts],
        names,
        f"{at} {when}",
        scene=bool(scene),
        shorter_when=f"{at} {days_text(lead)}",
    )
    told = "; ".join(
        _part_told(p, n) + _level((scene or {}).get(p.entity_id, {}))
        for p, n in zip(parts, names, strict=True)
    )
    description = (
        f"These are done together, a few minutes apart: {told}. This automation does all of "
        f"them {at} {when}, in that order. {_replayed(backtest)} "
        f"(within {backtest['tolerance_min']} minutes)."
    )
    evidence = (
        f"Done together {when}: "
        + ", ".join(
            f"{n} {plain_name(p.to_state)} around {p.time}" for p, n in zip(parts, names, strict=True)
        )
        + "."
    )
    if who:
        evidence += f" Days {who} was not home are not counted."
    return Wording(title, shorten(description, DESCRIPTION_SHOWN_MAX_CHARS), evidence, f"{at} {when}")


def group_title(
    states: list[str], names: list[str], when: str, *, scene: bool = False, shorter_when: str | None = None
) -> str:
    """A group's title: what it does to each part, in order, and ``when`` ("at 22:41 every day").

    Names are what a title of several devices must keep readable: when they would be cut,
    ``shorter_when`` (without who must be home: the condition says it) is taken instead.
    """
    values = {f"n{i}": name for i, name in enumerate(names)}
    actions = "Set " + _listed([f"{{n{i}}}" for i in range(len(names))]) if scene else _group_actions(states)
    template = f"{actions} {when}"
    if shorter_when is not None and len(template.format(**values)) > TITLE_MAX_CHARS:
        template = f"{actions} {shorter_when}"
    return fit(template, TITLE_MAX_CHARS, **values)


def _during(pattern: CoOccurrencePattern) -> str:
    """' between 18:00 and 23:30', ' after dark', or '' (all day)."""
    if pattern.after_dark:
        return " after dark"
    return f" between {hhmm(pattern.window[0])} and {hhmm(pattern.window[1])}" if pattern.window else ""


def _both_ways(to_state: str, back_state: str) -> str:
    """'Turn {name} on and off', 'Open and close {name}' (a ``fit`` template)."""
    if {to_state, back_state} == {"on", "off"}:
        return "Turn {name} on and off"
    if {to_state, back_state} == {"open", "closed"}:
        return "Open and close {name}"
    verbs = [_VERB.get(s) for s in (to_state, back_state)]
    if verbs[0] and verbs[1]:
        return f"{verbs[0]} and {verbs[1].lower()} {{name}}"
    return "Set {name} to {state} and back"


def word_back_and_forth(
    pattern: CoOccurrencePattern,
    back: CoOccurrencePattern,
    name: str,
    trigger_name: str,
    backtest: dict[str, Any],
) -> Wording:
    """Word a "B follows A, both ways" suggestion: on with it, and off again with it."""
    state, back_state = plain_name(pattern.to_state), plain_name(back.to_state)
    title = fit(
        f"{_both_ways(pattern.to_state, back.to_state)} with {{trigger}}{_during(pattern)}",
        TITLE_MAX_CHARS,
        name=name,
        state=state,
        trigger=trigger_name,
    )

    def followed(p: CoOccurrencePattern) -> str:
        return (
            f"{plain_name(p.to_state)} within {seconds(p.lag_p90_s)} after {trigger_name} went "
            f"{plain_name(p.trigger_to_state)}{_during(p)}, {p.occurrences} of {p.trigger_count} times"
        )

    description = (
        f"{name} went {followed(pattern)} ({pattern.confidence:.0%}), and {followed(back)} "
        f"({back.confidence:.0%}). This automation does both for you, unless it is already "
        f"{state} or {back_state}. {_replayed(backtest)}."
    )
    evidence = f"{name} went {followed(pattern)}, and {followed(back)}."
    return Wording(title, shorten(description, DESCRIPTION_SHOWN_MAX_CHARS), evidence)


def word_co_occurrence(
    pattern: CoOccurrencePattern, name: str, trigger_name: str, backtest: dict[str, Any]
) -> Wording:
    """Word a "B follows A" suggestion."""
    state, trigger_state = plain_name(pattern.to_state), plain_name(pattern.trigger_to_state)
    between = _during(pattern)
    title = fit(
        f"{_action(pattern.to_state)} when {{trigger}} turns {{trigger_state}}{between}",
        TITLE_MAX_CHARS,
        name=name,
        state=state,
        trigger=trigger_name,
        trigger_state=trigger_state,
    )
    within, typically = seconds(pattern.lag_p90_s), seconds(pattern.lag_s)
    description = (
        f"{name} went {state} within {within} (typically {typically}) after {trigger_name} went "
        f"{trigger_state}{between}, {pattern.occurrences} of {pattern.trigger_count} times "
        f"({pattern.confidence:.0%}); {pattern.coverage:.0%} of the times {name} went {state}, "
        f"{trigger_name} had just done so. This automation does it for you, unless it is already "
        f"{state}. {_replayed(backtest)}."
    )
    evidence = (
        f"{name} went {state} after {trigger_name} went {trigger_state}{between} {pattern.occurrences} of "
        f"{pattern.trigger_count} times, within {within} (typically {typically})."
    )
    return Wording(title, shorten(description, DESCRIPTION_SHOWN_MAX_CHARS), evidence)


def word_presence(pattern: PresencePattern, name: str, backtest: dict[str, Any]) -> Wording:
    """Word a "when the last one leaves" / "when someone comes home" suggestion."""
    state = plain_name(pattern.to_state)
    dark = " after dark" if pattern.after_dark else ""
    leaving = pattern.event == LEAVE
    when = "when everyone has left" if leaving else f"when someone comes home{dark}"
    title = fit(f"{_action(pattern.to_state)} {when}", TITLE_MAX_CHARS, name=name, state=state)
    lag = span(abs(pattern.lag_s))
    if leaving:
        did = f"{name} went {state} about {lag} before the last one left home"
        counted = f"{pattern.occurrences} of the {pattern.events} times the house was left empty"
    else:
        did = f"{name} went {state} about {lag} after someone came home{dark}"
        counted = f"{pattern.occurrences} of {pattern.events} such homecomings"
    description = (
        f"{did}, {counted} (not counting those when it already was {state}). This automation "
        f"does it for you {when}, unless it is already {state}. {_replayed(backtest)}."
    )
    evidence = f"{did}, {counted}."
    return Wording(title, shorten(description, DESCRIPTION_SHOWN_MAX_CHARS), evidence)


def word_duration(pattern: DurationPattern, name: str, backtest: dict[str, Any]) -> Wording:
    """Word a "back to B about N minutes after A" suggestion."""
    state, from_state = plain_name(pattern.to_state), plain_name(pattern.from_state)
    after = span(pattern.duration_s)
    title = fit(
        f"{_action(pattern.to_state)} {after} after it turns {{from_state}}",
        TITLE_MAX_CHARS,
        name=name,
        state=state,
        from_state=from_state,
    )
    low, high = span(pattern.low_s), span(pattern.high_s)
    counted = f"{pattern.occurrences} of the {pattern.episodes} times it went {from_state}"
    description = (
        f"{name} went {state} again between {low} and {high} (typically {after}) after it went "
        f"{from_state}, {counted}. This automation does it for you once it has been {from_state} "
        f"for {after}. {_replayed(backtest)}."
    )
    evidence = f"{counted}, {name} went {state} again {low} to {high} later (typically {after})."
    return Wording(
        title, shorten(description, DESCRIPTION_SHOWN_MAX_CHARS), evidence[0].upper() + evidence[1:]
    )


def word(
    pattern: TimeOfDayPattern | CoOccurrencePattern | DurationPattern | PresencePattern,
    backtest: dict[str, Any],
    name_of: Callable[[str], str | None],
    back: CoOccurrencePattern | None = None,
    parts: list[TimeOfDayPattern] | None = None,
    scene: Mapping[str, Mapping[str, Any]] | None = None,
) -> Wording:
    """Word any suggestion; ``name_of`` gives an entity's name (see ``friendly_name``).

    An entity without a name is shown by its id. ``back``: the same follower following
    the same trigger back (one suggestion of both); ``parts``: routines done together
    (one suggestion of all, ``pattern`` the first at the group's start), ``scene`` their
    states and levels when they are set as a scene.
    """

    def name(entity_id: str) -> str:
        return plain_name(name_of(entity_id) or "") or entity_id

    if isinstance(pattern, DurationPattern):
        return word_duration(pattern, name(pattern.entity_id), backtest)
    if isinstance(pattern, PresencePattern):
        return word_presence(pattern, name(pattern.entity_id), backtest)
    if isinstance(pattern, CoOccurrencePattern) and back is not None:
        return word_back_and_forth(
            pattern, back, name(pattern.entity_id), name(pattern.trigger_entity_id), backtest
        )
    if isinstance(pattern, CoOccurrencePattern):
        return word_co_occurrence(pattern, name(pattern.entity_id), name(pattern.trigger_entity_id), backtest)
    who = None
    if pattern.presence is not None:
        who = "someone" if pattern.presence == ANYONE else name(pattern.presence)
    if parts:
        return word_group(pattern, parts, [name(p.entity_id) for p in parts], backtest, who, scene)
    return word_time_of_day(pattern, name(pattern.entity_id), backtest, who)

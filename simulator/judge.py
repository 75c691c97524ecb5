"""The judge of ``scripts/score``: is one shown suggestion a planted routine, with the right trigger?

See ``simulator.score`` for what counts as ``right``, ``wrong_kind`` and ``unplanted``,
and for the figures made of the verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import numpy as np

from custom_components.ai_automation.const import WEEKDAYS
from custom_components.ai_automation.engine.presence import ANYONE, HOME
from custom_components.ai_automation.engine.presence_triggers import LEAVE
from custom_components.ai_automation.suggestions import (
    Candidate,
    automation_config,
    back_pattern,
    part_patterns,
    presence_event_of,
)
from custom_components.ai_automation.wording import word
from simulator.household import DAILY, PlantedCoOccurrence, PlantedRoutine
from simulator.household_life import PlantedPresence
from simulator.real_home import PlantedDuration, RealHome

TIME_TOLERANCE_MIN = 20.0
FOR_SLACK_MIN = 2.0  # a ``for:`` may be off by the planted tolerance and this
ABSURD_SUN_OFFSET_MIN = 180
CONTRADICTION_MIN = 15.0
RIGHT, WRONG_KIND, WRONG_CONDITION, UNPLANTED = "right", "wrong_kind", "wrong_cond", "unplanted"
# A shown time window is right for a planted one when it holds this share of it and is
# at most this much longer.
WINDOW_OVERLAP = 0.75
WINDOW_SLACK_MIN = 120.0
DARK = ("sunset", "sunrise")


@dataclass(frozen=True, slots=True)
class Shown:
    """A shown suggestion as the automation it is: trigger, target entity and state, days."""

    trigger: dict[str, Any]
    entity_id: str
    to_state: str
    days: tuple[int, ...] = DAILY
    title: str = ""
    # Local minute the trigger fires at (a sun trigger: at the window's mean sun time).
    minute: float | None = None
    # The part of the day it may fire in: (HH:MM, HH:MM), ``DARK``, or None (all day).
    window: tuple[str, str] | None = None
    # The way back of a back-and-forth suggestion (the other trigger of the same automation).
    back: Shown | None = None
    # The people of whom one must be home (its "someone home" condition), or ().
    home: tuple[str, ...] = ()
    # Routines done together: each action as a suggestion of the group's trigger and
    # conditions (the group's own fields are its first part's).
    parts: tuple[Shown, ...] = ()

    # Its condition that nobody is home (an automation for when the last one leaves).
    nobody_home: bool = False

    @property
    def kind(self) -> str:
        """time | sun | state | state_for | leave | arrive (someone left, someone came home)."""
        kind = str(self.trigger["trigger"])
        if (event := presence_event_of(self.trigger)) is not None:
            return event
        return "state_for" if kind == "state" and self.trigger.get("for") else kind

    @property
    def trigger_key(self) -> tuple[str, str] | None:
        """(entity, state) of a state trigger."""
        if self.trigger["trigger"] != "state":
            return None
        entity = self.trigger["entity_id"]
        return str(entity[0] if isinstance(entity, list) else entity), str(self.trigger.get("to"))

    @property
    def sun_offset_min(self) -> float | None:
        """A sun trigger's offset in minutes."""
        if self.trigger["trigger"] != "sun":
            return None
        return _seconds(self.trigger.get("offset", 0)) / 60

    def describe(self) -> str:
        """kind, trigger, target, state."""
        t = self.trigger
        if t["trigger"] == "time":
            when = f"at {t['at']}"
        elif t["trigger"] == "sun":
            when = f"{t['event']} {t.get('offset', '')}"
        else:
            when = f"{t['entity_id']} -> {t.get('to')}" + (f" for {t['for']}" if t.get("for") else "")
        days = "" if set(self.days) == set(DAILY) else " " + ",".join(WEEKDAYS[d] for d in self.days)
        during = f" [{self.window[0]}-{self.window[1]}]" if self.window else ""
        text = f"{self.kind:9} {when}{days}{during} => {self.entity_id} {self.to_state}"
        if self.back is not None:
            text += ", and back: " + self.back.describe().split("  (")[0].removeprefix(f"{self.back.kind:9} ")
        if self.parts:
            text += "".join(f", {p.entity_id} {p.to_state}" for p in self.parts[1:])
        return f"{text}  ({self.title})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a shown suggestion is, why, and the planted thing it is right for."""

    label: str
    reason: str
    planted: object | None = None
    also: object | None = None  # what the way back of a back-and-forth suggestion is right for
    parts: tuple[object, ...] = ()  # what each part of a grouped suggestion is right for

    @property
    def right_for(self) -> tuple[object, ...]:
        """Every planted thing this verdict finds."""
        found = (self.planted, self.also, *self.parts)
        return tuple(p for p in found if p is not None)


def _seconds(value: Any) -> float:
    """A trigger's ``offset``/``for``: "HH:MM:SS" (maybe signed), seconds, or a dict."""
    if isinstance(value, dict):
        return sum(float(value.get(k, 0)) * s for k, s in (("hours", 3600), ("minutes", 60), ("seconds", 1)))
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    sign = -1.0 if text.startswith("-") else 1.0
    parts = [float(p) for p in text.lstrip("+-").split(":")]
    return sign * sum(p * s for p, s in zip(parts, (3600, 60, 1), strict=False))


def _minute(hhmm: str) -> float:
    h, m = hhmm.split(":")[:2]
    return int(h) * 60 + int(m)


def _apart(a: float, b: float) -> float:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def shown_of(candidate: Candidate, home: RealHome, mean_sun: dict[str, float]) -> Shown:
    """The shown suggestion of ``candidate``, from the automation config a job builds.

    A back-and-forth automation is read per option of its choose: the trigger of that
    option's id, the option's conditions and action.
    """
    back = back_pattern(candidate)
    parts = part_patterns(candidate)
    wording = word(candidate.pattern, candidate.backtest, home.friendly_names.get, back=back, parts=parts)
    config = automation_config(candidate, wording.title, wording.description)
    if parts:
        trigger, conditions = config["triggers"][0], config["conditions"]
        each = tuple(
            _shown(trigger, conditions, action, part.to_state, wording.title, mean_sun)
            for action, part in zip(config["actions"], parts, strict=True)
        )
        return replace(each[0], parts=each)
    if back is None:
        branches = [(config["triggers"][0], config["conditions"], config["actions"][0])]
    else:
        by_id = {t["id"]: t for t in config["triggers"]}
        branches = [
            (by_id[o["conditions"][0]["id"]], o["conditions"][1:], o["sequence"][0])
            for o in config["actions"][0]["choose"]
        ]
    states = [candidate.pattern.to_state] + ([back.to_state] if back else [])
    shown = [
        _shown(trigger, conditions, action, state, wording.title, mean_sun)
        for (trigger, conditions, action), state in zip(branches, states, strict=True)
    ]
    return shown[0] if len(shown) == 1 else replace(shown[0], back=shown[1])


def _shown(
    trigger: dict[str, Any],
    conditions: list[dict[str, Any]],
    action: dict[str, Any],
    to_state: str,
    title: str,
    mean_sun: dict[str, float],
) -> Shown:
    days = next(
        (tuple(WEEKDAYS.index(d) for d in c["weekday"]) for c in conditions if c.get("weekday")),
        DAILY,
    )
    minute: float | None = None
    if trigger["trigger"] == "time":
        minute = _seconds(trigger["at"]) / 60
    elif trigger["trigger"] == "sun":
        minute = mean_sun[trigger["event"]] + _seconds(trigger.get("offset", 0)) / 60
    entity = action["target"]["entity_id"]
    return Shown(
        trigger,
        entity,
        to_state,
        days,
        title,
        minute,
        _window_of(conditions),
        home=_home_of(conditions),
        nobody_home=_nobody_home(conditions),
    )


def _nobody_home(conditions: list[dict[str, Any]]) -> bool:
    """Whether a condition says none of the people is home."""
    return any(
        c["condition"] == "not"
        and any(n["condition"] == "state" and n.get("state") == HOME for n in c["conditions"])
        for c in conditions
    )


def _home_of(conditions: list[dict[str, Any]]) -> tuple[str, ...]:
    """Whom a "someone home" condition names."""
    for c in conditions:
        if c["condition"] == "state" and c.get("state") == "home":
            entity = c["entity_id"]
            return tuple(sorted(entity if isinstance(entity, list) else [entity]))
    return ()


def _window_of(conditions: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The time window or the dark an automation's conditions restrict it to."""
    for c in conditions:
        if c["condition"] == "time" and "after" in c and "before" in c:
            return str(c["after"])[:5], str(c["before"])[:5]
        if c["condition"] == "or" and {s.get("after") or s.get("before") for s in c["conditions"]} == set(
            DARK
        ):
            return DARK
    return None


def _window_fits(shown: tuple[str, str] | None, planted: tuple[str, str] | None) -> bool:
    """The shown window says what the planted one is: the same dark, or much the same hours."""
    if planted is None or shown is None or DARK in (shown, planted):
        return shown == planted

    def span(w: tuple[str, str]) -> set[int]:
        lo, hi = _minute(w[0]), _minute(w[1])
        return {int(m) % 1440 for m in np.arange(lo, hi if hi > lo else hi + 1440)}

    s, p = span(shown), span(planted)
    return len(s & p) >= WINDOW_OVERLAP * len(p) and len(s) <= len(p) + WINDOW_SLACK_MIN


def planted_text(planted: object) -> str:
    """A planted thing in a line."""
    if isinstance(planted, PlantedRoutine):
        days = "" if set(planted.days) == set(DAILY) else " " + ",".join(WEEKDAYS[d] for d in planted.days)
        when = f"{planted.sun_event} {planted.sun_offset_min:+d} min" if planted.sun_event else planted.time
        return f"routine   {planted.entity_id} {planted.to_state} at {when}{days}"
    if isinstance(planted, PlantedCoOccurrence):
        window = getattr(planted, "window", None)
        during = f" ({window[0]}-{window[1]} only)" if window else ""
        return (
            f"pair      {planted.trigger_entity_id} {planted.trigger_to_state} -> {planted.entity_id}"
            f" {planted.to_state}{during}"
        )
    if isinstance(planted, PlantedPresence):
        dark = " after dark" if planted.after_dark else ""
        return f"presence  {planted.entity_id} {planted.to_state} on {planted.event}{dark}"
    if isinstance(planted, PlantedDuration):
        d = planted
        return f"duration  {d.entity_id} {d.from_state} -> {d.to_state} after {d.after_min:g} min"
    return str(planted)


def _days_fit(shown: Shown, planted_days: Sequence[int]) -> bool:
    """Fires only on days it happens, and on at least half of them."""
    return set(shown.days) <= set(planted_days) and 2 * len(shown.days) >= len(planted_days)


def classify(shown: Shown, home: RealHome) -> Verdict:
    """``right``, ``wrong_kind``, ``wrong_cond`` or ``unplanted``, with the reason.

    Back and forth: right when both ways are; else the verdict of the way that is not.
    Routines done together: right when every part is; else the verdict of the first that is not.
    """
    if shown.parts:
        each = [_classify(part, home) for part in shown.parts]
        wrong = next((v for v in each if v.label != RIGHT), None)
        if wrong is not None:
            return Verdict(wrong.label, f"a part: {wrong.reason}", wrong.planted)
        found = tuple(v.planted for v in each if v.planted is not None)
        return Verdict(RIGHT, "together: " + "; ".join(v.reason for v in each), parts=found)
    forth = _classify(shown, home)
    if shown.back is None:
        return forth
    back = _classify(shown.back, home)
    if forth.label == back.label == RIGHT:
        return Verdict(RIGHT, f"{forth.reason}, and back: {back.reason}", forth.planted, back.planted)
    if forth.label != RIGHT:
        return forth
    return Verdict(back.label, f"the way back: {back.reason}", back.planted)


def _classify(shown: Shown, home: RealHome) -> Verdict:
    target = (shown.entity_id, shown.to_state)
    kind, key = shown.kind, shown.trigger_key
    kinds: dict[str, str] = {}  # trigger kinds that would be right for this target -> what
    for r in home.routines:
        if r.automated or (r.entity_id, r.to_state) != target:
            continue
        kinds["sun" if r.sun_event else "time"] = f"planted {r.sun_event or 'clock'} routine {r.time}"
        if r.sun_event is None and kind == "time" and shown.minute is not None:
            off = _apart(shown.minute, _minute(r.time))
            if off <= TIME_TOLERANCE_MIN and _days_fit(shown, r.days):
                return _with_presence(shown, r, home, f"clock routine {r.time}, {off:.0f} min off")
        offset = shown.sun_offset_min
        if r.sun_event and kind == "sun" and offset is not None and shown.trigger["event"] == r.sun_event:
            off = abs(offset - (r.sun_offset_min or 0))
            if off <= TIME_TOLERANCE_MIN and _days_fit(shown, r.days):
                return _with_presence(shown, r, home, f"{r.sun_event} routine, offset {off:.0f} min off")
    for p in home.co_occurrences:
        if p.automated or (p.entity_id, p.to_state) != target:
            continue
        kinds["state"] = f"planted: follows {p.trigger_entity_id} -> {p.trigger_to_state}"
        if key == (p.trigger_entity_id, p.trigger_to_state):
            return _with_window(shown, p, "planted co-occurrence")
    for p in home.co_occurrences:
        # A light that follows motion on goes off when the motion is over: the automation
        # people write for it ("when motion turns off, turn the light off").
        if p.automated or p.entity_id != shown.entity_id or shown.to_state == p.to_state:
            continue
        if (
            kind == "state"
            and key is not None
            and key[0] == p.trigger_entity_id
            and key[1] != p.trigger_to_state
        ):
            return _with_window(shown, p, "follows its planted trigger back")
    for d in home.durations:
        if d.entity_id != shown.entity_id or shown.to_state not in (d.from_state, d.to_state):
            continue
        kinds["state_for"] = f"planted: {d.entity_id} {d.to_state} {d.after_min:g} min after {d.from_state}"
        if (
            kind == "state_for"
            and shown.to_state == d.to_state
            and key == (d.entity_id, d.from_state)
            and abs(_seconds(shown.trigger["for"]) / 60 - d.after_min) <= d.tolerance_min + FOR_SLACK_MIN
        ):
            return Verdict(RIGHT, "planted duration", d)
    for r in home.presence_routines:
        if (r.entity_id, r.to_state) != target:
            continue
        kinds[r.event] = f"planted: on {r.event}" + (" after dark" if r.after_dark else "")
        if kind == r.event:
            return _with_presence_trigger(shown, r)
    if not kinds:
        return Verdict(UNPLANTED, "nothing planted on this entity and state")
    if kind not in kinds:
        return Verdict(WRONG_KIND, "; ".join(kinds.values()))
    return Verdict(UNPLANTED, f"right kind, wrong detail ({kinds[kind]})")


def _with_presence(shown: Shown, planted: PlantedRoutine, home: RealHome, what: str) -> Verdict:
    """Right when it names who must be home as the planted routine needs (or nobody)."""
    if planted.presence is None:
        want: tuple[str, ...] = ()
    elif planted.presence == ANYONE:
        want = tuple(sorted(home.people))
    else:
        want = (planted.presence,)
    if shown.home == want:
        return Verdict(RIGHT, what + (f", when {'/'.join(want)} home" if want else ""), planted)
    said = "/".join(shown.home) or "nobody"
    return Verdict(WRONG_CONDITION, f"{what}: needs {'/'.join(want) or 'nobody'} home, shown {said}", planted)


def _with_presence_trigger(shown: Shown, planted: PlantedPresence) -> Verdict:
    """Right with the dark where planted (none where not), and "nobody home" when leaving."""
    what = f"planted {planted.event}" + (" after dark" if planted.after_dark else "")
    if (shown.window == DARK) != planted.after_dark:
        return Verdict(
            WRONG_CONDITION, f"{what}: shown {'in the dark' if shown.window else 'all day'}", planted
        )
    if planted.event == LEAVE and not shown.nobody_home:
        return Verdict(WRONG_CONDITION, f"{what}: without 'nobody home'", planted)
    return Verdict(RIGHT, what, planted)


def _with_window(shown: Shown, planted: PlantedCoOccurrence, what: str) -> Verdict:
    """Right when its condition restricts it to the planted part of the day (or to none)."""
    window = getattr(planted, "window", None)
    if _window_fits(shown.window, window):
        return Verdict(RIGHT, what, planted)
    want = f"{window[0]}-{window[1]}" if window else "all day"
    got = f"{shown.window[0]}-{shown.window[1]}" if shown.window else "all day"
    return Verdict(WRONG_CONDITION, f"{what}: planted {want}, shown {got}", planted)


def contradictions(shown: Sequence[Shown], verdicts: Sequence[Verdict]) -> list[tuple[Shown, Shown]]:
    """Pairs that undo each other: one entity to two states within 15 min (or by one
    trigger), or A -> B together with B -> A unless both are planted."""
    found = []
    for (a, va), (b, vb) in combinations(zip(shown, verdicts, strict=True), 2):
        if a.entity_id == b.entity_id and a.to_state != b.to_state:
            near = (
                a.minute is not None
                and b.minute is not None
                and _apart(a.minute, b.minute) < CONTRADICTION_MIN
            )
            if near and set(a.days) & set(b.days):
                found.append((a, b))
                continue
            if a.trigger_key is not None and a.trigger_key == b.trigger_key:
                found.append((a, b))
                continue
        reverse = a.trigger_key == (b.entity_id, b.to_state) and b.trigger_key == (a.entity_id, a.to_state)
        if reverse and not (va.label == vb.label == RIGHT):
            found.append((a, b))
    return found


def groups_found(verdicts: Sequence[Verdict], home: RealHome) -> tuple[int, int]:
    """(planted groups shown as one right suggestion of all their parts, planted groups)."""
    groups: dict[str, list[PlantedRoutine]] = {}
    for r in home.routines:
        if r.group is not None:
            groups.setdefault(r.group, []).append(r)
    found = sum(
        any(all(any(p is q for q in v.parts) for p in members) for v in verdicts if v.label == RIGHT)
        for members in groups.values()
    )
    return found, len(groups)


def is_absurd_sun(shown: Shown) -> bool:
    """A sun trigger more than 3 hours from its event."""
    return abs(shown.sun_offset_min or 0) > ABSURD_SUN_OFFSET_MIN


def loops(shown: Sequence[Shown], home: RealHome) -> list[Shown]:
    """Shown suggestions whose action triggers an existing automation that changes their trigger."""
    return [
        s
        for s in shown
        if s.trigger_key is not None
        and any(
            a.trigger_entity_id == s.entity_id and a.action_entity_id == s.trigger_key[0]
            for a in home.existing_automations
        )
    ]

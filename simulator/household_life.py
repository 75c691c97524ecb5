"""Who is home: two people, a commute, a trip of one, a family vacation — and what follows.

``live(home)`` adds to a real home's changes (before its restarts and outages are applied):

- ``person.alex`` and ``person.sam``; Alex commutes on weekdays (out from about 08:20 to
  about 17:50), Sam works from home;
- a family **vacation** of 5 to 7 days (both away, leaving in the morning, back in the
  afternoon) and a **trip of Sam's** of 4 to 6 days (Alex home), not overlapping;
- nothing is done by hand while nobody is home: every change a person makes (by hand, in
  the app, with a script) and every indoor motion in those hours is taken out;
- **Sam's errands**: out for an hour or two on about a third of the weekday afternoons;
- **on the way out and on coming home**: the last one out turns the heating off a few
  minutes before leaving, the first one back turns it on again; whoever comes home in the
  dark turns the porch lamp on;
- **waking up**: on weekdays at about 06:50 whenever someone is home, the bedside lamp
  goes on at 30 % and a minute later the blinds open to 40 % (a scene: more than on and
  open); the lamp goes off and the blinds open fully later in the morning, the blinds
  close in the evening;
- **Sam's desk lamp**, on at about 20:30 whenever Sam is home (and off later): a routine
  that depends on one person;
- **bedtime**: at about 22:40 whenever someone is home, the lounge light and its floor
  lamp go off and the front door is locked, in no fixed order, within a couple of
  minutes: one routine of three devices (the lights go on in the evening, the lounge light
  some afternoons too, the door is unlocked in the morning, all by hand);
- **habits that change**: the study light on at 07:30 on weekdays moves to 08:05 halfway
  through the month, the kettle at 06:30 every day stops twelve days before its end, the
  reading lamp at 21:15 every day starts nine days before its end;
- with ``reverting``, **an accepted automation the household keeps undoing**: the landing
  light, on by hand at 06:15 on weekdays, was accepted as an automation halfway through
  the month; since then it fires at 06:15 and, on most mornings someone is home, is
  switched off again by hand within minutes and on by hand at about 07:00 (the ground
  truth is ``Life.accepted``).

The ground truth: every routine done by hand needs *someone home* (``presence.ANYONE``),
the desk lamp needs Sam; bedtime is one routine of three parts; the study light is a
routine at its new time, the reading lamp one too, the kettle none any more. All of it is
drawn from the seed, with a generator of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from custom_components.ai_automation.engine.presence import ANYONE
from custom_components.ai_automation.engine.presence_triggers import ARRIVE, LEAVE
from simulator.household import (
    AUTOMATION,
    DAILY,
    PHYSICAL,
    SYSTEM,
    USER,
    WEEKDAYS,
    Change,
    PlantedRoutine,
    by_hand,
)

ALEX, SAM = "person.alex", "person.sam"
PEOPLE = (ALEX, SAM)
DESK_LAMP = "light.desk_lamp"
STUDY, KETTLE, READING = "light.study", "switch.kettle", "light.reading_lamp"
# Bedtime: the lounge light and its floor lamp off, the front door locked (in any order).
LOUNGE, FLOOR_LAMP, FRONT_DOOR = "light.lounge", "light.lounge_floor_lamp", "lock.front_door"
BEDTIME = "22:40"
BEDTIME_PARTS = ((LOUNGE, "off"), (FLOOR_LAMP, "off"), (FRONT_DOOR, "locked"))
STUDY_BEFORE, STUDY_AFTER = "07:30", "08:05"
ENOUGH_DAYS = 7  # a week of a new habit makes it one
MOVED_ENOUGH_DAYS = 5  # a working week at its new time moves a habit
# Waking up on weekdays: the bedside lamp on at 30 %, the blinds opened to 40 %.
BEDSIDE, BLINDS = "light.bedside_lamp", "cover.bedroom_blinds"
WAKE_UP = "06:50"
WAKE_UP_LEVELS = {BEDSIDE: {"brightness": 77}, BLINDS: {"current_position": 40}}
# On the way out and on coming home (see ``_on_the_way``).
HEATING, PORCH_LAMP = "climate.heating", "light.porch_lamp"
ON_THE_WAY_SHARE = 0.9
ERRAND_SHARE = 0.35
LANDING, LANDING_AUTOMATION_AT, LANDING_BY_HAND_AT = "light.landing", "06:15", "07:00"
LANDING_UNDONE_SHARE = 0.85
_BY_PEOPLE = frozenset({USER, PHYSICAL, "script"})
_INDOOR_MOTION = (
    "binary_sensor.hallway_motion",
    "binary_sensor.stairs_motion",
    "binary_sensor.living_room_motion",
)


@dataclass(frozen=True, slots=True)
class PlantedPresence:
    """``entity_id`` to ``to_state`` when the last one leaves or someone arrives: the ground truth."""

    entity_id: str
    to_state: str
    event: str  # engine.presence_triggers.LEAVE | ARRIVE
    after_dark: bool = False


# Always planted with ``live`` (see ``_on_the_way``).
ON_THE_WAY = (
    PlantedPresence(HEATING, "off", LEAVE),
    PlantedPresence(HEATING, "heat", ARRIVE),
    PlantedPresence(PORCH_LAMP, "on", ARRIVE, after_dark=True),
)


@dataclass(frozen=True, slots=True)
class AcceptedAutomation:
    """An accepted suggestion's automation and what the household did after: the ground truth."""

    entity_id: str
    to_state: str
    time: str  # its time trigger, local HH:MM
    days: tuple[int, ...]  # 0 = Monday
    accepted_ts: float  # UTC seconds
    fired: tuple[float, ...]  # UTC seconds of its firings since
    undone: tuple[float, ...]  # those switched back by hand within minutes
    by_hand: str  # the household's own time for it since, local HH:MM


@dataclass(frozen=True, slots=True)
class Life:
    """What ``live`` planted: who was away when (UTC seconds)."""

    vacation: tuple[float, float]
    sams_trip: tuple[float, float]
    away: tuple[tuple[float, float], ...]  # nobody home
    sam_away: tuple[tuple[float, float], ...]
    reading_days: int  # days the new reading lamp routine happened on
    moved_study_days: int  # days the study light went on at its new time
    accepted: AcceptedAutomation | None = None  # with ``reverting``: the one undone by hand


def _inside(ts: float, spans: tuple[tuple[float, float], ...]) -> bool:
    return any(start <= ts < end for start, end in spans)


def live(
    changes: list[Change],
    first_date: date,
    days: int,
    clock: Callable[[date, float], float],
    seed: int,
    end_ts: float,
    reverting: bool = False,
    dark: Callable[[float], bool] = lambda _ts: False,
) -> tuple[list[Change], Life]:
    """The changes of a home where people come and go; ``clock(day, minute)`` is its UTC time.

    ``dark(ts)``: whether the sun is down then. Nothing at or after ``end_ts`` (the home's
    end). ``reverting``: and the accepted automation the household keeps undoing (drawn
    from a generator of its own, so the rest of the home stays as it was).
    """
    rng = np.random.default_rng([seed, 0x11FE])
    coming_and_going = np.random.default_rng([seed, 0xC0DE])
    # The vacation in the second or third week, Sam's trip before or after it.
    vacation_first = int(rng.integers(8, days - 12))
    vacation_days = int(rng.integers(5, 8))
    trip_days = int(rng.integers(4, 7))
    trip_first = (
        int(rng.integers(1, vacation_first - trip_days))
        if vacation_first - trip_days > 2
        else vacation_first + vacation_days + 1
    )

    def day(n: int) -> date:
        return first_date + timedelta(days=n)

    vacation = (
        clock(day(vacation_first), rng.uniform(8 * 60, 10 * 60)),
        clock(day(vacation_first + vacation_days), rng.uniform(14 * 60, 17 * 60)),
    )
    sams_trip = (
        clock(day(trip_first), rng.uniform(7 * 60, 11 * 60)),
        clock(day(trip_first + trip_days), rng.uniform(15 * 60, 19 * 60)),
    )
    alex_out: list[tuple[float, float]] = []
    for n in range(days):
        d = day(n)
        if d.weekday() < 5:
            span = (clock(d, rng.normal(8 * 60 + 20, 12)), clock(d, rng.normal(17 * 60 + 50, 20)))
            if not (_inside(span[0], (vacation,)) or _inside(span[1], (vacation,))):
                alex_out.append(span)
    errands = _errands(coming_and_going, first_date, days, clock, (vacation, sams_trip))
    sam_away = (vacation, sams_trip, *errands)
    # Nobody home: the vacation, and Alex's working hours while Sam is on the trip or out.
    away = (
        vacation,
        *(
            (max(a, b_start), min(b, b_end))
            for a, b in alex_out
            for b_start, b_end in (sams_trip, *errands)
            if a < b_end and b > b_start
        ),
    )

    kept = [
        c
        for c in changes
        if not ((c.origin in _BY_PEOPLE or c.entity_id in _INDOOR_MOTION) and _inside(c.ts, away))
    ]
    kept += _whereabouts(ALEX, [vacation, *alex_out], clock(first_date, 0))
    kept += _whereabouts(SAM, list(sam_away), clock(first_date, 0))
    for n in range(days):
        d = day(n)
        if rng.random() < 0.05:
            continue
        on = clock(d, rng.normal(20 * 60 + 30, 8))
        if not _inside(on, sam_away):
            kept.append(Change(DESK_LAMP, "on", on, USER))
            kept.append(Change(DESK_LAMP, "off", on + float(rng.uniform(1.0, 4.0)) * 3600, PHYSICAL))
    kept += _bedtime(rng, first_date, days, clock, away)
    kept += _waking_up(np.random.default_rng([seed, 0x5CE7E]), first_date, days, clock, away)
    whereabouts = [c for c in kept if c.entity_id in PEOPLE]
    kept += _on_the_way(coming_and_going, whereabouts, clock(first_date, 0), dark)
    habits = [c for c in _habits(rng, first_date, days, clock, away) if c.ts < end_ts]
    kept += habits
    accepted = None
    if reverting:
        landing, accepted = _reverted_automation(
            np.random.default_rng([seed, 0xACCE]), first_date, days, clock, away
        )
        kept += [c for c in landing if c.ts < end_ts]
    kept = sorted((c for c in kept if c.ts < end_ts), key=lambda c: (c.ts, c.entity_id))
    reading_days = sum(c.entity_id == READING and c.state == "on" for c in habits)
    moved = clock(day(days // 2), 0)
    study_days = sum(c.entity_id == STUDY and c.state == "on" and c.ts >= moved for c in habits)
    return kept, Life(
        vacation=vacation,
        sams_trip=sams_trip,
        away=away,
        sam_away=sam_away,
        reading_days=reading_days,
        moved_study_days=study_days,
        accepted=accepted,
    )


def _habits(
    rng: np.random.Generator,
    first_date: date,
    days: int,
    clock: Callable[[date, float], float],
    away: tuple[tuple[float, float], ...],
) -> list[Change]:
    """The study light that moves, the kettle that stops, the reading lamp that starts.

    Done by hand: never while nobody is home (``away`` holds every span of it).
    """
    moved_on, stopped_on, started_on = days // 2, days - 12, days - 9
    out: list[Change] = []
    for n in range(days):
        d = first_date + timedelta(days=n)
        acts: list[tuple[str, float]] = []
        if d.weekday() < 5:
            at = STUDY_AFTER if n >= moved_on else STUDY_BEFORE
            acts.append((STUDY, int(at[:2]) * 60 + int(at[3:]) + rng.normal(0, 4)))
        if n < stopped_on:
            acts.append((KETTLE, 6 * 60 + 30 + rng.normal(0, 4)))
        if n >= started_on:
            acts.append((READING, 21 * 60 + 15 + rng.normal(0, 5)))
        for entity_id, minute in acts:
            on = clock(d, minute)
            off = on + float(rng.uniform(0.5, 5.0)) * 3600
            if rng.random() < 0.06 or _inside(on, away):
                continue
            out.append(Change(entity_id, "on", on, USER))
            # Off by hand, or (nobody home by then) once whoever comes back first notices.
            noticed = float(rng.uniform(1, 60)) * 60
            out.append(Change(entity_id, "off", _back_home(off, away, noticed), PHYSICAL))
    return out


def _bedtime(
    rng: np.random.Generator,
    first_date: date,
    days: int,
    clock: Callable[[date, float], float],
    away: tuple[tuple[float, float], ...],
) -> list[Change]:
    """The lounge lights on in the evening, off at bedtime, the door locked; unlocked mornings."""
    bedtime = int(BEDTIME[:2]) * 60 + int(BEDTIME[3:])
    out: list[Change] = []
    for n in range(days):
        d = first_date + timedelta(days=n)
        unlock = clock(d, rng.uniform(7 * 60, 9 * 60))
        if not _inside(unlock, away):
            out.append(Change(FRONT_DOOR, "unlocked", unlock, PHYSICAL))
        evening = clock(d, rng.uniform(18 * 60, 20 * 60))
        night = clock(d, bedtime + rng.normal(0, 6))
        if rng.random() < 0.07 or _inside(evening, away) or _inside(night, away):
            continue
        # Some afternoons the lounge light is on for a while too.
        if rng.random() < 0.4:
            noon = clock(d, rng.uniform(12 * 60, 16 * 60))
            if not _inside(noon, away):
                out.append(Change(LOUNGE, "on", noon, PHYSICAL))
                out.append(Change(LOUNGE, "off", noon + float(rng.uniform(10, 90)) * 60, PHYSICAL))
        out.append(Change(LOUNGE, "on", evening, PHYSICAL))
        out.append(Change(FLOOR_LAMP, "on", evening + float(rng.uniform(5, 60)) * 60, USER))
        # In no fixed order, a minute or two apart.
        for k, entity_id in enumerate(rng.permutation([LOUNGE, FLOOR_LAMP, FRONT_DOOR])):
            state = "locked" if entity_id == FRONT_DOOR else "off"
            out.append(Change(str(entity_id), state, night + k * float(rng.uniform(20, 80)), by_hand(rng)))
    return out


def _reverted_automation(
    rng: np.random.Generator,
    first_date: date,
    days: int,
    clock: Callable[[date, float], float],
    away: tuple[tuple[float, float], ...],
) -> tuple[list[Change], AcceptedAutomation]:
    """The landing light: by hand at 06:15 on weekdays, accepted halfway, then undone by hand.

    Nobody home, nobody undoes it: it stays on until someone comes back.
    """
    accepted_on = days // 2
    automation_at = int(LANDING_AUTOMATION_AT[:2]) * 60 + int(LANDING_AUTOMATION_AT[3:])
    by_hand_at = int(LANDING_BY_HAND_AT[:2]) * 60 + int(LANDING_BY_HAND_AT[3:])
    out: list[Change] = []
    fired: list[float] = []
    undone: list[float] = []
    on_until = 0.0
    for n in range(days):
        d = first_date + timedelta(days=n)
        if d.weekday() not in WEEKDAYS:
            continue
        if n < accepted_on:
            on = clock(d, automation_at + rng.normal(0, 4))
            if rng.random() < 0.06 or _inside(on, away):
                continue
            out.append(Change(LANDING, "on", on, USER))
            out.append(
                Change(LANDING, "off", _back_home(on + float(rng.uniform(0.5, 2.0)) * 3600, away), PHYSICAL)
            )
            continue
        # Its time trigger: the change lands a fraction of a second after the minute.
        fire = clock(d, automation_at) + float(rng.uniform(0.05, 0.8))
        if fire < on_until:
            continue  # still on since a morning nobody was home: its condition skips it
        fired.append(fire)
        out.append(Change(LANDING, "on", fire, AUTOMATION))
        if _inside(fire, away) or rng.random() >= LANDING_UNDONE_SHARE:
            on_until = _back_home(fire + float(rng.uniform(0.5, 2.0)) * 3600, away)
            out.append(Change(LANDING, "off", on_until, PHYSICAL))
            continue
        undone.append(fire)
        out.append(Change(LANDING, "off", fire + float(rng.uniform(1.0, 6.0)) * 60, PHYSICAL))
        on = clock(d, by_hand_at + rng.normal(0, 5))
        out.append(Change(LANDING, "on", on, USER))
        out.append(Change(LANDING, "off", on + float(rng.uniform(0.5, 2.0)) * 3600, PHYSICAL))
    accepted = AcceptedAutomation(
        entity_id=LANDING,
        to_state="on",
        time=LANDING_AUTOMATION_AT,
        days=WEEKDAYS,
        accepted_ts=clock(first_date + timedelta(days=accepted_on - 1), 20 * 60),
        fired=tuple(fired),
        undone=tuple(undone),
        by_hand=LANDING_BY_HAND_AT,
    )
    return out, accepted


def _waking_up(
    rng: np.random.Generator,
    first_date: date,
    days: int,
    clock: Callable[[date, float], float],
    away: tuple[tuple[float, float], ...],
) -> list[Change]:
    """The bedside lamp at 30 % and the blinds at 40 % on weekday mornings (see the module doc)."""
    at = int(WAKE_UP[:2]) * 60 + int(WAKE_UP[3:])
    lamp = json.dumps(WAKE_UP_LEVELS[BEDSIDE])
    out: list[Change] = []
    for n in range(days):
        d = first_date + timedelta(days=n)
        evening = clock(d, rng.uniform(20 * 60, 22 * 60))
        if not _inside(evening, away):
            out.append(Change(BLINDS, "closed", evening, by_hand(rng), json.dumps({"current_position": 0})))
        if d.weekday() >= 5 or rng.random() < 0.06:
            continue
        on = clock(d, at + rng.normal(0, 5))
        if _inside(on, away):
            continue
        out.append(Change(BEDSIDE, "on", on, by_hand(rng), lamp))
        # Its position varies by a few percent from day to day (a slider in the app).
        position = 40 + int(rng.integers(-2, 3))
        blinds = on + float(rng.uniform(30, 120))
        out.append(Change(BLINDS, "open", blinds, by_hand(rng), json.dumps({"current_position": position})))
        # Off (and the blinds fully open) later: before leaving, if everyone leaves first.
        off = _before_leaving(on + float(rng.uniform(30, 70)) * 60, away, rng)
        out.append(Change(BEDSIDE, "off", max(off, blinds + 1), PHYSICAL))
        fully = _before_leaving(blinds + float(rng.uniform(80, 120)) * 60, away, rng)
        if fully > blinds:
            out.append(Change(BLINDS, "open", fully, PHYSICAL, '{"current_position": 100}'))
    return out


def _before_leaving(ts: float, away: tuple[tuple[float, float], ...], rng: np.random.Generator) -> float:
    """``ts``, or a minute or two before the last one left, when nobody is home then."""
    return next((start - float(rng.uniform(30, 120)) for start, end in away if start <= ts < end), ts)


def _errands(
    rng: np.random.Generator,
    first_date: date,
    days: int,
    clock: Callable[[date, float], float],
    busy: tuple[tuple[float, float], ...],
) -> list[tuple[float, float]]:
    """Sam out for an hour or two some weekday afternoons (not on the trip or the vacation)."""
    out = []
    for n in range(days):
        d = first_date + timedelta(days=n)
        leave = clock(d, rng.uniform(13 * 60, 15 * 60))
        back = leave + float(rng.uniform(60, 150)) * 60
        if (
            d.weekday() < 5
            and rng.random() < ERRAND_SHARE
            and not any(_inside(t, busy) for t in (leave, back))
        ):
            out.append((leave, back))
    return out


def comings_and_goings(whereabouts: list[Change]) -> tuple[list[float], list[float], list[float]]:
    """(last ones leaving, anyone arriving, first ones arriving): UTC seconds."""
    where: dict[str, bool] = {}
    leaves, arrivals, first = [], [], []
    for change in sorted(whereabouts, key=lambda c: c.ts):
        home = change.state == "home"
        was = where.get(change.entity_id, True)
        empty_before = bool(where) and not any(where.values())
        where[change.entity_id] = home
        if home and not was:
            arrivals.append(change.ts)
            if empty_before:
                first.append(change.ts)
        elif was and not home and not any(where.values()):
            leaves.append(change.ts)
    return leaves, arrivals, first


def _on_the_way(
    rng: np.random.Generator, whereabouts: list[Change], start: float, dark: Callable[[float], bool]
) -> list[Change]:
    """The heating off on the way out and back on on coming home; the porch lamp in the dark.

    The last one out turns the heating off a few minutes before their phone says they
    left; the first one back turns it on a minute or so after; whoever comes home in the
    dark turns the porch lamp on and, a while later, off.
    """
    out = [Change(HEATING, "heat", start, SYSTEM)]
    leaves, arrivals, first = comings_and_goings(whereabouts)
    for leave in leaves:
        if rng.random() < ON_THE_WAY_SHARE:
            out.append(Change(HEATING, "off", leave - float(rng.uniform(60, 480)), by_hand(rng)))
    for arrive in first:
        if rng.random() < ON_THE_WAY_SHARE:
            out.append(Change(HEATING, "heat", arrive + float(rng.uniform(30, 240)), by_hand(rng)))
    for arrive in arrivals:
        if dark(arrive) and rng.random() < ON_THE_WAY_SHARE:
            on = arrive + float(rng.uniform(20, 120))
            out.append(Change(PORCH_LAMP, "on", on, PHYSICAL))
            out.append(Change(PORCH_LAMP, "off", on + float(rng.uniform(5, 20)) * 60, PHYSICAL))
    return out


def _back_home(ts: float, away: tuple[tuple[float, float], ...], noticed_s: float = 60.0) -> float:
    """``ts``, or ``noticed_s`` after the end of the time away it falls in."""
    return next((end + noticed_s for start, end in away if start <= ts < end), ts)


def _whereabouts(person: str, out: list[tuple[float, float]], start: float) -> list[Change]:
    """Home from the start; not_home during each of ``out`` (merged where they overlap)."""
    changes = [Change(person, "home", start, SYSTEM)]
    for leave, back in sorted(out):
        changes.append(Change(person, "not_home", leave, SYSTEM))
        changes.append(Change(person, "home", back, SYSTEM))
    # Overlapping spans: the last word at each moment is the later change; keep them ordered.
    changes.sort(key=lambda c: c.ts)
    merged: list[Change] = []
    depth = 0
    for c in changes[1:]:
        depth += 1 if c.state == "not_home" else -1
        if (c.state == "not_home" and depth == 1) or (c.state == "home" and depth == 0):
            merged.append(c)
    return [changes[0], *merged]


def planted(routines: list[PlantedRoutine], life: Life) -> list[PlantedRoutine]:
    """The routines' ground truth in a home with ``live``: by hand needs someone home.

    The reading lamp is a routine once it happened on a week of days (the vacation may
    have taken some of its nine); the study light is one at its new time once that
    happened on a working week of days, before that still at its old one.
    """
    out = [r if r.automated else replace(r, presence=ANYONE) for r in routines]
    out.append(PlantedRoutine(DESK_LAMP, "on", "20:30", DAILY, presence=SAM))
    study = STUDY_AFTER if life.moved_study_days >= MOVED_ENOUGH_DAYS else STUDY_BEFORE
    out.append(PlantedRoutine(STUDY, "on", study, WEEKDAYS, presence=ANYONE))
    out += [
        PlantedRoutine(entity_id, state, BEDTIME, DAILY, presence=ANYONE, group="bedtime")
        for entity_id, state in BEDTIME_PARTS
    ]
    out += [
        PlantedRoutine(entity_id, state, WAKE_UP, WEEKDAYS, presence=ANYONE, group="wake_up")
        for entity_id, state in ((BEDSIDE, "on"), (BLINDS, "open"))
    ]
    # Off again 30 to 70 minutes later: a routine of its own, at about 07:40.
    out.append(PlantedRoutine(BEDSIDE, "off", "07:40", WEEKDAYS, presence=ANYONE))
    if life.reading_days >= ENOUGH_DAYS:
        out.append(PlantedRoutine(READING, "on", "21:15", DAILY, presence=ANYONE))
    return out

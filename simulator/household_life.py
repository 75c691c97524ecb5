"""Who is home: two people, a commute, a trip of one, a family vacation — and what follows.

``live(home)`` adds to a real home's changes (before its restarts and outages are applied):

- ``person.alex`` and ``person.sam``; Alex commutes on weekdays (out from about 08:20 to
  about 17:50), Sam works from home;
- a family **vacation** of 5 to 7 days (both away, leaving in the morning, back in the
  afternoon) and a **trip of Sam's** of 4 to 6 days (Alex home), not overlapping;
- nothing is done by hand while nobody is home: every change a person makes (by hand, in
  the app, with a script) and every indoor motion in those hours is taken out;
- **Sam's desk lamp**, on at about 20:30 whenever Sam is home (and off later): a routine
  that depends on one person.

The ground truth: every routine done by hand needs *someone home* (``presence.ANYONE``),
the desk lamp needs Sam. All of it is drawn from the seed, with a generator of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from custom_components.ai_automation.engine.presence import ANYONE
from simulator.household import DAILY, PHYSICAL, SYSTEM, USER, Change, PlantedRoutine

ALEX, SAM = "person.alex", "person.sam"
PEOPLE = (ALEX, SAM)
DESK_LAMP = "light.desk_lamp"
_BY_PEOPLE = frozenset({USER, PHYSICAL, "script"})
_INDOOR_MOTION = (
    "binary_sensor.hallway_motion",
    "binary_sensor.stairs_motion",
    "binary_sensor.living_room_motion",
)


@dataclass(frozen=True, slots=True)
class Life:
    """What ``live`` planted: who was away when (UTC seconds)."""

    vacation: tuple[float, float]
    sams_trip: tuple[float, float]
    away: tuple[tuple[float, float], ...]  # nobody home
    sam_away: tuple[tuple[float, float], ...]


def _inside(ts: float, spans: tuple[tuple[float, float], ...]) -> bool:
    return any(start <= ts < end for start, end in spans)


def live(
    changes: list[Change], first_date: date, days: int, clock: Callable[[date, float], float], seed: int
) -> tuple[list[Change], Life]:
    """The changes of a home where people come and go; ``clock(day, minute)`` is its UTC time."""
    rng = np.random.default_rng([seed, 0x11FE])
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
    sam_away = (vacation, sams_trip)
    # Nobody home: the vacation, and Alex's working hours while Sam is on the trip.
    away = (
        vacation,
        *(
            (max(a, sams_trip[0]), min(b, sams_trip[1]))
            for a, b in alex_out
            if a < sams_trip[1] and b > sams_trip[0]
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
    kept.sort(key=lambda c: (c.ts, c.entity_id))
    return kept, Life(vacation=vacation, sams_trip=sams_trip, away=away, sam_away=sam_away)


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


def planted(routines: list[PlantedRoutine]) -> list[PlantedRoutine]:
    """The routines' ground truth in a home with ``live``: by hand needs someone home."""
    out = [r if r.automated else replace(r, presence=ANYONE) for r in routines]
    out.append(PlantedRoutine(DESK_LAMP, "on", "20:30", DAILY, presence=SAM))
    return out

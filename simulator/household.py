"""A reproducible simulated household: what its people do, hour by hour, for N days.

Everything is drawn from one seeded ``numpy`` generator, so a seed is a home. The
simulator returns the state changes and the ground truth of what it planted (time-of-day
routines, sun-relative routines, co-occurrences, automated behaviour, negative
controls), so tests can score recall and false positives of the detectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
from astral import LocationInfo
from astral.sun import sun

# Origins, as the recorder would show them through the context columns.
USER = "user"  # context_user_id set (app, UI, voice)
PHYSICAL = "physical"  # nothing set (a wall switch, the device itself)
AUTOMATION = "automation"  # time-triggered automation: only an automation_triggered event
AUTOMATION_CHILD = "automation_child"  # state-triggered automation: context has a parent
SYSTEM = "system"  # sensors


def by_hand(rng: np.random.Generator) -> str:
    """A wall switch or the app."""
    return PHYSICAL if rng.random() < 0.5 else USER


@dataclass(frozen=True, slots=True)
class Change:
    """One state change."""

    entity_id: str
    state: str
    ts: float  # UTC epoch seconds
    origin: str
    # The state's attributes as JSON text (brightness, position, source), or None: none.
    attributes: str | None = None


@dataclass(frozen=True, slots=True)
class PlantedRoutine:
    """A time-of-day routine the simulator planted: the ground truth."""

    entity_id: str
    to_state: str
    time: str  # local HH:MM (for sun routines: a typical time, informative only)
    days: tuple[int, ...]  # 0 = Monday
    automated: bool = False
    sun_event: str | None = None  # planted relative to sunrise/sunset
    sun_offset_min: int | None = None
    # Who must be home for it: presence.ANYONE, a person's entity id, or None (no one recorded).
    presence: str | None = None
    # Done together with the other routines of this name (one automation of all), or None.
    group: str | None = None


@dataclass(frozen=True, slots=True)
class PlantedCoOccurrence:
    """B follows A within ``max_lag_s``: the ground truth."""

    trigger_entity_id: str
    trigger_to_state: str
    entity_id: str
    to_state: str
    max_lag_s: float
    automated: bool = False


@dataclass(slots=True)
class Household:
    """The simulated history and its ground truth."""

    changes: list[Change]
    routines: list[PlantedRoutine]
    negative_controls: list[str]
    co_occurrences: list[PlantedCoOccurrence] = field(default_factory=list)
    friendly_names: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None


WEEKDAYS = (0, 1, 2, 3, 4)
WEEKENDS = (5, 6)
DAILY = (0, 1, 2, 3, 4, 5, 6)

# (entity, state, local time, days, jitter min, miss rate, origin)
_ROUTINES: tuple[tuple[str, str, str, tuple[int, ...], float, float, str], ...] = (
    ("light.kitchen", "on", "06:45", WEEKDAYS, 6.0, 0.08, PHYSICAL),
    ("light.kitchen", "off", "07:40", WEEKDAYS, 7.0, 0.10, PHYSICAL),
    ("switch.coffee_maker", "on", "08:30", WEEKENDS, 10.0, 0.10, USER),
    ("cover.living_room_blinds", "open", "07:15", DAILY, 8.0, 0.07, USER),
    ("cover.living_room_blinds", "closed", "21:30", DAILY, 12.0, 0.07, USER),
    ("light.living_room", "on", "19:05", DAILY, 12.0, 0.10, PHYSICAL),
    ("light.bedroom", "off", "23:55", DAILY, 9.0, 0.10, PHYSICAL),  # crosses midnight
    ("fan.bedroom", "on", "22:40", (0, 2, 4), 8.0, 0.05, USER),
    ("light.porch", "on", "18:00", DAILY, 0.0, 0.0, AUTOMATION),  # already automated
)
# (entity, state, sun event, offset min, jitter min, miss rate, origin)
_SUN_ROUTINES: tuple[tuple[str, str, str, int, float, float, str], ...] = (
    ("light.garden", "on", "sunset", 15, 3.0, 0.05, PHYSICAL),
)

FRIENDLY_NAMES = {
    "light.kitchen": "Kitchen light",
    "switch.coffee_maker": "Coffee maker",
    "cover.living_room_blinds": "Living room blinds",
    "light.living_room": "Living room light",
    "light.bedroom": "Bedroom light",
    "fan.bedroom": "Bedroom fan",
    "light.porch": "Porch light",
    "light.garden": "Garden light",
    "light.hallway": "Hallway light",
    "binary_sensor.hallway_motion": "Hallway motion",
    "binary_sensor.living_room_motion": "Living room motion",
    "media_player.tv": "TV",
    "light.tv_backlight": "TV backlight",
    "binary_sensor.front_door": "Front door",
    "light.entrance": "Entrance light",
    "switch.random_toggle": "Spare plug",
    "sensor.flaky_plug_power": "Flaky plug power",
}
_OFF_STATE = {"on": "off", "off": "on", "open": "closed", "closed": "open"}


def _sun_minutes(day: date, tz: tzinfo, latitude: float, longitude: float) -> tuple[float, float]:
    """Local minute of day of sunrise and sunset."""
    # Asked in the home's zone, astral returns the events of that local date (asked in
    # UTC, a Californian sunset would fall on the next UTC date).
    times = sun(LocationInfo(latitude=latitude, longitude=longitude).observer, date=day, tzinfo=tz)
    out = []
    for key in ("sunrise", "sunset"):
        local = times[key].astimezone(tz)
        # Days since the local date, in minutes: a sunset after midnight UTC stays right.
        out.append((local.date() - day).days * 1440 + local.hour * 60 + local.minute + local.second / 60)
    return out[0], out[1]


def simulate(
    seed: int = 1,
    days: int = 30,
    end: datetime | None = None,
    time_zone: tzinfo | str = "Europe/Amsterdam",
    numeric_sensors: int = 4,
    numeric_interval_s: int = 300,
    latitude: float = 52.37,
    longitude: float = 4.89,
) -> Household:
    """Simulate ``days`` local days ending at ``end`` (default: now) in ``time_zone``."""
    # Long on purpose: one seeded generator's draws in a fixed order, day by day; every
    # seed's home (and every figure measured on it) depends on that order staying as it is.
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    rng = np.random.default_rng(seed)
    end = (end or datetime.now(tz)).astimezone(tz)
    first_date = (end - timedelta(days=days)).date() + timedelta(days=1)
    start = datetime.combine(first_date, datetime.min.time(), tz)
    changes: list[Change] = []

    def at(day: date, minute: float) -> float:
        # Aware datetime arithmetic is wall-clock arithmetic; .timestamp() then resolves
        # the offset in force at that wall time, so DST days come out right.
        return (datetime.combine(day, datetime.min.time(), tz) + timedelta(minutes=float(minute))).timestamp()

    end_ts = end.timestamp()

    def add(entity_id: str, state: str, ts: float, origin: str) -> None:
        if ts < end_ts:
            changes.append(Change(entity_id, state, ts, origin))

    for day_no in range(days):
        day = first_date + timedelta(days=day_no)
        weekday = day.weekday()
        day_start = at(day, 0)
        for entity_id, state, hhmm, on_days, jitter, miss, origin in _ROUTINES:
            if weekday not in on_days or rng.random() < miss:
                continue
            h, m = (int(x) for x in hhmm.split(":"))
            minute = h * 60 + m + (rng.normal(0.0, jitter) if jitter else 0.0)
            ts = at(day, minute)
            add(entity_id, state, ts, origin)
            # The opposite state at a random later time (no routine of its own).
            if entity_id in ("light.porch", "fan.bedroom", "switch.coffee_maker"):
                add(entity_id, _OFF_STATE[state], ts + float(rng.uniform(1.5, 4.0)) * 3600, PHYSICAL)
            if entity_id == "light.living_room":
                later = at(day, 22 * 60 + rng.uniform(-120, 90))
                if later > ts:
                    add(entity_id, "off", later, PHYSICAL)
            if entity_id == "light.bedroom":
                add(entity_id, "on", at(day, 21 * 60 + rng.uniform(-60, 120)), PHYSICAL)

        sunrise, sunset = _sun_minutes(day, tz, latitude, longitude)
        for entity_id, state, event, offset, jitter, miss, origin in _SUN_ROUTINES:
            if rng.random() < miss:
                continue
            base = sunset if event == "sunset" else sunrise
            ts = at(day, base + offset + rng.normal(0.0, jitter))
            add(entity_id, state, ts, origin)
            add(entity_id, _OFF_STATE[state], at(day, 23 * 60 + rng.uniform(0, 50)), PHYSICAL)

        # Hallway: people pass 15-30 times a day; motion fires, and the wall switch
        # follows within seconds on most passes (always after dark).
        for ts in np.sort(day_start + rng.uniform(6.5 * 3600, 23.5 * 3600, int(rng.integers(15, 31)))):
            add("binary_sensor.hallway_motion", "on", float(ts), SYSTEM)
            add("binary_sensor.hallway_motion", "off", float(ts) + float(rng.uniform(30, 90)), SYSTEM)
            dark = (ts - day_start) / 60 >= sunset - 30
            if rng.random() < (0.95 if dark else 0.75):
                add("light.hallway", "on", float(ts) + float(rng.uniform(1.0, 5.0)), PHYSICAL)
                add("light.hallway", "off", float(ts) + float(rng.uniform(100, 300)), PHYSICAL)

        # A busy motion sensor nothing follows: hundreds of events a day.
        for ts in np.sort(day_start + rng.uniform(0, 86_400, int(rng.integers(150, 250)))):
            add("binary_sensor.living_room_motion", "on", float(ts), SYSTEM)
            add("binary_sensor.living_room_motion", "off", float(ts) + 20.0, SYSTEM)

        # TV evenings: the backlight follows the TV (a smart plug scene, by hand).
        if rng.random() < 0.85:
            tv_on = at(day, rng.uniform(18.5 * 60, 21.5 * 60))
            add("media_player.tv", "on", tv_on, USER)
            if rng.random() < 0.9:
                add("light.tv_backlight", "on", tv_on + float(rng.uniform(2, 10)), USER)
            tv_off = tv_on + float(rng.uniform(1.0, 3.5)) * 3600
            add("media_player.tv", "off", tv_off, USER)
            add("light.tv_backlight", "off", tv_off + float(rng.uniform(2, 20)), USER)

        # Front door: an existing state-triggered automation turns the entrance light on.
        for ts in day_start + rng.uniform(7 * 3600, 22 * 3600, int(rng.integers(2, 6))):
            add("binary_sensor.front_door", "on", float(ts), SYSTEM)
            add("binary_sensor.front_door", "off", float(ts) + 15.0, SYSTEM)
            add("light.entrance", "on", float(ts) + 0.4, AUTOMATION_CHILD)
            add("light.entrance", "off", float(ts) + 180.0, AUTOMATION_CHILD)

        # Negative control: a plug toggled at random times, 1-4 times a day.
        for ts in day_start + rng.uniform(0, 86_400, int(rng.integers(1, 5))):
            add("switch.random_toggle", "on" if rng.random() < 0.5 else "off", float(ts), USER)

        # A flaky plug that drops off the network now and then.
        for ts in day_start + rng.uniform(0, 86_400, int(rng.integers(0, 4))):
            add("sensor.flaky_plug_power", "unavailable", float(ts), SYSTEM)
            add("sensor.flaky_plug_power", "3.5", float(ts) + 60, SYSTEM)

    # Numeric sensors report every few minutes all day long.
    grid = np.arange(start.timestamp(), end_ts, numeric_interval_s)
    for i in range(numeric_sensors):
        values = 20.0 + 2.0 * np.sin(grid / 86_400 * 2 * np.pi + i) + rng.normal(0, 0.2, grid.size)
        changes.extend(
            Change(f"sensor.room_{i + 1}_temperature", f"{v:.1f}", float(t), SYSTEM)
            for t, v in zip(grid, values, strict=True)
        )

    changes.sort(key=lambda c: (c.ts, c.entity_id))
    routines = [
        PlantedRoutine(e, s, hhmm, d, automated=(o == AUTOMATION)) for e, s, hhmm, d, _j, _m, o in _ROUTINES
    ]
    routines += [
        PlantedRoutine(e, s, "", DAILY, sun_event=ev, sun_offset_min=off)
        for e, s, ev, off, _j, _m, _o in _SUN_ROUTINES
    ]
    co_occurrences = [
        PlantedCoOccurrence("binary_sensor.hallway_motion", "on", "light.hallway", "on", 5.0),
        PlantedCoOccurrence("media_player.tv", "on", "light.tv_backlight", "on", 10.0),
        PlantedCoOccurrence("binary_sensor.front_door", "on", "light.entrance", "on", 1.0, automated=True),
    ]
    names = dict(FRIENDLY_NAMES)
    names.update(
        {f"sensor.room_{i + 1}_temperature": f"Room {i + 1} temperature" for i in range(numeric_sensors)}
    )
    return Household(
        changes=changes,
        routines=routines,
        negative_controls=["switch.random_toggle", "binary_sensor.living_room_motion"],
        co_occurrences=co_occurrences,
        friendly_names=names,
        start=start,
        end=end,
    )

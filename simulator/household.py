"""A reproducible simulated household: what its people do, hour by hour, for N days.

Everything is drawn from one seeded ``numpy`` generator, so a seed is a home. The
simulator returns the state changes and the ground truth of the routines planted in
them, so tests can score what the detectors find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

# Origins, as the recorder would show them through the context columns.
USER = "user"  # context_user_id set (app, UI, voice)
PHYSICAL = "physical"  # nothing set (a wall switch, the device itself)
AUTOMATION = "automation"  # time-triggered automation: a recorded automation_triggered event
SYSTEM = "system"  # sensors


@dataclass(frozen=True, slots=True)
class Change:
    """One state change."""

    entity_id: str
    state: str
    ts: float  # UTC epoch seconds
    origin: str


@dataclass(frozen=True, slots=True)
class PlantedRoutine:
    """A time-of-day routine the simulator planted: the ground truth."""

    entity_id: str
    to_state: str
    time: str  # local HH:MM
    days: tuple[int, ...]  # 0 = Monday
    automated: bool = False


@dataclass(slots=True)
class Household:
    """The simulated history and its ground truth."""

    changes: list[Change]
    routines: list[PlantedRoutine]
    negative_controls: list[str]
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

FRIENDLY_NAMES = {
    "light.kitchen": "Kitchen light",
    "switch.coffee_maker": "Coffee maker",
    "cover.living_room_blinds": "Living room blinds",
    "light.living_room": "Living room light",
    "light.bedroom": "Bedroom light",
    "fan.bedroom": "Bedroom fan",
    "light.porch": "Porch light",
    "light.hallway": "Hallway light",
    "binary_sensor.hallway_motion": "Hallway motion",
    "switch.random_toggle": "Spare plug",
    "sensor.flaky_plug_power": "Flaky plug power",
}
_OFF_STATE = {"on": "off", "off": "on", "open": "closed", "closed": "open"}


def simulate(
    seed: int = 1,
    days: int = 30,
    end: datetime | None = None,
    time_zone: tzinfo | str = "Europe/Amsterdam",
    numeric_sensors: int = 4,
    numeric_interval_s: int = 300,
) -> Household:
    """Simulate ``days`` local days ending at ``end`` (default: now) in ``time_zone``."""
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    rng = np.random.default_rng(seed)
    end = (end or datetime.now(tz)).astimezone(tz)
    first_date = (end - timedelta(days=days)).date() + timedelta(days=1)
    start = datetime.combine(first_date, datetime.min.time(), tz)
    changes: list[Change] = []

    def at(date: object, minute: float) -> float:
        base = datetime.combine(date, datetime.min.time(), tz)  # type: ignore[arg-type]
        # Local wall-clock arithmetic, resolved through the zone, so DST days are right.
        local = base + timedelta(minutes=float(minute))
        return local.replace(tzinfo=None).replace(tzinfo=tz).timestamp()

    end_ts = end.timestamp()
    for day_no in range(days):
        date = first_date + timedelta(days=day_no)
        weekday = date.weekday()
        for entity_id, state, hhmm, on_days, jitter, miss, origin in _ROUTINES:
            if weekday not in on_days or rng.random() < miss:
                continue
            h, m = (int(x) for x in hhmm.split(":"))
            minute = h * 60 + m + (rng.normal(0.0, jitter) if jitter else 0.0)
            ts = at(date, minute)
            if ts < end_ts:
                changes.append(Change(entity_id, state, ts, origin))
                # The opposite state some hours later, at random (no routine of its own
                # unless planted above).
                if entity_id in ("light.porch", "fan.bedroom", "switch.coffee_maker"):
                    later = ts + float(rng.uniform(1.5, 4.0)) * 3600
                    if later < end_ts:
                        changes.append(Change(entity_id, _OFF_STATE[state], later, PHYSICAL))
                if entity_id == "light.living_room":
                    later = at(date, 22 * 60 + rng.uniform(-120, 90))
                    if later < end_ts and later > ts:
                        changes.append(Change(entity_id, "off", later, PHYSICAL))
                if entity_id == "light.bedroom":
                    earlier = at(date, 21 * 60 + rng.uniform(-60, 120))
                    changes.append(Change(entity_id, "on", earlier, PHYSICAL))

        # Hallway: a busy motion sensor, and a light that follows it most of the time.
        day_start = at(date, 0)
        n_motion = int(rng.integers(120, 200))
        motion_ts = np.sort(day_start + rng.uniform(6 * 3600, 23.5 * 3600, n_motion))
        for ts in motion_ts:
            if ts >= end_ts:
                break
            changes.append(Change("binary_sensor.hallway_motion", "on", float(ts), SYSTEM))
            changes.append(Change("binary_sensor.hallway_motion", "off", float(ts) + 30.0, SYSTEM))
            if rng.random() < 0.05:
                lag = float(rng.uniform(1.0, 5.0))
                changes.append(Change("light.hallway", "on", float(ts) + lag, PHYSICAL))
                changes.append(Change("light.hallway", "off", float(ts) + 120.0, PHYSICAL))

        # Negative control: a plug toggled at random times, 1-4 times a day.
        for ts in day_start + rng.uniform(0, 86_400, int(rng.integers(1, 5))):
            if ts < end_ts:
                state = "on" if rng.random() < 0.5 else "off"
                changes.append(Change("switch.random_toggle", state, float(ts), USER))

        # A flaky plug that drops off the network now and then.
        for ts in day_start + rng.uniform(0, 86_400, int(rng.integers(0, 4))):
            if ts < end_ts:
                changes.append(Change("sensor.flaky_plug_power", "unavailable", float(ts), SYSTEM))
                changes.append(Change("sensor.flaky_plug_power", "3.5", float(ts) + 60, SYSTEM))

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
    names = dict(FRIENDLY_NAMES)
    names.update(
        {f"sensor.room_{i + 1}_temperature": f"Room {i + 1} temperature" for i in range(numeric_sensors)}
    )
    return Household(
        changes=changes,
        routines=routines,
        negative_controls=["switch.random_toggle"],
        friendly_names=names,
        start=start,
        end=end,
    )

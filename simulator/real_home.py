"""A simulated home with what real homes have, and a home of nothing but their noise.

``simulate_real_home`` is ``household.simulate``'s home plus Home Assistant restarts (every
entity ``unavailable``/``unknown`` and back, the return looking physical), devices that
drop off the network several times a day, timestamp and text sensors, a motion light that
only follows motion in the evening, a driveway light that follows motion in the dark, a
machine switched off 25 minutes after it goes on, a script a user runs, and an existing
automation a naive suggestion would loop into. All of it is drawn from the seed.
``simulate_noise_home`` has only the noise: whatever is suggested there is false.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
from astral import LocationInfo
from astral.sun import dusk, sunrise, sunset

from custom_components.ai_automation.const import CONTROLLABLE_DOMAINS
from simulator.household import (
    AUTOMATION_CHILD,
    DAILY,
    PHYSICAL,
    SYSTEM,
    USER,
    Change,
    Household,
    PlantedCoOccurrence,
    PlantedRoutine,
    by_hand,
    simulate,
)
from simulator.household_life import ON_THE_WAY, PEOPLE, AcceptedAutomation, PlantedPresence, live, planted

# A change made by a script a user started (the recorder links it to the script's run).
SCRIPT = "script"
_OPPOSITE = {"on": "off", "off": "on", "open": "closed", "closed": "open"}
_DOWN = frozenset({"unavailable", "unknown"})


@dataclass(frozen=True, slots=True)
class PlantedDuration:
    """``entity_id`` goes back from ``from_state`` to ``to_state`` ``after_min`` later."""

    entity_id: str
    from_state: str
    to_state: str
    after_min: float
    tolerance_min: float


@dataclass(frozen=True, slots=True)
class WindowedCoOccurrence(PlantedCoOccurrence):
    """A co-occurrence that only holds between two local times (HH:MM, end exclusive),
    or in the dark: ``DARK``, after each day's sunset and before its sunrise."""

    window: tuple[str, str] = ("00:00", "24:00")


@dataclass(frozen=True, slots=True)
class ExistingAutomation:
    """A state-triggered automation the home already has: the ground truth of loops."""

    trigger_entity_id: str
    trigger_to_state: str
    action_entity_id: str
    action_state: str


@dataclass(slots=True)
class RealHome(Household):
    """A ``Household`` with the ground truth of what real homes add."""

    durations: list[PlantedDuration] = field(default_factory=list)
    existing_automations: list[ExistingAutomation] = field(default_factory=list)
    time_zone: tzinfo | None = None
    latitude: float = 52.37
    longitude: float = 4.89
    people: tuple[str, ...] = ()  # the person entities, where ``household_life`` planted them
    accepted: AcceptedAutomation | None = None  # the accepted automation undone by hand, if planted
    # What the household does when the last one leaves or someone arrives (``household_life``).
    presence_routines: list[PlantedPresence] = field(default_factory=list)


_USER_AGENTS = (
    "Mozilla/5.0 (Linux; Android 12; SM-T505) AppleWebKit/537.36 Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Safari/604.1",
)
_NOTIFICATIONS = ("Washer done after {n} min", "Door opened {n} times", "Battery at {n} %", "Parcel {n} in")
_DEVICES = ("media_player.kiosk_browser", "media_player.chromecast")
_INFO_SENSORS = tuple(
    f"sensor.{n}" for n in ("browser_user_agent", "last_notification", "sun_next_dusk", "phone_next_alarm")
)
STAIRS_WINDOW = ("18:00", "23:30")
DARK = ("sunset", "sunrise")
COFFEE_MIN = 25.0


class _Home:
    """The seeded generator, the window and the changes drawn so far."""

    def __init__(self, seed: int, days: int, end: datetime | None, tz: tzinfo) -> None:
        # A generator of its own, so the base home of the same seed stays as it was.
        self.rng = np.random.default_rng([seed, 0x5EA1])
        self.tz = tz
        self.end = (end or datetime.now(tz)).astimezone(tz)
        self.first_date = (self.end - timedelta(days=days)).date() + timedelta(days=1)
        self.start = datetime.combine(self.first_date, datetime.min.time(), tz)
        self.days = days
        self.changes: list[Change] = []
        self.outages: dict[str, list[tuple[float, float, str]]] = defaultdict(list)

    def at(self, day: date, minute: float) -> float:
        return (
            datetime.combine(day, datetime.min.time(), self.tz) + timedelta(minutes=float(minute))
        ).timestamp()

    def each_day(self) -> Iterator[tuple[date, float]]:
        for day_no in range(self.days):
            day = self.first_date + timedelta(days=day_no)
            yield day, self.at(day, 0)

    def add(self, entity_id: str, state: str, ts: float, origin: str) -> None:
        if self.start.timestamp() <= ts < self.end.timestamp():
            self.changes.append(Change(entity_id, state, float(ts), origin))

    def u(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def down(self, entity_id: str, ts: float, back_s: float, state: str = "unavailable") -> None:
        """``entity_id`` is ``state`` from ``ts`` for ``back_s`` seconds, then back to what it was."""
        if ts + back_s < self.end.timestamp():
            self.outages[entity_id].append((ts, ts + back_s, state))


def _name(entity_id: str) -> str:
    """``light.guest_room`` -> "Guest room"."""
    return entity_id.split(".", 1)[1].replace("_", " ").capitalize()


def _controllable(entity_id: str) -> bool:
    return entity_id.split(".", 1)[0] in CONTROLLABLE_DOMAINS


def _apply_outages(changes: list[Change], outages: dict[str, list[tuple[float, float, str]]]) -> list[Change]:
    """Put each outage into its entity's history: nothing recorded while it is down, then
    back to the state it had (or reached meanwhile). The recorder shows no user and no
    parent context on either change: physical on a controllable entity, system otherwise."""
    own: dict[str, list[Change]] = defaultdict(list)
    for change in sorted(changes, key=lambda c: c.ts):
        own[change.entity_id].append(change)
    result: list[Change] = []
    for entity_id, history in own.items():
        spans = sorted(outages.get(entity_id, ()))
        if not spans:
            result.extend(history)
            continue
        origin = PHYSICAL if _controllable(entity_id) else SYSTEM
        usable = [c.state for c in history if c.state not in _DOWN]
        # Before its first change the entity was in the opposite of its first state.
        state = _OPPOSITE.get(usable[0], usable[0]) if usable else None
        i, busy_until = 0, float("-inf")
        for down_ts, up_ts, down_state in spans:
            if down_ts < busy_until:
                continue  # already down (a restart while the device was off the network)
            while i < len(history) and history[i].ts < down_ts:
                result.append(history[i])
                state = history[i].state
                i += 1
            if state != down_state:
                result.append(Change(entity_id, down_state, down_ts, origin))
            while i < len(history) and history[i].ts < up_ts:  # not recorded: it was down
                state = history[i].state
                i += 1
            if state is not None and state != down_state:
                result.append(Change(entity_id, state, up_ts, origin))
            busy_until = up_ts
        result.extend(history[i:])
    return result


def _without_repeats(changes: list[Change]) -> list[Change]:
    """Sorted, and a change to the state an entity is already in dropped (not recorded)."""
    last: dict[str, str] = {}
    out: list[Change] = []
    for change in sorted(changes, key=lambda c: (c.ts, c.entity_id)):
        if last.get(change.entity_id) != change.state:
            out.append(change)
            last[change.entity_id] = change.state
    return out


def _restarts(home: _Home, entity_ids: set[str]) -> None:
    """1-3 restarts per 14 days: every entity down, back 20-90 s later."""
    span = home.end.timestamp() - home.start.timestamp()
    for block in range(0, int(np.ceil(span / (14 * 86_400)))):
        first = home.start.timestamp() + block * 14 * 86_400
        for ts in first + home.rng.uniform(0, 14 * 86_400, int(home.rng.integers(1, 4))):
            for entity_id in sorted(entity_ids):
                state = "unknown" if home.rng.random() < 0.15 else "unavailable"
                home.down(entity_id, float(ts) + home.u(0, 2), home.u(20, 90), state)


def _reconnecting(home: _Home) -> None:
    """The kiosk browser and the chromecast drop off the network several times a day.

    A third of the kiosk's drops are the access point's: the chromecast drops too. The
    kiosk's user-agent sensor (browser_mod) goes with it and reports again just before it.
    The chromecast is also switched on and off by hand at random.
    """
    home.add("media_player.kiosk_browser", "on", home.start.timestamp() + 1, PHYSICAL)
    home.add("sensor.browser_user_agent", _USER_AGENTS[0], home.start.timestamp() + 1, SYSTEM)
    for _day, day_start in home.each_day():
        for ts in np.sort(day_start + home.rng.uniform(0, 86_400, int(home.rng.integers(3, 9)))):
            back = home.u(5, 120)
            home.down("media_player.kiosk_browser", float(ts), back)
            home.down("sensor.browser_user_agent", float(ts) + home.u(0, 1), back - home.u(0.5, 3))
            if home.rng.random() < 0.33:
                home.down("media_player.chromecast", float(ts) + home.u(0, 2), back + home.u(-3, 10))
        for ts in day_start + home.rng.uniform(0, 86_400, int(home.rng.integers(1, 4))):
            home.down("media_player.chromecast", float(ts), home.u(10, 300))
        for ts in day_start + home.rng.uniform(7 * 3600, 23 * 3600, int(home.rng.integers(0, 3))):
            home.add("media_player.chromecast", "on", float(ts), USER)
            home.add("media_player.chromecast", "off", float(ts) + home.u(600, 7200), USER)
        for ts in day_start + home.rng.uniform(0, 86_400, int(home.rng.integers(0, 3))):
            ua = _USER_AGENTS[int(home.rng.integers(0, len(_USER_AGENTS)))]
            home.add("sensor.browser_user_agent", ua, float(ts), SYSTEM)


def _info_sensors(home: _Home, latitude: float, longitude: float) -> None:
    """Timestamp and text sensors: the next dusk, the phone's next alarm, notifications."""
    observer = LocationInfo(latitude=latitude, longitude=longitude).observer

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, ZoneInfo("UTC")).isoformat(timespec="seconds")

    for day, day_start in home.each_day():
        today = dusk(observer, date=day, tzinfo=home.tz).timestamp()
        following = dusk(observer, date=day + timedelta(days=1), tzinfo=home.tz).timestamp()
        home.add("sensor.sun_next_dusk", iso(following), today + home.u(0, 1), SYSTEM)
        # The alarm rings on weekdays; dismissing it moves the sensor to the next one.
        alarm = home.at(day, 6 * 60 + 30 + 15 * int(home.rng.integers(-1, 2)))
        if day.weekday() < 5:
            next_alarm = alarm + (3 if day.weekday() == 4 else 1) * 86_400
            home.add("sensor.phone_next_alarm", iso(next_alarm), alarm + home.u(30, 900), SYSTEM)
        for ts in np.sort(day_start + home.rng.uniform(0, 86_400, int(home.rng.integers(4, 16)))):
            text = _NOTIFICATIONS[int(home.rng.integers(0, len(_NOTIFICATIONS)))]
            home.add(
                "sensor.last_notification", text.format(n=int(home.rng.integers(1, 250))), float(ts), SYSTEM
            )


def _household_acts(home: _Home) -> None:
    """The stairs light, the coffee machine, movie mode and the guest room."""
    lo, hi = (int(t[:2]) * 60 + int(t[3:]) for t in STAIRS_WINDOW)
    for day, day_start in home.each_day():
        # Stairs: motion all day; the light follows it only in the evening window.
        for ts in np.sort(
            day_start + home.rng.uniform(6.5 * 3600, 24 * 3600, int(home.rng.integers(12, 25)))
        ):
            home.add("binary_sensor.stairs_motion", "on", float(ts), SYSTEM)
            home.add("binary_sensor.stairs_motion", "off", float(ts) + home.u(30, 60), SYSTEM)
            local = datetime.fromtimestamp(float(ts), home.tz)  # wall clock, on DST days too
            if lo <= local.hour * 60 + local.minute < hi and home.rng.random() < 0.95:
                home.add("light.stairs", "on", float(ts) + home.u(2, 6), PHYSICAL)
                home.add("light.stairs", "off", float(ts) + home.u(60, 240), PHYSICAL)
        # Coffee machine: on by hand some time in the morning, off again ~25 minutes later.
        if home.rng.random() < 0.85:
            on = home.at(day, home.u(6 * 60, 10.5 * 60))
            home.add("switch.coffee_machine", "on", on, by_hand(home.rng))
            after = COFFEE_MIN + float(np.clip(home.rng.normal(0, 1.5), -3, 3))
            home.add("switch.coffee_machine", "off", on + after * 60, by_hand(home.rng))
        # The living room lamp by hand; movie mode (a script a user runs) turns it off.
        if home.rng.random() < 0.8:
            home.add("light.living_room_lamp", "on", home.at(day, home.u(17 * 60, 19.5 * 60)), PHYSICAL)
            home.add("light.living_room_lamp", "off", home.at(day, home.u(22 * 60, 25 * 60)), PHYSICAL)
        if home.rng.random() < 0.35:
            run = home.at(day, home.u(19.5 * 60, 22 * 60))
            home.add("script.movie_mode", "on", run, USER)
            home.add("input_boolean.movie_mode", "on", run + home.u(0.1, 0.5), SCRIPT)
            home.add("light.living_room_lamp", "off", run + home.u(0.3, 1.0), SCRIPT)
            home.add("script.movie_mode", "off", run + home.u(1.2, 2.0), USER)
            home.add("input_boolean.movie_mode", "off", run + home.u(1.5, 3.0) * 3600, USER)
        # Guests: the light by hand, then guest mode by hand (its automation then changes
        # nothing); or guest mode first, and the automation turns the light on.
        if home.rng.random() < 0.5:
            arrive = home.at(day, home.u(18 * 60, 22 * 60))
            if home.rng.random() < 0.75:
                home.add("light.guest_room", "on", arrive, PHYSICAL)
                home.add("input_boolean.guest_mode", "on", arrive + home.u(10, 60), USER)
            else:
                home.add("input_boolean.guest_mode", "on", arrive, USER)
                home.add("light.guest_room", "on", arrive + home.u(0.3, 1.0), AUTOMATION_CHILD)
            home.add("light.guest_room", "off", home.at(day, home.u(22 * 60, 24.5 * 60)), PHYSICAL)
            home.add("input_boolean.guest_mode", "off", home.at(day, home.u(22.5 * 60, 25.5 * 60)), USER)
        elif home.rng.random() < 0.25:
            used = home.at(day, home.u(8 * 60, 22 * 60))
            home.add("light.guest_room", "on", used, PHYSICAL)
            home.add("light.guest_room", "off", used + home.u(300, 1800), PHYSICAL)


def _sun_down(tz: tzinfo, latitude: float, longitude: float) -> Callable[[float], bool]:
    """Whether the sun is down at a moment (UTC seconds), at this spot."""
    observer = LocationInfo(latitude=latitude, longitude=longitude).observer

    def dark(ts: float) -> bool:
        day = datetime.fromtimestamp(ts, tz).date()
        return not (
            sunrise(observer, date=day, tzinfo=tz).timestamp()
            <= ts
            < sunset(observer, date=day, tzinfo=tz).timestamp()
        )

    return dark


def _driveway(home: _Home, latitude: float, longitude: float) -> None:
    """Driveway motion all day (cars, the post, cats); its light follows only in the dark,
    and goes off again when the motion is over."""
    observer = LocationInfo(latitude=latitude, longitude=longitude).observer
    for day, day_start in home.each_day():
        rise = sunrise(observer, date=day, tzinfo=home.tz).timestamp()
        down = sunset(observer, date=day, tzinfo=home.tz).timestamp()
        busy = day_start + home.rng.uniform(6 * 3600, 23.5 * 3600, int(home.rng.integers(6, 13)))
        night = day_start + home.rng.uniform(0, 6 * 3600, int(home.rng.integers(0, 3)))
        for ts in np.sort(np.concatenate((busy, night))):
            gone = float(ts) + home.u(40, 150)
            home.add("binary_sensor.driveway_motion", "on", float(ts), SYSTEM)
            home.add("binary_sensor.driveway_motion", "off", gone, SYSTEM)
            if (ts < rise or ts >= down) and home.rng.random() < 0.93:
                home.add("light.driveway", "on", float(ts) + home.u(1, 5), PHYSICAL)
                home.add("light.driveway", "off", gone + home.u(1, 8), PHYSICAL)


def _noise(home: _Home, plugs: int, numeric_sensors: int) -> None:
    """Plugs toggled at random, a busy motion sensor nothing follows, numeric sensors."""
    for _day, day_start in home.each_day():
        for i in range(plugs):
            for ts in np.sort(day_start + home.rng.uniform(0, 86_400, int(home.rng.integers(1, 6)))):
                state = "on" if home.rng.random() < 0.5 else "off"
                home.add(f"switch.plug_{i + 1}", state, float(ts), by_hand(home.rng))
        for ts in np.sort(day_start + home.rng.uniform(0, 86_400, int(home.rng.integers(150, 250)))):
            home.add("binary_sensor.living_room_motion", "on", float(ts), SYSTEM)
            home.add("binary_sensor.living_room_motion", "off", float(ts) + 20.0, SYSTEM)
    grid = np.arange(home.start.timestamp(), home.end.timestamp(), 300.0)
    for i in range(numeric_sensors):
        values = 20.0 + 2.0 * np.sin(grid / 86_400 * 2 * np.pi + i) + home.rng.normal(0, 0.2, grid.size)
        home.changes.extend(
            Change(f"sensor.room_{i + 1}_temperature", f"{v:.1f}", float(t), SYSTEM)
            for t, v in zip(grid, values, strict=True)
        )


def _finish(home: _Home) -> list[Change]:
    _restarts(home, {c.entity_id for c in home.changes})
    return _without_repeats(_apply_outages(home.changes, home.outages))


def simulate_real_home(
    seed: int = 1,
    days: int = 30,
    end: datetime | None = None,
    time_zone: tzinfo | str = "Europe/Amsterdam",
    numeric_sensors: int = 4,
    latitude: float = 52.37,
    longitude: float = 4.89,
    life: bool = False,
    reverting: bool = False,
) -> RealHome:
    """``simulate``'s home of ``seed`` plus what real homes have (see the module doc).

    ``life``: and people who come and go (``household_life``); ``reverting`` (with
    ``life``): and an accepted automation the household keeps undoing.
    """
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    base = simulate(seed, days, end, tz, numeric_sensors, latitude=latitude, longitude=longitude)
    home = _Home(seed, days, base.end, tz)
    home.changes = list(base.changes)
    _reconnecting(home)
    _info_sensors(home, latitude, longitude)
    _household_acts(home)
    _driveway(home, latitude, longitude)
    hallway, tv, door = base.co_occurrences
    # The garden light goes off between 23:00 and 23:50 every day: a routine too.
    routines = [*base.routines, PlantedRoutine("light.garden", "off", "23:25", DAILY)]
    lived = None
    if life:
        home.changes, lived = live(
            home.changes,
            home.first_date,
            home.days,
            home.at,
            seed,
            home.end.timestamp(),
            reverting,
            dark=_sun_down(home.tz, latitude, longitude),
        )
        routines = planted(routines, lived)
    changes = _finish(home)
    return RealHome(
        changes=changes,
        routines=routines,
        negative_controls=[*base.negative_controls, *_DEVICES, *_INFO_SENSORS],
        co_occurrences=[
            hallway,
            tv,
            # The backlight goes off 2-20 s after the TV, by hand (in ``simulate`` too).
            PlantedCoOccurrence("media_player.tv", "off", "light.tv_backlight", "off", 20.0),
            door,
            WindowedCoOccurrence(
                "binary_sensor.stairs_motion", "on", "light.stairs", "on", 6.0, window=STAIRS_WINDOW
            ),
            WindowedCoOccurrence(
                "binary_sensor.driveway_motion", "on", "light.driveway", "on", 5.0, window=DARK
            ),
        ],
        friendly_names={**{c.entity_id: _name(c.entity_id) for c in changes}, **base.friendly_names},
        start=base.start,
        end=base.end,
        durations=[
            PlantedDuration("switch.coffee_machine", "on", "off", COFFEE_MIN, 3.0),
            # Lights that follow motion go off again after a few minutes (hallway: in ``simulate``).
            PlantedDuration("light.stairs", "on", "off", 2.5, 1.5),
            PlantedDuration("light.hallway", "on", "off", 3.3, 1.7),
        ],
        existing_automations=[
            ExistingAutomation("binary_sensor.front_door", "on", "light.entrance", "on"),
            ExistingAutomation("input_boolean.guest_mode", "on", "light.guest_room", "on"),
        ],
        time_zone=tz,
        latitude=latitude,
        longitude=longitude,
        people=PEOPLE if life else (),
        accepted=lived.accepted if lived is not None else None,
        presence_routines=list(ON_THE_WAY) if life else [],
    )


def simulate_noise_home(
    seed: int = 1,
    days: int = 30,
    end: datetime | None = None,
    time_zone: tzinfo | str = "Europe/Amsterdam",
    numeric_sensors: int = 4,
    plugs: int = 4,
    latitude: float = 52.37,
    longitude: float = 4.89,
) -> RealHome:
    """Only noise: random plugs, busy motion, sensors, restarts, reconnecting devices."""
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    home = _Home(seed, days, end, tz)
    _noise(home, plugs, numeric_sensors)
    _reconnecting(home)
    _info_sensors(home, latitude, longitude)
    changes = _finish(home)
    entity_ids = sorted({c.entity_id for c in changes})
    return RealHome(
        changes=changes,
        routines=[],
        negative_controls=entity_ids,
        friendly_names={e: _name(e) for e in entity_ids},
        start=home.start,
        end=home.end,
        time_zone=tz,
        latitude=latitude,
        longitude=longitude,
    )

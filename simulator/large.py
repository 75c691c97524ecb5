"""A large synthetic home for the benchmark: 200 entities, N state changes exactly.

Unlike :mod:`simulator.household` (a small home, drawn event by event, for the demo and
the detector tests) this one is drawn column-wise with ``numpy``, so a million rows take
about a second. It still has what the analysis looks for, so the benchmark exercises the
real work rather than an empty pass:

- 30 controllable entities with a planted daily routine each (the opposite state follows
  some hours later), person-made (``physical`` or ``user``);
- 10 lights switched on and off daily by a time-triggered automation (``automation``);
- 10 lights that follow half the 'on's of one motion sensor each, within seconds
  (co-occurrences);
- 40 busy motion sensors and 20 door contacts (``system``);
- 20 plugs toggled at random by people (negative controls);
- 70 numeric sensors (temperature, humidity, power) with the odd ``unavailable``.

The routine rows are drawn first; the busy classes share whatever remains of ``rows``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from .household import AUTOMATION, DAILY, PHYSICAL, SYSTEM, USER, WEEKDAYS, WEEKENDS, Change, PlantedRoutine

# Origin codes of :attr:`LargeHome.origin` index this tuple.
ORIGINS = (SYSTEM, PHYSICAL, USER, AUTOMATION)
_SYSTEM, _PHYSICAL, _USER, _AUTOMATION = range(4)

N_ROUTINE = 30
N_AUTOMATED = 10
N_FOLLOWER = 10
N_MOTION = 40
N_DOOR = 20
N_TOGGLER = 20
N_NUMERIC = 70
ENTITY_COUNT = N_ROUTINE + N_AUTOMATED + N_FOLLOWER + N_MOTION + N_DOOR + N_TOGGLER + N_NUMERIC

# Shares of the rows left after the routines and followers.
_SHARE_MOTION = 0.37
_SHARE_DOOR = 0.06
_SHARE_TOGGLER = 0.02  # numeric sensors get the rest
_FOLLOWER_SHARE = 0.02  # of all rows, in on/off pairs
_UNAVAILABLE_RATE = 0.003

_ROUTINE_DOMAINS = (
    ("light", "on", "off"),
    ("switch", "on", "off"),
    ("cover", "open", "closed"),
    ("fan", "on", "off"),
    ("media_player", "playing", "off"),
)
_DAY_SETS = (DAILY, WEEKDAYS, WEEKENDS)


@dataclass(frozen=True, slots=True)
class LargeHome:
    """State changes as columns (time-ordered), with the planted routines."""

    entity_ids: tuple[str, ...]
    states: tuple[str, ...]
    entity: NDArray[np.int32]  # index into entity_ids
    state: NDArray[np.int32]  # index into states
    ts: NDArray[np.float64]  # UTC epoch seconds
    origin: NDArray[np.int8]  # index into ORIGINS
    routines: list[PlantedRoutine]
    start: datetime
    end: datetime

    def __len__(self) -> int:
        """Return the number of state changes."""
        return int(self.ts.shape[0])

    def changes(self) -> Iterator[Change]:
        """The rows as :class:`Change` objects (for :func:`simulator.recorder_db.seed_database`)."""
        entity_ids, states = self.entity_ids, self.states
        for e, s, t, o in zip(
            self.entity.tolist(), self.state.tolist(), self.ts.tolist(), self.origin.tolist(), strict=True
        ):
            yield Change(entity_ids[e], states[s], t, ORIGINS[o])


class _Calendar:
    """Local days of the window as arrays: UTC timestamp of a local minute of a day."""

    def __init__(self, first: date, days: int, tz: tzinfo) -> None:
        self.dates = [first + timedelta(days=i) for i in range(days)]
        self.weekday = np.array([d.weekday() for d in self.dates], dtype=np.int8)
        epoch = date(1970, 1, 1)
        # Naive local midnight as if it were UTC, and the zone's offset at local noon:
        # exact for any time of day away from the small hours of a DST change.
        self._naive = np.array([(d - epoch).days * 86_400 for d in self.dates], dtype=np.float64)
        noon = [datetime.combine(d, datetime.min.time(), tz) + timedelta(hours=12) for d in self.dates]
        self._offset = np.array(
            [n.utcoffset().total_seconds() for n in noon],  # type: ignore[union-attr]
            dtype=np.float64,
        )

    def ts(self, day: NDArray[np.int64], minute: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = self._naive[day] + minute * 60.0 - self._offset[day]
        return result


def _rank_within(entity: NDArray[np.int32], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of each row within its entity, for rows grouped by entity."""
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank: NDArray[np.int64] = np.arange(entity.shape[0]) - np.repeat(offsets, counts)
    return rank


def large_home(
    rows: int,
    seed: int = 1,
    days: int = 30,
    end: datetime | None = None,
    time_zone: tzinfo | str = "Europe/Amsterdam",
) -> LargeHome:
    """Draw exactly ``rows`` state changes of 200 entities over the ``days`` local days before ``end``.

    ``end`` defaults to the start of today (local), so the window is the one a
    30-day analysis reads: complete local days.
    """
    # Long on purpose: the vectorised draws of one seeded generator in a fixed order; the
    # benchmark's homes (and its published figures) depend on that order staying as it is.
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    rng = np.random.default_rng(seed)
    now = datetime.now(tz)
    end = (end or datetime.combine(now.date(), datetime.min.time(), tz)).astimezone(tz)
    first_date = (end - timedelta(days=days)).date()
    if end.time() != datetime.min.time():
        first_date += timedelta(days=1)
    start = datetime.combine(first_date, datetime.min.time(), tz)
    start_ts, end_ts = start.timestamp(), end.timestamp()
    last_ts = float(np.nextafter(end_ts, -np.inf))
    cal = _Calendar(first_date, days, tz)

    entity_ids: list[str] = []
    states: dict[str, int] = {}

    def code(state: str) -> int:
        return states.setdefault(state, len(states))

    parts: list[tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64], NDArray[np.int8]]] = []

    def add(
        entity: NDArray[np.int64], state: NDArray[np.int64], ts: NDArray[np.float64], origin: object
    ) -> None:
        keep = ts < end_ts
        parts.append(
            (
                entity[keep].astype(np.int32),
                state[keep].astype(np.int32),
                ts[keep],
                np.broadcast_to(np.asarray(origin, dtype=np.int8), ts.shape)[keep].copy(),
            )
        )

    # --- planted routines: one per entity, the opposite state some hours later -------
    routines: list[PlantedRoutine] = []
    day_idx = np.arange(days)
    for i in range(N_ROUTINE):
        domain, to_state, back_state = _ROUTINE_DOMAINS[i % len(_ROUTINE_DOMAINS)]
        e = len(entity_ids)
        entity_ids.append(f"{domain}.routine_{i + 1:02d}")
        minute = int(rng.integers(6 * 12, 22 * 12)) * 5
        day_set = _DAY_SETS[int(rng.integers(0, len(_DAY_SETS)))]
        jitter = float(rng.uniform(3.0, 12.0))
        miss = float(rng.uniform(0.03, 0.12))
        origin = _PHYSICAL if rng.random() < 0.5 else _USER
        on_day = np.isin(cal.weekday, day_set) & (rng.random(days) >= miss)
        d = day_idx[on_day]
        ts = cal.ts(d, minute + rng.normal(0.0, jitter, d.size))
        add(np.full(d.size, e), np.full(d.size, code(to_state)), ts, origin)
        back = ts + rng.uniform(1.5, 4.0, d.size) * 3600.0
        add(np.full(d.size, e), np.full(d.size, code(back_state)), back, _PHYSICAL)
        routines.append(
            PlantedRoutine(entity_ids[e], to_state, f"{minute // 60:02d}:{minute % 60:02d}", day_set)
        )

    # --- already automated: a time-triggered automation, on and off, every day -------
    for i in range(N_AUTOMATED):
        e = len(entity_ids)
        entity_ids.append(f"light.automated_{i + 1:02d}")
        on_min = int(rng.integers(16 * 4, 20 * 4)) * 15
        off_min = on_min + int(rng.integers(2, 5)) * 60
        for minute, state in ((on_min, "on"), (off_min, "off")):
            ts = cal.ts(day_idx, np.full(days, float(minute)) + rng.uniform(0.0, 0.05, days))
            add(np.full(days, e), np.full(days, code(state)), ts, _AUTOMATION)
            routines.append(
                PlantedRoutine(
                    entity_ids[e], state, f"{minute // 60:02d}:{minute % 60:02d}", DAILY, automated=True
                )
            )

    fixed = sum(p[0].shape[0] for p in parts)
    follower_pairs = int(rows * _FOLLOWER_SHARE / 2)
    rest = rows - fixed - 2 * follower_pairs
    if rest < rows * 0.5:
        raise ValueError(f"{rows} rows are too few for a {ENTITY_COUNT}-entity home; use 10000 or more")
    n_motion = int(rest * _SHARE_MOTION)
    n_door = int(rest * _SHARE_DOOR)
    n_toggler = int(rest * _SHARE_TOGGLER)
    n_numeric = rest - n_motion - n_door - n_toggler
    # The first motion sensors lead the follower lights: half their 'on's are followed.
    n_leader = 4 * follower_pairs
    if n_leader > n_motion:  # pragma: no cover - the shares above rule it out
        raise AssertionError("not enough motion rows for the leaders")

    follower_base = len(entity_ids)
    entity_ids.extend(f"light.follower_{i + 1:02d}" for i in range(N_FOLLOWER))

    def spread(total: int, n: int) -> NDArray[np.int64]:
        """Split ``total`` rows over ``n`` entities, some much busier than others."""
        weights = rng.lognormal(0.0, 0.6, n)
        counts: NDArray[np.int64] = rng.multinomial(total, weights / weights.sum())
        return counts

    def binary_class(
        names: list[str], counts: NDArray[np.int64], hour_sd: float | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """On/off sensors: times grouped per entity, states alternating from 'on'."""
        base = len(entity_ids)
        entity_ids.extend(names)
        total = int(counts.sum())
        entity = np.repeat(np.arange(base, base + len(names)), counts)
        day = rng.integers(0, days, total)
        if hour_sd is None:
            minute = rng.uniform(0.0, 1440.0, total)
        else:  # busy in the day, quiet at night
            minute = np.clip(rng.normal(13.5 * 60, hour_sd * 60, total), 0.0, 1439.99)
        ts = np.clip(cal.ts(day, minute), start_ts, last_ts)
        ts = ts[np.lexsort((ts, entity))]
        state = np.where(_rank_within(entity, counts) % 2 == 0, code("on"), code("off"))
        add(entity, state, ts, _SYSTEM)
        return entity, state, ts

    # --- motion sensors, and lights that follow the first ten of them ----------------
    motion = [f"binary_sensor.motion_{i + 1:02d}" for i in range(N_MOTION)]
    leader_counts = np.full(N_FOLLOWER, n_leader // N_FOLLOWER, dtype=np.int64)
    leader_counts[: n_leader % N_FOLLOWER] += 1
    leader_base = len(entity_ids)
    leader_entity, leader_state, leader_ts = binary_class(motion[:N_FOLLOWER], leader_counts, 4.5)
    binary_class(motion[N_FOLLOWER:], spread(n_motion - n_leader, N_MOTION - N_FOLLOWER), 4.5)
    ons = np.flatnonzero(leader_state == code("on"))  # ceil(count / 2) per sensor >= 2 * pairs
    picked = np.sort(rng.choice(ons, size=follower_pairs, replace=False))
    follower = leader_entity[picked] - leader_base + follower_base
    on_ts = np.minimum(leader_ts[picked] + rng.uniform(1.0, 5.0, picked.size), last_ts)
    off_ts = np.minimum(leader_ts[picked] + 120.0, last_ts)
    add(follower, np.full(picked.size, code("on")), on_ts, _PHYSICAL)
    add(follower, np.full(picked.size, code("off")), off_ts, _PHYSICAL)

    binary_class([f"binary_sensor.door_{i + 1:02d}" for i in range(N_DOOR)], spread(n_door, N_DOOR), None)

    # --- random plugs: people toggle them at any time -------------------------------
    base = len(entity_ids)
    entity_ids.extend(f"switch.plug_{i + 1:02d}" for i in range(N_TOGGLER))
    counts = spread(n_toggler, N_TOGGLER)
    entity = np.repeat(np.arange(base, base + N_TOGGLER), counts)
    ts = rng.uniform(start_ts, end_ts, n_toggler)
    plug_state = np.where(rng.random(n_toggler) < 0.5, code("on"), code("off"))
    plug_origin = np.where(rng.random(n_toggler) < 0.6, _USER, _PHYSICAL).astype(np.int8)
    add(entity, plug_state, ts, plug_origin)

    # --- numeric sensors: evenly spaced readings of a daily wave plus noise ----------
    base = len(entity_ids)
    kinds = ("temperature", "humidity", "power")
    entity_ids.extend(f"sensor.{kinds[i % 3]}_{i // 3 + 1:02d}" for i in range(N_NUMERIC))
    counts = spread(n_numeric, N_NUMERIC)
    local = np.repeat(np.arange(N_NUMERIC), counts)
    rank = _rank_within(local, counts)
    span = end_ts - start_ts
    ts = start_ts + (rank + rng.uniform(0.0, 1.0, n_numeric)) * (span / counts[local])
    level = np.array([(20.0, 2.0), (55.0, 10.0), (150.0, 120.0)])[np.arange(N_NUMERIC) % 3]
    phase = rng.uniform(0.0, 2 * np.pi, N_NUMERIC)
    wave = np.sin(ts / 86_400.0 * 2 * np.pi + phase[local])
    value = level[local, 0] + level[local, 1] * wave + rng.normal(0.0, 0.3, n_numeric)
    tenths = np.rint(value * 10).astype(np.int64)
    uniq, inverse = np.unique(tenths, return_inverse=True)
    first_code = len(states)
    for t in uniq.tolist():
        states[f"{t / 10:.1f}"] = len(states)
    reading = first_code + inverse
    reading[rng.random(n_numeric) < _UNAVAILABLE_RATE] = code("unavailable")
    add(base + local, reading, np.minimum(ts, last_ts), _SYSTEM)

    all_entity, all_state, all_ts, all_origin = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    order = np.lexsort((all_entity, all_ts))
    if all_ts.shape[0] != rows:  # pragma: no cover - a bug in the shares above
        raise AssertionError(f"drew {all_ts.shape[0]} rows, wanted {rows}")
    assert len(entity_ids) == ENTITY_COUNT
    return LargeHome(
        entity_ids=tuple(entity_ids),
        states=tuple(states),
        entity=all_entity[order],
        state=all_state[order],
        ts=all_ts[order],
        origin=all_origin[order],
        routines=routines,
        start=start,
        end=end,
    )

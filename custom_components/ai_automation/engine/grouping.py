"""Routines done together: "at bedtime the TV goes off, then the lounge light, then the door locks".

Time-of-day routines of different devices that happen on the same days within a couple of
minutes of each other are one routine with several actions, not three automations that
each fire on their own. Two routines go together when, on the days both happened, they
were at most ``gap_min`` minutes apart on most of them (``min_together``), on at least the
detector's minimum number of days; a group is every routine linked to another by that,
on the same axis (the clock, or the same sun event).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from .minute_histogram import circular_distance
from .time_of_day import TimeOfDayPattern


@dataclass(frozen=True, slots=True)
class GroupParams:
    """When routines are one."""

    gap_min: int = 3  # "within a couple of minutes"
    min_together: float = 0.7  # share of the days both happened on that they were that close
    min_days: int = 5  # days they happened together


@dataclass(frozen=True, slots=True)
class RoutineGroup:
    """Routines (indices into the list given) that are one, and when the group starts."""

    members: tuple[int, ...]  # ordered by their usual time
    minute: int  # local minute: the median of each day's first part
    days_together: int  # days every linked pair happened within the gap


def _together(a: TimeOfDayPattern, b: TimeOfDayPattern, params: GroupParams) -> int:
    """Days both happened within ``gap_min`` of each other (0 when that is too few)."""
    minutes_b = dict(zip(b.hit_days, b.hit_minutes, strict=True))
    shared = [(m, minutes_b[d]) for d, m in zip(a.hit_days, a.hit_minutes, strict=True) if d in minutes_b]
    close = sum(circular_distance(x, y) <= params.gap_min for x, y in shared)
    fewest = min(len(a.hit_days), len(b.hit_days))
    return close if close >= params.min_days and close >= params.min_together * fewest else 0


def _axis(p: TimeOfDayPattern) -> str | None:
    return p.sun_event


def group_routines(patterns: list[TimeOfDayPattern], params: GroupParams | None = None) -> list[RoutineGroup]:
    """The groups among ``patterns`` (of two or more routines of different devices)."""
    params = params or GroupParams()
    parent = list(range(len(patterns)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    together: dict[int, int] = {}
    for i, j in combinations(range(len(patterns)), 2):
        a, b = patterns[i], patterns[j]
        if a.entity_id == b.entity_id or _axis(a) != _axis(b) or not a.hit_minutes or not b.hit_minutes:
            continue
        days = _together(a, b, params)
        if days:
            parent[root(j)] = root(i)
            for k in (i, j):
                together[k] = max(together.get(k, 0), days)
    members: dict[int, list[int]] = {}
    for i in together:
        members.setdefault(root(i), []).append(i)
    groups = []
    for found in members.values():
        if len(found) < 2:
            continue
        anchor = patterns[found[0]].minute
        ordered = tuple(
            sorted(found, key=lambda k: (_mean_offset(patterns[k], anchor), patterns[k].entity_id))
        )
        groups.append(
            RoutineGroup(
                members=ordered,
                minute=_start(patterns, ordered),
                days_together=min(together[k] for k in ordered),
            )
        )
    groups.sort(key=lambda g: g.members)
    return groups


def _mean_offset(pattern: TimeOfDayPattern, anchor: int) -> float:
    """Its mean time in minutes from ``anchor``, across midnight too (parts in the order done)."""
    offsets = [(m - anchor + 720) % 1440 - 720 for m in pattern.hit_minutes]
    return sum(offsets) / len(offsets)


def _start(patterns: list[TimeOfDayPattern], members: tuple[int, ...]) -> int:
    """The median over the days of the earliest part's time that day."""
    first: dict[int, int] = {}
    anchor = patterns[members[0]].minute
    for k in members:
        for day, minute in zip(patterns[k].hit_days, patterns[k].hit_minutes, strict=True):
            # Minutes near the group's time, across midnight too.
            offset = (minute - anchor + 720) % 1440 - 720
            first[day] = min(first.get(day, offset), offset)
    ordered = sorted(first.values())
    middle = ordered[(len(ordered) - 1) // 2]
    return (anchor + middle) % 1440

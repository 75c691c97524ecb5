"""Who was home when, from the ``person`` entities (or ``device_tracker`` where there are none).

A routine done by hand does not happen while nobody is home: those days (or hours) are not
days it missed, and its automation should not fire then. ``Presence`` answers "was anyone
home at this moment?" and "was this person home?" for any local moment of the window, on
the same axis as the time-of-day detector: *local minutes*, ``local day * 1440 + minute``.

Before a person's first recorded state nothing is known about them: they count as home
(an unknown is no reason to leave a day out). ``unavailable``/``unknown`` keep the last
known state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from .event_log import IGNORED_STATES, EventLog
from .local_time import MINUTES_PER_DAY


class FromLog(Enum):
    """``presence=FROM_LOG``: read the household's presence from the log given."""

    FROM_LOG = "from_log"


FROM_LOG = FromLog.FROM_LOG
HOME = "home"
ANYONE = "anyone"  # a pattern's presence: someone is home (else a person's entity id)
PEOPLE_DOMAINS = ("person.", "device_tracker.")  # whose states say who is home


@dataclass(frozen=True, slots=True)
class Presence:
    """Home or not, per person, as step functions over local minutes.

    ``changes[i]`` are person ``i``'s change moments (sorted local minutes), ``home[i]``
    whether each change made them home.
    """

    people: tuple[str, ...]
    changes: tuple[NDArray[np.float64], ...]
    home: tuple[NDArray[np.bool_], ...]

    def person_home(self, person: int, moments: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per moment: was person ``person`` home (unknown before their first state: yes)?"""
        changes, home = self.changes[person], self.home[person]
        last = np.searchsorted(changes, moments, side="right") - 1
        known = last >= 0
        out = np.ones(moments.shape, dtype=bool)
        out[known] = home[last[known]]
        return out

    def at(self, moments: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Shape ``(len(people), len(moments))``: who was home at each moment."""
        who: NDArray[np.bool_] = np.stack([self.person_home(i, moments) for i in range(len(self.people))])
        return who

    def anyone_home(self, moments: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per moment: was anyone home?"""
        anyone = np.asarray(self.at(moments).any(axis=0), dtype=bool)
        return anyone

    def away_days(self, first_day: int, last_day: int) -> tuple[int, ...]:
        """Local days on which nobody was home at any moment."""
        days = np.arange(first_day, last_day + 1, dtype=np.float64)
        starts = days * MINUTES_PER_DAY
        points = np.concatenate([starts, *self.changes])
        points = points[(points >= starts[0]) & (points < (last_day + 1) * MINUTES_PER_DAY)]
        occupied_at = self.anyone_home(points)
        point_day = np.floor_divide(points, MINUTES_PER_DAY).astype(np.int64)
        occupied = np.zeros(days.size, dtype=bool)
        np.logical_or.at(occupied, point_day - first_day, occupied_at)
        return tuple(int(d) for d in days[~occupied])

    def index(self, person: str) -> int:
        """The person's row in ``at``."""
        return self.people.index(person)


def people_of(log: EventLog) -> list[int]:
    """The log's people: ``person`` entities when there are any (they combine a person's
    trackers); else the ``device_tracker`` entities."""
    for prefix in PEOPLE_DOMAINS:
        people = [i for i, e in enumerate(log.entity_ids) if e.startswith(prefix)]
        if people:
            return people
    return []


def given_or_read(log: EventLog, presence: Presence | FromLog | None) -> Presence | None:
    """``presence`` as a caller who already read it gives it, else read from ``log``."""
    return presence_of(log) if presence is FROM_LOG else presence


def presence_of(log: EventLog) -> Presence | None:
    """The household's presence from the log; None where nobody's whereabouts are recorded."""
    people = people_of(log)
    if not people:
        return None
    home_state = log.states.index(HOME) if HOME in log.states else -1
    ignored = np.fromiter((s in IGNORED_STATES for s in log.states), dtype=bool, count=len(log.states))
    ids, changes, home = [], [], []
    for person in people:
        mine = np.flatnonzero((log.entity == person) & ~ignored[log.state])
        if mine.size == 0:
            continue
        mine = mine[np.argsort(log.ts[mine], kind="stable")]
        moments = log.local_stamp(mine).astype(np.float64)
        ids.append(log.entity_ids[person])
        changes.append(moments)
        home.append(log.state[mine] == home_state)
    if not ids:
        return None
    return Presence(people=tuple(ids), changes=tuple(changes), home=tuple(home))

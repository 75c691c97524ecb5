"""After accept: does the household live with the automation it accepted?

An accepted suggestion is a guess that held on the past; what the household does once it
runs says whether it still holds. Three problems, checked on the history each job reads:

- **reverted**: it fired and, within ``REVERT_WINDOW_MIN``, a person (the app, a wall
  switch) put the target back, on at least ``PROBLEM_COUNT`` of its last ``LAST_FIRINGS``
  firings;
- **done_before**: a clock or sun automation found the target already in its state
  because someone had done it by hand within ``BEFORE_WINDOW_MIN`` before it was due, on
  at least ``PROBLEM_COUNT`` of the last ``LAST_FIRINGS`` days it was due (its
  "not already" condition then skips it: no firing, no ``last_triggered``);
- **not_triggered**: accepted ``IDLE_DAYS`` or more ago and not fired for as long.

Which change is a firing of which automation. The reader marks a change ``AUTOMATION``
when its context has a parent or is an ``automation_triggered``/``script_started`` run's
(``recorder_reader``); it does not say *which* automation. So a firing is an
``AUTOMATION`` change of the automation's target to its state, after it was accepted, at
its trigger: within ``CLOCK_SLACK_MIN`` of the day's trigger time (time and sun
triggers, on its weekdays), or within ``STATE_SLACK_S`` after its trigger entity's change
(state triggers, after their ``for``). Another automation doing the same thing to the
same device at the same moment is the only mix-up left, and then either one's firing is
the same to the household. The automation entity's own history cannot do better: its
``last_triggered`` is an attribute, and attribute-only updates are not read (nor are
``automation`` entities, a system domain). The shell passes the entity's current
``last_triggered`` instead, for the idle check (a firing older than the window).

Each problem comes with what to change, most specific first:

- *weekdays*: every problem on weekdays where it never went right, and right on others
  (each weekday seen at least twice) → keep only the days without problems;
- *someone_home* (reverted only): undone each time nobody was home (from the app),
  kept each time someone was → a condition that someone is home;
- *move* (clock triggers): the household's own acts (to the automation's state, since
  it was accepted, on its days) cluster ``MOVE_AT_LEAST_MIN`` or more from its time →
  that time;
- *remove* otherwise, and always for ``not_triggered``.

Times are local minutes on the ``EventLog``'s axis (``local day * 1440 + minute``,
seconds as a fraction), the one ``Presence`` and ``SunTimes`` use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .event_log import EventLog, Origin
from .local_time import MINUTES_PER_DAY, weekday_of
from .minute_histogram import circular_offset
from .presence import Presence
from .presence_triggers import event_rows
from .sun_relative import SunTimes

REVERTED = "reverted"
DONE_BEFORE = "done_before"
NOT_TRIGGERED = "not_triggered"
PROPOSE_WEEKDAYS = "weekdays"
PROPOSE_SOMEONE_HOME = "someone_home"
PROPOSE_MOVE = "move"
PROPOSE_REMOVE = "remove"

REVERT_WINDOW_MIN = 10.0
BEFORE_WINDOW_MIN = 30.0
LAST_FIRINGS = 7
PROBLEM_COUNT = 3
IDLE_DAYS = 30
# A time trigger's own change lands within a second; a slow (cloud) device within minutes.
CLOCK_SLACK_MIN = 3.0
STATE_SLACK_S = 120.0
# A time the household keeps: most of its acts within this of their median ...
CLUSTER_MIN = 30
# ... and far enough from the automation's time that moving it changes something.
MOVE_AT_LEAST_MIN = 10
_DAY_S = 86_400.0
_BY_HAND = (int(Origin.USER), int(Origin.PHYSICAL))


@dataclass(frozen=True, slots=True)
class Watched:
    """An accepted automation, as much of it as watching needs.

    One trigger: a clock ``minute`` (local), or ``sun_event`` + ``sun_offset_min``, or a
    state trigger (``trigger_entity_id`` to ``trigger_to_state`` for ``for_s``). It sets
    ``entity_id`` to ``to_state`` on ``weekdays`` (0 = Monday), maybe only with someone
    home. ``since_ts`` (UTC s) is when it was accepted; ``last_triggered_ts`` what its
    entity says now (None: never).
    """

    key: str
    entity_id: str
    to_state: str
    since_ts: float
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    minute: int | None = None
    sun_event: str | None = None
    sun_offset_min: int = 0
    trigger_entity_id: str | None = None
    trigger_to_state: str | None = None
    for_s: float = 0.0
    needs_someone_home: bool = False
    last_triggered_ts: float | None = None
    # A state trigger on the people: when the last one leaves, or someone comes home
    # (``presence_triggers.LEAVE`` / ``ARRIVE``); its moments are those of the household.
    presence_event: str | None = None

    @property
    def clock_like(self) -> bool:
        """A time or sun trigger: due once a day, so it can be pre-empted."""
        return self.minute is not None or self.sun_event is not None


@dataclass(frozen=True, slots=True)
class Finding:
    """What is wrong with one accepted automation, and the change proposed.

    ``fired``: the last firings (reverted) or days due (done_before) looked at, or the
    firings in the window (not_triggered); ``undone``: of those, the ones undone or
    already done by hand. ``usual_minute``: the local minute of day the household does
    it (or undoes it) by hand, None when it has no usual time. ``new_minute`` (move) and
    ``weekdays`` (weekdays) say the proposal.
    """

    key: str
    problem: str
    proposal: str
    fired: int
    undone: int
    usual_minute: int | None = None
    new_minute: int | None = None
    weekdays: tuple[int, ...] = ()
    last_fired_ts: float | None = None


@dataclass(frozen=True, slots=True)
class _Own:
    """The target's real changes in time order: their log rows and local stamps."""

    rows: NDArray[np.int64]
    stamp: NDArray[np.float64]
    to_state: NDArray[np.bool_]
    by_hand: NDArray[np.bool_]
    automation: NDArray[np.bool_]


def local_stamps(log: EventLog, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """Local minutes (with seconds as a fraction) of log rows."""
    seconds = np.mod(log.ts[rows], 60.0) / 60.0
    stamp: NDArray[np.float64] = log.local_stamp(rows).astype(np.float64) + seconds
    return stamp


def local_stamp_of(log: EventLog, ts: float) -> float:
    """The local minute of a UTC moment, by the UTC offset of the log's nearest change."""
    if len(log) == 0:
        return ts / 60.0
    row = int(np.clip(np.searchsorted(log.ts, ts), 0, len(log) - 1))
    local = float(log.local_stamp(slice(row, row + 1))[0]) * 60.0
    offset = local - (float(log.ts[row]) - float(np.mod(log.ts[row], 60.0)))
    return (ts + offset) / 60.0


def _own_changes(log: EventLog, watched: Watched) -> _Own | None:
    if watched.entity_id not in log.entity_ids:
        return None
    entity = log.entity_ids.index(watched.entity_id)
    rows = np.flatnonzero((log.entity == entity) & log.real_mask()).astype(np.int64)
    state = log.states.index(watched.to_state) if watched.to_state in log.states else -1
    origin = log.origin[rows]
    return _Own(
        rows=rows,
        stamp=local_stamps(log, rows),
        to_state=log.state[rows] == state,
        by_hand=np.isin(origin, _BY_HAND),
        automation=origin == int(Origin.AUTOMATION),
    )


def trigger_moments(watched: Watched, days: NDArray[np.int64], sun: SunTimes | None) -> NDArray[np.float64]:
    """The local minute it is due on each of ``days`` (NaN: not that day, or no sun)."""
    if watched.minute is not None:
        minute = np.full(days.shape, float(watched.minute))
    elif watched.sun_event is not None and sun is not None:
        minute = sun.minutes(watched.sun_event, days) + watched.sun_offset_min
    else:
        minute = np.full(days.shape, np.nan)
    minute[~np.isin(weekday_of(days), watched.weekdays)] = np.nan
    moments: NDArray[np.float64] = days.astype(np.float64) * MINUTES_PER_DAY + minute
    return moments


def _state_trigger_times(log: EventLog, watched: Watched) -> NDArray[np.float64]:
    """UTC moments its state trigger fired: the trigger entity's changes, plus ``for``."""
    if watched.presence_event is not None:
        moments: NDArray[np.float64] = log.ts[event_rows(log, watched.presence_event)]
        return moments + watched.for_s
    if watched.trigger_entity_id not in log.entity_ids or watched.trigger_to_state not in log.states:
        return np.empty(0)
    entity = log.entity_ids.index(watched.trigger_entity_id)
    state = log.states.index(watched.trigger_to_state)
    times: NDArray[np.float64] = log.ts[(log.entity == entity) & (log.state == state) & log.real_mask()]
    return times + watched.for_s


def firings(log: EventLog, watched: Watched, own: _Own, sun: SunTimes | None) -> NDArray[np.int64]:
    """Positions in ``own`` of its firings: automation changes to its state at its trigger."""
    since = local_stamp_of(log, watched.since_ts)
    candidates = np.flatnonzero(own.to_state & own.automation & (own.stamp >= since))
    if candidates.size == 0:
        return candidates.astype(np.int64)
    if watched.clock_like:
        stamp = own.stamp[candidates]
        days = np.floor_divide(stamp, MINUTES_PER_DAY).astype(np.int64)
        due = trigger_moments(watched, days, sun)
        on_time = np.abs(stamp - due) <= CLOCK_SLACK_MIN  # False where NaN
        return candidates[on_time].astype(np.int64)
    triggered = np.sort(_state_trigger_times(log, watched))
    if triggered.size == 0:
        return np.empty(0, dtype=np.int64)
    ts = log.ts[own.rows[candidates]]
    last = np.searchsorted(triggered, ts, side="right") - 1
    after = ts - triggered[np.clip(last, 0, None)]
    return candidates[(last >= 0) & (after <= STATE_SLACK_S)].astype(np.int64)


def usual_minute(stamps: NDArray[np.float64]) -> int | None:
    """The minute of day most of these acts happen around, if any.

    A usual time needs ``PROBLEM_COUNT`` acts and more than half of them within
    ``CLUSTER_MIN`` of their circular median: scattered acts have none. It is the median
    of those close ones.
    """
    if stamps.size < PROBLEM_COUNT:
        return None
    minutes = np.mod(np.round(stamps), MINUTES_PER_DAY).astype(np.int64)
    angle = minutes * (2 * np.pi / MINUTES_PER_DAY)
    mean = float(np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()))
    centre = round(mean * MINUTES_PER_DAY / (2 * np.pi)) % MINUTES_PER_DAY
    median = (centre + round(float(np.median(circular_offset(minutes, centre))))) % MINUTES_PER_DAY
    close = np.abs(circular_offset(minutes, median)) <= CLUSTER_MIN
    if int(np.count_nonzero(close)) < PROBLEM_COUNT or not close.mean() > 0.5:
        return None
    # The time of the cluster itself: a stray act the other side of the clock moves it not.
    return int((median + round(float(np.median(circular_offset(minutes[close], median))))) % MINUTES_PER_DAY)


def _weekday_split(watched: Watched, bad: NDArray[np.float64], good: NDArray[np.float64]) -> tuple[int, ...]:
    """Its days without problems, when the problems keep to other weekdays; else ().

    Each weekday it ran on went wrong every time or right every time, at least twice, and
    the right ones are at least as many as the wrong: one lucky Tuesday (or two, when it
    went wrong on six other days) is no reason to run only on Tuesdays.
    """
    bad_days = weekday_of(np.floor_divide(bad, MINUTES_PER_DAY).astype(np.int64))
    good_days = weekday_of(np.floor_divide(good, MINUTES_PER_DAY).astype(np.int64))
    bad_count = np.bincount(bad_days, minlength=7)
    good_count = np.bincount(good_days, minlength=7)
    runs = bad_count + good_count
    mixed = (bad_count > 0) & (good_count > 0)
    if mixed.any() or ((runs > 0) & (runs < 2)).any() or good_count.sum() < max(bad_count.sum(), 1):
        return ()
    return tuple(d for d in watched.weekdays if bad_count[d] == 0)


def _move_to(watched: Watched, acts: NDArray[np.float64]) -> int | None:
    """The household's usual time for a clock automation, when far enough from its own."""
    usual = usual_minute(acts)
    if watched.minute is None or usual is None:
        return None
    gap = abs(int(circular_offset(np.array([usual]), watched.minute)[0]))
    return usual if gap >= MOVE_AT_LEAST_MIN else None


def _by_hand_acts(log: EventLog, watched: Watched, own: _Own) -> NDArray[np.float64]:
    """When the household itself set the target to the state, since accepted, on its days."""
    since = local_stamp_of(log, watched.since_ts)
    stamp = own.stamp[own.to_state & own.by_hand & (own.stamp >= since)]
    day = np.floor_divide(stamp, MINUTES_PER_DAY).astype(np.int64)
    kept: NDArray[np.float64] = stamp[np.isin(weekday_of(day), watched.weekdays)]
    return kept


def _finding(
    watched: Watched,
    problem: str,
    counts: tuple[int, int],
    bad: NDArray[np.float64],
    good: NDArray[np.float64],
    acts: NDArray[np.float64],
    presence_split: bool,
) -> Finding:
    """The finding, with the most specific fix the evidence supports."""
    fired, undone = counts
    usual = usual_minute(acts)
    if days := _weekday_split(watched, bad, good):
        return Finding(watched.key, problem, PROPOSE_WEEKDAYS, fired, undone, usual, weekdays=days)
    if presence_split:
        return Finding(watched.key, problem, PROPOSE_SOMEONE_HOME, fired, undone, usual)
    if (new := _move_to(watched, acts)) is not None:
        return Finding(watched.key, problem, PROPOSE_MOVE, fired, undone, usual, new_minute=new)
    return Finding(watched.key, problem, PROPOSE_REMOVE, fired, undone, usual)


def _reverted(
    log: EventLog, watched: Watched, own: _Own, fired: NDArray[np.int64], presence: Presence | None
) -> Finding | None:
    """Undone by hand soon after it fired, on enough of its last firings."""
    if fired.size == 0:
        return None
    following = fired + 1
    has_next = following < own.rows.size
    nxt = np.clip(following, 0, own.rows.size - 1)
    undone = (
        has_next
        & ~own.to_state[nxt]
        & own.by_hand[nxt]
        & (own.stamp[nxt] - own.stamp[fired] <= REVERT_WINDOW_MIN)
    )
    recent = undone[-LAST_FIRINGS:]
    if int(np.count_nonzero(recent)) < PROBLEM_COUNT:
        return None
    stamps = own.stamp[fired]
    bad, good = stamps[undone], stamps[~undone]
    split = False
    kept = good  # firings nobody undid while someone was there to
    if presence is not None:
        home_good = presence.anyone_home(good)
        kept = good[home_good]
        if not watched.needs_someone_home:
            split = bool(not presence.anyone_home(bad).any() and home_good.all())
    acts = _by_hand_acts(log, watched, own)
    # The acts that undid it are the household's answer too: their usual time is reported
    # when it has no usual time of its own for the state. A firing while nobody was home
    # is no sign its weekday is right: nobody could undo it.
    finding = _finding(
        watched, REVERTED, (int(recent.size), int(np.count_nonzero(recent))), bad, kept, acts, split
    )
    if finding.usual_minute is None:
        undo_at = usual_minute(own.stamp[np.clip(fired[undone] + 1, 0, own.rows.size - 1)])
        finding = replace(finding, usual_minute=undo_at)
    return finding


def _done_before(log: EventLog, watched: Watched, own: _Own, sun: SunTimes | None) -> Finding | None:
    """Already done by hand shortly before it was due, on enough of its last days due."""
    if not watched.clock_like:
        return None
    since = local_stamp_of(log, watched.since_ts)
    days = log.eligible_days(watched.entity_id)
    due = trigger_moments(watched, days, sun)
    due = due[~np.isnan(due) & (due >= since)]
    if due.size == 0:
        return None
    last = np.searchsorted(own.stamp, due, side="left") - 1
    at = np.clip(last, 0, None)
    pre = (last >= 0) & own.to_state[at] & own.by_hand[at] & (due - own.stamp[at] <= BEFORE_WINDOW_MIN)
    recent = pre[-LAST_FIRINGS:]
    if int(np.count_nonzero(recent)) < PROBLEM_COUNT:
        return None
    acts = own.stamp[at[pre]]
    return _finding(
        watched,
        DONE_BEFORE,
        (int(recent.size), int(np.count_nonzero(recent))),
        due[pre],
        due[~pre],
        acts,
        presence_split=False,
    )


def _idle(watched: Watched, now_ts: float, last_fired_ts: float | None) -> bool:
    """Accepted ``IDLE_DAYS`` ago or more, and not fired for as long."""
    if now_ts - watched.since_ts < IDLE_DAYS * _DAY_S:
        return False
    last = max((t for t in (watched.last_triggered_ts, last_fired_ts) if t is not None), default=None)
    return last is None or now_ts - last >= IDLE_DAYS * _DAY_S


def check(
    log: EventLog,
    watched: Watched,
    now_ts: float,
    sun: SunTimes | None = None,
    presence: Presence | None = None,
    origin_known: bool = True,
) -> Finding | None:
    """The problem of one accepted automation (reverted before done_before before idle), or None.

    ``origin_known`` False (the history API fallback): no change is known to be an
    automation's or a person's, so only idleness (by ``last_triggered``) can be told.
    """
    own = _own_changes(log, watched) if origin_known else None
    fired = firings(log, watched, own, sun) if own is not None else np.empty(0, dtype=np.int64)
    last_fired = float(log.ts[own.rows[fired[-1]]]) if own is not None and fired.size else None
    found = None
    if own is not None:
        found = _reverted(log, watched, own, fired, presence) or _done_before(log, watched, own, sun)
    if found is None and _idle(watched, now_ts, last_fired):
        found = Finding(watched.key, NOT_TRIGGERED, PROPOSE_REMOVE, int(fired.size), 0)
    return None if found is None else replace(found, last_fired_ts=last_fired)


def check_all(
    log: EventLog,
    watched: list[Watched],
    now_ts: float,
    sun: SunTimes | None = None,
    presence: Presence | None = None,
    origin_known: bool = True,
) -> list[Finding]:
    """The problems of every watched automation (those without one are left out)."""
    found = (check(log, w, now_ts, sun, presence, origin_known) for w in watched)
    return [f for f in found if f is not None]

"""UTC timestamps to local wall-clock fields, DST handled once for the whole window.

A zone's UTC offset is piecewise constant; we locate every change inside the window to
the second, then map each event with one ``searchsorted``. That is exact for every zone
(transitions at :30 or :45 included) and costs O(n log k) for k transitions.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import numpy as np
from numpy.typing import NDArray

SECONDS_PER_DAY = 86_400
MINUTES_PER_DAY = 1_440
# Zone offsets never change twice within this step; hourly sampling finds every change.
_PROBE_STEP_S = 3_600
# Events per slice of per-event work done a slice at a time (a few MB of temporaries each).
SLICE_EVENTS = 1 << 16


def _offset_s(tz: tzinfo, ts: float) -> int:
    offset = datetime.fromtimestamp(ts, tz=UTC).astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def utc_offsets(tz: tzinfo, start_ts: float, end_ts: float) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Return ``(change_ts, offset_s)``: the offset in force from each change on.

    ``change_ts[0]`` is ``start_ts``; every later entry is the exact UTC second at which
    the zone's offset changes inside ``[start_ts, end_ts]``.
    """
    changes = [float(start_ts)]
    offsets = [_offset_s(tz, start_ts)]
    probe = float(start_ts)
    while probe < end_ts:
        nxt = min(probe + _PROBE_STEP_S, float(end_ts))
        after = _offset_s(tz, nxt)
        if after != offsets[-1]:
            lo, hi = probe, nxt  # offset(lo) == old, offset(hi) == new
            while hi - lo > 1:
                mid = float(int((lo + hi) / 2))
                if _offset_s(tz, mid) == offsets[-1]:
                    lo = mid
                else:
                    hi = mid
            changes.append(hi)
            offsets.append(after)
        probe = nxt
    return np.asarray(changes, dtype=np.float64), np.asarray(offsets, dtype=np.int64)


def local_fields(
    ts: NDArray[np.float64],
    change_ts: NDArray[np.float64],
    offset_s: NDArray[np.int64],
) -> tuple[NDArray[np.int16], NDArray[np.int32]]:
    """Return ``(minute_of_day, local_day)`` for UTC timestamps ``ts``.

    ``local_day`` counts days since 1970-01-01 in local time (``weekday_of`` gives its
    weekday). Computed a slice at a time: the int64 working arrays of a whole 90-day
    window would take several times the 6 bytes per event the answer needs.
    """
    n = int(ts.shape[0])
    minute = np.empty(n, dtype=np.int16)
    day = np.empty(n, dtype=np.int32)
    for lo in range(0, n, SLICE_EVENTS):
        part = slice(lo, min(lo + SLICE_EVENTS, n))
        idx = np.searchsorted(change_ts, ts[part], side="right") - 1
        np.clip(idx, 0, len(offset_s) - 1, out=idx)
        local = np.floor(ts[part]).astype(np.int64) + offset_s[idx]
        days = np.floor_divide(local, SECONDS_PER_DAY)
        minute[part] = np.floor_divide(local - days * SECONDS_PER_DAY, 60)
        day[part] = days
    return minute, day


def local_minutes(
    ts: NDArray[np.float64], change_ts: NDArray[np.float64], offset_s: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Local minutes since 1970-01-01 of UTC timestamps ``ts``: ``local_day * 1440 +
    minute_of_day`` of ``local_fields``, in one int64."""
    idx = np.searchsorted(change_ts, ts, side="right") - 1
    np.clip(idx, 0, len(offset_s) - 1, out=idx)
    minutes: NDArray[np.int64] = np.floor_divide(np.floor(ts).astype(np.int64) + offset_s[idx], 60)
    return minutes


def weekday_of(day: NDArray[np.int64]) -> NDArray[np.int64]:
    """Weekday (0 = Monday) of local day numbers: 1970-01-01 was a Thursday."""
    weekday: NDArray[np.int64] = (day + 3) % 7
    return weekday


def local_day_of(tz: tzinfo, ts: float) -> int:
    """Return the local day number (days since 1970-01-01) of one UTC timestamp."""
    return int((int(ts) + _offset_s(tz, ts)) // SECONDS_PER_DAY)

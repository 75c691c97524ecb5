"""The compact history: what the detectors read, kept by the integration for up to 90 days.

Home Assistant's recorder keeps 10 days by default (``purge_keep_days``); a 30- or
90-day lookback would never have its days. So each run reads from the recorder only
what the compact history does not hold yet (the first run: whatever the recorder has;
then, nightly, the one new day), day by day, reduces it to what a detector can use
(``history_files.compact``: no numeric readings, timestamps or free text; no attributes
were ever read) and stores it (``history_files``). The analysis then reads its window
from the compact history, whatever the recorder has purged since.

The stored entities are those the include/exclude options select: when they change,
every stored day keeps only the entities now selected, and the days the recorder still
has are read again (an entity included later gets the history the recorder has of it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from sqlalchemy import text

from .const import (
    CONF_EXCLUDE_DOMAINS,
    CONF_EXCLUDE_ENTITIES,
    CONF_INCLUDE_DOMAINS,
    CONF_INCLUDE_ENTITIES,
    DOMAIN,
    LOGGER,
    MAX_LOOKBACK_DAYS,
)
from .engine.history_files import HistoryFiles, Window, compact, readings_only
from .engine.local_time import local_day_of
from .fetched_history import SOURCE_RECORDER, FetchCancelled, FetchedHistory, read_session
from .heap import release_freed_memory
from .recorder_reader import async_fetch_history, cyclic_gc_paused, reader_support

HISTORY_KEY = f"{DOMAIN}_history"
# Kept for the longest lookback a job can ask for.
RETENTION_DAYS = MAX_LOOKBACK_DAYS
# The files' ceiling: a home that outgrows it keeps its newest days (a typical home needs
# a few MB; a million changes a month, about 6 MB a month).
MAX_HISTORY_BYTES = 256 * 1024 * 1024
_SELECTION_KEYS = (CONF_INCLUDE_ENTITIES, CONF_INCLUDE_DOMAINS, CONF_EXCLUDE_ENTITIES, CONF_EXCLUDE_DOMAINS)
_COMMIT_WAIT_S = 30
_SELECT_OLDEST_ROW = text("SELECT MIN(last_updated_ts) FROM states")
_EPOCH = date(1970, 1, 1)


def history_dir(hass: HomeAssistant, entry_id: str) -> Path:
    """The entry's compact history, beside its other files in ``.storage``."""
    return Path(hass.config.path(".storage")) / f"{HISTORY_KEY}.{entry_id}"


def selection_of(options: dict[str, Any]) -> dict[str, list[str]]:
    """The options that say which entities are read (what the stored days hold)."""
    return {key: sorted(options.get(key) or []) for key in _SELECTION_KEYS}


@dataclass(frozen=True, slots=True)
class HistoryStatus:
    """What the compact history holds after a run's read: the job record's ``history``."""

    days_stored: int  # local days with any recorded hour, in all the compact history
    first_day: date | None  # the oldest of them
    days_available: int  # of the job's window
    lookback_days: int
    complete_on: date | None  # the first day a job's window is all in the history (None: it is)
    days_read: int  # days read from the recorder by this run
    rows_read: int  # of those, the changes kept
    size_bytes: int

    @property
    def filling(self) -> bool:
        """The history does not reach back to the window's start yet."""
        return self.complete_on is not None

    def as_record(self) -> dict[str, Any]:
        """The job record's ``history``."""
        return {
            "days_stored": self.days_stored,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "days_available": self.days_available,
            "lookback_days": self.lookback_days,
            "filling": self.filling,
            "complete_on": self.complete_on.isoformat() if self.complete_on else None,
            "days_read": self.days_read,
            "rows_read": self.rows_read,
            "size_bytes": self.size_bytes,
        }


def _oldest_row_ts(hass: HomeAssistant) -> float | None:
    """The recorder's oldest state row (one index seek); run in its executor."""
    with read_session(hass) as session:
        found = session.execute(_SELECT_OLDEST_ROW).scalar()
    return None if found is None else float(found)


def local_days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at local midnights."""
    days: list[tuple[datetime, datetime]] = []
    at = start
    while at < end:
        nxt = dt_util.start_of_local_day(dt_util.as_local(at).date() + timedelta(days=1))
        days.append((at, min(nxt, end)))
        at = nxt
    return days


class HistoryStore:
    """The entry's compact history; one read at a time."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use the entry's directory (nothing is read until the first job)."""
        self.hass = hass
        self.files = HistoryFiles(history_dir(hass, entry_id))
        self._lock = asyncio.Lock()

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.hass.async_add_executor_job(fn, *args)

    async def async_read(
        self,
        window: tuple[datetime, datetime],
        wanted: Callable[[str], bool],
        selection: dict[str, list[str]],
        should_stop: Callable[[], bool],
    ) -> tuple[FetchedHistory, HistoryStatus]:
        """Bring the compact history up to the window's end, then read the window from it."""
        async with self._lock:
            start, end = window
            if not self.files.loaded:
                await self._run(self.files.load)
            await self._async_recorder_caught_up()
            recorder = get_instance(self.hass)
            oldest = await recorder.async_add_executor_job(_oldest_row_ts, self.hass)
            await self._async_select(selection, wanted, oldest)
            support = await recorder.async_add_executor_job(reader_support, self.hass)
            if support.fast and oldest is not None:
                # Days read through the history API (who caused each change unknown) are
                # read again once the fast reader can, where the recorder still has them.
                unknown = [s for s in self.files.spans() if not s.origin_known and s.start >= oldest]
                await self._run(self.files.drop, unknown)
            keep_from = dt_util.start_of_local_day(
                (dt_util.as_local(end) - timedelta(days=RETENTION_DAYS) + timedelta(hours=12)).date()
            )
            await self._run(self.files.drop_before, keep_from.timestamp())
            with cyclic_gc_paused():
                days_read, rows_read, last = await self._async_fill(
                    keep_from, end, oldest, wanted, should_stop
                )
            if await self._run(self.files.keep_within, MAX_HISTORY_BYTES):
                LOGGER.warning(
                    "The compact history reached %d MB: its oldest days were dropped",
                    MAX_HISTORY_BYTES // 1_000_000,
                )
            stored: Window = await self._run(self.files.window, start.timestamp(), end.timestamp(), wanted)
            if stored.dropped:
                # A stored day was unreadable (a damaged file): read it again, where the
                # recorder still has it, and the window again.
                more_days, more_rows, more_last = await self._async_fill(
                    keep_from, end, oldest, wanted, should_stop
                )
                days_read, rows_read = days_read + more_days, rows_read + more_rows
                last = more_last if more_last is not None else last
                stored = await self._run(self.files.window, start.timestamp(), end.timestamp(), wanted)
            fetched = _fetched(stored, last)
            status = await self._run(self._status, window, days_read, rows_read)
            return fetched, status

    async def _async_recorder_caught_up(self) -> None:
        """Wait (a bounded while) for the recorder to commit what it has queued.

        A stored day is never read again: its last minutes must be in the database, not
        in the recorder's queue, when it is read (a manual run just after midnight).
        """
        try:
            async with asyncio.timeout(_COMMIT_WAIT_S):
                await get_instance(self.hass).async_block_till_done()
        except TimeoutError:
            LOGGER.debug("The recorder is %d s behind; reading what it has committed", _COMMIT_WAIT_S)

    async def _async_select(
        self, selection: dict[str, list[str]], wanted: Callable[[str], bool], oldest: float | None
    ) -> None:
        """The options select other entities now: keep only those, read again what the recorder has."""
        if self.files.index.selection == selection:
            return
        if not self.files.spans():
            await self._run(self.files.set_selection, selection)
            return
        changed = await self._run(self.files.select, selection, wanted)
        again = [s for s in self.files.spans() if oldest is not None and s.start >= oldest]
        await self._run(self.files.drop, again)
        LOGGER.info(
            "Other entities are selected: %d stored days rewritten, %d read again from the recorder",
            changed,
            len(again),
        )

    async def _async_fill(
        self,
        keep_from: datetime,
        end: datetime,
        oldest: float | None,
        wanted: Callable[[str], bool],
        should_stop: Callable[[], bool],
    ) -> tuple[int, int, _LastRead | None]:
        """Read from the recorder, day by day, what the history lacks of ``[keep_from, end)``."""
        days_read = rows_read = 0
        last: _LastRead | None = None
        gaps = self.files.gaps(keep_from.timestamp(), end.timestamp())
        for gap_start_ts, gap_end_ts in gaps:
            gap_start = dt_util.as_local(dt_util.utc_from_timestamp(gap_start_ts))
            gap_end = dt_util.as_local(dt_util.utc_from_timestamp(gap_end_ts))
            # Before the recorder's oldest row there is nothing to read (not stored as
            # empty: a restored backup may bring those days back).
            first_hour = None if oldest is None else dt_util.utc_from_timestamp(oldest // 3_600 * 3_600)
            if first_hour is None or first_hour >= gap_end:
                continue
            gap_start = max(gap_start, dt_util.as_local(first_hour))
            for day_start, day_end in local_days(gap_start, gap_end):
                if should_stop():
                    raise FetchCancelled
                # Sensors that report only readings (power, temperature) are most of the
                # recorder's rows and none of a pattern's: not asked for, but on Mondays
                # (and until known), when every entity is read and the list made again.
                known = self.files.index.readings_only
                full = not known or dt_util.as_local(day_start).weekday() == 0
                skip = frozenset(() if full else known)
                fetched = await async_fetch_history(
                    self.hass, day_start, day_end, _without(wanted, skip), should_stop
                )
                kept = compact(fetched)
                found = readings_only(fetched, kept)
                await self._run(
                    partial(
                        self.files.add,
                        day_start.timestamp(),
                        day_end.timestamp(),
                        kept,
                        fetched.recorded_hours,
                        source=fetched.source,
                        origin_known=fetched.origin_known,
                        missing=fetched.missing,
                        readings=found if full else {*known, *found},
                    )
                )
                days_read += 1
                rows_read += len(kept)
                # How it was read, not its rows: the window is read from the files.
                last = _LastRead(fetched.source, fetched.origin_known, fetched.missing)
                del fetched, kept, found
                await self._run(release_freed_memory)  # the day's working set: see ``heap``
        return days_read, rows_read, last

    def _status(self, window: tuple[datetime, datetime], days_read: int, rows_read: int) -> HistoryStatus:
        """How far the compact history reaches (in the executor: it reads the index's hours)."""
        tz = dt_util.get_default_time_zone()
        start, end = window
        days = self.files.recorded_days(lambda hour: local_day_of(tz, hour * 3_600.0))
        first_window_day = local_day_of(tz, start.timestamp())
        last_window_day = local_day_of(tz, end.timestamp() - 1)
        lookback = last_window_day - first_window_day + 1
        in_window = [d for d in days if first_window_day <= d <= last_window_day]
        first = days[0] if days else None
        complete_on: date | None = None
        if first is not None and first > first_window_day:
            # The first job whose window starts on the history's first day: ``lookback``
            # days after it (the window ends with yesterday).
            complete_on = _EPOCH + timedelta(days=first + lookback)
        return HistoryStatus(
            days_stored=len(days),
            first_day=None if first is None else _EPOCH + timedelta(days=first),
            days_available=len(in_window),
            lookback_days=lookback,
            complete_on=complete_on,
            days_read=days_read,
            rows_read=rows_read,
            size_bytes=self.files.size_bytes(),
        )

    async def async_clear(self) -> None:
        """Forget the compact history: the next run reads whatever the recorder has."""
        async with self._lock:
            await self._run(self.files.clear)

    async def async_info(self) -> dict[str, Any]:
        """For diagnostics: how much is stored."""
        if not self.files.loaded:
            await self._run(self.files.load)
        spans = self.files.spans()
        with_rows = [s for s in spans if s.rows]
        return {
            "spans": len(spans),
            "spans_with_changes": len(with_rows),
            "rows": sum(s.rows for s in spans),
            "size_bytes": self.files.size_bytes(),
            "first": dt_util.utc_from_timestamp(spans[0].start).isoformat() if spans else None,
            "last": dt_util.utc_from_timestamp(spans[-1].end).isoformat() if spans else None,
            "sources": sorted({s.source for s in with_rows}),
        }


def _without(wanted: Callable[[str], bool], skip: frozenset[str]) -> Callable[[str], bool]:
    """``wanted`` but the entities in ``skip``."""
    if not skip:
        return wanted
    return lambda entity_id: wanted(entity_id) and entity_id not in skip


@dataclass(frozen=True, slots=True)
class _LastRead:
    """How the last day read from the recorder was read."""

    source: str
    origin_known: bool
    missing: tuple[str, ...]


def _fetched(stored: Window, last: _LastRead | None) -> FetchedHistory:
    """The window as the reader's result, as the detectors take it."""
    columns = stored.columns
    origin_known = stored.origin_known and (last is None or last.origin_known)
    missing = stored.missing or (last.missing if last is not None else ())
    return FetchedHistory(
        entity_ids=columns.entity_ids,
        states=columns.states,
        entity=columns.entity,
        state=columns.state,
        ts=columns.ts,
        origin=columns.origin,
        source=stored.source if stored.spans else (last.source if last is not None else SOURCE_RECORDER),
        origin_known=origin_known,
        recorded_hours=stored.recorded_hours,
        missing=missing,
    )

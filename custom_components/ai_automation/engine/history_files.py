"""The compact history's files: what is kept of the recorder's rows, day by day, on disk.

One directory per config entry holds an index (``index.json``) and one file per stored
span (usually a local day: ``span-<start>-<end>.npz``). A span is what one read of the
recorder covered, reduced to what the detectors read (``compact``): its own entity and
state names, and columns of entity, state, UTC time and origin. The index keeps, per
span, the UTC hours in which the recorder had any row at all (so a day Home Assistant
was off stays uncovered); a span with no change kept has no file, only its entry: that
range is known and not asked again.

Every write is atomic (a temporary file, fsynced, then renamed over the old one), and a
span's file is written before the index names it: a kill at any moment leaves the last
complete index and the files it names; files no index names are removed on load, and a
listed file that is missing or unreadable drops its span, which is then read again from
the recorder where it still has it.

Pure: numpy and the standard library, no Home Assistant.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .event_log import IGNORED_STATES, StateChanges
from .time_of_day import routine_state_mask

LOGGER = logging.getLogger(__name__)

FORMAT_VERSION = 1
INDEX = "index.json"
_SPAN_PREFIX = "span-"
HOUR_S = 3_600


# State changes as parallel columns (time-ordered) with their own name tables.
Columns = StateChanges


def empty_columns() -> Columns:
    """No state changes."""
    return Columns(
        (), (), np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.float64), np.empty(0, np.int8)
    )


def compact(columns: Columns) -> Columns:
    """Keep what a detector can read: states a routine or a trigger can be, and the gaps.

    A numeric sensor's readings, timestamps and free text are never a pattern's state
    (``routine_state_mask``) and are most of a recorder's rows; they go. ``unavailable``
    and ``unknown`` stay where the entity has a state that can be a pattern's (after one,
    the next change is a restart's, not the household's); an entity with none (a power
    sensor) goes whole. The name tables keep only what the kept rows use.
    """
    if not len(columns):
        return empty_columns()
    ignored = np.fromiter(
        (s in IGNORED_STATES for s in columns.states), dtype=bool, count=len(columns.states)
    )
    routine = routine_state_mask(columns.states)
    usable = np.bincount(columns.entity[routine[columns.state]], minlength=len(columns.entity_ids)) > 0
    keep = (routine | ignored)[columns.state] & usable[columns.entity]
    return _subset(columns, keep)


def readings_only(read: Columns, kept: Columns) -> set[str]:
    """The entities of ``read`` that ``compact`` left out whole (their states are readings)."""
    return {read.entity_ids[int(e)] for e in np.unique(read.entity)} - set(kept.entity_ids)


def _subset(columns: Columns, keep: NDArray[np.bool_]) -> Columns:
    """The rows in ``keep``, with name tables reduced to the names those rows use."""
    entity, state = columns.entity[keep], columns.state[keep]
    used_entities = np.unique(entity)
    used_states = np.unique(state)
    entity_map = np.zeros(max(len(columns.entity_ids), 1), dtype=np.int32)
    entity_map[used_entities] = np.arange(used_entities.size, dtype=np.int32)
    state_map = np.zeros(max(len(columns.states), 1), dtype=np.int32)
    state_map[used_states] = np.arange(used_states.size, dtype=np.int32)
    return Columns(
        entity_ids=tuple(columns.entity_ids[i] for i in used_entities),
        states=tuple(columns.states[i] for i in used_states),
        entity=entity_map[entity],
        state=state_map[state],
        ts=columns.ts[keep],
        origin=columns.origin[keep],
    )


@dataclass(frozen=True, slots=True)
class Span:
    """One stored read of the recorder, ``[start, end)`` in UTC epoch seconds."""

    start: float
    end: float
    rows: int
    file: str | None  # None: no change kept (the recorder had none, or none a detector reads)
    bytes: int = 0
    # How it was read: "recorder" (who caused each change is known) or "history_api".
    source: str = "recorder"
    origin_known: bool = True
    # What the recorder lacked for the fast reader (the history API was read instead).
    missing: tuple[str, ...] = ()
    # The UTC hours (epoch hours) in which the recorder had any row, as inclusive runs.
    hour_runs: tuple[tuple[int, int], ...] = ()

    def hours(self) -> NDArray[np.int64]:
        """The UTC epoch hours the recorder was recording in, sorted."""
        if not self.hour_runs:
            return np.empty(0, np.int64)
        return np.concatenate([np.arange(a, b + 1, dtype=np.int64) for a, b in self.hour_runs])

    def to_json(self) -> dict[str, Any]:
        """The index entry."""
        data = asdict(self)
        data["missing"] = list(self.missing)
        data["hour_runs"] = [list(r) for r in self.hour_runs]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Span:
        """Read an index entry (a field a newer version added is ignored)."""
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            rows=int(data["rows"]),
            file=data.get("file"),
            bytes=int(data.get("bytes", 0)),
            source=str(data.get("source", "recorder")),
            origin_known=bool(data.get("origin_known", True)),
            missing=tuple(data.get("missing", ())),
            hour_runs=tuple((int(a), int(b)) for a, b in data.get("hour_runs", ())),
        )


def hour_runs(hours: NDArray[np.int64]) -> tuple[tuple[int, int], ...]:
    """Sorted unique hours as inclusive runs of consecutive hours."""
    if not hours.size:
        return ()
    hours = np.unique(hours)
    breaks = np.flatnonzero(np.diff(hours) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [hours.size - 1]])
    return tuple((int(hours[a]), int(hours[b])) for a, b in zip(starts, ends, strict=True))


@dataclass(frozen=True, slots=True)
class Window:
    """What the stored spans hold of ``[start, end)``, joined into one set of columns."""

    columns: Columns
    recorded_hours: NDArray[np.int64]
    origin_known: bool
    source: str
    missing: tuple[str, ...]
    spans: int
    dropped: int = 0  # spans found unreadable now (dropped: the recorder may still have them)


@dataclass(slots=True)
class Index:
    """The directory's table of contents."""

    spans: list[Span] = field(default_factory=list)
    # Which entities the spans hold (the include/exclude options they were read with).
    selection: dict[str, Any] = field(default_factory=dict)
    # Entities whose every state was a reading when last read (not asked for between checks).
    readings_only: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "version": FORMAT_VERSION,
            "selection": self.selection,
            "readings_only": sorted(self.readings_only),
            "spans": [s.to_json() for s in sorted(self.spans, key=lambda s: s.start)],
        }


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write through a temporary file in the same directory, fsync it, rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # The rename itself survives a power cut once the directory is synced.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _span_name(start: float, end: float) -> str:
    return f"{_SPAN_PREFIX}{int(start)}-{int(end)}.npz"


class HistoryFiles:
    """The compact history in one directory; every method does file I/O (run it in an executor)."""

    def __init__(self, directory: Path) -> None:
        """Use ``directory`` (created on the first write)."""
        self.directory = directory
        self.index = Index()
        self.loaded = False

    # --- reading ------------------------------------------------------------------

    def load(self) -> Index:
        """Read the index; drop what it names but cannot be read, and files it does not name."""
        self.loaded = True
        self.index = Index()
        path = self.directory / INDEX
        if not path.exists():
            self._remove_unlisted()
            return self.index
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            version = int(data.get("version", 0))
            if version > FORMAT_VERSION:
                LOGGER.warning(
                    "The compact history in %s was written by a newer version (format %s); starting afresh",
                    self.directory,
                    version,
                )
                data = {}
            spans = [Span.from_json(s) for s in data.get("spans", [])]
            selection = dict(data.get("selection", {}))
            readings = [str(e) for e in data.get("readings_only", [])]
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
            LOGGER.warning("The compact history's index %s is unreadable (%s); starting afresh", path, err)
            spans, selection, readings = [], {}, []
        kept = [s for s in spans if s.file is None or (self.directory / s.file).is_file()]
        if len(kept) < len(spans):
            LOGGER.warning("%d stored days of history are missing their files", len(spans) - len(kept))
        self.index = Index(spans=kept, selection=selection, readings_only=readings)
        self._remove_unlisted()
        return self.index

    def _remove_unlisted(self) -> None:
        """Files a kill left behind: spans written but never listed, temporary files."""
        if not self.directory.is_dir():
            return
        listed = {s.file for s in self.index.spans if s.file}
        for path in self.directory.iterdir():
            if path.name == INDEX or path.name in listed:
                continue
            if path.name.startswith((_SPAN_PREFIX, ".")):
                path.unlink(missing_ok=True)

    def _read_span(self, span: Span) -> Columns | None:
        """A span's columns; None (and the span dropped) when its file is unreadable."""
        if span.file is None:
            return empty_columns()
        try:
            with np.load(self.directory / span.file, allow_pickle=False) as data:
                columns = Columns(
                    entity_ids=tuple(str(e) for e in data["entity_ids"]),
                    states=tuple(str(s) for s in data["states"]),
                    entity=data["entity"].astype(np.int32, copy=False),
                    state=data["state"].astype(np.int32, copy=False),
                    ts=data["ts"].astype(np.float64, copy=False),
                    origin=data["origin"].astype(np.int8, copy=False),
                )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            LOGGER.warning(
                "Stored history %s is unreadable (%s); it is read again where the recorder has it",
                span.file,
                err,
            )
            columns = None
        if columns is None or len(columns) != span.rows:
            self.drop([span])
            return None
        return columns

    def window(self, start: float, end: float, keep_entity: Callable[[str], bool] | None = None) -> Window:
        """The stored changes in ``[start, end)``, one set of columns, time-ordered.

        Allocated once for all rows and filled span by span, so a read costs the result
        and one span, not twice the result.
        """
        spans = [s for s in self.spans() if s.end > start and s.start < end]
        total = sum(s.rows for s in spans)  # what the index says; a damaged span has fewer
        entity = np.empty(total, np.int32)
        state = np.empty(total, np.int32)
        ts = np.empty(total, np.float64)
        origin = np.empty(total, np.int8)
        entity_index: dict[str, int] = {}
        state_index: dict[str, int] = {}
        read: list[Span] = []
        at = 0
        for span in spans:
            columns = self._read_span(span)
            if columns is None:
                continue
            read.append(span)
            keep = (columns.ts >= start) & (columns.ts < end)
            if keep_entity is not None and columns.entity_ids:
                wanted = np.fromiter((keep_entity(e) for e in columns.entity_ids), dtype=bool)
                keep &= wanted[columns.entity]
            n = int(np.count_nonzero(keep))
            if not n:
                continue
            e_map = np.fromiter(
                (entity_index.setdefault(e, len(entity_index)) for e in columns.entity_ids), np.int32
            )
            s_map = np.fromiter(
                (state_index.setdefault(s, len(state_index)) for s in columns.states), np.int32
            )
            entity[at : at + n] = e_map[columns.entity[keep]]
            state[at : at + n] = s_map[columns.state[keep]]
            ts[at : at + n] = columns.ts[keep]
            origin[at : at + n] = columns.origin[keep]
            at += n
        # Spans overlap only after a clock or zone change. (Compared in place: a diff of
        # the whole window would be 8 bytes a change more.)
        if at > 1 and np.any(ts[1:at] < ts[: at - 1]):
            order = np.argsort(ts[:at], kind="stable")
            entity[:at], state[:at], ts[:at], origin[:at] = (
                entity[order],
                state[order],
                ts[order],
                origin[order],
            )
        first_hour, last_hour = int(start // HOUR_S), int((end - 1) // HOUR_S)
        hour_parts = [s.hours() for s in read if s.hour_runs]
        hours = np.unique(np.concatenate(hour_parts)) if hour_parts else np.empty(0, np.int64)
        hours = hours[(hours >= first_hour) & (hours <= last_hour)]
        origin_known = all(s.origin_known for s in read)
        missing = tuple(dict.fromkeys(m for s in read for m in s.missing))
        return Window(
            columns=Columns(
                tuple(entity_index), tuple(state_index), entity[:at], state[:at], ts[:at], origin[:at]
            ),
            recorded_hours=hours,
            origin_known=origin_known,
            source=next((s.source for s in read if not s.origin_known), "recorder"),
            missing=missing,
            spans=len(read),
            dropped=len(spans) - len(read),
        )

    def spans(self) -> list[Span]:
        """The stored spans, oldest first."""
        if not self.loaded:
            self.load()
        return sorted(self.index.spans, key=lambda s: s.start)

    def gaps(self, start: float, end: float) -> list[tuple[float, float]]:
        """The parts of ``[start, end)`` no stored span covers, oldest first."""
        gaps: list[tuple[float, float]] = []
        at = start
        for span in self.spans():
            if span.end <= at or span.start >= end:
                continue
            if span.start > at:
                gaps.append((at, span.start))
            at = max(at, span.end)
        if at < end:
            gaps.append((at, end))
        return gaps

    def size_bytes(self) -> int:
        """Bytes the stored files take."""
        return sum(s.bytes for s in self.spans())

    def recorded_days(self, day_of: Callable[[int], int]) -> list[int]:
        """The local day numbers (``day_of`` maps a UTC hour) of the hours the spans recorded."""
        days: set[int] = set()
        for span in self.spans():
            days.update(day_of(int(h)) for h in span.hours())
        return sorted(days)

    # --- writing ------------------------------------------------------------------

    def add(
        self,
        start: float,
        end: float,
        columns: Columns,
        hours: NDArray[np.int64],
        *,
        source: str = "recorder",
        origin_known: bool = True,
        missing: Iterable[str] = (),
        readings: Iterable[str] | None = None,
    ) -> Span:
        """Store one read of ``[start, end)`` (already compacted), replacing what covered it.

        ``readings``: the entities now known to report readings only (see ``Index``).
        """
        if not self.loaded:
            self.load()
        self.directory.mkdir(parents=True, exist_ok=True)
        span = Span(
            start=start,
            end=end,
            rows=len(columns),
            file=None,
            source=source,
            origin_known=origin_known,
            missing=tuple(missing),
            hour_runs=hour_runs(hours),
        )
        if len(columns):
            name = _span_name(start, end)
            path = self.directory / name

            def write(f: Any) -> None:
                # What np.savez_compressed writes (np.load reads it), at zlib's fastest level:
                # a third of the time of its default for a tenth more bytes.
                arrays = {
                    "entity_ids": np.asarray(columns.entity_ids, dtype=np.str_),
                    "states": np.asarray(columns.states, dtype=np.str_),
                    "entity": columns.entity.astype(np.int32, copy=False),
                    "state": columns.state.astype(np.int32, copy=False),
                    "ts": columns.ts.astype(np.float64, copy=False),
                    "origin": columns.origin.astype(np.int8, copy=False),
                }
                with zipfile.ZipFile(
                    f, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
                ) as archive:
                    for name, array in arrays.items():
                        with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                            np.save(member, array, allow_pickle=False)

            _write_atomic(path, write)
            span = replace(span, file=name, bytes=path.stat().st_size)
        replaced = [s for s in self.index.spans if s.start >= start and s.end <= end]
        self.index.spans = [s for s in self.index.spans if s not in replaced] + [span]
        if readings is not None:
            self.index.readings_only = sorted(readings)
        self._write_index()
        for old in replaced:
            if old.file and old.file != span.file:
                (self.directory / old.file).unlink(missing_ok=True)
        return span

    def _write_index(self) -> None:
        if not self.directory.is_dir():
            return
        payload = json.dumps(self.index.to_json(), separators=(",", ":")).encode()
        _write_atomic(self.directory / INDEX, lambda f: f.write(payload))

    def drop(self, spans: Iterable[Span]) -> int:
        """Forget ``spans`` (the index first, then their files); return how many."""
        gone = [s for s in spans if s in self.index.spans]
        if not gone:
            return 0
        self.index.spans = [s for s in self.index.spans if s not in gone]
        self._write_index()
        for span in gone:
            if span.file:
                (self.directory / span.file).unlink(missing_ok=True)
        return len(gone)

    def drop_before(self, ts: float) -> int:
        """Forget the spans that end before ``ts`` (older than the longest lookback)."""
        return self.drop([s for s in self.spans() if s.end <= ts])

    def keep_within(self, max_bytes: int) -> int:
        """Drop the oldest spans while the files take more than ``max_bytes``."""
        spans = self.spans()
        total = sum(s.bytes for s in spans)
        over: list[Span] = []
        for span in spans:
            if total <= max_bytes:
                break
            over.append(span)
            total -= span.bytes
        return self.drop(over)

    def select(self, selection: dict[str, Any], keep_entity: Callable[[str], bool]) -> int:
        """The entities wanted changed: rewrite every span with the wanted ones only.

        Returns how many spans changed. The new selection is recorded either way.
        """
        changed = 0
        for span in self.spans():
            if span.file is None:
                continue
            columns = self._read_span(span)
            if columns is None:
                continue
            wanted = np.fromiter(
                (keep_entity(e) for e in columns.entity_ids), dtype=bool, count=len(columns.entity_ids)
            )
            if wanted.all():
                continue
            kept = _subset(columns, wanted[columns.entity]) if len(columns) else columns
            self.add(
                span.start,
                span.end,
                kept,
                span.hours(),
                source=span.source,
                origin_known=span.origin_known,
                missing=span.missing,
            )
            changed += 1
        self.index.selection = dict(selection)
        self._write_index()
        return changed

    def set_selection(self, selection: dict[str, Any]) -> None:
        """Record which entities the spans hold (the first write of a new directory)."""
        self.index.selection = dict(selection)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_index()

    def clear(self) -> None:
        """Remove the whole directory."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self.index = Index()
        self.loaded = True

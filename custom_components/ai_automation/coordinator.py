"""The analysis job: its schedule, its one-at-a-time run, and its history."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback, split_entity_id
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.ulid import ulid_now

from .analysis import detect, sun_times
from .const import (
    CONF_ANALYSIS_DAYS,
    CONF_ANALYSIS_TIME,
    CONF_CATCH_UP_GRACE,
    CONF_EXCLUDE_DOMAINS,
    CONF_EXCLUDE_ENTITIES,
    CONF_INCLUDE_DOMAINS,
    CONF_INCLUDE_ENTITIES,
    CONF_LOOKBACK_DAYS,
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    CONF_NOTIFY_SERVICES,
    DEFAULT_OPTIONS,
    DOMAIN,
    EVENT_ANALYSIS_COMPLETE,
    JOB_HISTORY_SIZE,
    LOGGER,
    PHASE_DETECT,
    PHASE_FETCH,
    PHASE_LLM,
    PHASE_PUBLISH,
    PHASE_SUGGEST,
    SHUTDOWN_WAIT_S,
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_NO_DATA,
    STATUS_NO_PATTERNS,
    STATUS_SKIPPED_BUSY,
    STATUS_SUCCESS,
    TRIGGER_CATCH_UP,
    TRIGGER_MANUAL,
    TRIGGER_SCHEDULE,
    WEEKDAYS,
)
from .decisions import Decisions
from .dedupe import automated_entities
from .llm import async_word_suggestions
from .push import async_push_new
from .recorder_reader import FetchCancelled, FetchedHistory, async_fetch_history
from .repairs import async_report_origin
from .storage import jobs_store
from .suggestions import async_build_suggestions, patterns_to_dicts

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


class JobInterrupted(Exception):
    """Raised at a phase boundary when Home Assistant stops or the entry unloads."""


# The error of a job found unfinished in the store at start: Home Assistant was killed
# (or lost power) while it ran, so nothing recorded its end.
ERROR_NEVER_FINISHED = "Home Assistant stopped before the job finished"
ERROR_STOPPED = "Home Assistant stopped or the integration was unloaded"


def entity_filter(options: Mapping[str, Any], own: frozenset[str] = frozenset()) -> Callable[[str], bool]:
    """Include (when any are given) minus exclude, by entity id or domain.

    ``own`` are this integration's entities: its nightly 'running' sensor would
    otherwise be the most regular routine in the house.
    """
    include_entities = set(options.get(CONF_INCLUDE_ENTITIES, []))
    include_domains = set(options.get(CONF_INCLUDE_DOMAINS, []))
    exclude_entities = set(options.get(CONF_EXCLUDE_ENTITIES, []))
    exclude_domains = set(options.get(CONF_EXCLUDE_DOMAINS, []))
    include_all = not include_entities and not include_domains

    def wanted(entity_id: str) -> bool:
        domain = split_entity_id(entity_id)[0]
        if entity_id in own or entity_id in exclude_entities:
            return False
        if domain in exclude_domains and entity_id not in include_entities:
            return False
        return include_all or entity_id in include_entities or domain in include_domains

    return wanted


def _snapshot(job: dict[str, Any]) -> dict[str, Any]:
    """A copy of a running job's record that its run can go on changing."""
    return {**job, "phases": dict(job["phases"])}


def parse_time(value: str) -> tuple[int, int, int]:
    """'HH:MM[:SS]' -> (hour, minute, second)."""
    parts = [int(p) for p in value.split(":")]
    return parts[0], parts[1], parts[2] if len(parts) > 2 else 0


class AnalysisCoordinator(DataUpdateCoordinator[None]):
    """Owns the schedule, runs one job at a time, keeps the job history.

    Entities listen to it like to any coordinator; it never polls (``update_interval``
    is None) and pushes with ``async_update_listeners`` on every phase and job change.
    """

    config_entry: ConfigEntry

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Set up an idle coordinator; call ``async_load`` then ``async_start``."""
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=None)
        # The data the entry was set up with: when it changes, the entry reloads.
        self.entry_data = dict(entry.data)
        self._store: Store[dict[str, Any]] = jobs_store(hass, entry.entry_id)
        self.jobs: list[dict[str, Any]] = []  # newest first
        self.patterns: list[dict[str, Any]] = []
        # The last run's suggestions (its response); every suggestion and decision is in ``decisions``.
        self.suggestions: list[dict[str, Any]] = []
        self.decisions = Decisions(hass, entry.entry_id, self.async_update_listeners)
        self.last_slot: datetime | None = None
        self.next_run: datetime | None = None
        self.phase: str | None = None
        self.current_job: dict[str, Any] | None = None
        self._task: asyncio.Task[dict[str, Any]] | None = None
        # A threading.Event: the recorder reader checks it between chunks, in its thread.
        self._stop = threading.Event()
        self._unsub_time: CALLBACK_TYPE | None = None
        self._unsub_started: CALLBACK_TYPE | None = None

    @property
    def options(self) -> dict[str, Any]:
        """Entry options over the defaults."""
        return {**DEFAULT_OPTIONS, **self.config_entry.options}

    @property
    def running(self) -> bool:
        """Whether a job is running now."""
        return self._task is not None and not self._task.done()

    @property
    def _stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def last_job(self) -> dict[str, Any] | None:
        """The newest job record that actually ran (skips 'skipped_busy')."""
        return next((j for j in self.jobs if j["status"] != STATUS_SKIPPED_BUSY), None)

    async def _async_update_data(self) -> None:
        """Nothing to poll: the job pushes its own updates."""

    # --- persistence -------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the job history, the suggestions and their decisions, the last handled slot."""
        data = await self._store.async_load() or {}
        self.jobs = list(data.get("jobs", []))[:JOB_HISTORY_SIZE]
        self.patterns = list(data.get("patterns", []))
        if (slot := data.get("last_slot")) is not None:
            self.last_slot = dt_util.parse_datetime(slot)
        # Earlier versions kept the last run's suggestions here: they become pending ones.
        await self.decisions.async_load(legacy=list(data.get("suggestions", [])))
        # A job stored as it started and never closed: Home Assistant died under it.
        if (unfinished := data.get("running_job")) is not None:
            self.jobs.insert(0, self._never_finished(dict(unfinished)))
            del self.jobs[JOB_HISTORY_SIZE:]
            await self._async_save()

    @staticmethod
    def _never_finished(job: dict[str, Any]) -> dict[str, Any]:
        """The record of a job that was running when Home Assistant was killed.

        When it ended is unknown, so ``finished_at`` and ``duration_s`` stay None.
        """
        LOGGER.warning(
            "Analysis job %s (started %s) did not finish: Home Assistant stopped while it ran",
            job.get("id"),
            job.get("started_at"),
        )
        job.update(status=STATUS_INTERRUPTED, error=ERROR_NEVER_FINISHED, finished_at=None, duration_s=None)
        return job

    async def _async_save(self) -> None:
        await self._store.async_save(
            {
                "jobs": self.jobs[:JOB_HISTORY_SIZE],
                "patterns": self.patterns,
                "last_slot": self.last_slot.isoformat() if self.last_slot else None,
                # The job running now, so a kill or power loss mid-run leaves a trace.
                "running_job": _snapshot(self.current_job) if self.current_job else None,
            }
        )

    # --- schedule ----------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Schedule the daily run and check for a missed one once HA has started."""
        self.async_schedule()
        self._unsub_started = async_at_started(self.hass, self._async_at_started)

    @callback
    def async_schedule(self) -> None:
        """(Re)schedule from the current options; safe to call on every options change."""
        if self._unsub_time is not None:
            self._unsub_time()
        hour, minute, second = parse_time(self.options[CONF_ANALYSIS_TIME])
        # Hour, minute and second all given: with only an hour it would fire every second.
        self._unsub_time = async_track_time_change(
            self.hass, self._async_scheduled, hour=hour, minute=minute, second=second
        )
        self.next_run = self.next_slot(dt_util.now())
        self.async_update_listeners()

    def _run_days(self) -> set[int]:
        return {WEEKDAYS.index(d) for d in self.options[CONF_ANALYSIS_DAYS]}

    def next_slot(self, after: datetime) -> datetime | None:
        """The next time the schedule fires after ``after`` (what the tracker computes)."""
        days = self._run_days()
        if not days:
            return None
        hour, minute, second = parse_time(self.options[CONF_ANALYSIS_TIME])
        candidate = dt_util.as_local(after)
        # Nine: a week of days plus the skipped repeat of a slot at the end of DST.
        for _ in range(9):
            # Step in UTC: local arithmetic drops ``fold`` and would land back in the
            # first pass of a repeated hour.
            candidate = dt_util.find_next_time_expression_time(
                dt_util.as_local(dt_util.as_utc(candidate) + timedelta(seconds=1)),
                [second],
                [minute],
                [hour],
            )
            if candidate.weekday() in days and not self._slot_handled(candidate):
                return candidate
        return None

    def _slot_handled(self, slot: datetime) -> bool:
        """Whether this wall-clock slot already had its run.

        The time tracker fires twice for a time in the hour repeated when DST ends;
        the local wall clock (not the instant) says it is the same daily slot.
        """
        if self.last_slot is None:
            return False
        handled = dt_util.as_local(self.last_slot).replace(microsecond=0, tzinfo=None)
        return handled == dt_util.as_local(slot).replace(microsecond=0, tzinfo=None)

    def previous_slot(self, now: datetime) -> datetime | None:
        """The latest scheduled time at or before ``now`` (local wall clock)."""
        days = self._run_days()
        hour, minute, second = parse_time(self.options[CONF_ANALYSIS_TIME])
        local_now = dt_util.as_local(now)
        for back in range(8):
            date = (local_now - timedelta(days=back)).date()
            candidate = dt_util.start_of_local_day(date).replace(hour=hour, minute=minute, second=second)
            # Compare instants: within one zone Python compares wall clocks and ignores
            # ``fold``, which is wrong inside the hour repeated when DST ends.
            if candidate.weekday() in days and dt_util.as_utc(candidate) <= dt_util.as_utc(local_now):
                return candidate
        return None

    async def _async_scheduled(self, now: datetime) -> None:
        local = dt_util.as_local(now)
        # Not on a day off, and once per slot: not again in a repeated DST hour.
        run = local.weekday() in self._run_days() and not self._slot_handled(local)
        if run:
            self.last_slot = local.replace(microsecond=0)
        self.next_run = self.next_slot(local)
        if not run:
            self.async_update_listeners()
            return
        await self.async_trigger(TRIGGER_SCHEDULE)

    async def _async_at_started(self, _hass: HomeAssistant) -> None:
        """Run once if the last scheduled slot was missed by less than the grace."""
        self._unsub_started = None
        now = dt_util.now()
        slot = self.previous_slot(now)
        if slot is None:
            return
        if self.last_slot is None:
            # First start: nothing was missed, there was no schedule yet.
            self.last_slot = slot
            await self._async_save()
            return
        if slot <= self.last_slot:
            return
        grace = timedelta(minutes=self.options[CONF_CATCH_UP_GRACE])
        self.last_slot = slot
        missed_by = dt_util.as_utc(now) - dt_util.as_utc(slot)
        if missed_by <= grace:
            LOGGER.info("Home Assistant was down at %s; running the missed analysis now", slot)
            await self.async_trigger(TRIGGER_CATCH_UP)
            return
        LOGGER.info(
            "Home Assistant was down at the scheduled analysis (%s); %s later is past the "
            "catch-up grace of %s, so it waits for the next slot",
            slot,
            missed_by,
            grace,
        )
        await self._async_save()

    # --- running -----------------------------------------------------------------

    async def async_trigger(self, trigger: str, lookback_days: int | None = None) -> dict[str, Any]:
        """Start a job unless one is running; return its (still running) record.

        A busy scheduled/catch-up trigger is recorded as ``skipped_busy``; a busy manual
        one raises a translated error.
        """
        if self.running:
            if trigger == TRIGGER_MANUAL:
                # A refusal, not a fault: no traceback in the log.
                raise ServiceValidationError(translation_domain=DOMAIN, translation_key="already_running")
            record = self._new_job(trigger, lookback_days)
            record.update(status=STATUS_SKIPPED_BUSY, finished_at=record["started_at"], duration_s=0.0)
            LOGGER.info("Scheduled analysis skipped: a job is already running")
            await self._async_finish(record)
            return record
        record = self._new_job(trigger, lookback_days)
        self.current_job = record
        self._stop.clear()
        # Task creation happens with no await after the busy check: no two jobs can start.
        self._task = self.config_entry.async_create_background_task(
            self.hass, self._async_run(record), name=f"{DOMAIN} analysis {record['id']}"
        )
        return record

    async def async_run_and_wait(self, trigger: str, lookback_days: int | None = None) -> dict[str, Any]:
        """Start a job and wait for its finished record."""
        await self.async_trigger(trigger, lookback_days)
        assert self._task is not None
        return await asyncio.shield(self._task)

    def _new_job(self, trigger: str, lookback_days: int | None) -> dict[str, Any]:
        return {
            "id": ulid_now(),
            "status": None,
            "trigger": trigger,
            "started_at": dt_util.utcnow().isoformat(),
            "finished_at": None,
            "duration_s": None,
            "phases": {"fetch_s": 0.0, "detect_s": 0.0, "suggest_s": 0.0, "llm_s": 0.0, "publish_s": 0.0},
            "lookback_days": lookback_days or self.options[CONF_LOOKBACK_DAYS],
            "days_analysed": 0,
            "events": 0,
            "entities": 0,
            "patterns": 0,
            "suggestions": 0,
            "invalid_suggestions": 0,
            "deduplicated": 0,
            "new_suggestions": 0,
            "llm_tokens": 0,
            "llm_cost_usd": 0.0,
            "writer": None,
            "llm_fallback": None,
            "llm_worded": 0,
            "source": None,
            "origin_known": None,
            "error": None,
        }

    def _own_entities(self) -> frozenset[str]:
        registry = er.async_get(self.hass)
        return frozenset(
            e.entity_id for e in er.async_entries_for_config_entry(registry, self.config_entry.entry_id)
        )

    def _enter_phase(self, phase: str) -> None:
        if self._stop.is_set():
            raise JobInterrupted
        self.phase = phase
        self.async_update_listeners()

    async def _async_run(self, job: dict[str, Any]) -> dict[str, Any]:
        started = t0 = time.monotonic()
        patterns: list[dict[str, Any]] | None = None
        suggestions: list[dict[str, Any]] = []
        phases = job["phases"]

        def keep_phase_time() -> None:
            # A phase cut short still took that long: say where the time went.
            if self.phase is not None and not phases.get(f"{self.phase}_s"):
                phases[f"{self.phase}_s"] = round(time.monotonic() - t0, 3)

        try:
            await self._async_save()  # the started job: see async_load
            self._enter_phase(PHASE_FETCH)
            t0 = time.monotonic()
            # Complete local days only: a routine later today has not had its chance yet.
            end = dt_util.start_of_local_day()
            # Noon of the first day, so a DST shift inside the window cannot move the date.
            first = end - timedelta(days=job["lookback_days"]) + timedelta(hours=12)
            start = dt_util.start_of_local_day(first.date())
            fetched: FetchedHistory = await async_fetch_history(
                self.hass, start, end, entity_filter(self.options, self._own_entities()), self._stop.is_set
            )
            phases["fetch_s"] = round(time.monotonic() - t0, 3)
            job.update(
                events=len(fetched),
                entities=len(fetched.entity_ids),
                source=fetched.source,
                origin_known=fetched.origin_known,
            )
            async_report_origin(self.hass, fetched)

            self._enter_phase(PHASE_DETECT)
            t0 = time.monotonic()
            detection = await self.hass.async_add_executor_job(
                partial(
                    detect,
                    fetched,
                    dt_util.get_default_time_zone(),
                    start,
                    end,
                    sun=sun_times(self.hass, start, end),
                )
            )
            phases["detect_s"] = round(time.monotonic() - t0, 3)
            job["patterns"] = detection.pattern_count
            job["days_analysed"] = detection.log.days_analysed
            patterns = patterns_to_dicts(detection)

            self._enter_phase(PHASE_SUGGEST)
            t0 = time.monotonic()
            # Before the cap and the wording: what exists or was decided makes room for the rest.
            # Who caused the changes unknown: nothing an automation or script acts on is
            # suggested, for its routine may be that automation's.
            duplicate = self.decisions.deduplicator(
                frozenset() if fetched.origin_known else automated_entities(self.hass)
            )
            suggestions, invalid = await async_build_suggestions(
                self.hass,
                detection,
                self.options[CONF_MIN_CONFIDENCE] / 100,
                int(self.options[CONF_MAX_SUGGESTIONS]),
                skip=duplicate,
            )
            phases["suggest_s"] = round(time.monotonic() - t0, 3)
            job.update(
                suggestions=len(suggestions), invalid_suggestions=invalid, deduplicated=duplicate.count
            )

            # Built-in wording is already in place; the chosen writer may re-word it (the
            # built-in writer returns at once: nothing leaves the house).
            self._enter_phase(PHASE_LLM)
            t0 = time.monotonic()
            wording = await async_word_suggestions(self.hass, self.config_entry, suggestions, patterns)
            suggestions = wording.suggestions
            phases["llm_s"] = round(time.monotonic() - t0, 3)
            job.update(
                writer=wording.writer,
                llm_tokens=wording.tokens,
                llm_cost_usd=wording.cost_usd,
                llm_fallback=wording.fallback,
                llm_worded=wording.worded,
            )

            self._enter_phase(PHASE_PUBLISH)
            if len(fetched) == 0:
                job["status"] = STATUS_NO_DATA
            elif not patterns:
                job["status"] = STATUS_NO_PATTERNS
            else:
                job["status"] = STATUS_SUCCESS
        except (JobInterrupted, FetchCancelled):
            keep_phase_time()
            job["status"] = STATUS_INTERRUPTED
            job["error"] = ERROR_STOPPED
        except asyncio.CancelledError:
            keep_phase_time()
            job["status"] = STATUS_INTERRUPTED
            job["error"] = "Cancelled while running"
            await self._async_close(job, started, None, [])
            raise
        except Exception as err:  # noqa: BLE001 - any phase may fail; the next run must still run
            LOGGER.exception("Analysis job %s failed in phase %s", job["id"], self.phase)
            job["status"] = STATUS_FAILED
            job["error"] = f"{self.phase}: {err}" if str(err) else f"{self.phase}: {type(err).__name__}"
        return await self._async_close(job, started, patterns, suggestions)

    async def _async_close(
        self,
        job: dict[str, Any],
        started: float,
        patterns: list[dict[str, Any]] | None,
        suggestions: list[dict[str, Any]],
    ) -> dict[str, Any]:
        t0 = time.monotonic()
        job["finished_at"] = dt_util.utcnow().isoformat()
        job["duration_s"] = round(time.monotonic() - started, 3)
        self.phase = None
        self.current_job = None
        if job["status"] in (STATUS_SUCCESS, STATUS_NO_PATTERNS, STATUS_NO_DATA) and patterns is not None:
            self.patterns = patterns
            # Pending ones persist until decided; re-found ones keep their ids (set in place).
            new = await self.decisions.async_publish(suggestions, self.patterns)
            self.suggestions = suggestions
            job["new_suggestions"] = len(new)
            if new and (services := list(self.options.get(CONF_NOTIFY_SERVICES) or [])):
                self.config_entry.async_create_background_task(
                    self.hass,
                    async_push_new(self.hass, services, [dict(r) for r in new]),
                    name=f"{DOMAIN} push {job['id']}",
                )
        job["phases"]["publish_s"] = round(time.monotonic() - t0, 3)
        await self._async_finish(job)
        return self.response(job)

    async def _async_finish(self, job: dict[str, Any]) -> None:
        """Record the job: history, storage, bus event, entities."""
        self.jobs.insert(0, job)
        del self.jobs[JOB_HISTORY_SIZE:]
        await self._async_save()
        self.hass.bus.async_fire(EVENT_ANALYSIS_COMPLETE, dict(job))
        self.async_update_listeners()

    def response(self, job: dict[str, Any]) -> dict[str, Any]:
        """The service response: the job and, when it produced them, its results."""
        produced = job["status"] in (STATUS_SUCCESS, STATUS_NO_PATTERNS, STATUS_NO_DATA)
        return {
            "job": dict(job),
            "patterns": list(self.patterns) if produced else [],
            "suggestions": list(self.suggestions) if produced else [],
        }

    # --- stopping ----------------------------------------------------------------

    async def async_stop_job(self) -> None:
        """Stop a running job: at its next phase boundary, or cancelled after a bound."""
        task = self._task
        if task is None or task.done():
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_WAIT_S)
        except TimeoutError:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def async_shutdown(self) -> None:
        """Cancel the schedule and stop a running job (entry unload or HA stop)."""
        await super().async_shutdown()
        if self._unsub_time is not None:
            self._unsub_time()
            self._unsub_time = None
        if self._unsub_started is not None:
            self._unsub_started()
            self._unsub_started = None
        await self.async_stop_job()

    async def async_on_hass_stop(self, _event: Event) -> None:
        """Home Assistant is stopping: end a running job so its record is kept."""
        await self.async_stop_job()

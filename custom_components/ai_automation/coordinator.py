"""The analysis job: its schedule, its one-at-a-time run, and its history."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.ulid import ulid_now

from .accepted_checks import async_check_accepted
from .const import (
    CONF_LOOKBACK_DAYS,
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
    STATUS_SKIPPED_BUSY,
    TRIGGER_CATCH_UP,
    TRIGGER_MANUAL,
    TRIGGER_SCHEDULE,
)
from .decisions import Decisions
from .history_store import HistoryStore
from .job_phases import (
    analysis_window,
    async_detect,
    async_fetch,
    async_publish,
    async_suggest,
    final_status,
    record_insights,
    record_wording,
)
from .jobs import (
    ERROR_CANCELLED,
    ERROR_NEVER_FINISHED,
    ERROR_STOPPED,
    PRODUCED,
    JobRecord,
    entity_filter,
    never_finished,
    new_job,
    snapshot,
)
from .llm import async_word_suggestions
from .recorder_reader import FetchCancelled
from .review import EvidenceStore, gather_evidence
from .schedule import CatchUp, Schedule
from .storage import evidence_store, jobs_store
from .suggestions import patterns_to_dicts

if TYPE_CHECKING:
    from .data import AIAutomationConfigEntry
    from .llm_state import LLMState

# Importable from here as before (tests, the bench).
__all__ = ["ERROR_NEVER_FINISHED", "ERROR_STOPPED", "AnalysisCoordinator", "entity_filter"]


class JobInterrupted(Exception):
    """Raised at a phase boundary when Home Assistant stops or the entry unloads."""


class AnalysisCoordinator(DataUpdateCoordinator[None]):
    """Owns the schedule, runs one job at a time, keeps the job history.

    Entities listen to it like to any coordinator; it never polls (``update_interval``
    is None) and pushes with ``async_update_listeners`` on every phase and job change.
    """

    config_entry: AIAutomationConfigEntry

    def __init__(self, hass: HomeAssistant, entry: AIAutomationConfigEntry, llm: LLMState) -> None:
        """Set up an idle coordinator; call ``async_load`` then ``async_start``."""
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=None)
        self.llm = llm
        # The data the entry was set up with: when it changes, the entry reloads.
        self.entry_data = dict(entry.data)
        self._store: Store[dict[str, Any]] = jobs_store(hass, entry.entry_id)
        self.jobs: list[JobRecord] = []  # newest first
        self.patterns: list[dict[str, Any]] = []
        # The last run's suggestions (its response); every suggestion and decision is in ``decisions``.
        self.suggestions: list[dict[str, Any]] = []
        self.decisions = Decisions(hass, entry.entry_id, self.async_update_listeners)
        # What the review panel's charts and edits replay: see ``review``.
        self.evidence = EvidenceStore(evidence_store(hass, entry.entry_id))
        # What the detectors read, kept beyond the recorder's purge: see ``history_store``.
        self.history = HistoryStore(hass, entry.entry_id)
        self.last_slot: datetime | None = None
        self.next_run: datetime | None = None
        self.phase: str | None = None
        self.current_job: JobRecord | None = None
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
    def schedule(self) -> Schedule:
        """The daily schedule of the current options."""
        return Schedule.from_options(self.options)

    @property
    def running(self) -> bool:
        """Whether a job is running now."""
        return self._task is not None and not self._task.done()

    @property
    def _stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def last_job(self) -> JobRecord | None:
        """The newest job record that actually ran (skips 'skipped_busy')."""
        return next((j for j in self.jobs if j["status"] != STATUS_SKIPPED_BUSY), None)

    async def _async_update_data(self) -> None:
        """Nothing to poll: the job pushes its own updates."""

    # --- persistence -------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the job history, the suggestions and their decisions, the last handled slot."""
        data = await self._store.async_load() or {}
        self.jobs = cast(list[JobRecord], list(data.get("jobs", []))[:JOB_HISTORY_SIZE])
        self.patterns = list(data.get("patterns", []))
        if (slot := data.get("last_slot")) is not None:
            self.last_slot = dt_util.parse_datetime(slot)
        # Earlier versions kept the last run's suggestions here: they become pending ones.
        await self.decisions.async_load(legacy=list(data.get("suggestions", [])))
        await self.evidence.async_load()
        # A job stored as it started and never closed: Home Assistant died under it.
        if (unfinished := data.get("running_job")) is not None:
            self.jobs.insert(0, never_finished(cast(JobRecord, dict(unfinished))))
            del self.jobs[JOB_HISTORY_SIZE:]
            await self._async_save()

    async def _async_save(self) -> None:
        await self._store.async_save(
            {
                "jobs": self.jobs[:JOB_HISTORY_SIZE],
                "patterns": self.patterns,
                "last_slot": self.last_slot.isoformat() if self.last_slot else None,
                # The job running now, so a kill or power loss mid-run leaves a trace.
                "running_job": snapshot(self.current_job) if self.current_job else None,
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
        schedule = self.schedule
        # Hour, minute and second all given: with only an hour it would fire every second.
        self._unsub_time = async_track_time_change(
            self.hass,
            self._async_scheduled,
            hour=schedule.hour,
            minute=schedule.minute,
            second=schedule.second,
        )
        self.next_run = schedule.next_slot(dt_util.now(), self.last_slot)
        self.async_update_listeners()

    async def _async_scheduled(self, now: datetime) -> None:
        local = dt_util.as_local(now)
        schedule = self.schedule
        # Not on a day off, and once per slot: not again in a repeated DST hour.
        run = schedule.runs_at(local, self.last_slot)
        if run:
            self.last_slot = local.replace(microsecond=0)
        self.next_run = schedule.next_slot(local, self.last_slot)
        if not run:
            self.async_update_listeners()
            return
        await self.async_trigger(TRIGGER_SCHEDULE)

    async def _async_at_started(self, _hass: HomeAssistant) -> None:
        """Run once if the last scheduled slot was missed by less than the grace."""
        self._unsub_started = None
        now = dt_util.now()
        schedule = self.schedule
        action, slot = schedule.catch_up(now, self.last_slot)
        if action is CatchUp.NOTHING:
            return
        # First start (nothing was missed, there was no schedule yet), or a missed slot.
        self.last_slot = slot
        if action is CatchUp.RUN:
            LOGGER.info("Home Assistant was down at %s; running the missed analysis now", slot)
            await self.async_trigger(TRIGGER_CATCH_UP)
            return
        if action is CatchUp.TOO_LATE:
            LOGGER.info(
                "Home Assistant was down at the scheduled analysis (%s); %s later is past the "
                "catch-up grace of %s, so it waits for the next slot",
                slot,
                dt_util.as_utc(now) - dt_util.as_utc(slot) if slot else None,
                schedule.grace,
            )
        await self._async_save()

    # --- running -----------------------------------------------------------------

    async def async_trigger(self, trigger: str, lookback_days: int | None = None) -> JobRecord:
        """Start a job unless one is running; return its (still running) record.

        A busy scheduled/catch-up trigger is recorded as ``skipped_busy``; a busy manual
        one raises a translated error.
        """
        if self.running:
            if trigger == TRIGGER_MANUAL:
                # A refusal, not a fault: no traceback in the log.
                raise ServiceValidationError(translation_domain=DOMAIN, translation_key="already_running")
            record = self._new_job(trigger, lookback_days)
            record["status"] = STATUS_SKIPPED_BUSY
            record["finished_at"] = record["started_at"]
            record["duration_s"] = 0.0
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

    def _new_job(self, trigger: str, lookback_days: int | None) -> JobRecord:
        return new_job(
            ulid_now(),
            trigger,
            dt_util.utcnow().isoformat(),
            lookback_days or self.options[CONF_LOOKBACK_DAYS],
        )

    @contextmanager
    def _phase(self, job: JobRecord, phase: str) -> Iterator[None]:
        """A phase of the job: shown on the entities, timed even when cut short."""
        if self._stop.is_set():
            raise JobInterrupted
        self.phase = phase
        self.async_update_listeners()
        started = time.monotonic()
        try:
            yield
        finally:
            job["phases"][f"{phase}_s"] = round(time.monotonic() - started, 3)

    async def _async_run(self, job: JobRecord) -> dict[str, Any]:
        started = time.monotonic()
        try:
            await self._async_save()  # the started job: see async_load
            await self._async_phases(job)
        except (JobInterrupted, FetchCancelled):
            job["status"] = STATUS_INTERRUPTED
            job["error"] = ERROR_STOPPED
        except asyncio.CancelledError:
            job["status"] = STATUS_INTERRUPTED
            job["error"] = ERROR_CANCELLED
            await self._async_close(job, started)
            raise
        except Exception as err:  # noqa: BLE001 - any phase may fail; the next run must still run
            LOGGER.exception("Analysis job %s failed in phase %s", job["id"], self.phase)
            job["status"] = STATUS_FAILED
            job["error"] = f"{self.phase}: {err}" if str(err) else f"{self.phase}: {type(err).__name__}"
        return await self._async_close(job, started)

    async def _async_phases(self, job: JobRecord) -> None:
        """Fetch, detect, suggest, word, publish: each phase timed and shown."""
        hass, entry, options = self.hass, self.config_entry, self.options
        window = analysis_window(job["lookback_days"])
        with self._phase(job, PHASE_FETCH):
            fetched = await async_fetch(hass, entry, job, self.history, window, options, self._stop.is_set)
        with self._phase(job, PHASE_DETECT):
            detection = await async_detect(hass, job, fetched, window)
            patterns = patterns_to_dicts(detection)
            await async_check_accepted(
                hass, entry.entry_id, job, detection, self.decisions, fetched.origin_known
            )
        with self._phase(job, PHASE_SUGGEST):
            suggestions = await async_suggest(hass, job, fetched, detection, options, self.decisions)
            gathered = await hass.async_add_executor_job(gather_evidence, detection, suggestions)
        # Built-in wording is already in place; the chosen writer may re-word it (the
        # built-in writer returns at once: nothing leaves the house).
        with self._phase(job, PHASE_LLM):
            wording = await async_word_suggestions(hass, entry, self.llm, suggestions)
            record_wording(job, wording)
        with self._phase(job, PHASE_PUBLISH):
            job["status"] = final_status(fetched, patterns)
            # The run's results become the current ones.
            self.patterns = patterns
            self.suggestions = wording.suggestions
            await async_publish(hass, entry, job, self.decisions, wording.suggestions, options)
            record_insights(hass, job, self.decisions)
            kept = {r["id"] for r in (*self.decisions.pending, *self.decisions.accepted)}
            await self.evidence.async_update(window, wording.suggestions, gathered, kept)

    async def _async_close(self, job: JobRecord, started: float) -> dict[str, Any]:
        job["finished_at"] = dt_util.utcnow().isoformat()
        job["duration_s"] = round(time.monotonic() - started, 3)
        self.phase = None
        self.current_job = None
        await self._async_finish(job)
        return self.response(job)

    async def _async_finish(self, job: JobRecord) -> None:
        """Record the job: history, storage, bus event, entities."""
        self.jobs.insert(0, job)
        del self.jobs[JOB_HISTORY_SIZE:]
        await self._async_save()
        self.hass.bus.async_fire(EVENT_ANALYSIS_COMPLETE, dict(job))
        self.async_update_listeners()

    def response(self, job: JobRecord) -> dict[str, Any]:
        """The service response: the job and, when it produced them, its results."""
        produced = job["status"] in PRODUCED
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

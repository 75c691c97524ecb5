"""The work of each job phase: read, detect, suggest, word, publish.

The coordinator runs them in order, each inside its timed ``_phase`` (shown on the
entities); every function here fills its part of the job record and hands on its result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .automation_insights import find_automation_insights
from .const import (
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    CONF_NOTIFY_SERVICES,
    DOMAIN,
    LOGGER,
    STATUS_NO_DATA,
    STATUS_NO_PATTERNS,
    STATUS_SUCCESS,
)
from .decisions import Decisions
from .dedupe import automated_entities
from .detection import Detection, detect, sun_times
from .history_store import HistoryStatus, HistoryStore, selection_of
from .jobs import JobRecord, entity_filter
from .llm import WordingOutcome
from .push import async_push_new
from .recorder_reader import FetchedHistory
from .repairs import async_report_history, async_report_origin
from .suggestions import async_build_suggestions

if TYPE_CHECKING:
    from .data import AIAutomationConfigEntry


def analysis_window(lookback_days: int) -> tuple[datetime, datetime]:
    """The local days a job reads: ``lookback_days`` whole days, ending with yesterday."""
    # Complete local days only: a routine later today has not had its chance yet.
    end = dt_util.start_of_local_day()
    # Noon of the first day, so a DST shift inside the window cannot move the date.
    first = end - timedelta(days=lookback_days) + timedelta(hours=12)
    return dt_util.start_of_local_day(first.date()), end


def own_entities(hass: HomeAssistant, entry: AIAutomationConfigEntry) -> frozenset[str]:
    """The integration's own entities: never analysed (their changes are the job's)."""
    registry = er.async_get(hass)
    return frozenset(e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id))


async def async_read_history(
    history: HistoryStore,
    window: tuple[datetime, datetime],
    wanted: Callable[[str], bool],
    selection: dict[str, list[str]],
    stop_requested: Callable[[], bool],
) -> tuple[FetchedHistory, HistoryStatus]:
    """The compact history brought up to date from the recorder, and the window read from it."""
    return await history.async_read(window, wanted, selection, stop_requested)


async def async_fetch(
    hass: HomeAssistant,
    entry: AIAutomationConfigEntry,
    job: JobRecord,
    history: HistoryStore,
    window: tuple[datetime, datetime],
    options: dict[str, Any],
    stop_requested: Callable[[], bool],
) -> FetchedHistory:
    """Read the window's state changes (the read stops between chunks when asked to)."""
    wanted = entity_filter(options, own_entities(hass, entry))
    fetched, status = await async_read_history(history, window, wanted, selection_of(options), stop_requested)
    job["events"] = len(fetched)
    job["entities"] = len(fetched.entity_ids)
    job["source"] = fetched.source
    job["origin_known"] = fetched.origin_known
    job["history"] = status.as_record()
    async_report_origin(hass, fetched)
    async_report_history(hass, status)
    return fetched


async def async_detect(
    hass: HomeAssistant, job: JobRecord, fetched: FetchedHistory, window: tuple[datetime, datetime]
) -> Detection:
    """Find the routines, in the executor (the engine is pure and CPU-bound)."""
    start, end = window
    detection = await hass.async_add_executor_job(
        partial(
            detect,
            fetched,
            dt_util.get_default_time_zone(),
            start,
            end,
            sun=sun_times(hass, start, end),
        )
    )
    job["patterns"] = detection.pattern_count
    job["days_analysed"] = detection.log.days_analysed
    return detection


async def async_suggest(
    hass: HomeAssistant,
    job: JobRecord,
    fetched: FetchedHistory,
    detection: Detection,
    options: dict[str, Any],
    decisions: Decisions,
) -> list[dict[str, Any]]:
    """The strongest routines as validated, backtested automation suggestions."""
    # Before the cap and the wording: what exists or was decided makes room for the rest.
    # Who caused the changes unknown: nothing an automation or script acts on is
    # suggested, for its routine may be that automation's.
    duplicate = decisions.deduplicator(frozenset() if fetched.origin_known else automated_entities(hass))
    suggestions, invalid = await async_build_suggestions(
        hass,
        detection,
        options[CONF_MIN_CONFIDENCE] / 100,
        int(options[CONF_MAX_SUGGESTIONS]),
        skip=duplicate,
        known=duplicate.known,
    )
    job["suggestions"] = len(suggestions)
    job["invalid_suggestions"] = invalid
    job["deduplicated"] = duplicate.count
    return suggestions


def record_wording(job: JobRecord, wording: WordingOutcome) -> None:
    """What the writer did, in the job record."""
    job["writer"] = wording.writer
    job["llm_tokens"] = wording.tokens
    job["llm_cost_usd"] = wording.cost_usd
    job["llm_fallback"] = wording.fallback
    job["llm_worded"] = wording.worded


def final_status(fetched: FetchedHistory, patterns: list[dict[str, Any]]) -> str:
    """How a job that got to publishing ended."""
    if not fetched:
        return STATUS_NO_DATA
    return STATUS_SUCCESS if patterns else STATUS_NO_PATTERNS


async def async_publish(
    hass: HomeAssistant,
    entry: AIAutomationConfigEntry,
    job: JobRecord,
    decisions: Decisions,
    suggestions: list[dict[str, Any]],
    options: dict[str, Any],
) -> None:
    """Store the suggestions with their decisions; notify and push the new ones."""
    # Pending ones persist until decided; re-found ones keep their ids (set in place).
    new = await decisions.async_publish(suggestions)
    job["new_suggestions"] = len(new)
    if new and (services := list(options.get(CONF_NOTIFY_SERVICES) or [])):
        entry.async_create_background_task(
            hass,
            async_push_new(hass, services, [dict(r) for r in new]),
            name=f"{DOMAIN} push {job['id']}",
        )


def record_insights(hass: HomeAssistant, job: JobRecord, decisions: Decisions) -> None:
    """The home's automations that duplicate or contradict each other or a pending suggestion.

    After publishing, so the pending suggestions are this run's. Read-only and a bonus: a
    failure is logged and recorded in ``insights_error``, never the job's.
    """
    try:
        found = find_automation_insights(hass, decisions.pending)
    except Exception as err:  # noqa: BLE001 - any odd automation config; the job has done its work
        LOGGER.warning("Cannot compare the home's automations: %s", err, exc_info=True)
        job["insights"] = []
        job["insights_error"] = str(err) or type(err).__name__
        return
    job["insights"] = found.insights
    job["insights_error"] = None
    job["automations_compared"] = found.compared
    job["automations_disabled"] = found.disabled

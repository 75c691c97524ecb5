"""The job record (public contract: the service response, the bus event, the sensors) and what a job reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NotRequired, TypedDict

from homeassistant.core import split_entity_id

from .const import (
    CONF_EXCLUDE_DOMAINS,
    CONF_EXCLUDE_ENTITIES,
    CONF_INCLUDE_DOMAINS,
    CONF_INCLUDE_ENTITIES,
    LOGGER,
    PHASES,
    STATUS_INTERRUPTED,
    STATUS_NO_DATA,
    STATUS_NO_PATTERNS,
    STATUS_SUCCESS,
    SYSTEM_DOMAINS,
)

# The error of a job found unfinished in the store at start: Home Assistant was killed
# (or lost power) while it ran, so nothing recorded its end.
ERROR_NEVER_FINISHED = "Home Assistant stopped before the job finished"
ERROR_STOPPED = "Home Assistant stopped or the integration was unloaded"
ERROR_CANCELLED = "Cancelled while running"
# Statuses of a job that got as far as publishing its results.
PRODUCED = (STATUS_SUCCESS, STATUS_NO_PATTERNS, STATUS_NO_DATA)


class JobRecord(TypedDict):
    """One analysis job, as stored, fired on the bus and returned by ``run_analysis``."""

    id: str
    status: str | None  # None while it runs; one of JOB_STATUSES after
    trigger: str  # schedule | catch_up | manual
    started_at: str  # ISO 8601, UTC
    finished_at: str | None  # None while it runs, and for a job killed under it
    duration_s: float | None
    phases: dict[str, float]  # fetch_s, detect_s, suggest_s, llm_s, publish_s
    lookback_days: int
    days_analysed: int
    events: int
    entities: int
    patterns: int
    suggestions: int
    invalid_suggestions: int
    deduplicated: int
    new_suggestions: int
    llm_tokens: int
    llm_cost_usd: float
    writer: str | None
    llm_fallback: str | None
    llm_worded: int
    source: str | None  # how the history was read: recorder_sql | history_api
    origin_known: bool | None  # whether who caused each change was read
    # What the compact history holds (see ``history_store.HistoryStatus``); None before the read.
    history: dict[str, Any] | None
    error: str | None
    # The home's own automations that duplicate or contradict each other or a pending
    # suggestion (read-only, see ``automation_insights``); a failure there fails no job.
    insights: list[dict[str, Any]]
    insights_error: str | None  # why they could not be compared this run (None: they were)
    automations_compared: int  # automations that are on
    automations_disabled: int  # left out: off or unavailable
    # What happened after accept: accepted automations undone, pre-empted or idle.
    after_accept: list[dict[str, Any]]
    after_accept_error: NotRequired[str]  # only when that check failed (the job did not)


def new_job(job_id: str, trigger: str, started_at: str, lookback_days: int) -> JobRecord:
    """The record of a job that starts now."""
    return JobRecord(
        id=job_id,
        status=None,
        trigger=trigger,
        started_at=started_at,
        finished_at=None,
        duration_s=None,
        phases={f"{phase}_s": 0.0 for phase in PHASES},
        lookback_days=lookback_days,
        days_analysed=0,
        events=0,
        entities=0,
        patterns=0,
        suggestions=0,
        invalid_suggestions=0,
        deduplicated=0,
        new_suggestions=0,
        llm_tokens=0,
        llm_cost_usd=0.0,
        writer=None,
        llm_fallback=None,
        llm_worded=0,
        source=None,
        origin_known=None,
        history=None,
        error=None,
        insights=[],
        insights_error=None,
        automations_compared=0,
        automations_disabled=0,
        after_accept=[],
    )


def snapshot(job: JobRecord) -> JobRecord:
    """A copy of a running job's record that its run can go on changing."""
    copy = JobRecord(**job)
    copy["phases"] = dict(job["phases"])
    return copy


def never_finished(job: JobRecord) -> JobRecord:
    """The record of a job that was running when Home Assistant was killed.

    When it ended is unknown, so ``finished_at`` and ``duration_s`` stay None.
    """
    LOGGER.warning(
        "Analysis job %s (started %s) did not finish: Home Assistant stopped while it ran",
        job.get("id"),
        job.get("started_at"),
    )
    job["status"] = STATUS_INTERRUPTED
    job["error"] = ERROR_NEVER_FINISHED
    job["finished_at"] = None
    job["duration_s"] = None
    return job


def entity_filter(options: Mapping[str, Any], own: frozenset[str] = frozenset()) -> Callable[[str], bool]:
    """Include (when any are given) minus exclude, by entity id or domain.

    ``own`` are this integration's entities: its nightly 'running' sensor would
    otherwise be the most regular routine in the house. ``SYSTEM_DOMAINS`` are never
    read unless an entity of one is named in the included entities.
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
        if (domain in exclude_domains or domain in SYSTEM_DOMAINS) and entity_id not in include_entities:
            return False
        return include_all or entity_id in include_entities or domain in include_domains

    return wanted

"""Shared pieces of the job lifecycle tests: the entry's store, an earlier job, the run service.

Used by tests/test_lifecycle.py and tests/test_stopping.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation.const import DOMAIN, STATUS_NO_DATA, TRIGGER_SCHEDULE


def storage_key(entry: MockConfigEntry) -> str:
    """The entry's storage key."""
    return f"{DOMAIN}.{entry.entry_id}"


def stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """What the entry's store holds now."""
    data: dict[str, Any] = hass_storage[storage_key(entry)]["data"]
    return data


def seed_store(hass_storage: dict[str, Any], entry: MockConfigEntry, **data: Any) -> None:
    """What a previous run of Home Assistant left in the entry's store."""
    hass_storage[storage_key(entry)] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key(entry),
        "data": {"jobs": [], "patterns": [], "suggestions": [], "last_slot": None, **data},
    }


def old_job(number: int) -> dict[str, Any]:
    """A finished job record of an earlier run."""
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=number)
    return {
        "id": f"old-{number:02d}",
        "status": STATUS_NO_DATA,
        "trigger": TRIGGER_SCHEDULE,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(seconds=1)).isoformat(),
        "duration_s": 1.0,
        "phases": {"fetch_s": 0.5, "detect_s": 0.5, "suggest_s": 0.0, "llm_s": 0.0, "publish_s": 0.0},
        "lookback_days": 30,
        "events": 0,
        "entities": 0,
        "patterns": 0,
        "suggestions": 0,
        "invalid_suggestions": 0,
        "llm_tokens": 0,
        "llm_cost_usd": 0.0,
        "source": "recorder",
        "error": None,
    }


async def spin_until(condition: Callable[[], bool], iterations: int = 200) -> None:
    """Let the loop run until ``condition`` holds (no clock involved)."""
    for _ in range(iterations):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def run_service(hass: HomeAssistant) -> Any:
    """The run_analysis service without a response, as a coroutine."""
    return hass.services.async_call(DOMAIN, "run_analysis", {}, blocking=True)

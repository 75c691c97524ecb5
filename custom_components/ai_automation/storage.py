"""Every file this integration keeps in ``.storage``: its key, its version, and removing them.

All are per config entry (``<key>.<entry id>``); the keys are what earlier versions wrote,
so they must not change. The compact history is a directory beside them
(``history_store.history_dir``).
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .history_store import history_dir

JOBS_KEY: Final = DOMAIN
JOBS_VERSION: Final = 1
DECISIONS_KEY: Final = f"{DOMAIN}_suggestions"
DECISIONS_BACKUP_KEY: Final = f"{DOMAIN}_suggestions_last_good"
DECISIONS_VERSION: Final = 1
LLM_SPEND_KEY: Final = f"{DOMAIN}.llm_spend"
EVIDENCE_KEY: Final = f"{DOMAIN}_evidence"
LLM_SPEND_VERSION: Final = 1
EVIDENCE_VERSION: Final = 1


def jobs_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The job history, the last handled slot and a job that is running."""
    return Store(hass, JOBS_VERSION, f"{JOBS_KEY}.{entry_id}")


def decisions_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Every suggestion and its decision (see ``decisions``).

    Written atomically: a crash mid-write leaves the previous file, not half of one.
    """
    return Store(hass, DECISIONS_VERSION, f"{DECISIONS_KEY}.{entry_id}", atomic_writes=True)


def decisions_backup_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """A copy of the decisions store, written after it: what is read when that file is corrupt."""
    return Store(hass, DECISIONS_VERSION, f"{DECISIONS_BACKUP_KEY}.{entry_id}", atomic_writes=True)


def llm_spend_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The month's spend of a chat writer (see ``llm``)."""
    return Store(hass, LLM_SPEND_VERSION, f"{LLM_SPEND_KEY}.{entry_id}")


def evidence_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The current suggestions' evidence (see ``review``): what the panel's charts replay."""
    return Store(hass, EVIDENCE_VERSION, f"{EVIDENCE_KEY}.{entry_id}", atomic_writes=True)


_STORES: Final[tuple[Callable[[HomeAssistant, str], Store[dict[str, Any]]], ...]] = (
    jobs_store,
    decisions_store,
    decisions_backup_store,
    llm_spend_store,
    evidence_store,
)


def _remove_quarantined(paths: list[str]) -> None:
    # Home Assistant renames a store it cannot parse to `<path>.corrupt.<time>` and starts
    # afresh; once the entry is gone nothing will restore from those copies.
    for path in paths:
        for quarantined in glob.glob(f"{glob.escape(path)}.corrupt.*"):
            os.remove(quarantined)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


async def async_remove_all(hass: HomeAssistant, entry_id: str) -> None:
    """The entry is deleted: remove every file it stored (and HA's quarantined copies)."""
    stores = [store(hass, entry_id) for store in _STORES]
    for store in stores:
        await store.async_remove()
    await hass.async_add_executor_job(_remove_quarantined, [store.path for store in stores])
    # The compact history: a directory of its own (see history_store).
    await hass.async_add_executor_job(_remove_tree, history_dir(hass, entry_id))

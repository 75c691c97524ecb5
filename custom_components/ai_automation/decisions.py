"""Every suggestion and the household's decision on it: pending, accepted or dismissed.

Stored in ``.storage/ai_automation_suggestions.<entry id>`` with their timestamps, so they
survive restarts; a copy written after every save (``storage.decisions_backup_store``) and
the accepted automations in automations.yaml bring them back when that file is corrupt.
A suggestion stays pending across runs until someone decides; a run that finds it again
refreshes its numbers and wording, keeping its id (also when the routine's time drifted
into another half-hour and the builder gave it a new one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from . import notifications
from .automations_yaml import async_create_automation, async_read_accepted, async_remove_automation
from .const import (
    DOMAIN,
    LOGGER,
    SUGGESTION_ACCEPTED,
    SUGGESTION_DISMISSED,
    SUGGESTION_PENDING,
)
from .dedupe import (
    REASON_ACCEPTED,
    REASON_DISMISSED,
    Deduplicator,
    Fingerprint,
    existing_automations,
    fingerprints,
    matches_any,
)
from .storage import decisions_backup_store, decisions_store

# What a run's suggestion brings; the rest of a record is its decision.
_SUGGESTION_KEYS = ("title", "description", "evidence", "automation", "backtest", "pattern_ids", "pattern")
_DECISION_KEYS = (
    "created_at",
    "updated_at",
    "accepted_at",
    "accepted_by",
    "automation_entity_id",
    "accepted_automation",
    "enabled",
    "dismissed_at",
    "dismissed_by",
    "dismiss_reason",
    "until",
)


def _now() -> datetime:
    return dt_util.utcnow()


def new_record(suggestion: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A pending record for a suggestion first seen ``now``."""
    record: dict[str, Any] = {"id": suggestion["id"], "status": SUGGESTION_PENDING}
    record.update({key: suggestion.get(key) for key in _SUGGESTION_KEYS})
    record.update(dict.fromkeys(_DECISION_KEYS))
    record["created_at"] = record["updated_at"] = now.isoformat()
    return record


def dismissal_active(record: dict[str, Any], now: datetime) -> bool:
    """A dismissal holds forever (no ``until``) or until its day comes."""
    if record["status"] != SUGGESTION_DISMISSED:
        return False
    until = dt_util.parse_datetime(record["until"]) if record.get("until") else None
    return until is None or now < until


def _records_of(data: Any) -> dict[str, dict[str, Any]] | None:
    """The records of a stored document by id; None when there is none or it is malformed."""
    if not isinstance(data, dict) or not isinstance(suggestions := data.get("suggestions"), list):
        return None
    if not all(isinstance(r, dict) and "id" in r and "status" in r for r in suggestions):
        return None
    return {r["id"]: r for r in suggestions}


def _as_suggestion(automation: dict[str, Any]) -> dict[str, Any]:
    """What a suggestion would have brought, as far as its accepted automation tells."""
    return {
        "id": automation["id"],
        "title": automation.get("alias"),
        "description": automation.get("description"),
        "automation": automation,
        "pattern_ids": [],
    }


class Decisions:
    """The suggestion records of one config entry, and what changes them."""

    def __init__(self, hass: HomeAssistant, entry_id: str, on_change: Callable[[], None]) -> None:
        """Empty until ``async_load``; ``on_change`` is told after every change."""
        self.hass = hass
        self._store = decisions_store(hass, entry_id)
        self._backup = decisions_backup_store(hass, entry_id)
        self._records: dict[str, dict[str, Any]] = {}
        self._on_change = on_change
        # Accept waits for a file write and a reload: nothing else changes records meanwhile.
        self._lock = asyncio.Lock()

    # --- reading -----------------------------------------------------------------

    def _with_status(self, status: str) -> list[dict[str, Any]]:
        return [r for r in self._records.values() if r["status"] == status]

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Suggestions waiting for a decision, oldest first."""
        return sorted(self._with_status(SUGGESTION_PENDING), key=lambda r: r["created_at"])

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """Accepted suggestions, newest decision first."""
        return sorted(self._with_status(SUGGESTION_ACCEPTED), key=lambda r: r["accepted_at"], reverse=True)

    @property
    def dismissed(self) -> list[dict[str, Any]]:
        """Dismissed suggestions (also those whose dismissal ran out), newest decision first."""
        return sorted(self._with_status(SUGGESTION_DISMISSED), key=lambda r: r["dismissed_at"], reverse=True)

    def get(self, suggestion_id: str) -> dict[str, Any] | None:
        """One record by its suggestion id."""
        return self._records.get(suggestion_id)

    def as_response(self) -> dict[str, Any]:
        """The ``list_suggestions`` response."""
        return {
            SUGGESTION_PENDING: [dict(r) for r in self.pending],
            SUGGESTION_ACCEPTED: [dict(r) for r in self.accepted],
            SUGGESTION_DISMISSED: [dict(r) for r in self.dismissed],
        }

    # --- persistence -------------------------------------------------------------

    async def async_load(self, legacy: list[dict[str, Any]]) -> None:
        """Load the records and show the pending ones again.

        With the store missing or unreadable (Home Assistant quarantines a corrupt one and
        hands back nothing) the records come from the copy written after every save, and
        accepted automations missing there from automations.yaml (their ids are the
        suggestions' ids). ``legacy`` are the last run's suggestions from the job store of
        earlier versions: with nothing stored yet they become pending, so nothing shown is lost.
        """
        records = _records_of(await self._store.async_load())
        if records is None:
            records = await self._async_recover()
            now = _now()
            for suggestion in legacy:
                if suggestion["id"] not in records:
                    records[suggestion["id"]] = new_record(suggestion, now)
            self._records = records
            if records:
                await self._async_save()
        else:
            self._records = records
        for record in self.pending:
            notifications.async_show(self.hass, record)

    async def _async_recover(self) -> dict[str, dict[str, Any]]:
        """The records of the last good copy and of automations.yaml; logged when any."""
        records = _records_of(await self._backup.async_load()) or {}
        from_copy = len(records)
        now = _now()
        registry = er.async_get(self.hass)
        rebuilt = 0
        for automation in await async_read_accepted(self.hass):
            if automation["id"] in records:
                continue
            record = new_record(_as_suggestion(automation), now)
            record.update(
                status=SUGGESTION_ACCEPTED,
                accepted_at=now.isoformat(),
                automation_entity_id=registry.async_get_entity_id(
                    AUTOMATION_DOMAIN, AUTOMATION_DOMAIN, automation["id"]
                ),
            )
            records[record["id"]] = record
            rebuilt += 1
        if records:
            counts = {status: 0 for status in (SUGGESTION_PENDING, SUGGESTION_ACCEPTED, SUGGESTION_DISMISSED)}
            for record in records.values():
                counts[record["status"]] = counts.get(record["status"], 0) + 1
            LOGGER.warning(
                "The suggestions store %s was missing or unreadable; recovered %d suggestions "
                "(%d pending, %d accepted, %d dismissed): %d from its last good copy, "
                "%d accepted ones rebuilt from automations.yaml",
                self._store.key,
                len(records),
                counts[SUGGESTION_PENDING],
                counts[SUGGESTION_ACCEPTED],
                counts[SUGGESTION_DISMISSED],
                from_copy,
                rebuilt,
            )
        return records

    async def _async_save(self) -> None:
        data = {"suggestions": list(self._records.values())}
        await self._store.async_save(data)
        # Only after the store is written: the copy is never newer than a good store.
        await self._backup.async_save(data)

    async def async_remove_notifications(self) -> None:
        """The entry is deleted: take the notifications of its suggestions away.

        The stored files go with the entry's other stores (``storage.async_remove_all``).
        """
        records = _records_of(await self._store.async_load())
        if records is None:
            records = _records_of(await self._backup.async_load()) or {}
        for suggestion_id in records:
            notifications.async_remove(self.hass, suggestion_id)
        self._records = {}

    @callback
    def _changed(self) -> None:
        self._on_change()

    # --- a run -------------------------------------------------------------------

    def deduplicator(self, maybe_automated: frozenset[str] = frozenset()) -> Deduplicator:
        """A fresh filter for one run: existing automations, accepted and dismissed ones.

        ``maybe_automated``: entities not to suggest (see ``Deduplicator``).
        """
        now = _now()
        decided: list[tuple[str, str, list[Fingerprint]]] = []
        for record in self._records.values():
            if record["status"] == SUGGESTION_ACCEPTED:
                reason = REASON_ACCEPTED
            elif dismissal_active(record, now):
                reason = REASON_DISMISSED
            else:
                continue
            decided.append((record["id"], reason, fingerprints(self.hass, record["automation"])))
        return Deduplicator(self.hass, existing_automations(self.hass), decided, maybe_automated)

    def _match(
        self, suggestion: dict[str, Any], mine: list[Fingerprint], now: datetime, taken: set[str]
    ) -> dict[str, Any] | None:
        """The record a run's suggestion continues: pending, or dismissed until a day now past."""
        candidates = [
            r
            for r in self._records.values()
            if r["id"] not in taken
            and (
                r["status"] == SUGGESTION_PENDING
                or (r["status"] == SUGGESTION_DISMISSED and not dismissal_active(r, now))
            )
        ]
        for record in candidates:
            if record["id"] == suggestion["id"]:
                return record
        for record in candidates:
            if matches_any(mine, fingerprints(self.hass, record["automation"])):
                return record
        return None

    async def async_publish(self, suggestions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Merge a run's (deduplicated) suggestions into the records; return the new ones.

        A re-found pending suggestion keeps its id and creation time and gets the run's
        numbers; one whose dismissal ran out comes back as pending (and counts as new).
        The suggestions are changed in place to carry the kept ids.
        """
        async with self._lock:
            now = _now()
            new: list[dict[str, Any]] = []
            taken: set[str] = set()
            for suggestion in suggestions:
                mine = fingerprints(self.hass, suggestion["automation"])
                record = self._match(suggestion, mine, now, taken)
                if record is not None and record["id"] != suggestion["id"]:
                    suggestion["id"] = record["id"]
                    suggestion["automation"] = {**suggestion["automation"], "id": record["id"]}
                suggestion_fields = {key: suggestion.get(key) for key in _SUGGESTION_KEYS}
                if record is None:
                    record = new_record(suggestion, now)
                    self._records[record["id"]] = record
                    new.append(record)
                elif record["status"] == SUGGESTION_DISMISSED:
                    record.update(status=SUGGESTION_PENDING, dismissed_at=None, dismissed_by=None, until=None)
                    new.append(record)
                record.update(suggestion_fields, updated_at=now.isoformat())
                taken.add(record["id"])
                notifications.async_show(self.hass, record)
            self._settle_automated_by_hand(now)
            await self._async_save()
        self._changed()
        return new

    def _settle_automated_by_hand(self, now: datetime) -> None:
        """Pending suggestions an automation now covers are settled, not left hanging.

        Same id: someone pasted the suggestion's YAML into the editor, so it is accepted.
        Otherwise someone wrote their own: the suggestion is dropped.
        """
        automations = existing_automations(self.hass)
        if not automations:
            return
        registry = er.async_get(self.hass)
        for record in self.pending:
            mine = fingerprints(self.hass, record["automation"])
            covering = [uid for uid, fp in automations if any(m.matches(fp) for m in mine)]
            if not covering:
                continue
            notifications.async_remove(self.hass, record["id"])
            if record["id"] in covering:
                record.update(
                    status=SUGGESTION_ACCEPTED,
                    accepted_at=now.isoformat(),
                    automation_entity_id=registry.async_get_entity_id(
                        AUTOMATION_DOMAIN, AUTOMATION_DOMAIN, record["id"]
                    ),
                )
                LOGGER.info("Suggestion %s was added as an automation by hand", record["id"])
            else:
                del self._records[record["id"]]
                LOGGER.info("Suggestion %s is now done by an existing automation", record["id"])

    # --- decisions ---------------------------------------------------------------

    def record(self, suggestion_id: str) -> dict[str, Any]:
        """A suggestion's record, whatever its status (a translated error when unknown)."""
        record = self._records.get(suggestion_id)
        if record is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_suggestion",
                translation_placeholders={"suggestion_id": suggestion_id},
            )
        return record

    def _get(self, suggestion_id: str) -> dict[str, Any]:
        record = self.record(suggestion_id)
        if record["status"] == SUGGESTION_ACCEPTED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="already_accepted",
                translation_placeholders={
                    "suggestion_id": suggestion_id,
                    "entity_id": str(record.get("automation_entity_id")),
                },
            )
        return record

    async def async_accept(
        self,
        suggestion_id: str,
        *,
        enabled: bool,
        context: Context | None,
        edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Create the automation (see ``automations_yaml``) and record who accepted it when.

        ``edit`` makes the automation the user edited in the panel from the record (checked
        under the lock, against the record as it is then). A dismissed suggestion may still
        be accepted; an accepted one cannot be again.
        """
        async with self._lock:
            record = self._get(suggestion_id)
            automation = edit(record) if edit is not None else dict(record["automation"])
            entity_id = await async_create_automation(self.hass, automation, enabled=enabled, context=context)
            record.update(
                status=SUGGESTION_ACCEPTED,
                accepted_at=_now().isoformat(),
                accepted_by=context.user_id if context else None,
                automation_entity_id=entity_id,
                # What was created when the user changed it (the suggestion stays as found).
                accepted_automation=automation if edit is not None else None,
                enabled=enabled,
                dismissed_at=None,
                dismissed_by=None,
                until=None,
            )
            await self._async_save()
        notifications.async_remove(self.hass, suggestion_id)
        self._changed()
        return record

    async def async_replace_accepted(
        self, suggestion_id: str, automation: dict[str, Any], *, context: Context | None
    ) -> dict[str, Any]:
        """An accepted suggestion's automation rewritten (a repair's fix), as accept writes it.

        On or off as it is now; the record keeps the new automation as the accepted one.
        """
        async with self._lock:
            record = self._records.get(suggestion_id)
            if record is None or record["status"] != SUGGESTION_ACCEPTED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="not_accepted",
                    translation_placeholders={"suggestion_id": suggestion_id},
                )
            state = self.hass.states.get(record.get("automation_entity_id") or "")
            enabled = state is None or state.state != "off"
            entity_id = await async_create_automation(self.hass, automation, enabled=enabled, context=context)
            record.update(
                automation_entity_id=entity_id,
                accepted_automation=automation,
                updated_at=_now().isoformat(),
            )
            await self._async_save()
        self._changed()
        return record

    async def async_undo(self, suggestion_id: str, *, context: Context | None) -> dict[str, Any]:
        """An accepted suggestion back to pending: its automation taken out of automations.yaml.

        The file is written as safely as when it was accepted (see ``automations_yaml``);
        if that fails, the suggestion stays accepted.
        """
        async with self._lock:
            record = self._records.get(suggestion_id)
            if record is None or record["status"] != SUGGESTION_ACCEPTED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="unknown_suggestion" if record is None else "not_accepted",
                    translation_placeholders={"suggestion_id": suggestion_id},
                )
            await async_remove_automation(self.hass, str(record["automation"]["id"]), context=context)
            record.update(
                status=SUGGESTION_PENDING,
                accepted_at=None,
                accepted_by=None,
                automation_entity_id=None,
                accepted_automation=None,
                enabled=None,
                updated_at=_now().isoformat(),
            )
            await self._async_save()
        self._changed()
        return record

    async def async_dismiss(
        self, suggestion_id: str, *, days: int | None, context: Context | None, reason: str | None = None
    ) -> dict[str, Any]:
        """Not suggested again: forever, or for ``days`` days (dismissing again resets it).

        ``reason``: why, in the household's words, kept with the decision.
        """
        async with self._lock:
            record = self._get(suggestion_id)
            now = _now()
            record.update(
                status=SUGGESTION_DISMISSED,
                dismissed_at=now.isoformat(),
                dismissed_by=context.user_id if context else None,
                until=(now + timedelta(days=days)).isoformat() if days else None,
                dismiss_reason=reason or None,
            )
            await self._async_save()
        notifications.async_remove(self.hass, suggestion_id)
        self._changed()
        return record

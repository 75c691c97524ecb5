"""Accepting a suggestion: write it to automations.yaml as the automation editor does, reload.
Undoing it: take it out again, as the editor deletes one.

The editor (``homeassistant/components/config/automation.py``) validates the config, reads
``automations.yaml``, puts the automation under its ``id`` (keys in a fixed order, ids added
to hand-pasted entries that lack one), dumps the whole list with HA's YAML dumper, writes it
atomically and calls ``automation.reload`` for that id. This module does the same, with the
file IO in an executor, and then finds the new entity in the entity registry.

Whatever stops it (the file missing its include, unreadable, not UTF-8, not a list, a
directory, unwritable) raises a translated error and leaves the file byte for byte as it was.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from typing import Any, cast

from homeassistant.components.automation import DATA_COMPONENT
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.config import AUTOMATION_CONFIG_PATH
from homeassistant.const import ATTR_ENTITY_ID, CONF_ID, SERVICE_RELOAD, SERVICE_TURN_OFF
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.json import json_dumps
from homeassistant.util.file import write_utf8_file_atomic
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.json import json_loads_array
from homeassistant.util.yaml import dump, load_yaml

from .compat import vol
from .const import DOMAIN, LOGGER

# One write at a time from this integration (the editor has its own lock on its view).
_WRITE_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_automations_yaml_lock")
# The id an accepted suggestion's automation has (see ``suggestions.suggestion_id``).
_SUGGESTION_ID = re.compile(r"ai_[0-9a-f]{16}")
# The order the editor writes keys in; anything else follows.
_KEY_ORDER = ("alias", "description", "triggers", "trigger", "conditions", "condition", "actions", "action")


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders or None
    )


class _FileError(Exception):
    """A problem with automations.yaml itself: its translation key and the cause."""

    def __init__(self, key: str, error: str = "") -> None:
        super().__init__(key, error)
        self.key = key
        self.error = error


def _read(path: str) -> tuple[bytes | None, Any]:
    """The file's bytes (to restore it exactly) and its parsed content; (None, None) if missing."""
    if not os.path.lexists(path):
        return None, None
    if not os.path.isfile(path):
        raise _FileError("automations_yaml_not_a_file")
    try:
        with open(path, "rb") as file:
            raw = file.read()
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _FileError("automations_yaml_not_utf8", str(err)) from err
    except OSError as err:
        raise _FileError("automations_yaml_unreadable", str(err)) from err
    try:
        # Parsed as the editor does (HA's loader); a syntax error is a HomeAssistantError.
        return raw, load_yaml(path)
    except (OSError, HomeAssistantError) as err:
        raise _FileError("automations_yaml_unreadable", str(err)) from err


def _write(path: str, data: list[dict[str, Any]]) -> None:
    # Dump before opening the file: a dump error must not truncate it. Written to a temporary
    # file renamed over it, as UTF-8 whatever the locale: a failure leaves the file as it was.
    contents = dump(data).encode("utf-8")
    write_utf8_file_atomic(path, contents, mode="wb")


def _restore(path: str, raw: bytes | None) -> None:
    if raw is None:
        if os.path.isfile(path):
            os.remove(path)
        return
    write_utf8_file_atomic(path, raw, mode="wb")


def put_automation(data: list[dict[str, Any]], config: dict[str, Any]) -> None:
    """Insert or replace ``config`` in the automations list, as the editor's ``_write_value``."""
    config_key = config[CONF_ID]
    value: dict[str, Any] = {CONF_ID: config_key}
    for key in _KEY_ORDER:
        if key in config:
            value[key] = config[key]
    value.update(config)
    updated = False
    for index, current in enumerate(data):
        # Pasted automations sometimes lack an id; the editor gives them one when it saves.
        if CONF_ID not in current:
            current[CONF_ID] = uuid.uuid4().hex
        elif current[CONF_ID] == config_key:
            data[index] = value
            updated = True
    if not updated:
        data.append(value)


async def _async_read_list(hass: HomeAssistant, path: str) -> tuple[bytes | None, list[dict[str, Any]]]:
    """The file's bytes (to restore) and its automations, or the translated error why not."""
    try:
        raw, current = await hass.async_add_executor_job(_read, path)
    except _FileError as err:
        details = {"error": err.error} if err.error else {}
        raise _error(err.key, path=path, **details) from err
    current = current or []
    if not isinstance(current, list) or not all(isinstance(a, dict) for a in current):
        raise _error("automations_yaml_not_list", path=path)
    return raw, current


async def _async_restore(hass: HomeAssistant, path: str, raw: bytes | None) -> None:
    try:
        await hass.async_add_executor_job(_restore, path, raw)
    except (OSError, HomeAssistantError) as err:
        LOGGER.error("Could not restore %s as it was: %s", path, err)


async def _async_reload(
    hass: HomeAssistant, config_id: str, path: str, raw: bytes | None, context: Context | None
) -> str:
    """Reload the written automation and return its entity id; put ``raw`` back if it is not loaded."""
    try:
        await hass.services.async_call(
            AUTOMATION_DOMAIN, SERVICE_RELOAD, {CONF_ID: config_id}, blocking=True, context=context
        )
    except HomeAssistantError as err:
        # configuration.yaml has an error: newer Home Assistant refuses the reload
        # (older ones log it and load nothing, which the check below catches).
        LOGGER.warning("Reloading automations failed (%s); restoring %s", err, path)
        await _async_restore(hass, path, raw)
        raise _error("automations_yaml_not_included", path=path) from err
    entity_id = er.async_get(hass).async_get_entity_id(AUTOMATION_DOMAIN, AUTOMATION_DOMAIN, config_id)
    component = hass.data.get(DATA_COMPONENT)
    if entity_id is None or component is None or component.get_entity(entity_id) is None:
        # Not loaded from that file: configuration.yaml lacks `automation: !include
        # automations.yaml` (or has an error). Leave the file as it was.
        LOGGER.warning("Automation %s was written to %s but not loaded; restoring the file", config_id, path)
        await _async_restore(hass, path, raw)
        raise _error("automations_yaml_not_included", path=path)
    return entity_id


async def async_create_automation(
    hass: HomeAssistant, config: dict[str, Any], *, enabled: bool, context: Context | None
) -> str:
    """Write ``config`` to automations.yaml, reload it, and return its entity id.

    ``enabled=False`` turns the new automation off right after the reload; an automation
    restores its on/off state at start-up, so it stays off until someone turns it on.
    Raises a translated ``HomeAssistantError`` when it cannot; the file is then unchanged.
    """
    component = hass.data.get(DATA_COMPONENT)
    if component is None:
        raise _error("automation_not_set_up")
    config_id = str(config[CONF_ID])
    try:
        await async_validate_config_item(hass, config_id, config)
    except (vol.Invalid, HomeAssistantError) as err:
        raise _error("invalid_automation", error=str(err)) from err

    path = hass.config.path(AUTOMATION_CONFIG_PATH)
    lock = hass.data.setdefault(_WRITE_LOCK, asyncio.Lock())
    async with lock:
        raw, current = await _async_read_list(hass, path)
        put_automation(current, config)
        try:
            await hass.async_add_executor_job(_write, path, current)
        except (OSError, HomeAssistantError) as err:
            raise _error("automations_yaml_unwritable", path=path, error=str(err)) from err

        entity_id = await _async_reload(hass, config_id, path, raw, context)

    if not enabled:
        await hass.services.async_call(
            AUTOMATION_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True, context=context
        )
    return entity_id


async def async_remove_automation(hass: HomeAssistant, config_id: str, *, context: Context | None) -> None:
    """Take automation ``config_id`` out of automations.yaml, reload, and drop its entity.

    As the editor deletes one: the list written back without it, ``automation.reload`` for
    that id (which removes the entity), then its entity registry entry removed. Already
    gone from the file (deleted by hand): nothing is written. On any failure the file is
    put back byte for byte and a translated error raised.
    """
    if hass.data.get(DATA_COMPONENT) is None:
        raise _error("automation_not_set_up")
    path = hass.config.path(AUTOMATION_CONFIG_PATH)
    lock = hass.data.setdefault(_WRITE_LOCK, asyncio.Lock())
    async with lock:
        raw, current = await _async_read_list(hass, path)
        kept = [a for a in current if str(a.get(CONF_ID, "")) != config_id]
        if len(kept) != len(current):
            try:
                await hass.async_add_executor_job(_write, path, kept)
            except (OSError, HomeAssistantError) as err:
                raise _error("automations_yaml_unwritable", path=path, error=str(err)) from err
            try:
                await hass.services.async_call(
                    AUTOMATION_DOMAIN, SERVICE_RELOAD, {CONF_ID: config_id}, blocking=True, context=context
                )
            except HomeAssistantError as err:
                LOGGER.warning("Reloading automations failed (%s); restoring %s", err, path)
                await _async_restore(hass, path, raw)
                raise _error("automation_not_removed", path=path, error=str(err)) from err
    registry = er.async_get(hass)
    if entity_id := registry.async_get_entity_id(AUTOMATION_DOMAIN, AUTOMATION_DOMAIN, config_id):
        registry.async_remove(entity_id)


async def async_read_accepted(hass: HomeAssistant) -> list[dict[str, Any]]:
    """The automations in automations.yaml that accepted suggestions wrote, as plain data.

    Nothing when the file is missing or unusable (that is logged): this only helps to
    rebuild lost records, it never stops the integration from loading.
    """
    path = hass.config.path(AUTOMATION_CONFIG_PATH)
    try:
        _, current = await hass.async_add_executor_job(_read, path)
    except _FileError as err:
        LOGGER.warning("Cannot read %s for accepted suggestions (%s): %s", path, err.key, err.error)
        return []
    if not isinstance(current, list):
        return []
    accepted = [
        a for a in current if isinstance(a, dict) and _SUGGESTION_ID.fullmatch(str(a.get(CONF_ID, "")))
    ]
    # The loader's line-tracking str/dict/list subclasses, as the JSON a store holds.
    return cast(list[dict[str, Any]], json_loads_array(json_dumps(accepted)))

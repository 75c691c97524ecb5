"""Accepting a suggestion: write it to automations.yaml as the automation editor does, reload.

The editor (``homeassistant/components/config/automation.py``) validates the config, reads
``automations.yaml``, puts the automation under its ``id`` (keys in a fixed order, ids added
to hand-pasted entries that lack one), dumps the whole list with HA's YAML dumper, writes it
atomically and calls ``automation.reload`` for that id. This module does the same, with the
file IO in an executor, and then finds the new entity in the entity registry.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from homeassistant.components.automation import DATA_COMPONENT
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.config import AUTOMATION_CONFIG_PATH
from homeassistant.const import ATTR_ENTITY_ID, CONF_ID, SERVICE_RELOAD, SERVICE_TURN_OFF
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.util.file import write_utf8_file_atomic
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.yaml import dump, load_yaml

from .compat import vol
from .const import DOMAIN, LOGGER

# One write at a time from this integration (the editor has its own lock on its view).
_WRITE_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_automations_yaml_lock")
# The order the editor writes keys in; anything else follows.
_KEY_ORDER = ("alias", "description", "triggers", "trigger", "conditions", "condition", "actions", "action")


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders or None
    )


def _read(path: str) -> tuple[str | None, Any]:
    """The file's text (to restore it) and its parsed content; (None, None) if missing."""
    if not os.path.isfile(path):
        return None, None
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return text, load_yaml(path)


def _write(path: str, data: list[dict[str, Any]]) -> None:
    # Dump before opening the file: a dump error must not truncate it.
    contents = dump(data)
    write_utf8_file_atomic(path, contents)


def _restore(path: str, text: str | None) -> None:
    if text is None:
        if os.path.isfile(path):
            os.remove(path)
        return
    write_utf8_file_atomic(path, text)


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
        try:
            text, current = await hass.async_add_executor_job(_read, path)
        except HomeAssistantError as err:
            raise _error("automations_yaml_unreadable", path=path, error=str(err)) from err
        if not current:
            current = []
        if not isinstance(current, list) or not all(isinstance(a, dict) for a in current):
            raise _error("automations_yaml_not_list", path=path)
        put_automation(current, config)
        try:
            await hass.async_add_executor_job(_write, path, current)
        except (OSError, HomeAssistantError) as err:
            raise _error("automations_yaml_unwritable", path=path, error=str(err)) from err

        await hass.services.async_call(
            AUTOMATION_DOMAIN, SERVICE_RELOAD, {CONF_ID: config_id}, blocking=True, context=context
        )
        entity_id = er.async_get(hass).async_get_entity_id(AUTOMATION_DOMAIN, AUTOMATION_DOMAIN, config_id)
        if entity_id is None or component.get_entity(entity_id) is None:
            # Not loaded from that file: configuration.yaml lacks `automation: !include
            # automations.yaml` (or has an error). Leave the file as it was.
            LOGGER.warning(
                "Automation %s was written to %s but not loaded; restoring the file", config_id, path
            )
            await hass.async_add_executor_job(_restore, path, text)
            raise _error("automations_yaml_not_included", path=path)

    if not enabled:
        await hass.services.async_call(
            AUTOMATION_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True, context=context
        )
    return entity_id

"""Shared pieces of the suggestion-decision tests: a run, a config directory, stored records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant import config as conf_util
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_get_persistent_notifications

from custom_components.ai_automation.const import DOMAIN
from custom_components.ai_automation.notifications import notification_id
from custom_components.ai_automation.storage import DECISIONS_KEY, DECISIONS_VERSION

WORKDAYS = ["mon", "tue", "wed", "thu", "fri"]


async def async_list(hass: HomeAssistant) -> dict[str, Any]:
    """list_suggestions' response."""
    response: Any = await hass.services.async_call(
        DOMAIN, "list_suggestions", {}, blocking=True, return_response=True
    )
    return dict(response)


async def async_accept(
    hass: HomeAssistant, suggestion_id: str, context: Context | None = None, **fields: Any
) -> dict[str, Any]:
    """accept_suggestion with a response."""
    response: Any = await hass.services.async_call(
        DOMAIN,
        "accept_suggestion",
        {"suggestion_id": suggestion_id, **fields},
        blocking=True,
        return_response=True,
        context=context,
    )
    return dict(response)


async def async_dismiss(
    hass: HomeAssistant, suggestion_id: str, context: Context | None = None, **fields: Any
) -> None:
    """dismiss_suggestion."""
    await hass.services.async_call(
        DOMAIN,
        "dismiss_suggestion",
        {"suggestion_id": suggestion_id, **fields},
        blocking=True,
        context=context,
    )


def is_kitchen_morning(suggestion: dict[str, Any]) -> bool:
    """The planted routine: Kitchen light on around 06:45 on weekdays (a time trigger)."""
    automation = suggestion["automation"]
    action = automation["actions"][0]
    return (
        action.get("action") == "light.turn_on"
        and action["target"]["entity_id"] == "light.kitchen"
        and automation["triggers"][0]["trigger"] == "time"
        and automation["triggers"][0]["at"] < "12"
    )


def kitchen_morning(suggestions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The kitchen morning suggestion among ``suggestions``, if there."""
    return next((s for s in suggestions if is_kitchen_morning(s)), None)


def notification_ids(hass: HomeAssistant) -> set[str]:
    """Ids of the persistent notifications shown now."""
    return set(async_get_persistent_notifications(hass))


def has_notification(hass: HomeAssistant, suggestion_id: str) -> bool:
    """Whether the suggestion's notification is shown."""
    return notification_id(suggestion_id) in notification_ids(hass)


def kitchen_automation(config_id: str, at: str, days: list[str] | None = None) -> dict[str, Any]:
    """A suggestion-shaped automation: Kitchen light on at ``at`` (on ``days``)."""
    conditions: list[dict[str, Any]] = []
    if days is not None:
        conditions.append({"condition": "time", "weekday": days})
    conditions.append(
        {
            "condition": "not",
            "conditions": [{"condition": "state", "entity_id": "light.kitchen", "state": "on"}],
        }
    )
    return {
        "id": config_id,
        "alias": f"Turn on Kitchen light at {at[:5]}",
        "description": "Planted in a test.",
        "triggers": [{"trigger": "time", "at": at}],
        "conditions": conditions,
        "actions": [{"action": "light.turn_on", "target": {"entity_id": "light.kitchen"}}],
        "mode": "single",
    }


def record(
    suggestion_id: str, automation: dict[str, Any], status: str = "pending", **decision: Any
) -> dict[str, Any]:
    """A stored suggestion record as ``decisions.py`` writes it."""
    base: dict[str, Any] = {
        "id": suggestion_id,
        "status": status,
        "title": automation["alias"],
        "description": automation["description"],
        "evidence": None,
        "automation": automation,
        "backtest": {"would_have_fired": 20, "matched": 18, "precision": 0.9, "tolerance_min": 15},
        "pattern_ids": ["tod_test"],
        "created_at": "2026-01-01T12:00:00+00:00",
        "updated_at": "2026-01-01T12:00:00+00:00",
        "accepted_at": None,
        "accepted_by": None,
        "automation_entity_id": None,
        "enabled": None,
        "dismissed_at": None,
        "dismissed_by": None,
        "until": None,
    }
    base.update(decision)
    return base


def store_records(hass_storage: dict[str, Any], entry_id: str, records: list[dict[str, Any]]) -> str:
    """Pre-seed the decisions store of ``entry_id``; return its key."""
    key = f"{DECISIONS_KEY}.{entry_id}"
    hass_storage[key] = {
        "version": DECISIONS_VERSION,
        "minor_version": 1,
        "key": key,
        "data": {"suggestions": records},
    }
    return key


def write_config(config_dir: Path, configuration: str, automations: str | None) -> None:
    """configuration.yaml and (unless None) automations.yaml in ``config_dir``."""
    (config_dir / "configuration.yaml").write_text(configuration, encoding="utf-8")
    if automations is not None:
        (config_dir / "automations.yaml").write_text(automations, encoding="utf-8")


async def async_setup_automations(hass: HomeAssistant, config_dir: Path) -> None:
    """Point hass at ``config_dir`` and set up ``automation`` from its configuration.yaml.

    The test hass's own config directory is shared by every test (it lives in the
    plugin's package): accepting must write into a directory of this test only.
    """
    hass.config.config_dir = str(config_dir)
    config = await conf_util.async_hass_config_yaml(hass)
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()


async def async_remove_automations(hass: HomeAssistant) -> None:
    """Turn every automation off: no time trigger may outlive the test."""
    if "automation" not in hass.config.components:
        return
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
    await hass.async_block_till_done()

"""Patterns -> Home Assistant automation configs, validated by HA's own validator."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import voluptuous as vol
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .analysis import Detection, suggestable
from .const import LOGGER
from .engine.backtest import Backtest
from .engine.time_of_day import TimeOfDayPattern
from .writer import word_time_of_day

_ON_OFF = {"on": "turn_on", "off": "turn_off"}
# (domain, target state) -> (service, extra service data)
_ACTIONS: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "light": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "switch": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "fan": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "input_boolean": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "siren": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "humidifier": {s: (svc, {}) for s, svc in _ON_OFF.items()},
    "media_player": {"on": ("turn_on", {}), "off": ("turn_off", {})},
    "cover": {"open": ("open_cover", {}), "closed": ("close_cover", {})},
    "valve": {"open": ("open_valve", {}), "closed": ("close_valve", {})},
    # Unlocking is never suggested: an unconditional unlock is a door left open.
    "lock": {"locked": ("lock", {})},
    "climate": {
        mode: ("set_hvac_mode", {"hvac_mode": mode})
        for mode in ("off", "heat", "cool", "heat_cool", "auto", "dry", "fan_only")
    },
}
# Covers that are doors: opening them on a timer lets people in.
_SECURITY_COVER_CLASSES = frozenset({"door", "garage", "gate"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """A pattern that maps onto an action, before validation."""

    pattern_id: str
    pattern: TimeOfDayPattern
    backtest: Backtest
    service: str
    data: dict[str, Any]


def pattern_id(pattern: TimeOfDayPattern) -> str:
    """Stable id: the same routine keeps its id across runs while its time drifts a bit."""
    bucket = pattern.minute // 30  # half-hour slot
    raw = f"time_of_day|{pattern.entity_id}|{pattern.to_state}|{pattern.day_set}|{bucket}"
    return "tod_" + hashlib.sha1(raw.encode()).hexdigest()[:12]


def suggestion_id(candidate: Candidate) -> str:
    """Stable id of the suggested automation (also its automation ``id`` when accepted)."""
    raw = f"{candidate.pattern_id}|{candidate.service}"
    return "ai_" + hashlib.sha1(raw.encode()).hexdigest()[:16]


def pattern_to_dict(pattern: TimeOfDayPattern) -> dict[str, Any]:
    """The pattern in the job contract's shape."""
    return {
        "id": pattern_id(pattern),
        "type": "time_of_day",
        "entity_id": pattern.entity_id,
        "to_state": pattern.to_state,
        "occurrences": pattern.occurrences,
        "confidence": pattern.confidence,
        "automated": pattern.automated,
        "time": pattern.time,
        "days": pattern.day_names,
        "day_set": pattern.day_set,
        "spread_min": pattern.spread_min,
        "eligible_days": pattern.eligible_days,
        "share_of_days": pattern.share_of_days,
        "origins": dict(pattern.origins),
    }


def action_for(hass: HomeAssistant, entity_id: str, to_state: str) -> tuple[str, dict[str, Any]] | None:
    """The service call that puts ``entity_id`` in ``to_state``, or None if we won't."""
    domain = entity_id.split(".", 1)[0]
    action = _ACTIONS.get(domain, {}).get(to_state)
    if action is None:
        return None
    if domain == "cover" and to_state == "open":
        state = hass.states.get(entity_id)
        if state is not None and state.attributes.get("device_class") in _SECURITY_COVER_CLASSES:
            return None
    service, data = action
    return f"{domain}.{service}", dict(data)


def candidates(hass: HomeAssistant, detection: Detection, min_confidence: float) -> list[Candidate]:
    """Patterns strong enough, not already automated, with an action we can take."""
    found: list[Candidate] = []
    for index, pattern in enumerate(detection.patterns):
        if not suggestable(pattern) or pattern.confidence < min_confidence:
            continue
        action = action_for(hass, pattern.entity_id, pattern.to_state)
        if action is None:
            continue
        found.append(
            Candidate(
                pattern_id=pattern_id(pattern),
                pattern=pattern,
                backtest=detection.backtests[index],
                service=action[0],
                data=action[1],
            )
        )
    # Best first: what the history proves, then how sure the detector is.
    found.sort(key=lambda c: (-c.backtest.precision, -c.pattern.confidence, c.pattern.entity_id))
    return found


def automation_config(candidate: Candidate, title: str, description: str) -> dict[str, Any]:
    """The automation, in the shape the automation editor writes to automations.yaml."""
    pattern = candidate.pattern
    conditions: list[dict[str, Any]] = []
    if pattern.day_set != "daily":
        conditions.append({"condition": "time", "weekday": pattern.day_names})
    conditions.append(
        {
            "condition": "not",
            "conditions": [{"condition": "state", "entity_id": pattern.entity_id, "state": pattern.to_state}],
        }
    )
    action: dict[str, Any] = {"action": candidate.service, "target": {"entity_id": pattern.entity_id}}
    if candidate.data:
        action["data"] = dict(candidate.data)
    return {
        "id": suggestion_id(candidate),
        "alias": title,
        "description": description,
        "triggers": [{"trigger": "time", "at": f"{pattern.time}:00"}],
        "conditions": conditions,
        "actions": [action],
        "mode": "single",
    }


async def async_is_valid(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Validate exactly as the automation editor does before it saves."""
    try:
        await async_validate_config_item(hass, config["id"], config)
    except (vol.Invalid, HomeAssistantError) as err:
        LOGGER.warning("Dropping suggestion %s: Home Assistant rejects it: %s", config.get("alias"), err)
        return False
    return True


async def async_build_suggestions(
    hass: HomeAssistant, detection: Detection, min_confidence: float, max_suggestions: int
) -> tuple[list[dict[str, Any]], int]:
    """Return ``(suggestions, invalid_count)``, at most ``max_suggestions``, best first."""
    suggestions: list[dict[str, Any]] = []
    invalid = 0
    for candidate in candidates(hass, detection, min_confidence):
        if len(suggestions) >= max_suggestions:
            break
        state = hass.states.get(candidate.pattern.entity_id)
        name = state.name if state is not None else candidate.pattern.entity_id
        wording = word_time_of_day(candidate.pattern, name, candidate.backtest)
        config = automation_config(candidate, wording.title, wording.description)
        if not await async_is_valid(hass, config):
            invalid += 1
            continue
        suggestions.append(
            {
                "id": config["id"],
                "pattern_ids": [candidate.pattern_id],
                "title": wording.title,
                "description": wording.description,
                "automation": config,
                "backtest": {
                    "would_have_fired": candidate.backtest.would_have_fired,
                    "matched": candidate.backtest.matched,
                    "precision": candidate.backtest.precision,
                    "tolerance_min": candidate.backtest.tolerance_min,
                },
            }
        )
    return suggestions, invalid

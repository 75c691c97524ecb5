"""Patterns -> Home Assistant automation configs, validated by HA's own validator."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .compat import vol
from .const import LOGGER
from .detection import Detection, suggestable
from .engine.backtest import Backtest
from .engine.co_occurrence import CoOccurrencePattern
from .engine.time_of_day import TimeOfDayPattern
from .wording import friendly_name, word

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
    "vacuum": {"cleaning": ("start", {}), "docked": ("return_to_base", {})},
}
# Domains whose state is the option chosen: the action selects that option.
_OPTION_DOMAINS = frozenset({"input_select", "select"})
# Covers that are doors: opening them on a timer lets people in.
_SECURITY_COVER_CLASSES = frozenset({"door", "garage", "gate"})


type Pattern = TimeOfDayPattern | CoOccurrencePattern


@dataclass(frozen=True, slots=True)
class Candidate:
    """A pattern that maps onto an action, before validation."""

    pattern_id: str
    pattern: Pattern
    backtest: dict[str, Any]  # would_have_fired, matched, precision, + its tolerance
    service: str
    data: dict[str, Any]

    @property
    def precision(self) -> float:
        """Share of the automation's firings the household agreed with."""
        return float(self.backtest["precision"])


def pattern_id(pattern: Pattern) -> str:
    """Stable id: the same routine keeps its id across runs while its time drifts a bit."""
    if isinstance(pattern, CoOccurrencePattern):
        raw = (
            f"co_occurrence|{pattern.trigger_entity_id}|{pattern.trigger_to_state}"
            f"|{pattern.entity_id}|{pattern.to_state}"
        )
        return "co_" + hashlib.sha1(raw.encode()).hexdigest()[:12]
    anchor = pattern.sun_event or str(pattern.minute // 30)  # sun event, or half-hour slot
    raw = f"time_of_day|{pattern.entity_id}|{pattern.to_state}|{pattern.day_set}|{anchor}"
    return "tod_" + hashlib.sha1(raw.encode()).hexdigest()[:12]


def suggestion_id(candidate: Candidate) -> str:
    """Stable id of the suggested automation (also its automation ``id`` when accepted)."""
    raw = f"{candidate.pattern_id}|{candidate.service}"
    return "ai_" + hashlib.sha1(raw.encode()).hexdigest()[:16]


def pattern_to_dict(pattern: Pattern) -> dict[str, Any]:
    """The pattern in the job contract's shape."""
    common = {
        "id": pattern_id(pattern),
        "entity_id": pattern.entity_id,
        "to_state": pattern.to_state,
        "occurrences": pattern.occurrences,
        "confidence": pattern.confidence,
        "automated": pattern.automated,
    }
    if isinstance(pattern, CoOccurrencePattern):
        return {
            **common,
            "type": "co_occurrence",
            "trigger_entity_id": pattern.trigger_entity_id,
            "trigger_to_state": pattern.trigger_to_state,
            "lag_s": pattern.lag_s,
            "lag_p90_s": pattern.lag_p90_s,
            "trigger_count": pattern.trigger_count,
            "coverage": pattern.coverage,
            "lift": pattern.lift,
            "score": pattern.score,
            "origins": dict(pattern.origins),
        }
    return {
        **common,
        "type": "time_of_day",
        "time": pattern.time,
        "days": pattern.day_names,
        "day_set": pattern.day_set,
        "spread_min": pattern.spread_min,
        "eligible_days": pattern.eligible_days,
        "share_of_days": pattern.share_of_days,
        "sun_event": pattern.sun_event,
        "sun_offset_min": pattern.sun_offset_min,
        "origins": dict(pattern.origins),
    }


def patterns_to_dicts(detection: Detection) -> list[dict[str, Any]]:
    """Every pattern of a run, in the contract's shape, strongest first per kind."""
    patterns: list[Pattern] = [*detection.time_of_day, *detection.co_occurrence]
    return [pattern_to_dict(p) for p in patterns]


def action_for(hass: HomeAssistant, entity_id: str, to_state: str) -> tuple[str, dict[str, Any]] | None:
    """The service call that puts ``entity_id`` in ``to_state``, or None if we won't."""
    domain = entity_id.split(".", 1)[0]
    if domain in _OPTION_DOMAINS:
        return f"{domain}.select_option", {"option": to_state}
    action = _ACTIONS.get(domain, {}).get(to_state)
    if action is None:
        return None
    if domain == "cover" and to_state == "open":
        state = hass.states.get(entity_id)
        if state is not None and state.attributes.get("device_class") in _SECURITY_COVER_CLASSES:
            return None
    service, data = action
    return f"{domain}.{service}", dict(data)


def _time_of_day_backtest(backtest: Backtest) -> dict[str, Any]:
    return {
        "would_have_fired": backtest.would_have_fired,
        "matched": backtest.matched,
        "precision": backtest.precision,
        "tolerance_min": backtest.tolerance_min,
    }


def _co_occurrence_backtest(pattern: CoOccurrencePattern) -> dict[str, Any]:
    # The automation fires on every trigger event; the household followed within the
    # detector's window on ``occurrences`` of them.
    return {
        "would_have_fired": pattern.trigger_count,
        "matched": pattern.occurrences,
        "precision": round(pattern.occurrences / pattern.trigger_count, 3) if pattern.trigger_count else 0.0,
        "within_s": pattern.lag_p90_s,
    }


def candidates(hass: HomeAssistant, detection: Detection, min_confidence: float) -> list[Candidate]:
    """Patterns strong enough, not already automated, with an action we can take."""
    found: list[Candidate] = []
    scored: list[tuple[Pattern, dict[str, Any]]] = [
        (p, _time_of_day_backtest(detection.backtests[i]))
        for i, p in enumerate(detection.time_of_day)
        if i in detection.backtests
    ]
    scored += [(p, _co_occurrence_backtest(p)) for p in detection.co_occurrence]
    for pattern, backtest in scored:
        if not suggestable(pattern) or pattern.confidence < min_confidence:
            continue
        action = action_for(hass, pattern.entity_id, pattern.to_state)
        if action is None:
            continue
        found.append(Candidate(pattern_id(pattern), pattern, backtest, action[0], action[1]))
    # Best first: what the history proves, then how sure the detector is.
    found.sort(key=lambda c: (-c.precision, -c.pattern.confidence, c.pattern.entity_id))
    return found


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}:00"


def _trigger(pattern: Pattern) -> dict[str, Any]:
    if isinstance(pattern, CoOccurrencePattern):
        return {"trigger": "state", "entity_id": pattern.trigger_entity_id, "to": pattern.trigger_to_state}
    if pattern.sun_event is not None and pattern.sun_offset_min is not None:
        return {"trigger": "sun", "event": pattern.sun_event, "offset": _offset(pattern.sun_offset_min)}
    return {"trigger": "time", "at": f"{pattern.time}:00"}


def automation_config(candidate: Candidate, title: str, description: str) -> dict[str, Any]:
    """The automation, in the shape the automation editor writes to automations.yaml."""
    pattern = candidate.pattern
    conditions: list[dict[str, Any]] = []
    if isinstance(pattern, TimeOfDayPattern) and pattern.day_set != "daily":
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
        "triggers": [_trigger(pattern)],
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
    hass: HomeAssistant,
    detection: Detection,
    min_confidence: float,
    max_suggestions: int,
    skip: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Return ``(suggestions, invalid_count)``, at most ``max_suggestions``, best first.

    ``skip`` drops a valid automation that is not new (see ``dedupe``) before the cap.
    """
    suggestions: list[dict[str, Any]] = []
    invalid = 0
    for candidate in candidates(hass, detection, min_confidence):
        if len(suggestions) >= max_suggestions:
            break
        wording = word(candidate.pattern, candidate.backtest, partial(friendly_name, hass))
        config = automation_config(candidate, wording.title, wording.description)
        if not await async_is_valid(hass, config):
            invalid += 1
            continue
        if skip is not None and skip(config):
            continue
        suggestions.append(
            {
                "id": config["id"],
                "pattern_ids": [candidate.pattern_id],
                "title": wording.title,
                "description": wording.description,
                "evidence": wording.evidence,
                "automation": config,
                "backtest": dict(candidate.backtest),
                # What the words are made of: an LLM writer words it again from this.
                "pattern": pattern_to_dict(candidate.pattern),
            }
        )
    return suggestions, invalid

"""Is a suggestion new? Fingerprints of what an automation does, a shifted time tolerated.

A fingerprint is *(action, target entity, trigger kind)*: ``light.turn_on`` on
``light.kitchen`` triggered by ``time``, ``sun:sunset`` or ``state:binary_sensor.hallway_motion``.
The trigger's time, offset and target state are left out, so the routine found at 06:45
this week and at 06:52 the next is the same thing. Time triggers keep their minute and
weekdays only to tell two *different* routines of one entity apart (the light at 06:45 on
weekdays is not the light at 19:00): they match within ``SHIFT_TOLERANCE_MIN`` on
overlapping days.

For the insights on the home's own automations (``automation_insights``) a fingerprint
also carries what dedupe leaves out: a sun trigger's offset and the states a state trigger
fires on. They take no part in a fingerprint's equality or ``matches``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

import voluptuous as vol
from homeassistant.components.automation import DATA_COMPONENT
from homeassistant.const import STATE_ON, WEEKDAYS
from homeassistant.core import HomeAssistant, valid_entity_id
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er

from .compat import referenced_entity_ids
from .const import LOGGER

# The detector keeps one event per day within ±60 min of a routine's peak: further apart
# is another routine, nearer is the same one drifting.
SHIFT_TOLERANCE_MIN = 60
_MINUTES_PER_DAY = 1440
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$")
# Device actions (the UI's "device" action) name their service by ``type``.
_DEVICE_ACTION_SERVICE = {
    ("cover", "open"): "open_cover",
    ("cover", "close"): "close_cover",
    ("valve", "open"): "open_valve",
    ("valve", "close"): "close_valve",
}
# The script integration keeps its EntityComponent under its domain (2025.4 to 2026.x).
SCRIPT_DOMAIN = "script"
# The service a scene's state stands for, to compare it with an automation's actions.
_SCENE_SERVICES = {
    "on": "turn_on",
    "off": "turn_off",
    "open": "open_cover",
    "closed": "close_cover",
    "locked": "lock",
    "playing": "media_play",
}
# Service data that says which mode or option is set (part of what an action does).
_CHOICE_KEYS = ("hvac_mode", "option", "preset_mode")
# Keys under which actions nest other actions (choose, if/then/else, sequence, parallel, repeat).
_NESTED = ("sequence", "then", "else", "default", "parallel")

# Why a suggestion was not new (counted per run).
REASON_AUTOMATION = "automation"
REASON_ACCEPTED = "accepted"
REASON_DISMISSED = "dismissed"
REASON_REPEATED = "repeated"
# Who caused the changes is unknown (the recorder could not say) and an automation or a
# script acts on this entity: the routine may be that automation's doing.
REASON_MAYBE_AUTOMATED = "maybe_automated"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What an automation does: one action on one entity, caused by one kind of trigger."""

    service: str  # "light.turn_on"
    target: str  # "light.kitchen"
    trigger: str  # "time", "sun:sunset", "state:binary_sensor.hallway_motion", ...
    # Time triggers only: local minute of day (None: unknown, e.g. an input_datetime) and
    # the weekdays a condition limits it to (None: every day).
    minute: int | None = None
    days: frozenset[str] | None = None
    # Insights only, left out of equality: sun triggers' minutes after the event (None:
    # unknown, e.g. a template), state triggers' ``to`` states (None: any change, or an
    # attribute's) and their ``for`` in seconds (None: a template).
    offset_min: int | None = field(default=None, compare=False)
    to_states: frozenset[str] | None = field(default=None, compare=False)
    hold_s: int | None = field(default=None, compare=False)
    # ... and the states its top-level conditions require (see ``requirements``).
    requires: frozenset[Requirement] = field(default=frozenset(), compare=False)

    def matches(self, other: Fingerprint) -> bool:
        """The same thing, allowing a shifted time on overlapping days."""
        if (self.service, self.target, self.trigger) != (other.service, other.target, other.trigger):
            return False
        if self.minute is not None and other.minute is not None:
            apart = abs(self.minute - other.minute) % _MINUTES_PER_DAY
            if min(apart, _MINUTES_PER_DAY - apart) > SHIFT_TOLERANCE_MIN:
                return False
        return self.days is None or other.days is None or bool(self.days & other.days)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _entity_ids(value: Any) -> list[str]:
    """Entity ids from a string, a comma-separated string or a list."""
    ids: list[str] = []
    for item in _as_list(value):
        if isinstance(item, str):
            ids += [part.strip() for part in item.split(",") if part.strip()]
    return ids


def _resolve(hass: HomeAssistant, entity_id: str) -> str | None:
    """An entity id; device triggers and actions may name the registry id instead."""
    if valid_entity_id(entity_id):
        return entity_id
    return er.async_resolve_entity_id(er.async_get(hass), entity_id)


def _minute(at: Any) -> int | None:
    if isinstance(at, str) and (match := _TIME.match(at.strip())):
        return int(match[1]) * 60 + int(match[2])
    return None


class _Kind(NamedTuple):
    """What one trigger is: its kind, and the details a fingerprint keeps of it."""

    kind: str
    minute: int | None = None
    offset_min: int | None = None
    to_states: frozenset[str] | None = None
    hold_s: int | None = None


def _period_s(period: Any) -> int | None:
    """An offset or ``for`` in seconds, written any way HA accepts (None: not readable)."""
    if period is None:
        return 0
    try:
        parsed: timedelta = cv.time_period(period)
    except vol.Invalid:
        return None  # a template, decided when it fires
    return round(parsed.total_seconds())


def _offset_min(offset: Any) -> int | None:
    seconds = _period_s(offset)
    return None if seconds is None else round(seconds / 60)


def _to_states(value: Any) -> frozenset[str] | None:
    states = frozenset(str(v) for v in _as_list(value) if isinstance(v, str | int | float | bool))
    return states or None


def _trigger_kinds(hass: HomeAssistant, trigger: Mapping[str, Any]) -> Iterator[_Kind]:
    """What one trigger is; a trigger on several entities or times gives several."""
    platform = trigger.get("trigger") or trigger.get("platform")
    if not isinstance(platform, str):
        return
    if platform == "time":
        for at in _as_list(trigger.get("at")):
            yield _Kind("time", minute=_minute(at))
        return
    if platform == "sun":
        yield _Kind(f"sun:{trigger.get('event')}", offset_min=_offset_min(trigger.get("offset")))
        return
    if platform == "device":
        # A device trigger on an entity ("motion detected") is a state trigger in disguise;
        # its ``type`` stands for the state it fires on (two types never fire together).
        entity = trigger.get("entity_id")
        resolved = _resolve(hass, entity) if isinstance(entity, str) else None
        if resolved:
            yield _Kind(
                f"state:{resolved}",
                to_states=_to_states(f"device:{trigger.get('type')}"),
                hold_s=_period_s(trigger.get("for")),
            )
        else:
            yield _Kind(f"device:{trigger.get('device_id')}")
        return
    entities = _entity_ids(trigger.get("entity_id"))
    if not entities:
        yield _Kind(platform)
    state = platform == "state" and "attribute" not in trigger
    to_states = _to_states(trigger.get("to")) if state else None
    hold_s = _period_s(trigger.get("for")) if state else None
    for entity_id in entities:
        yield _Kind(f"{platform}:{entity_id}", to_states=to_states, hold_s=hold_s)


def _targets(hass: HomeAssistant, service: str, action: Mapping[str, Any]) -> set[str]:
    """Entities an action acts on: named, or through areas, devices, floors and labels."""
    target = action.get("target")
    data = action.get("data")
    selection: dict[str, Any] = {}
    for source in (target, data, action):
        if isinstance(source, Mapping):
            for key in ("entity_id", "device_id", "area_id", "floor_id", "label_id"):
                if key in source and key not in selection:
                    selection[key] = source[key]
    if any(isinstance(v, str) and "{" in v for v in selection.values()):
        return set()  # a template: decided at run time, nothing to compare
    if set(selection) == {"entity_id"}:
        return set(_entity_ids(selection["entity_id"]))
    domain, name = service.split(".", 1)
    try:
        return referenced_entity_ids(hass, domain, name, selection)
    except (ValueError, TypeError, KeyError) as err:
        LOGGER.debug("Cannot resolve the target of %s: %s", service, err)
        return set()


def _scene_actions(action: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """What applying a scene does to each entity, as the service that would do it."""
    data = action.get("data")
    entities = data.get("entities") if isinstance(data, Mapping) else None
    for entity_id, wanted in (entities or {}).items() if isinstance(entities, Mapping) else ():
        state = wanted.get("state") if isinstance(wanted, Mapping) else wanted
        domain = str(entity_id).split(".", 1)[0]
        if isinstance(state, str) and (service := _SCENE_SERVICES.get(state)):
            yield f"{domain}.{service}", str(entity_id)


def _choice(action: Mapping[str, Any]) -> str:
    """ ":heat" of a service that sets a mode or an option: heating off is not heating on."""
    data = action.get("data")
    for key in _CHOICE_KEYS:
        value = data.get(key) if isinstance(data, Mapping) else None
        if value is None:
            value = action.get(key)
        if isinstance(value, str) and "{" not in value:
            return f":{value}"
    return ""


def _actions(hass: HomeAssistant, actions: Any) -> Iterator[tuple[str, str]]:
    """(service, entity) of every service and device action, nested ones included."""
    for action in _as_list(actions):
        if not isinstance(action, Mapping):
            continue
        service = action.get("action") or action.get("service")
        if service == "scene.apply":
            yield from _scene_actions(action)
        elif isinstance(service, str) and "." in service and "{" not in service:
            for entity_id in _targets(hass, service, action):
                domain = entity_id.split(".", 1)[0]
                # homeassistant.turn_on on a light is light.turn_on.
                if service.startswith("homeassistant."):
                    yield f"{domain}.{service.split('.', 1)[1]}", entity_id
                else:
                    yield service + _choice(action), entity_id
        elif action.get("device_id") and isinstance(action.get("type"), str):
            entity = action.get("entity_id")
            resolved = _resolve(hass, entity) if isinstance(entity, str) else None
            if resolved:
                domain = resolved.split(".", 1)[0]
                kind = action["type"]
                yield f"{domain}.{_DEVICE_ACTION_SERVICE.get((domain, kind), kind)}", resolved
        for key in _NESTED:
            yield from _actions(hass, action.get(key))
        for option in _as_list(action.get("choose")):
            if isinstance(option, Mapping):
                yield from _actions(hass, option.get("sequence"))
        if isinstance(repeat := action.get("repeat"), Mapping):
            yield from _actions(hass, repeat.get("sequence"))


def _weekdays(conditions: Any) -> frozenset[str] | None:
    """Weekdays the top-level time conditions allow (None: no such condition)."""
    days: frozenset[str] | None = None
    for condition in _as_list(conditions):
        if isinstance(condition, Mapping) and condition.get("condition") == "time" and "weekday" in condition:
            allowed = frozenset(str(d) for d in _as_list(condition["weekday"])) & frozenset(WEEKDAYS)
            days = allowed if days is None else days & allowed
    return days


# (entities, state, wanted): one of the entities is in the state (or, not wanted, none is).
type Requirement = tuple[frozenset[str], str, bool]


def _state_requirements(condition: Mapping[str, Any], wanted: bool) -> list[Requirement]:
    """What one state condition requires; [] for what is not one plain state."""
    entities, state = _entity_ids(condition.get("entity_id")), condition.get("state")
    if condition.get("condition") != "state" or not entities or not isinstance(state, str) or "{" in state:
        return []
    if condition.get("match") == "any" or len(entities) == 1:
        return [(frozenset(entities), state, wanted)]
    if not wanted:
        return []  # "not all of them": nothing simple
    return [(frozenset({entity}), state, True) for entity in entities]


def requirements(conditions: Any) -> frozenset[Requirement]:
    """The states an automation's top-level conditions require: "someone home", "nobody
    home" (a ``not`` of one), "guest mode on". Others (templates, numbers, times) are not
    read here."""
    found: list[Requirement] = []
    for condition in _as_list(conditions):
        if not isinstance(condition, Mapping):
            continue
        if condition.get("condition") == "not" and len(inner := _as_list(condition.get("conditions"))) == 1:
            if isinstance(inner[0], Mapping):
                found += _state_requirements(inner[0], wanted=False)
        else:
            found += _state_requirements(condition, wanted=True)
    return frozenset(found)


def fingerprints(hass: HomeAssistant, config: Mapping[str, Any]) -> list[Fingerprint]:
    """Every (action, target, trigger kind) an automation config does.

    Reads both the current keys (``triggers``/``actions``/``trigger:``/``action:``) and the
    older ones (``trigger``/``action``/``platform:``/``service:``) that hand-written
    automations still use.
    """
    triggers = config.get("triggers", config.get("trigger"))
    actions = config.get("actions", config.get("action"))
    conditions = config.get("conditions", config.get("condition"))
    days = _weekdays(conditions)
    requires = requirements(conditions)
    kinds = [
        kind
        for trigger in _as_list(triggers)
        if isinstance(trigger, Mapping)
        for kind in _trigger_kinds(hass, trigger)
    ]
    return [
        Fingerprint(
            service=service,
            target=target,
            trigger=kind.kind,
            minute=kind.minute,
            days=days if kind.kind == "time" else None,
            offset_min=kind.offset_min,
            to_states=kind.to_states,
            hold_s=kind.hold_s,
            requires=requires,
        )
        for service, target in dict.fromkeys(_actions(hass, actions))
        for kind in kinds
    ]


@dataclass(frozen=True, slots=True)
class LoadedAutomation:
    """An automation Home Assistant has loaded, and what it does."""

    entity_id: str
    config_id: str | None  # its ``id`` (None: a YAML automation without one, not editable in the UI)
    alias: str | None
    enabled: bool  # on: it runs (off, or unavailable for an invalid config: it does not)
    fingerprints: tuple[Fingerprint, ...]


def loaded_automations(hass: HomeAssistant) -> list[LoadedAutomation]:
    """Every automation Home Assistant has loaded whose config could be read.

    Blueprint automations are read after substitution (``raw_config`` holds the result).
    """
    component = hass.data.get(DATA_COMPONENT)
    if component is None:
        return []
    found: list[LoadedAutomation] = []
    for entity in component.entities:
        if entity.raw_config is None:
            continue
        try:
            done = tuple(fingerprints(hass, entity.raw_config))
        except Exception:  # noqa: BLE001 - one odd hand-written automation must not stop a run
            LOGGER.debug("Cannot read what %s does", entity.entity_id, exc_info=True)
            continue
        alias = entity.raw_config.get("alias")
        found.append(
            LoadedAutomation(
                entity_id=entity.entity_id,
                config_id=entity.unique_id,
                alias=alias
                if isinstance(alias, str)
                else entity.name
                if isinstance(entity.name, str)
                else None,
                enabled=hass.states.is_state(entity.entity_id, STATE_ON),
                fingerprints=done,
            )
        )
    return found


def existing_automations(hass: HomeAssistant) -> list[tuple[str | None, Fingerprint]]:
    """(unique id, fingerprint) of every automation Home Assistant has loaded."""
    return [(a.config_id, fp) for a in loaded_automations(hass) for fp in a.fingerprints]


def automation_links(hass: HomeAssistant) -> frozenset[tuple[str, str]]:
    """(entity whose change triggers an automation, entity that automation acts on)."""
    return frozenset(
        (fp.trigger.removeprefix("state:"), fp.target)
        for _id, fp in existing_automations(hass)
        if fp.trigger.startswith("state:")
    )


def automated_entities(hass: HomeAssistant) -> frozenset[str]:
    """Every entity some automation or script acts on (blueprints after substitution)."""
    found: set[str] = set()
    for component_key, actions_key in ((DATA_COMPONENT, "actions"), (SCRIPT_DOMAIN, "sequence")):
        component = hass.data.get(component_key)
        for entity in getattr(component, "entities", ()):
            raw = getattr(entity, "raw_config", None)
            if not isinstance(raw, Mapping):
                continue
            actions = raw.get(actions_key, raw.get("action"))
            try:
                found.update(target for _, target in _actions(hass, actions))
            except Exception:  # noqa: BLE001 - one odd hand-written config must not stop a run
                LOGGER.debug("Cannot read what %s does", entity.entity_id, exc_info=True)
    return frozenset(found)


def matches_any(mine: Iterable[Fingerprint], others: Iterable[Fingerprint]) -> bool:
    """Whether any of ``mine`` is the same thing as any of ``others``."""
    others = list(others)
    return any(a.matches(b) for a in mine for b in others)


class Deduplicator:
    """Drops, within one run, what is already automated, decided, or suggested just before.

    Pending suggestions are not dropped: a re-found one is published again with fresh
    numbers (see ``Decisions.async_publish``).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        automations: list[tuple[str | None, Fingerprint]],
        decided: list[tuple[str, str, list[Fingerprint]]],
        maybe_automated: frozenset[str] = frozenset(),
    ) -> None:
        """``decided``: (suggestion id, reason, fingerprints) of accepted and dismissed ones.

        ``maybe_automated``: entities not to suggest at all (when who caused the changes
        is unknown, those that automations and scripts act on).
        """
        self._hass = hass
        self._maybe_automated = maybe_automated
        self._automations = [fp for _, fp in automations]
        self._decided = decided
        self._taken: list[Fingerprint] = []
        self.dropped: Counter[str] = Counter()

    def _reason(self, mine: list[Fingerprint], config: Mapping[str, Any]) -> str | None:
        if any(fp.target in self._maybe_automated for fp in mine):
            return REASON_MAYBE_AUTOMATED
        if matches_any(mine, self._automations):
            return REASON_AUTOMATION
        for suggestion_id, why, theirs in self._decided:
            if config.get("id") == suggestion_id or matches_any(mine, theirs):
                return why
        if matches_any(mine, self._taken):
            return REASON_REPEATED
        return None

    def known(self, config: Mapping[str, Any]) -> bool:
        """Whether this automation is not new, without taking it (a part of a group)."""
        return self._reason(fingerprints(self._hass, config), config) is not None

    def duplicate(self, config: Mapping[str, Any]) -> str | None:
        """Why this suggested automation is not new, or None (and then it is taken)."""
        mine = fingerprints(self._hass, config)
        reason = self._reason(mine, config)
        if reason is None:
            self._taken += mine
            return None
        self.dropped[reason] += 1
        LOGGER.debug("Not suggesting %s again: %s", config.get("alias"), reason)
        return reason

    def __call__(self, config: Mapping[str, Any]) -> bool:
        """Whether to skip this suggested automation."""
        return self.duplicate(config) is not None

    @property
    def count(self) -> int:
        """Suggestions dropped so far."""
        return sum(self.dropped.values())

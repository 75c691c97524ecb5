"""Routines done together whose states are more than on and off: one scene.

Waking up, the bedside lamp goes on at 30 % and the blinds open to 40 %: "turn on" and
"open" would wake the house at full light. When a part of a group is a light, a cover or
a media player, its state's attributes at the routine's moments are read from the
recorder (that entity's history of the window, only for the parts of groups, so a run
reads a few entities' attributes, never the home's); an attribute the household set to
the same value on most of those days (``SCENE_SHARE``: the median, give or take 10 % of
it or 2) is part of the scene. A group with any such part is applied as a scene
(``scene.apply``: Home Assistant reproduces each state, brightness and position too);
full brightness, fully open and closed are what "on" and "open" do anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from statistics import median
from typing import Any

from homeassistant.components.recorder import history
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .const import LOGGER

SCENE_SERVICE = ("scene", "apply")
# What a state is besides itself, per domain: the attributes a scene sets.
SCENE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "light": ("brightness", "color_temp_kelvin"),
    "cover": ("current_position",),
    "media_player": ("source",),
}
SCENE_SHARE = 0.7
# Values a plain "on"/"open"/"closed" sets anyway: no scene needed for them.
_PLAIN = {("brightness", 255), ("current_position", 100), ("current_position", 0)}

type Part = tuple[str, str, int, float]  # entity, state, its usual local minute, tolerance (min)


def _near(minute: int, usual: int, tolerance: float) -> bool:
    apart = abs(minute - usual) % 1440
    return min(apart, 1440 - apart) <= tolerance


def typical(values: Sequence[Any]) -> Any | None:
    """The value set on most days (numbers: the median, give or take), or None."""
    if not values:
        return None
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        middle = median(values)
        slack = max(2.0, 0.1 * abs(middle))
        close = sum(abs(v - middle) <= slack for v in values)
        return round(middle) if close >= SCENE_SHARE * len(values) else None
    best = max(set(map(str, values)), key=[str(v) for v in values].count)
    return best if [str(v) for v in values].count(best) >= SCENE_SHARE * len(values) else None


def _attributes_at_routine(hass: HomeAssistant, part: Part, start: datetime, end: datetime) -> dict[str, Any]:
    """The part's usual attributes when it reached its state at its routine time (recorder thread)."""
    entity_id, to_state, usual, tolerance = part
    keys = SCENE_ATTRIBUTES.get(entity_id.split(".", 1)[0], ())
    states = history.state_changes_during_period(
        hass, start, end, entity_id=entity_id, no_attributes=False, include_start_time_state=True
    ).get(entity_id, [])
    seen: dict[str, list[Any]] = {key: [] for key in keys}
    before: str | None = None
    for state in states:
        local = dt_util.as_local(state.last_changed)
        reached = state.state == to_state and before != to_state
        before = state.state
        if not reached or not _near(local.hour * 60 + local.minute, usual, tolerance):
            continue
        for key in keys:
            if (value := state.attributes.get(key)) is not None:
                seen[key].append(value)
    found = {}
    for key, values in seen.items():
        value = typical(values)
        if value is not None and (key, value) not in _PLAIN:
            found[key] = value
    return found


async def async_scene_of(
    hass: HomeAssistant, parts: Sequence[Part], window: tuple[datetime, datetime]
) -> dict[str, dict[str, Any]] | None:
    """The group as a scene (entity -> state and attributes), or None when on/off says it all."""
    if not hass.services.has_service(*SCENE_SERVICE):
        return None
    if not any(p[0].split(".", 1)[0] in SCENE_ATTRIBUTES for p in parts):
        return None
    start, end = window
    scene: dict[str, dict[str, Any]] = {}
    levels = False
    for part in parts:
        attributes: dict[str, Any] = {}
        if part[0].split(".", 1)[0] in SCENE_ATTRIBUTES:
            try:
                attributes = await get_instance(hass).async_add_executor_job(
                    _attributes_at_routine, hass, part, start, end
                )
            except Exception:  # noqa: BLE001 - no scene is no harm: the parts as they are
                LOGGER.debug("Cannot read the attributes of %s", part[0], exc_info=True)
        levels |= bool(attributes)
        scene[part[0]] = {"state": part[1], **attributes}
    return scene if levels else None

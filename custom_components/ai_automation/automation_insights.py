"""Insights on the home's own automations, read-only: the shell around ``engine.insights``.

What each automation does is read exactly as dedupe reads it (``dedupe.fingerprints``),
turned into the engine's plain ``Behaviour``s, compared, and the pairs that duplicate or
contradict each other (or a pending suggestion) come back as the job record's
``insights``. Nothing in the user's automations is changed. Automations that are off (or
unavailable: an invalid config) do not run, so they are left out, and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant

from .dedupe import Fingerprint, LoadedAutomation, fingerprints, loaded_automations
from .engine.insights import Behaviour, Insight, Side, Subject, find_insights


@dataclass(frozen=True, slots=True)
class InsightsFound:
    """The insights of one run, and how many automations they were read from."""

    insights: list[dict[str, Any]]
    compared: int  # automations that are on, and were compared
    disabled: int  # automations left out: off or unavailable


def _behaviours(found: Iterable[Fingerprint]) -> tuple[Behaviour, ...]:
    return tuple(
        Behaviour(
            service=fp.service,
            target=fp.target,
            trigger=fp.trigger,
            minute=fp.minute,
            days=fp.days,
            offset_min=fp.offset_min,
            to_states=fp.to_states,
            hold_s=fp.hold_s,
            requires=fp.requires,
        )
        for fp in found
    )


def _hhmm(minute: int | None) -> str | None:
    return None if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


def _detail(insight: Insight) -> dict[str, Any]:
    """When the two clash, in fields the panel words in the user's language."""
    behaviours = [side.behaviour for side in insight.sides]
    kind, _, rest = behaviours[0].trigger.partition(":")
    if kind == "time":
        return {"trigger": "time", "times": [_hhmm(b.minute) for b in behaviours]}
    if kind == "sun":
        return {"trigger": "sun", "event": rest, "offsets_min": [b.offset_min for b in behaviours]}
    # The states all of them fire on.
    common = frozenset.intersection(*(b.to_states or frozenset() for b in behaviours))
    return {"trigger": kind, "entity_id": rest, "to_states": sorted(common)}


def _automation(side: Side, automation: LoadedAutomation) -> dict[str, Any]:
    return {
        "entity_id": automation.entity_id,
        "id": automation.config_id,
        "alias": automation.alias,
        "service": side.behaviour.service,
    }


def _as_dict(insight: Insight, automations: Mapping[str, LoadedAutomation]) -> dict[str, Any]:
    """An insight as the job record has it (``suggestion_id`` only when a suggestion is in it)."""
    found: dict[str, Any] = {
        "kind": insight.kind,
        "target": insight.target,
        "automations": [_automation(s, automations[s.key]) for s in insight.sides if not s.suggestion],
        "detail": _detail(insight),
    }
    for side in insight.sides:
        if side.suggestion:
            found["suggestion_id"] = side.key
            found["detail"]["suggestion_service"] = side.behaviour.service
    return found


def find_automation_insights(hass: HomeAssistant, pending: Sequence[Mapping[str, Any]]) -> InsightsFound:
    """Compare the home's automations that are on with each other and with ``pending``.

    Runs on the event loop: reading automations resolves registry ids, and comparing a
    few hundred automations takes milliseconds.
    """
    loaded = loaded_automations(hass)
    running = {a.entity_id: a for a in loaded if a.enabled}
    automations = [Subject(a.entity_id, False, _behaviours(a.fingerprints)) for a in running.values()]
    suggestions = [
        Subject(str(record["id"]), True, _behaviours(fingerprints(hass, record["automation"])))
        for record in pending
        if isinstance(record.get("automation"), Mapping)
    ]
    insights = [_as_dict(i, running) for i in find_insights(automations, suggestions)]
    return InsightsFound(insights, compared=len(running), disabled=len(loaded) - len(running))

"""What a suggested automation does, read from its config: one action, or a choose of two.

A back-and-forth suggestion (the light on with the motion and off again when it is over)
has a trigger per direction and a ``choose`` whose options hold the actions.
"""

from __future__ import annotations

from typing import Any


def actions_of(automation: dict[str, Any]) -> list[dict[str, Any]]:
    """Its service actions, those inside a ``choose`` too, in order."""
    found: list[dict[str, Any]] = []
    for action in automation["actions"]:
        if "choose" in action:
            found += [a for option in action["choose"] for a in option["sequence"]]
        else:
            found.append(action)
    return found


def target_of(automation: dict[str, Any]) -> str:
    """The entity it acts on (every suggestion acts on one)."""
    (target,) = {str(a["target"]["entity_id"]) for a in actions_of(automation)}
    return target


def services_of(automation: dict[str, Any]) -> list[str]:
    """Its services, in order."""
    return [str(a["action"]) for a in actions_of(automation)]

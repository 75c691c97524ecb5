"""One persistent notification per suggestion, with a stable id."""

from __future__ import annotations

from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.yaml import dump

from .const import NOTIFICATION_PREFIX


def notification_id(suggestion_id: str) -> str:
    """The persistent notification id of a suggestion."""
    return f"{NOTIFICATION_PREFIX}{suggestion_id}"


def notification_message(suggestion: dict[str, Any]) -> str:
    """Markdown: the description, the numbers behind it, and the automation's YAML."""
    backtest = suggestion["backtest"]
    return (
        f"{suggestion['description']}\n\n"
        f"**Backtest:** would have fired {backtest['would_have_fired']} times, "
        f"matched {backtest['matched']} ({backtest['precision']:.0%}).\n\n"
        f"```yaml\n{dump(suggestion['automation'])}```\n\n"
        "To use it, copy the YAML into a new automation (Settings → Automations & scenes → "
        "Create automation → Edit in YAML)."
    )


@callback
def async_show_suggestions(
    hass: HomeAssistant, suggestions: list[dict[str, Any]], previous_ids: set[str]
) -> None:
    """Show every suggestion; remove notifications of suggestions that are gone."""
    current = {s["id"] for s in suggestions}
    for stale in previous_ids - current:
        persistent_notification.async_dismiss(hass, notification_id(stale))
    for suggestion in suggestions:
        persistent_notification.async_create(
            hass,
            notification_message(suggestion),
            title=f"Suggested automation: {suggestion['title']}",
            notification_id=notification_id(suggestion["id"]),
        )

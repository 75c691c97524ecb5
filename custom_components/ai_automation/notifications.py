"""One persistent notification per pending suggestion, with a stable id.

Persistent notifications live in memory only: the pending ones are shown again when the
integration starts. Accepting or dismissing a suggestion takes its notification away.

The message is Markdown and its texts carry device names: each goes through
``display.markdown_text``, the YAML through ``display.yaml_block``. The title is shown as
plain text by the frontend.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.yaml import dump

from .const import ATTR_DAYS, ATTR_ENABLED, ATTR_SUGGESTION_ID, DOMAIN, NOTIFICATION_PREFIX
from .const import SERVICE_ACCEPT_SUGGESTION as ACCEPT
from .const import SERVICE_DISMISS_SUGGESTION as DISMISS
from .display import TITLE_MAX_CHARS, markdown_text, plain_text, yaml_block
from .wording import seconds

TITLE_PREFIX = "Suggested automation: "
# Markdown characters per text of the message (escaping may take several per character):
# with the YAML and the instructions the message stays under 6 KB.
_DESCRIPTION_MARKDOWN_CHARS = 1500
_EVIDENCE_MARKDOWN_CHARS = 1000


def notification_id(suggestion_id: str) -> str:
    """The persistent notification id of a suggestion."""
    return f"{NOTIFICATION_PREFIX}{suggestion_id}"


def _backtest(backtest: dict[str, Any]) -> str:
    within = ""
    if backtest.get("tolerance_min") is not None:
        within = f" within {backtest['tolerance_min']} minutes"
    elif backtest.get("within_s") is not None:
        within = f" within {seconds(backtest['within_s'])}"
    return (
        f"replayed over the analysed history it would have fired {backtest['would_have_fired']} "
        f"times and matched what you did {backtest['matched']} times{within} "
        f"({backtest['precision']:.0%})."
    )


def _service_call(service: str, data: dict[str, Any]) -> str:
    return yaml_block(dump({"action": f"{DOMAIN}.{service}", "data": data}))


def notification_title(suggestion: dict[str, Any]) -> str:
    """'Suggested automation: <title>', the title at most ``TITLE_MAX_CHARS`` on one line."""
    return TITLE_PREFIX + plain_text(suggestion["title"], TITLE_MAX_CHARS)


def notification_message(suggestion: dict[str, Any]) -> str:
    """Markdown: description, evidence, backtest, the YAML, and how to accept or dismiss."""
    suggestion_id = suggestion["id"]
    parts = [markdown_text(suggestion["description"], _DESCRIPTION_MARKDOWN_CHARS)]
    if suggestion.get("evidence"):
        parts.append(f"**Evidence:** {markdown_text(suggestion['evidence'], _EVIDENCE_MARKDOWN_CHARS)}")
    parts.append(f"**Backtest:** {_backtest(suggestion['backtest'])}")
    parts.append(yaml_block(dump(suggestion["automation"])))
    parts.append(
        "**Accept** (admins): run this action in *Developer tools → Actions*; it adds the "
        "automation to automations.yaml as the automation editor does "
        f"(add `{ATTR_ENABLED}: false` to create it turned off):\n\n"
        + _service_call(ACCEPT, {ATTR_SUGGESTION_ID: suggestion_id})
    )
    parts.append(
        f"**Dismiss**: not suggested again (add `{ATTR_DAYS}: 30` to see it again after 30 days):\n\n"
        + _service_call(DISMISS, {ATTR_SUGGESTION_ID: suggestion_id})
    )
    return "\n\n".join(parts)


@callback
def async_show(hass: HomeAssistant, suggestion: dict[str, Any]) -> None:
    """Create or update the suggestion's notification."""
    persistent_notification.async_create(
        hass,
        notification_message(suggestion),
        title=notification_title(suggestion),
        notification_id=notification_id(suggestion["id"]),
    )


@callback
def async_remove(hass: HomeAssistant, suggestion_id: str) -> None:
    """Take the suggestion's notification away (accepted, dismissed or gone)."""
    persistent_notification.async_dismiss(hass, notification_id(suggestion_id))

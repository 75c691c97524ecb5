"""One persistent notification per pending suggestion, with a stable id.

Persistent notifications live in memory only: the pending ones are shown again when the
integration starts. Accepting or dismissing a suggestion takes its notification away.

Short on purpose: the title, one sentence of evidence and a link that opens the suggestion
in the review panel, where its chart, its YAML and the buttons are. The frame ("Suggested
automation:", the link's text) is in Home Assistant's language, from the translation files
(loaded with ``async_load_strings`` when the entry sets up).

The message is Markdown and its texts carry device names: each goes through
``display.markdown_text``. The title is shown as plain text by the frontend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations, async_get_translations

from .const import DOMAIN, NOTIFICATION_PREFIX
from .display import TITLE_MAX_CHARS, markdown_text, plain_text
from .panel import panel_path

_EVIDENCE_MARKDOWN_CHARS = 1000
_CATEGORY = "selector"
_STRINGS = f"component.{DOMAIN}.{_CATEGORY}.notification.options."


@dataclass(frozen=True, slots=True)
class Frame:
    """The notification's own words around the suggestion's."""

    title_prefix: str  # "Suggested automation: "
    review: str  # the link's text


def notification_id(suggestion_id: str) -> str:
    """The persistent notification id of a suggestion."""
    return f"{NOTIFICATION_PREFIX}{suggestion_id}"


async def async_load_strings(hass: HomeAssistant) -> None:
    """Load the frame's strings in Home Assistant's language (English for what is missing)."""
    await async_get_translations(hass, hass.config.language, _CATEGORY, {DOMAIN})


def frame(hass: HomeAssistant) -> Frame:
    """The frame in Home Assistant's language, from the loaded translations."""
    strings = async_get_cached_translations(hass, hass.config.language, _CATEGORY, DOMAIN)
    english = async_get_cached_translations(hass, "en", _CATEGORY, DOMAIN)

    def text(key: str) -> str:
        return strings.get(_STRINGS + key) or english.get(_STRINGS + key) or key

    return Frame(title_prefix=text("title_prefix") + " ", review=text("review"))


def notification_title(suggestion: dict[str, Any], words: Frame) -> str:
    """'Suggested automation: <title>', the title at most ``TITLE_MAX_CHARS`` on one line."""
    return words.title_prefix + plain_text(suggestion["title"], TITLE_MAX_CHARS)


def notification_message(suggestion: dict[str, Any], words: Frame) -> str:
    """Markdown: one sentence of evidence and the link to the suggestion in the panel."""
    evidence = suggestion.get("evidence") or suggestion.get("description") or ""
    link = f"[{markdown_text(words.review, 200)}]({panel_path(suggestion['id'])})"
    return f"{markdown_text(evidence, _EVIDENCE_MARKDOWN_CHARS)}\n\n{link}"


@callback
def async_show(hass: HomeAssistant, suggestion: dict[str, Any]) -> None:
    """Create or update the suggestion's notification."""
    words = frame(hass)
    persistent_notification.async_create(
        hass,
        notification_message(suggestion, words),
        title=notification_title(suggestion, words),
        notification_id=notification_id(suggestion["id"]),
    )


@callback
def async_remove(hass: HomeAssistant, suggestion_id: str) -> None:
    """Take the suggestion's notification away (accepted, dismissed or gone)."""
    persistent_notification.async_dismiss(hass, notification_id(suggestion_id))

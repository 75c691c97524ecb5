"""The review panel in the sidebar: "AI Automation", for administrators.

The panel is one JavaScript module shipped in ``frontend/`` (no build step, nothing
fetched from elsewhere): Home Assistant serves it from a static path, and
``panel_custom`` puts it in the sidebar. It talks to the ``ai_automation/...`` websocket
commands only. Its strings live in the translation files under ``selector.panel.options``
(a category Home Assistant's loader and its translation checks know), read through
``frontend/get_translations`` in the user's language with English for what is missing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components import frontend, panel_custom
from homeassistant.core import HomeAssistant

from .compat import StaticPathConfig
from .const import DOMAIN, LOGGER

PANEL_URL_PATH = "ai-automation"
PANEL_ELEMENT = "ai-automation-panel"
STATIC_URL = f"/{DOMAIN}_static"
_FRONTEND_DIR = Path(__file__).parent / "frontend"
_MODULE = "panel.js"
_STATIC_REGISTERED = f"{DOMAIN}_static_registered"


def panel_path(suggestion_id: str | None = None) -> str:
    """The panel's address (on a suggestion: it opens that one)."""
    return f"/{PANEL_URL_PATH}" + (f"?suggestion={suggestion_id}" if suggestion_id else "")


def _fingerprint() -> str:
    """A short hash of the module: a new version is fetched, not an old one from the cache."""
    return hashlib.sha256((_FRONTEND_DIR / _MODULE).read_bytes()).hexdigest()[:12]


async def async_register_panel(hass: HomeAssistant) -> None:
    """Serve the module and add the panel (administrators only) when the frontend runs."""
    if "frontend" not in hass.config.components or hass.http is None:
        LOGGER.debug("No frontend: the review panel is not added")
        return
    if not hass.data.get(_STATIC_REGISTERED):
        # A static path cannot be registered twice: once per run, across entry reloads.
        await hass.http.async_register_static_paths([StaticPathConfig(STATIC_URL, str(_FRONTEND_DIR), True)])
        hass.data[_STATIC_REGISTERED] = True
    version = await hass.async_add_executor_job(_fingerprint)
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title="AI Automation",
        sidebar_icon="mdi:robot-happy-outline",
        module_url=f"{STATIC_URL}/{_MODULE}?v={version}",
        require_admin=True,
        config={"domain": DOMAIN},
    )


def async_remove_panel(hass: HomeAssistant) -> None:
    """Take the panel out of the sidebar (the entry unloads)."""
    if "frontend" in hass.config.components:
        frontend.async_remove_panel(hass, PANEL_URL_PATH, warn_if_unknown=False)

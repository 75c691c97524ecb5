"""The review panel in the sidebar: served by Home Assistant, for administrators only.

These need Home Assistant's frontend package (the panel registers with it); the browser
test (test_panel_browser) drives the panel itself.
"""

from __future__ import annotations

import importlib.util
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.ai_automation.panel import PANEL_ELEMENT, PANEL_URL_PATH

from .conftest import setup_entry

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hass_frontend") is None,
    reason="Home Assistant's frontend package (home-assistant-frontend) is not installed in this environment",
)


@pytest.fixture
async def with_frontend(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The frontend as a user's Home Assistant has it, then the integration.

    The HTTP server itself is not started (it would listen on port 8123): the tests reach
    it through aiohttp's test client, as Home Assistant's own frontend tests do.
    """
    with patch("homeassistant.components.http.HomeAssistantHTTP.start"):
        assert await async_setup_component(hass, "frontend", {})
        await hass.async_block_till_done()
    await setup_entry(hass, config_entry)
    return config_entry


async def _panels(hass: HomeAssistant, client: Any) -> dict[str, Any]:
    await client.send_json_auto_id({"type": "get_panels"})
    response = await client.receive_json()
    assert response["success"], response
    panels: dict[str, Any] = response["result"]
    return panels


async def test_the_panel_is_in_the_sidebar_for_administrators(
    hass: HomeAssistant,
    with_frontend: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
) -> None:
    """Registered with its module, served from the integration's own folder."""
    panel = (await _panels(hass, await hass_ws_client(hass)))[PANEL_URL_PATH]

    assert panel["title"] == "AI Automation"
    assert panel["require_admin"] is True
    custom = panel["config"]["_panel_custom"]
    assert custom["name"] == PANEL_ELEMENT
    response = await (await hass_client()).get(custom["module_url"])
    assert response.status == 200
    body = await response.text()
    assert f'customElements.define("{PANEL_ELEMENT}"' in body


async def test_a_non_admin_gets_no_panel(
    hass: HomeAssistant,
    with_frontend: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    panels = await _panels(hass, await hass_ws_client(hass, hass_read_only_access_token))

    assert PANEL_URL_PATH not in panels


async def test_the_panel_goes_with_the_entry_and_comes_back(
    hass: HomeAssistant, with_frontend: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Unloaded: out of the sidebar; loaded again (the static path registered once): back."""
    assert await hass.config_entries.async_unload(with_frontend.entry_id)
    assert PANEL_URL_PATH not in await _panels(hass, await hass_ws_client(hass))

    assert await hass.config_entries.async_setup(with_frontend.entry_id)
    await hass.async_block_till_done()
    assert PANEL_URL_PATH in await _panels(hass, await hass_ws_client(hass))


async def test_the_panel_strings_are_served_in_the_users_language(
    hass: HomeAssistant, with_frontend: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """What the panel asks for: its strings in German, English where a string is missing."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "frontend/get_translations",
            "language": "de",
            "category": "selector",
            "integration": ["ai_automation"],
        }
    )
    response = await client.receive_json()

    strings = response["result"]["resources"]
    assert strings["component.ai_automation.selector.panel.options.create"] == "Erstellen"
    assert strings["component.ai_automation.selector.panel.options.undo"]

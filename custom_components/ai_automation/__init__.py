"""AI Automation: learns the household's routines and offers them as automations."""

from __future__ import annotations

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from . import notifications, storage
from .const import DOMAIN
from .coordinator import AnalysisCoordinator
from .data import AIAutomationConfigEntry, AIAutomationData
from .decisions import Decisions
from .llm_state import async_check_at_setup, async_load_state
from .mqtt_publish import MqttPublisher, async_clear_status
from .panel import async_register_panel, async_remove_panel
from .push import async_listen_for_actions
from .repairs import async_clear_after_accept
from .services import async_setup_services
from .websocket_api import async_setup_websocket_api

PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services once, so automations validate even with no entry loaded, and
    the panel's websocket commands."""
    async_setup_services(hass)
    async_setup_websocket_api(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AIAutomationConfigEntry) -> bool:
    """Load the job history, schedule the daily run and add the entities."""
    await notifications.async_load_strings(hass)
    llm_state = await async_load_state(hass, entry)
    coordinator = AnalysisCoordinator(hass, entry, llm_state)
    await coordinator.async_load()
    mqtt = MqttPublisher(hass, entry, coordinator)
    entry.runtime_data = AIAutomationData(coordinator, coordinator.decisions, llm_state, mqtt)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # A chat writer's key, checked without holding up the start (see llm_state).
    entry.async_create_background_task(
        hass, async_check_at_setup(hass, entry, llm_state), name=f"{DOMAIN} check the writer's key"
    )
    # The analysis-complete message and the status over MQTT, where the user turned them on.
    entry.async_on_unload(mqtt.async_start())
    coordinator.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, coordinator.async_on_hass_stop)
    )
    # The companion app's Accept/Dismiss buttons on pushed suggestions.
    entry.async_on_unload(async_listen_for_actions(hass, coordinator.decisions))
    await async_register_panel(hass)
    entry.async_on_unload(lambda: async_remove_panel(hass))
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: AIAutomationConfigEntry) -> None:
    """New options take effect at once, without a reload: reschedule; the next job reads the rest.

    New data (another writer, a new key: reconfigure and reauth) needs a fresh client and
    outage state, so the entry reloads.
    """
    coordinator = entry.runtime_data.coordinator
    if dict(entry.data) != coordinator.entry_data:
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    coordinator.async_schedule()


async def async_unload_entry(hass: HomeAssistant, entry: AIAutomationConfigEntry) -> bool:
    """Stop a running job (its record is kept as interrupted), then unload."""
    # Before the platforms go: HA cancels the entry's background tasks right after this.
    await entry.runtime_data.coordinator.async_shutdown()
    # The stopped job's summary and the idle status, if MQTT takes them in time.
    await entry.runtime_data.mqtt.async_drain()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: AIAutomationConfigEntry) -> None:
    """Deleting the entry deletes what it stored: the suggestions' notifications, every store
    and its retained status on MQTT."""
    await async_clear_status(hass, entry.options)
    await Decisions(hass, entry.entry_id, lambda: None).async_remove_notifications()
    async_clear_after_accept(hass)
    await storage.async_remove_all(hass, entry.entry_id)

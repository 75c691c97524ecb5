"""The household's devices as Home Assistant has them: a state, a name and their services.

No device integration runs in the tests: each entity's state is set by hand and its
domain's services are registered as recording stand-ins (``async_mock_service``), so a
suggestion finds its target and its action registered, as in a real home (it checks both).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from homeassistant.core import HomeAssistant, split_entity_id
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.ai_automation.suggestions import services_of


def add_devices(hass: HomeAssistant, names: Mapping[str, str | None], state: str = "off") -> None:
    """Set each entity (with its friendly name, if any) to ``state`` and register its services."""
    for entity_id, name in names.items():
        hass.states.async_set(entity_id, state, {"friendly_name": name} if name is not None else {})
    register_services(hass, names)


def register_services(hass: HomeAssistant, entity_ids: Iterable[str]) -> None:
    """The services a suggestion may call on these entities' domains (once each)."""
    for domain in {split_entity_id(e)[0] for e in entity_ids}:
        for service in sorted(services_of(domain)):
            if not hass.services.has_service(domain, service):
                async_mock_service(hass, domain, service)

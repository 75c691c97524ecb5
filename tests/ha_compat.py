"""What differs between the test plugin / Home Assistant versions the suite runs on.

The suite runs on HA 2025.4 (pytest-homeassistant-custom-component 0.13.236, scripts/test)
and on the newest HA (the "current" leg, scripts/test-current). Where their test helpers
moved or became deprecated, tests go through here instead.
"""

from __future__ import annotations

from homeassistant.helpers import device_registry as dr

try:  # plugin 0.13.3xx: the frozen clock's classes live in patch_time
    from pytest_homeassistant_custom_component.patch_time import HAFakeDatetime
except ImportError:  # plugin 0.13.236
    from pytest_homeassistant_custom_component.plugins import (  # type: ignore[attr-defined,no-redef]
        HAFakeDatetime,
    )

__all__ = ["HAFakeDatetime", "device_config_entries", "get_device"]


def get_device(
    device_registry: dr.DeviceRegistry, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """The device with this identifier of this config entry.

    ``async_get_device(identifiers=...)`` is deprecated (and raises in tests) since device
    identifiers became unique per config entry only.
    """
    if hasattr(device_registry, "async_get_device_by_identifier"):
        return device_registry.async_get_device_by_identifier(identifier, config_entry_id)
    return device_registry.async_get_device(identifiers={identifier})


def device_config_entries(device: dr.DeviceEntry) -> set[str]:
    """The config entries a device belongs to.

    Newer HA gives a device exactly one, ``config_entry_id``; its ``config_entries`` set is a
    deprecated shim (which raises in tests).
    """
    config_entry_id = getattr(device, "config_entry_id", None)
    if isinstance(config_entry_id, str):
        return {config_entry_id}
    return set(device.config_entries)

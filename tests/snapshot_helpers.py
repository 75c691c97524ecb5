"""Snapshots (tests/snapshots/*.ambr) that read the same on every Home Assistant version.

Home Assistant's syrupy serializer, with registry entries and states cut to what this
integration decides; conftest's ``snapshot`` fixture uses the extension.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from homeassistant.core import State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.syrupy import (
    EntityRegistryEntrySnapshot,
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
    StateSnapshot,
)

# A MockConfigEntry's id (a ULID), as it appears inside unique ids.
_ENTRY_ID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")

# What a registry entry says about an entity that this integration decides. The rest
# (created_at, object_id_base, suggested_object_id, ...) varies between Home Assistant
# versions, and the suite runs on two.
_REGISTRY_FIELDS = (
    "entity_id",
    "platform",
    "unique_id",
    "translation_key",
    "has_entity_name",
    "original_name",
    "original_device_class",
    "original_icon",
    "entity_category",
    "unit_of_measurement",
    "supported_features",
    "capabilities",
    "options",
    "disabled_by",
    "hidden_by",
)


def _plain(value: Any) -> Any:
    """Enums as their values, all the way down: which attributes Home Assistant keeps as an
    enum, and how one prints, is not the same on every version."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class StableSnapshotSerializer(HomeAssistantSnapshotSerializer):
    """Home Assistant's serializer, with registry entries and states cut to what is ours.

    A registry entry keeps the fields in ``_REGISTRY_FIELDS`` (the entry id in its unique
    id replaced by ``<entry_id>``); a state keeps its entity id, value and attributes (the
    times and the context are the test's, not the entity's).
    """

    @classmethod
    def _serialize(cls, data: Any, **kwargs: Any) -> Any:
        """Cut registry entries and states down, then serialize as Home Assistant does."""
        if isinstance(data, er.RegistryEntry):
            fields = {name: _plain(getattr(data, name)) for name in _REGISTRY_FIELDS}
            fields["unique_id"] = _ENTRY_ID.sub("<entry_id>", data.unique_id)
            data = EntityRegistryEntrySnapshot(fields)
        elif isinstance(data, State):
            data = StateSnapshot(
                entity_id=data.entity_id, state=data.state, attributes=_plain(data.attributes)
            )
        return super()._serialize(data, **kwargs)


class StableSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot files (tests/snapshots/*.ambr), the same on every version."""

    serializer_class = StableSnapshotSerializer

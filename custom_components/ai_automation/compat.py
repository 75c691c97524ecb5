"""Every difference between the Home Assistant versions we support, in one place.

Supported: 2025.4 to the current release. Each shim prefers the current API and names
the release that brought it, so it can go once the oldest supported version has it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, cast

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import Unauthorized, UnknownUser
from homeassistant.helpers import service as service_helper

# Home Assistant validates with probatio since 2026.10 and aliases ``voluptuous`` to it
# (homeassistant/__init__.py), so at run time ``import voluptuous`` is right on every
# version. Type checkers see the packages as installed: against current HA (Python 3.14
# only) the schemas are probatio's, as in core's own code; and BinarySensorDeviceClass
# is declared in binary_sensor.const, which 2026.10's package does not re-export.
# The same for StaticPathConfig: declared in http.server since 2026 (re-exported by the
# package, which mypy does not count as an export).
# A repair flow's steps return ``RepairsFlowResult`` since 2025.5 (a plain FlowResult before).
if TYPE_CHECKING:
    if sys.version_info >= (3, 14):
        import probatio as vol
        from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
        from homeassistant.components.http.server import StaticPathConfig
        from homeassistant.components.repairs import RepairsFlowResult
    else:
        import voluptuous as vol
        from homeassistant.components.binary_sensor import BinarySensorDeviceClass
        from homeassistant.components.http import StaticPathConfig
        from homeassistant.data_entry_flow import FlowResult as RepairsFlowResult
else:
    import voluptuous as vol
    from homeassistant.components.binary_sensor import BinarySensorDeviceClass
    from homeassistant.components.http import StaticPathConfig
    from homeassistant.data_entry_flow import FlowResult as RepairsFlowResult

try:  # 2025.12+: target resolution lives in helpers.target (the old helper went in 2026.8).
    from homeassistant.helpers.target import TargetSelection
    from homeassistant.helpers.target import async_extract_referenced_entity_ids as _extract_target
except ImportError:
    TargetSelection = None  # type: ignore[assignment,misc,unused-ignore]
    _extract_target = None  # type: ignore[assignment,unused-ignore]

# Newer releases let an admin-only service return a response (2025.4 cannot).
_ADMIN_SERVICE_RESPONDS = (
    "supports_response" in inspect.signature(service_helper.async_register_admin_service).parameters
)

type ServiceHandler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse | None]]


def referenced_entity_ids(
    hass: HomeAssistant, domain: str, service: str, selection: Mapping[str, Any]
) -> set[str]:
    """Entities a service target names, directly or through areas, devices, floors, labels."""
    if _extract_target is not None and TargetSelection is not None:
        selected = _extract_target(hass, TargetSelection(dict(selection)))
    else:
        legacy = getattr(service_helper, "async_extract_referenced_entity_ids")  # noqa: B009
        selected = legacy(hass, ServiceCall(hass, domain, service, dict(selection)))
    return set(selected.referenced | selected.indirectly_referenced)


def states_meta_ready(recorder: Any) -> bool:
    """Whether the recorder has moved every entity id into ``states_meta``.

    Up to 2025.x that migration could still be running after start (the manager's
    ``active`` flag); newer releases finish it before they start and dropped the flag.
    """
    return bool(getattr(recorder.states_meta_manager, "active", True))


def update_and_abort(flow: ConfigFlow, entry: ConfigEntry, data: Mapping[str, Any]) -> ConfigFlowResult:
    """Save a reconfigured or reauthenticated entry's data and end the flow.

    The entry's update listener then reloads it: Home Assistant asks integrations that
    have one to reload from it rather than through ``async_update_reload_and_abort``
    (a warning from 2026.6, an error from 2026.12). Newer releases have
    ``ConfigFlow.async_update_and_abort``; 2025.4 does the same in two steps.
    """
    if (update := getattr(flow, "async_update_and_abort", None)) is not None:
        return cast(ConfigFlowResult, update(entry, data=data))
    flow.hass.config_entries.async_update_entry(entry, data=data)
    reason = "reconfigure_successful" if flow.source == SOURCE_RECONFIGURE else "reauth_successful"
    return flow.async_abort(reason=reason)


async def _async_require_admin(call: ServiceCall) -> None:
    """What ``async_register_admin_service`` checks: a user, if any, must be an admin.

    A call without a user (an automation, a script) may go ahead.
    """
    if call.context.user_id:
        user = await call.hass.auth.async_get_user(call.context.user_id)
        if user is None:
            raise UnknownUser(context=call.context)
        if not user.is_admin:
            raise Unauthorized(context=call.context)


def register_admin_service(
    hass: HomeAssistant,
    domain: str,
    service: str,
    handler: ServiceHandler,
    schema: Any,
    supports_response: SupportsResponse = SupportsResponse.NONE,
) -> None:
    """Register a service only admins (and automations) may call, with a response if wanted."""
    if _ADMIN_SERVICE_RESPONDS:
        service_helper.async_register_admin_service(  # type: ignore[call-arg,unused-ignore]
            hass,
            domain,
            service,
            handler,  # type: ignore[arg-type,unused-ignore]
            schema=schema,
            supports_response=supports_response,
        )
        return
    if supports_response is SupportsResponse.NONE:
        service_helper.async_register_admin_service(
            hass,
            domain,
            service,
            handler,  # type: ignore[arg-type,unused-ignore]
            schema=schema,
        )
        return

    async def checked(call: ServiceCall) -> ServiceResponse | None:
        await _async_require_admin(call)
        return await handler(call)

    hass.services.async_register(domain, service, checked, schema=schema, supports_response=supports_response)


# --- AI Task (2025.8+) --------------------------------------------------------------
# ``ai_task`` gives structured output from whatever AI the user already set up. Before
# 2025.8 it does not exist: the writer is not offered, and an entry that uses it (restored
# onto an older Home Assistant) keeps the built-in wording. Its modules are imported only
# once Home Assistant has loaded the integration, so nothing here imports them on the loop.
AI_TASK_DOMAIN = "ai_task"


async def async_ai_task_available(hass: HomeAssistant) -> bool:
    """Whether this Home Assistant has the AI Task integration (loaded or not)."""
    from homeassistant.loader import IntegrationNotFound, async_get_integration

    try:
        await async_get_integration(hass, AI_TASK_DOMAIN)
    except IntegrationNotFound:
        return False
    return True


def ai_task_loaded(hass: HomeAssistant) -> bool:
    """Whether AI Task is set up (an AI integration with AI Task entities loads it)."""
    return AI_TASK_DOMAIN in hass.config.components


def ai_task_default_entity(hass: HomeAssistant) -> str | None:
    """The data generation entity of HA's AI Task preferences, if one is set."""
    if not ai_task_loaded(hass):
        return None
    from homeassistant.components.ai_task.const import (  # type: ignore[import-not-found,unused-ignore]
        DATA_PREFERENCES,
    )

    preferences = hass.data.get(DATA_PREFERENCES)
    entity_id = getattr(preferences, "gen_data_entity_id", None)
    return str(entity_id) if entity_id else None


def ai_task_generates_data(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether ``entity_id`` is a loaded AI Task entity that supports generating data."""
    if not ai_task_loaded(hass):
        return False
    from homeassistant.components.ai_task import (  # type: ignore[import-not-found,unused-ignore]
        AITaskEntityFeature,
    )
    from homeassistant.components.ai_task.const import (  # type: ignore[import-not-found,unused-ignore]
        DATA_COMPONENT,
    )

    component = hass.data.get(DATA_COMPONENT)
    entity = component.get_entity(entity_id) if component is not None else None
    return entity is not None and AITaskEntityFeature.GENERATE_DATA in entity.supported_features


async def async_ai_task_generate_data(
    hass: HomeAssistant, *, task_name: str, entity_id: str | None, instructions: str, structure: Any
) -> Any:
    """Run a data generation task (``entity_id`` None: the default entity); its ``data``.

    No ``llm_api``: the task gets no tools, so it cannot act on the home. Raises
    ``HomeAssistantError`` as ``ai_task.async_generate_data`` does. Call only when
    ``ai_task_loaded``.
    """
    from homeassistant.components.ai_task import (  # type: ignore[import-not-found,unused-ignore]
        async_generate_data,
    )

    result = await async_generate_data(
        hass, task_name=task_name, entity_id=entity_id, instructions=instructions, structure=structure
    )
    return result.data


__all__ = [
    "AI_TASK_DOMAIN",
    "BinarySensorDeviceClass",
    "RepairsFlowResult",
    "StaticPathConfig",
    "ai_task_default_entity",
    "ai_task_generates_data",
    "ai_task_loaded",
    "async_ai_task_available",
    "async_ai_task_generate_data",
    "referenced_entity_ids",
    "register_admin_service",
    "states_meta_ready",
    "update_and_abort",
    "vol",
]

"""Push: a short message per new suggestion to the notify services the user picked.

Companion app services (``notify.mobile_app_*``) get an actionable notification with
Accept and Dismiss buttons; the app answers with a ``mobile_app_notification_action``
event carrying the button's action and the phone user's context, handled here with the
same rules as the services (only admins, or calls without a user, may decide).

A push is plain text: its lines (which carry device names) are capped and kept to one
line each with ``display.plain_text``, not Markdown-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import CALLBACK_TYPE, Context, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.selector import SelectSelector, SelectSelectorConfig

from .compat import vol
from .const import CONF_NOTIFY_SERVICES, DOMAIN, LOGGER
from .decisions import Decisions
from .display import TITLE_MAX_CHARS, markdown_code, markdown_text, plain_text
from .panel import panel_path

NOTIFY_DOMAIN = "notify"
EVENT_MOBILE_APP_NOTIFICATION_ACTION = "mobile_app_notification_action"
ACTION_ACCEPT = "AI_AUTOMATION_ACCEPT_"
ACTION_DISMISS = "AI_AUTOMATION_DISMISS_"
_MOBILE_APP_PREFIX = "mobile_app_"
PUSH_ERROR_NOTIFICATION_ID = f"{DOMAIN}_push_action_failed"
# The evidence line of a push; the built-in one with the longest names stays under it.
_EVIDENCE_PUSH_CHARS = 500


def notify_services_schema(hass: HomeAssistant, options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The options-form entry for ``notify_services`` (for the options flow to extend with).

    Offers the notify services registered now; a service that appears later (a new phone)
    may be typed in.
    """
    return {
        vol.Optional(
            CONF_NOTIFY_SERVICES, default=list(options.get(CONF_NOTIFY_SERVICES, []))
        ): SelectSelector(
            SelectSelectorConfig(
                options=sorted(hass.services.async_services_for_domain(NOTIFY_DOMAIN)),
                multiple=True,
                custom_value=True,
                sort=True,
            )
        )
    }


def service_name(value: str) -> str:
    """'notify.mobile_app_pixel' or 'mobile_app_pixel' -> 'mobile_app_pixel'."""
    return value.removeprefix(f"{NOTIFY_DOMAIN}.")


def push_message(suggestion: dict[str, Any]) -> str:
    """One or two lines: what, and the numbers behind it."""
    backtest = suggestion["backtest"]
    lines = [plain_text(suggestion["title"], TITLE_MAX_CHARS)]
    if suggestion.get("evidence"):
        lines.append(plain_text(suggestion["evidence"], _EVIDENCE_PUSH_CHARS))
    lines.append(f"Backtest: matched {backtest['matched']} of {backtest['would_have_fired']}.")
    return "\n".join(lines)


def push_data(service: str, suggestion: dict[str, Any]) -> dict[str, Any]:
    """The notify call's data; buttons only for the companion app, which knows them."""
    data: dict[str, Any] = {"title": "New automation suggestion", "message": push_message(suggestion)}
    if service.startswith(_MOBILE_APP_PREFIX):
        data["data"] = {
            # Same tag: a later message about this suggestion replaces the earlier one.
            "tag": f"{DOMAIN}_{suggestion['id']}",
            # Tapping the message opens the suggestion in the review panel (iOS, Android).
            "url": panel_path(suggestion["id"]),
            "clickAction": panel_path(suggestion["id"]),
            "actions": [
                {"action": f"{ACTION_ACCEPT}{suggestion['id']}", "title": "Accept"},
                {"action": f"{ACTION_DISMISS}{suggestion['id']}", "title": "Dismiss"},
            ],
        }
    return data


async def async_push_new(hass: HomeAssistant, services: list[str], suggestions: list[dict[str, Any]]) -> None:
    """Tell each service about each new suggestion; a failing service is logged, not fatal."""
    for raw in services:
        service = service_name(raw)
        for suggestion in suggestions:
            try:
                await hass.services.async_call(
                    NOTIFY_DOMAIN, service, push_data(service, suggestion), blocking=True
                )
            except (HomeAssistantError, vol.Invalid) as err:
                LOGGER.warning(
                    "Could not push suggestion %s to notify.%s: %s", suggestion["id"], service, err
                )


async def _async_may_decide(hass: HomeAssistant, context: Context) -> bool:
    """The services' rule: no user (an automation) or an admin."""
    if context.user_id is None:
        return True
    user = await hass.auth.async_get_user(context.user_id)
    return user is not None and user.is_admin


@callback
def async_listen_for_actions(hass: HomeAssistant, decisions: Decisions) -> CALLBACK_TYPE:
    """Handle the phone's Accept/Dismiss buttons; returns the unsubscribe callback."""

    async def handle(event: Event) -> None:
        action = event.data.get("action")
        if not isinstance(action, str):
            return
        if action.startswith(ACTION_ACCEPT):
            suggestion_id, accept = action.removeprefix(ACTION_ACCEPT), True
        elif action.startswith(ACTION_DISMISS):
            suggestion_id, accept = action.removeprefix(ACTION_DISMISS), False
        else:
            return
        if not await _async_may_decide(hass, event.context):
            LOGGER.warning(
                "Ignoring %s from user %s: only administrators may accept or dismiss suggestions",
                action,
                event.context.user_id,
            )
            return
        try:
            if accept:
                await decisions.async_accept(suggestion_id, enabled=True, context=event.context)
            else:
                await decisions.async_dismiss(suggestion_id, days=None, context=event.context)
        except HomeAssistantError as err:
            # Nobody waits for an answer on the phone: say it where the suggestion was.
            LOGGER.error("Could not handle %s from the companion app: %s", action, err)
            persistent_notification.async_create(
                hass,
                # The id comes from the event: shown as text, like the error that names it.
                f"The phone's answer to suggestion {markdown_code(suggestion_id, 100)} could not be "
                f"carried out: {markdown_text(str(err), 500)}",
                title="AI Automation",
                notification_id=PUSH_ERROR_NOTIFICATION_ID,
            )

    return hass.bus.async_listen(EVENT_MOBILE_APP_NOTIFICATION_ACTION, handle)

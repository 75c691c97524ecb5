"""Push: new suggestions reach the chosen notify services; the phone's buttons accept or dismiss."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import Context, HomeAssistant, ServiceCall, callback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_get_persistent_notifications,
)

from custom_components.ai_automation.const import CONF_NOTIFY_SERVICES, DEFAULT_OPTIONS
from custom_components.ai_automation.push import (
    EVENT_MOBILE_APP_NOTIFICATION_ACTION,
    PUSH_ERROR_NOTIFICATION_ID,
    notify_services_schema,
)
from simulator.household import Household

from .conftest import async_run
from .decisions_helpers import (
    async_list,
    async_remove_automations,
    async_setup_automations,
    has_notification,
    kitchen_morning,
    write_config,
)


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """Seed the recorder with the simulated household."""
    return seeded_household


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Push to a phone (given with its domain) and to a plain notify service."""
    # No cap: which suggestions make the default ten depends on the simulated dates, and
    # these tests follow the kitchen routine.
    return {
        **DEFAULT_OPTIONS,
        CONF_NOTIFY_SERVICES: ["notify.mobile_app_test", "family_email"],
        "max_suggestions": 50,
    }


@pytest.fixture
def pushed(hass: HomeAssistant) -> dict[str, list[dict[str, Any]]]:
    """Calls of two real notify services registered by the test.

    There is no companion app (nor a phone) here: the services only record what the
    integration sends, which is all the app would receive.
    """
    calls: dict[str, list[dict[str, Any]]] = {"mobile_app_test": [], "family_email": []}
    for name, received in calls.items():

        @callback
        def record(call: ServiceCall, received: list[dict[str, Any]] = received) -> None:
            received.append(dict(call.data))

        hass.services.async_register("notify", name, record)
    return calls


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Automations accepted here go before hass stops (their time triggers would linger)."""
    yield
    await async_remove_automations(hass)


def _action(event_type: str, suggestion_id: str) -> str:
    return f"AI_AUTOMATION_{event_type}_{suggestion_id}"


async def test_new_suggestions_are_pushed_once_with_buttons(
    hass: HomeAssistant, pushed: dict[str, list[dict[str, Any]]], load_int: MockConfigEntry
) -> None:
    """One message per new suggestion; Accept/Dismiss buttons for the app; nothing again for known ones."""
    response = await async_run(hass)
    suggestions = response["suggestions"]
    assert suggestions

    phone = pushed["mobile_app_test"]
    assert len(phone) == len(suggestions)
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    [message] = [m for m in phone if m["data"]["tag"] == f"ai_automation_{kitchen['id']}"]
    assert message["title"] == "New automation suggestion"
    assert message["message"].startswith(kitchen["title"])
    assert "between" in message["message"]
    assert message["data"]["actions"] == [
        {"action": _action("ACCEPT", kitchen["id"]), "title": "Accept"},
        {"action": _action("DISMISS", kitchen["id"]), "title": "Dismiss"},
    ]
    # Tapping it opens the suggestion in the panel.
    assert (
        message["data"]["url"]
        == message["data"]["clickAction"]
        == f"/ai-automation?suggestion={kitchen['id']}"
    )
    # Other notify services get the text only: buttons are the companion app's.
    assert len(pushed["family_email"]) == len(suggestions)
    assert all("data" not in m for m in pushed["family_email"])

    await async_run(hass)
    assert len(phone) == len(suggestions)


async def test_the_phones_buttons_decide_for_an_admin(
    hass: HomeAssistant,
    pushed: dict[str, list[dict[str, Any]]],
    load_int: MockConfigEntry,
    tmp_path: Path,
    hass_admin_user: MockUser,
) -> None:
    """Accept from the phone creates the automation; Dismiss dismisses (an admin's phone)."""
    write_config(tmp_path, "automation: !include automations.yaml\n", "[]\n")
    await async_setup_automations(hass, tmp_path)
    first, second, *_ = (await async_run(hass))["suggestions"]
    admin = Context(user_id=hass_admin_user.id)

    hass.bus.async_fire(
        EVENT_MOBILE_APP_NOTIFICATION_ACTION, {"action": _action("ACCEPT", first["id"])}, context=admin
    )
    hass.bus.async_fire(
        EVENT_MOBILE_APP_NOTIFICATION_ACTION, {"action": _action("DISMISS", second["id"])}, context=admin
    )
    await hass.async_block_till_done()

    listed = await async_list(hass)
    [accepted] = listed["accepted"]
    assert accepted["id"] == first["id"]
    assert accepted["accepted_by"] == hass_admin_user.id
    assert hass.states.get(accepted["automation_entity_id"]) is not None
    [dismissed] = listed["dismissed"]
    assert dismissed["id"] == second["id"]
    assert dismissed["until"] is None
    assert dismissed["dismissed_by"] == hass_admin_user.id
    assert not has_notification(hass, first["id"])
    assert not has_notification(hass, second["id"])


async def test_the_phones_buttons_are_refused_for_a_non_admin(
    hass: HomeAssistant,
    pushed: dict[str, list[dict[str, Any]]],
    load_int: MockConfigEntry,
    hass_read_only_user: MockUser,
) -> None:
    """A non-admin's Accept or Dismiss changes nothing."""
    first, *_ = (await async_run(hass))["suggestions"]
    user = Context(user_id=hass_read_only_user.id)
    for kind in ("ACCEPT", "DISMISS"):
        hass.bus.async_fire(
            EVENT_MOBILE_APP_NOTIFICATION_ACTION, {"action": _action(kind, first["id"])}, context=user
        )
    await hass.async_block_till_done()

    listed = await async_list(hass)
    assert first["id"] in {r["id"] for r in listed["pending"]}
    assert listed["accepted"] == listed["dismissed"] == []
    assert has_notification(hass, first["id"])


async def test_a_failed_accept_from_the_phone_is_shown(
    hass: HomeAssistant,
    pushed: dict[str, list[dict[str, Any]]],
    load_int: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """Nobody waits on the phone for an answer: the error becomes a persistent notification."""
    first, *_ = (await async_run(hass))["suggestions"]
    # No automation integration here: accepting cannot work.
    hass.bus.async_fire(
        EVENT_MOBILE_APP_NOTIFICATION_ACTION,
        {"action": _action("ACCEPT", first["id"])},
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()

    notification = async_get_persistent_notifications(hass)[PUSH_ERROR_NOTIFICATION_ID]
    assert first["id"] in notification["message"]
    assert "automation integration is not set up" in notification["message"]
    assert first["id"] in {r["id"] for r in (await async_list(hass))["pending"]}


async def test_other_actions_are_not_ours(
    hass: HomeAssistant, pushed: dict[str, list[dict[str, Any]]], load_int: MockConfigEntry
) -> None:
    """Another integration's button (or a suggestion that does not exist) is left alone."""
    await async_run(hass)
    before = await async_list(hass)
    for action in ("OPEN_GARAGE", "AI_AUTOMATION_ACCEPT_ai_nope", None):
        hass.bus.async_fire(EVENT_MOBILE_APP_NOTIFICATION_ACTION, {"action": action})
    await hass.async_block_till_done()
    assert await async_list(hass) == before


async def test_the_option_offers_the_notify_services(
    hass: HomeAssistant, pushed: dict[str, list[dict[str, Any]]], recorder_mock: Any
) -> None:
    """The options-form entry lists the registered notify services and keeps the current choice."""
    schema = notify_services_schema(hass, {CONF_NOTIFY_SERVICES: ["mobile_app_test"]})
    [(marker, selector)] = schema.items()
    assert marker.schema == CONF_NOTIFY_SERVICES
    assert marker.default() == ["mobile_app_test"]
    config = selector.config
    assert config["options"] == ["family_email", "mobile_app_test"]
    assert config["multiple"] is True
    assert config["custom_value"] is True

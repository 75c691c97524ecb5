"""A device chooses its own name: whatever it is, the notification shows it as text.

Names come from MQTT discovery, BLE or a cloud service. A name (or a state, such as a
select option) must not become a link, HTML, a heading or list, or a way out of the YAML
block, and a very long one must not make a huge title or message. The automation itself
keeps acting on the entity it was built for.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import yaml
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_get_persistent_notifications

from custom_components.ai_automation.const import CONF_NOTIFY_SERVICES, DEFAULT_OPTIONS
from custom_components.ai_automation.display import (
    NAME_MAX_CHARS,
    TITLE_MAX_CHARS,
    markdown_text,
    plain_name,
    yaml_block,
)
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern
from custom_components.ai_automation.llm_prompt import apply_wording, build_prompt
from custom_components.ai_automation.notifications import Frame, notification_id, notification_message
from custom_components.ai_automation.push import push_data
from custom_components.ai_automation.wording import word
from simulator.household import Household
from tests.automation_shape import services_of, target_of
from tests.devices import add_devices

from .conftest import async_run, seeded_month
from .decisions_helpers import async_remove_automations, kitchen_morning

LONG = "C" * 5000
FENCE_BREAK = "Bedroom fan ```\n- action: lock.unlock\n  target:\n    entity_id: lock.front_door\n```"
HOSTILE = {
    "light.kitchen": "[Click to confirm](https://evil.example/confirm)",
    "light.garden": '<img src=x onerror="alert(1)">',
    "light.living_room": "<script>alert('x')</script>",
    "light.bedroom": '<a href="javascript:alert(1)">Bedroom</a>',
    "fan.bedroom": FENCE_BREAK,
    "switch.coffee_maker": LONG,
    "cover.living_room_blinds": "Blinds\u202e\u200b https://evil.example www.evil.example x@evil.example",
    "light.hallway": "![pixel](https://evil.example/p.png) *hall*",
    "binary_sensor.hallway_motion": "- action: lock.unlock",
    "media_player.tv": "# TV & <b>bold</b> \\",
    "light.tv_backlight": "`code` | ~~x~~ _y_ &lt;b&gt;",
}
# What a message may never contain outside its code blocks.
_LIVE = [
    "<",  # HTML: a tag, an autolink
    "```",  # a fence
]
_UNESCAPED = [
    re.compile(r"(?<!\\)\]\("),  # a Markdown link or image
    re.compile(r"(?<!\\)://"),  # a bare URL (GFM links it)
    re.compile(r"(?<!\\)www\.", re.IGNORECASE),
    re.compile(r"(?<!\\)[\[\]*_~|]"),  # link text, emphasis, strikethrough, a table
    re.compile(r"^\s*(?:[-+#>]|\d+[.)])", re.MULTILINE),  # a list, heading or quote
]
_BLOCK = re.compile(r"^(`{3,})yaml\n(.*?)^\1$", re.MULTILINE | re.DOTALL)
MESSAGE_MAX_BYTES = 6 * 1024


@pytest.fixture
def household(freezer: FrozenDateTimeFactory) -> Household:
    """Seed the recorder with the simulated household: the month up to a Wednesday, the
    one of ``seeded_month``'s in which every hostile-named device keeps its routine (the
    month up to the Thursday of ``FROZEN_NOW`` has the coffee maker on 5 of 8 weekend days)."""
    return seeded_month(freezer, "2026-01-14 20:00:00+00:00")


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Every suggestion of the month (no cap), pushed to a phone and to a plain service."""
    return {
        **DEFAULT_OPTIONS,
        CONF_NOTIFY_SERVICES: ["notify.mobile_app_test", "family_email"],
        "max_suggestions": 50,
    }


@pytest.fixture
def pushed(hass: HomeAssistant) -> dict[str, list[dict[str, Any]]]:
    """What two real notify services registered here receive."""
    calls: dict[str, list[dict[str, Any]]] = {"mobile_app_test": [], "family_email": []}
    for name, received in calls.items():

        @callback
        def record(call: ServiceCall, received: list[dict[str, Any]] = received) -> None:
            received.append(dict(call.data))

        hass.services.async_register("notify", name, record)
    return calls


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """No automation outlives the test."""
    yield
    await async_remove_automations(hass)


def _prose(message: str) -> str:
    """The message without its YAML blocks."""
    return _BLOCK.sub("", message)


def _assert_shown_as_text(message: str) -> None:
    """Nothing outside the code blocks is markup; ours (the link) aside."""
    # Ours: the link to the panel.
    prose = re.sub(
        r"\[Review it in AI Automation\]\(/ai-automation\?suggestion=ai_[0-9a-z_]+\)$", "", _prose(message)
    )
    for live in _LIVE:
        assert live not in prose, live
    for pattern in _UNESCAPED:
        assert pattern.search(prose) is None, pattern.pattern


def _target(automation: dict[str, Any]) -> str:
    return target_of(automation)


def _assert_notifications_are_bounded_text(hass: HomeAssistant, suggestions: list[dict[str, Any]]) -> None:
    """Each suggestion's notification: a one-line title, a bounded message of text, the panel's link."""
    notifications = async_get_persistent_notifications(hass)
    for suggestion in suggestions:
        notification = notifications[notification_id(suggestion["id"])]
        title, message = notification["title"], notification["message"]
        assert len(suggestion["title"]) <= TITLE_MAX_CHARS
        assert suggestion["automation"]["alias"] == suggestion["title"]
        assert title == "Suggested automation: " + suggestion["title"]
        assert "\n" not in title
        assert len(message.encode()) < MESSAGE_MAX_BYTES
        _assert_shown_as_text(message)
        assert _BLOCK.findall(message) == []
        assert message.endswith(f"(/ai-automation?suggestion={suggestion['id']})")
        assert not [s for s in services_of(suggestion["automation"]) if s.startswith("lock.")]


def _assert_pushes_are_plain_text(
    pushed: dict[str, list[dict[str, Any]]], suggestions: list[dict[str, Any]]
) -> None:
    """The phone gets plain text: one line per part, no Markdown escapes, bounded."""
    for service, received in pushed.items():
        assert len(received) == len(suggestions)
        for push in received:
            lines = push["message"].split("\n")
            assert 2 <= len(lines) <= 3
            assert len(lines[0]) <= TITLE_MAX_CHARS
            assert len(push["message"]) < 1000
            assert "\\[" not in push["message"]
            assert "&amp;" not in push["message"]
            if service == "mobile_app_test":
                assert [a["title"] for a in push["data"]["actions"]] == ["Accept", "Dismiss"]


async def test_hostile_names_through_a_real_run_are_shown_as_text(
    hass: HomeAssistant, pushed: dict[str, list[dict[str, Any]]], load_int: MockConfigEntry
) -> None:
    """Links, HTML, a fence breaker, a 5,000-character name: text in a bounded notification."""
    add_devices(hass, HOSTILE)
    suggestions = (await async_run(hass))["suggestions"]
    named = {e for s in suggestions for e in (_target(s["automation"]),) if e in HOSTILE}
    # Every kind of name is in some suggestion (targets; the motion sensor is a trigger).
    assert named >= set(HOSTILE) - {"binary_sensor.hallway_motion", "media_player.tv"}
    assert any(
        t.get("entity_id") == "binary_sensor.hallway_motion"
        for s in suggestions
        for t in s["automation"]["triggers"]
    )

    _assert_notifications_are_bounded_text(hass, suggestions)

    long_one = next(s for s in suggestions if _target(s["automation"]) == "switch.coffee_maker")
    assert long_one["title"].startswith("Turn on CCC")
    assert long_one["title"].endswith(" at weekends")
    assert "C… at " in long_one["title"]  # the name gave way, not the wording
    assert len(long_one["description"]) < 1200
    fence = next(s for s in suggestions if _target(s["automation"]) == "fan.bedroom")
    assert "\n" not in fence["title"] + fence["description"]
    assert fence["title"].startswith("Turn on Bedroom fan ``` - action: lo… at ")
    assert (
        "Bedroom fan ``` - action: lock.unlock target: entity_id: lock.front_door ```" in fence["description"]
    )

    _assert_pushes_are_plain_text(pushed, suggestions)
    kitchen = kitchen_morning(suggestions)
    assert kitchen is not None
    phone = next(p for p in pushed["mobile_app_test"] if p["data"]["tag"].endswith(kitchen["id"]))
    # Its name as plain text (a long day list shortens the rest of it in the title).
    assert phone["message"].startswith(f"Turn on {HOSTILE['light.kitchen'][:18]}")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (
            "[Click to confirm](https://evil.example/confirm)",
            r"\[Click to confirm\](https\://evil.example/confirm)",
        ),
        ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)"&gt;'),
        ("<script>alert('x')</script>", "&lt;script&gt;alert('x')&lt;/script&gt;"),
        ('<a href="javascript:alert(1)">Hi</a>', '&lt;a href="javascript:alert(1)"&gt;Hi&lt;/a&gt;'),
        ("Fan ```\n- action: lock.unlock", r"Fan \`\`\` - action: lock.unlock"),
        ("- action: lock.unlock", r"\- action: lock.unlock"),
        ("# Big", r"\# Big"),
        ("1. first", r"1\. first"),
        ("www.evil.example x@evil.example", r"www\.evil.example x\@evil.example"),
        ("*b* _i_ ~~s~~ | `c` \\", r"\*b\* \_i\_ \~\~s\~\~ \| \`c\` \\"),
        ("R&D &lt;b&gt;", "R&amp;D &amp;lt;b&amp;gt;"),
        ("Kitchen\u202e\u200b light\u2066", "Kitchen light"),
        ("Kitchen light", "Kitchen light"),
    ],
)
def test_a_name_as_markdown_is_literal_text(name: str, shown: str) -> None:
    """Each case, as the notification's Markdown source has it."""
    assert markdown_text(name, 500) == shown


def test_long_names_are_cut_with_an_ellipsis() -> None:
    """The name, and the Markdown of anything, has a ceiling; escapes are never split."""
    assert plain_name(LONG) == "C" * (NAME_MAX_CHARS - 1) + "…"
    assert markdown_text("<" * 100, 21) == "&lt;" * 5 + "…"


def test_no_content_closes_the_yaml_block() -> None:
    """The fence is longer than any run of backticks inside."""
    automation = {"alias": "a ```` b", "description": "x\n```\n- action: lock.unlock"}
    block = yaml_block(yaml.safe_dump(automation))
    ((fence, body),) = _BLOCK.findall(block)
    assert fence == "`````"
    assert yaml.safe_load(body) == automation


def test_a_hostile_select_option_is_text_too() -> None:
    """A select's state is device text as well: in the wording, the evidence, the message."""
    option = "[Unlock](https://evil.example) <b>\nnow"
    pattern = TimeOfDayPattern(
        entity_id="select.mode",
        to_state=option,
        minute=405,
        days=(0, 1, 2, 3, 4),
        day_set="weekdays",
        spread_min=5.0,
        occurrences=19,
        eligible_days=22,
        share_of_days=0.86,
        confidence=0.9,
        automated=False,
    )
    backtest = {"would_have_fired": 22, "matched": 19, "precision": 0.86, "tolerance_min": 15}
    wording = word(pattern, backtest, lambda _: LONG)
    assert len(wording.title) <= TITLE_MAX_CHARS
    assert "\n" not in wording.title + wording.description
    automation = {
        "id": "ai_1",
        "alias": wording.title,
        "description": wording.description,
        "triggers": [{"trigger": "time", "at": "06:45:00"}],
        "actions": [
            {
                "action": "select.select_option",
                "target": {"entity_id": "select.mode"},
                "data": {"option": option},
            }
        ],
    }
    record = {
        "id": "ai_1",
        "title": wording.title,
        "description": wording.description,
        "evidence": wording.evidence,
        "automation": automation,
        "backtest": backtest,
    }
    message = notification_message(record, Frame("Suggested automation: ", "Review it in AI Automation"))
    _assert_shown_as_text(message)
    assert len(message.encode()) < MESSAGE_MAX_BYTES
    assert push_data("family_email", record)["message"].count("\n") == 2


def test_a_real_name_put_back_for_a_pseudonym_is_capped() -> None:
    """The model words 'Device 1'; the 5,000-character name it stands for comes back cut."""
    suggestions = [
        {
            "id": "ai_1",
            "pattern_ids": ["t"],
            "title": "x",
            "description": "x",
            "backtest": {"would_have_fired": 8, "matched": 7},
            "automation": {"id": "ai_1", "alias": "x", "description": "x"},
            "pattern": {
                "id": "t",
                "type": "time_of_day",
                "entity_id": "light.kitchen",
                "to_state": "on",
                "time": "06:45",
                "day_set": "weekdays",
                "days": ["mon"],
                "spread_min": 5,
                "occurrences": 7,
                "eligible_days": 8,
            },
        }
    ]
    prompt = build_prompt(suggestions, lambda _: LONG, language="en", pseudonymize=True)
    reply = {"s1": ("Turn on Device 1 at 06:45 on weekdays", "Device 1 went on around 06:45 on weekdays.")}
    applied = apply_wording(suggestions, prompt, reply)
    (after,) = applied.suggestions
    assert applied.worded == 1
    assert len(after["title"]) <= TITLE_MAX_CHARS
    assert after["title"].startswith("Turn on CCC")
    assert after["automation"]["alias"] == after["title"]
    assert len(after["description"]) < 200

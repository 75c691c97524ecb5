"""The prompt and the checks on what comes back, without a server or Home Assistant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.ai_automation.llm_prompt import (
    DESCRIPTION_MAX_CHARS,
    TITLE_MAX_CHARS,
    apply_wording,
    build_prompt,
    parse_reply,
    rejection,
    unmask,
)

NAMES = {"light.kitchen": "Kitchen light", "switch.hall": "Hall switch"}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass needed."""


def _pattern(pid: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "time_of_day",
        "entity_id": "light.kitchen",
        "to_state": "on",
        "time": "23:55",
        "days": ["mon", "wed"],
        "day_set": "custom",
        "spread_min": 10.4,
        "occurrences": 7,
        "eligible_days": 8,
        "sun_event": None,
        "sun_offset_min": None,
        **extra,
    }


def _suggestion(sid: str, pattern: dict[str, Any] | None) -> dict[str, Any]:
    suggestion: dict[str, Any] = {
        "id": sid,
        "pattern_ids": [pattern["id"]] if pattern else [],
        "title": "built-in title",
        "description": "built-in description",
        "backtest": {"would_have_fired": 8, "matched": 7, "precision": 0.875},
    }
    if pattern is not None:
        suggestion["pattern"] = pattern
    return suggestion


def test_summary_of_a_time_of_day_routine_wraps_midnight_and_lists_custom_days() -> None:
    """Custom day sets go as a list; the usual range crosses midnight; no automation, no ids."""
    prompt = build_prompt(
        [_suggestion("ai_1", _pattern("tod_1"))], NAMES.get, language="en", pseudonymize=False
    )
    (item,) = json.loads(prompt.user)["suggestions"]
    assert item == {
        "id": "s1",
        "device": "Kitchen light",
        "to_state": "on",
        "kind": "time_of_day",
        "time": "23:55",
        "usual_range": "23:45-00:05",
        "days": ["mon", "wed"],
        "occurrences": 7,
        "out_of": 8,
        "backtest": {"would_have_fired": 8, "matched": 7},
    }
    assert prompt.ids == {"s1": 0}
    assert prompt.names == {"s1": ("Kitchen light",)}
    assert "light.kitchen" not in prompt.system + prompt.user


@pytest.mark.parametrize(
    ("presence", "who", "pseudonymize"),
    [("anyone", "someone", False), ("person.sam", "Sam", False), ("person.sam", "Device 2", True)],
)
def test_a_routine_that_needs_someone_home_says_who(presence: str, who: str, pseudonymize: bool) -> None:
    """A person's name goes as any device name does (a pseudonym with the option)."""
    names = {**NAMES, "person.sam": "Sam"}
    prompt = build_prompt(
        [_suggestion("ai_1", _pattern("tod_1", presence=presence))],
        names.get,
        language="en",
        pseudonymize=pseudonymize,
    )
    (item,) = json.loads(prompt.user)["suggestions"]
    assert item["only_when_home"] == who
    assert "person.sam" not in prompt.user


def test_routines_done_together_go_as_one_with_the_other_parts() -> None:
    """Bedtime: when it runs (the group's start), the first part as the device, the others
    with their usual times; every part's name is checked like the device's."""
    parts = [
        _pattern("tod_1", entity_id="light.kitchen", to_state="off", time="22:41"),
        _pattern("tod_2", entity_id="switch.hall", to_state="off", time="22:42"),
    ]
    group = _pattern("grp_1", to_state="off", time="22:40", parts=parts)
    prompt = build_prompt([_suggestion("ai_1", group)], NAMES.get, language="en", pseudonymize=True)
    (item,) = json.loads(prompt.user)["suggestions"]
    assert item["device"] == "Device 1" and item["time"] == "22:40"
    assert item["also"] == [{"device": "Device 2", "to_state": "off", "usual_time": "22:42"}]
    assert prompt.names == {"s1": ("Device 1", "Device 2")}
    assert "switch.hall" not in prompt.user and "Hall switch" not in prompt.user


def test_a_scene_goes_with_its_levels_under_the_devices_names() -> None:
    """Waking up: the lamp at 30 % (brightness 77) goes as the device's level, never its id."""
    parts = [
        _pattern("tod_1", to_state="on", time="06:50"),
        _pattern("tod_2", entity_id="switch.hall", time="06:51"),
    ]
    scene = {"light.kitchen": {"state": "on", "brightness": 77}, "switch.hall": {"state": "on"}}
    group = _pattern("grp_1", time="06:50", parts=parts, scene=scene)
    prompt = build_prompt([_suggestion("ai_1", group)], NAMES.get, language="en", pseudonymize=False)
    (item,) = json.loads(prompt.user)["suggestions"]
    assert item["set_as_scene"] == {"Kitchen light": {"brightness": 77}}
    assert "light.kitchen" not in prompt.user


def test_suggestions_without_a_known_pattern_are_not_sent() -> None:
    """No pattern (a stored record), or one of a kind we do not know: that suggestion keeps
    its text and is not sent."""
    suggestions = [
        _suggestion("a", None),
        _suggestion("b", _pattern("odd", type="something_new")),
        _suggestion("c", _pattern("t")),
    ]
    prompt = build_prompt(suggestions, NAMES.get, language="en", pseudonymize=False)
    assert prompt.ids == {"s3": 2}
    applied = apply_wording(suggestions, prompt, {"s3": ("Turn on Kitchen light", "Kitchen light goes on.")})
    assert applied.worded == 1
    assert applied.suggestions[:2] == suggestions[:2]
    assert "automation" not in applied.suggestions[2]


def test_an_entity_without_a_name_gets_a_pseudonym_even_without_the_option() -> None:
    """Its id is never sent; the text shows what the built-in writer shows (the id)."""
    prompt = build_prompt(
        [_suggestion("ai_1", _pattern("tod_1", entity_id="light.unnamed"))],
        NAMES.get,
        language="en",
        pseudonymize=False,
    )
    assert "light.unnamed" not in prompt.user
    assert prompt.pseudonyms == {"Device 1": "light.unnamed"}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (None, None),
        ("", None),
        ("{oops}", None),
        ('{"suggestions": {"id": "s1"}}', None),
        ("}{", None),
        (
            '```json\n{"suggestions": [{"id": "s1", "title": "T", "description": "D"}]}\n```',
            {"s1": ("T", "D")},
        ),
        ('```\n{"suggestions": [{"id": "s1", "title": "T"}]}```', {"s1": ("T", None)}),
        (
            '{"suggestions": [{"id": "s1", "title": "A", "description": "B"}, '
            '{"id": "s1", "title": "C", "description": "D"}, {"id": 2}, 3]}',
            {"s1": ("A", "B")},
        ),
    ],
    ids=["none", "empty", "not_json", "not_a_list", "reversed_braces", "fence", "bare_fence", "duplicates"],
)
def test_parse_reply(text: str | None, parsed: dict[str, tuple[Any, Any]] | None) -> None:
    """Tolerant of fences; the first answer per id counts; anything else is None."""
    assert parse_reply(text) == parsed


NAMES_SENT = ("Kitchen light",)


@pytest.mark.parametrize(
    ("title", "description", "reason"),
    [
        ("Turn on Kitchen light at 06:45", "It happened on 9 of 10 days, e.g. on Mondays.", None),
        ("Turn on Kitchen light at 6.45 a.m.", "Matched 9 of 10 days (0.9 precision).", None),
        (None, "text", "not text"),
        ("Kitchen light", 3, "not text"),
        ("  ", "Kitchen light", "empty"),
        ("Kitchen light " + "x" * TITLE_MAX_CHARS, "d", "too long"),
        ("Kitchen light", "d" * (DESCRIPTION_MAX_CHARS + 1), "too long"),
        ("Kitchen light\non", "d", "title spans lines"),
        ("Turn on the lamp", "Every morning.", "does not name the device"),
        ("Kitchen light on", "Uses light.turn_on.", "contains an entity id or service"),
        ("Kitchen light on", "Also Switch.Garage.", "contains an entity id or service"),
        ("Kitchen light on", "See http://10.0.0.1/setup", "contains code, markup or a link"),
        ("Kitchen light on", "![x](//evil/?q=1)", "contains code, markup or a link"),
        ("Kitchen light on", "Run `this`", "contains code, markup or a link"),
        ("Kitchen light on", "Here is the YAML for it", "contains code, markup or a link"),
        ("Kitchen light on", "<b>bold</b>", "contains code, markup or a link"),
    ],
)
def test_rejection_rules(title: Any, description: Any, reason: str | None) -> None:
    """Plain text about the device passes; ids, services, code, markup and links do not."""
    assert rejection(title, description, NAMES_SENT, list(NAMES_SENT)) == reason


def test_names_are_ours_and_never_trip_the_checks() -> None:
    """A name with a dot or the word YAML in it is not held against the wording."""
    names = ("Hue v2.1 lamp", "YAML printer")
    assert rejection("Turn on hue V2.1 lamp", "After YAML printer goes on.", names, list(names)) is None


def test_pseudonyms_map_back_exactly() -> None:
    """'Device 1' and 'Device 12' are different devices; unknown ones stay as written."""
    pseudonyms = {"Device 1": "Kitchen light", "Device 12": "Hall switch"}
    assert unmask("Device 12 then Device 1, not Device 3", pseudonyms) == (
        "Hall switch then Kitchen light, not Device 3"
    )
    assert unmask("Device 1", {}) == "Device 1"
    sent = ["Device 1", "Device 2"]
    assert (
        rejection("Device 1 on", "After Device 12.", ("Device 1",), sent) == "names a device it was not given"
    )

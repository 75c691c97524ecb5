"""The suggestion's notification: description, evidence, backtest, YAML, and how to accept or dismiss."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_get_persistent_notifications

from custom_components.ai_automation.const import DEFAULT_OPTIONS
from custom_components.ai_automation.engine.co_occurrence import CoOccurrencePattern
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern
from custom_components.ai_automation.notifications import (
    Frame,
    notification_id,
    notification_message,
    notification_title,
)
from custom_components.ai_automation.wording import word
from simulator.household import Household

from .conftest import async_run
from .decisions_helpers import kitchen_morning

NAMES = {
    "light.kitchen": "Kitchen light",
    "light.garden": "Garden light",
    "light.hallway": "Hallway light",
    "binary_sensor.hallway_motion": "Hallway motion",
}
BACKTEST = {"would_have_fired": 22, "matched": 19, "precision": 0.864, "tolerance_min": 15}


def _routine(**extra: Any) -> TimeOfDayPattern:
    fields: dict[str, Any] = {
        "entity_id": "light.kitchen",
        "to_state": "on",
        "minute": 6 * 60 + 45,
        "days": (0, 1, 2, 3, 4),
        "day_set": "weekdays",
        "spread_min": 7.2,
        "occurrences": 19,
        "eligible_days": 22,
        "share_of_days": 0.864,
        "confidence": 0.8,
        "automated": False,
    } | extra
    return TimeOfDayPattern(**fields)


FOLLOWS_MOTION = CoOccurrencePattern(
    trigger_entity_id="binary_sensor.hallway_motion",
    trigger_to_state="on",
    entity_id="light.hallway",
    to_state="on",
    lag_s=2.4,
    lag_p90_s=5.6,
    occurrences=40,
    trigger_count=45,
    follower_count=42,
    confidence=0.889,
    coverage=0.95,
    lift=30.0,
    automated=False,
)


def _evidence(pattern: TimeOfDayPattern | CoOccurrencePattern) -> str:
    return word(pattern, BACKTEST, NAMES.get).evidence


@pytest.mark.parametrize(
    ("pattern", "sentence"),
    [
        (
            _routine(),
            "On 19 of the last 22 weekdays, Kitchen light went on between 06:38 and 06:52 (typically 06:45).",
        ),
        (
            _routine(minute=23 * 60 + 55, day_set="custom", days=(0, 2, 4)),
            "On 19 of the last 22 Mondays, Wednesdays and Fridays, Kitchen light went on between 23:48 and "
            "00:02 (typically 23:55).",
        ),
        (
            _routine(spread_min=0.2),
            "On 19 of the last 22 weekdays, Kitchen light went on at 06:45.",
        ),
        (
            _routine(
                entity_id="light.garden",
                days=(0, 1, 2, 3, 4, 5, 6),
                day_set="daily",
                sun_event="sunset",
                sun_offset_min=15,
                spread_min=4,
            ),
            "On 19 of the last 22 days, Garden light went on 15 minutes after sunset, "
            "give or take 4 minutes.",
        ),
        (
            FOLLOWS_MOTION,
            "Hallway light went on after Hallway motion went on 40 of 45 times, within 6 s (typically 2 s).",
        ),
    ],
)
def test_evidence(pattern: TimeOfDayPattern | CoOccurrencePattern, sentence: str) -> None:
    """The numbers behind a suggestion, with the usual window for a time of day."""
    assert _evidence(pattern) == sentence


def test_message_is_one_sentence_and_a_link_to_the_panel() -> None:
    """The evidence and where to decide: the YAML and the buttons are in the panel."""
    suggestion = {
        "id": "ai_0123456789abcdef",
        "title": "Turn on Kitchen light at 06:45 on weekdays",
        "description": "Kitchen light went on around 06:45 on weekdays.",
        "evidence": _evidence(_routine()),
        "automation": {"id": "ai_0123456789abcdef", "alias": "Turn on Kitchen light", "triggers": []},
        "backtest": BACKTEST,
    }
    words = Frame(title_prefix="Suggested automation: ", review="Review it in AI Automation")

    message = notification_message(suggestion, words)

    evidence, link = message.split("\n\n")
    assert evidence.startswith("On 19 of the last 22 weekdays")
    assert link == "[Review it in AI Automation](/ai-automation?suggestion=ai_0123456789abcdef)"
    assert "```" not in message
    assert (
        notification_title(suggestion, words)
        == "Suggested automation: Turn on Kitchen light at 06:45 on weekdays"
    )


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """Seed the recorder with the simulated household."""
    return seeded_household


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """No cap: the demo household has more suggestions than the default ten, and which
    ones make the cut depends on the simulated dates; these tests follow particular ones."""
    return {**DEFAULT_OPTIONS, "max_suggestions": 50}


async def test_a_runs_notification(hass: HomeAssistant, load_int: MockConfigEntry) -> None:
    """After a real run the kitchen routine's notification carries its evidence window."""
    kitchen = kitchen_morning((await async_run(hass))["suggestions"])
    assert kitchen is not None
    notification = async_get_persistent_notifications(hass)[notification_id(kitchen["id"])]
    assert notification["title"] == f"Suggested automation: {kitchen['title']}"
    # Its days are the simulated month's (weekdays, or the ones it was not missed on).
    assert kitchen["evidence"] in notification["message"]
    assert kitchen["evidence"].startswith("On ")
    assert f"(/ai-automation?suggestion={kitchen['id']})" in notification["message"]

"""Insights on the home's own automations: duplicates and contradictions, and no false alarms."""

from __future__ import annotations

import pytest

from custom_components.ai_automation.engine.insights import (
    KIND_CONTRADICTION,
    KIND_DUPLICATE,
    Behaviour,
    Subject,
    find_insights,
    opposite,
    same_moment,
)

WEEKDAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})
WEEKEND = frozenset({"sat", "sun"})


def _at(service: str, target: str, minute: int | None, days: frozenset[str] | None = None) -> Behaviour:
    return Behaviour(service, target, "time", minute=minute, days=days)


def _sun(service: str, target: str, event: str = "sunset", offset_min: int | None = 0) -> Behaviour:
    return Behaviour(service, target, f"sun:{event}", offset_min=offset_min)


def _state(service: str, target: str, entity: str, *to: str, hold_s: int | None = 0) -> Behaviour:
    return Behaviour(
        service, target, f"state:{entity}", to_states=frozenset(to) if to else None, hold_s=hold_s
    )


def _automation(key: str, *behaviours: Behaviour) -> Subject:
    return Subject(key, False, behaviours)


def _suggestion(key: str, *behaviours: Behaviour) -> Subject:
    return Subject(key, True, behaviours)


def _found(*subjects: Subject) -> list[tuple[str, str, tuple[str, ...]]]:
    automations = [s for s in subjects if not s.suggestion]
    suggestions = [s for s in subjects if s.suggestion]
    return [
        (i.kind, i.target, tuple(side.key for side in i.sides))
        for i in find_insights(automations, suggestions)
    ]


def test_two_automations_turning_the_porch_on_at_sunset_are_a_duplicate() -> None:
    found = _found(
        _automation("automation.porch", _sun("light.turn_on", "light.porch")),
        _automation("automation.porch_too", _sun("light.turn_on", "light.porch", offset_min=5)),
    )
    assert found == [(KIND_DUPLICATE, "light.porch", ("automation.porch", "automation.porch_too"))]


def test_three_automations_doing_one_thing_are_one_duplicate() -> None:
    """Linked through each other (18:00 ~ 18:08 ~ 18:16), not three pairs; an off stays apart."""
    found = _found(
        _automation("automation.a", _at("light.turn_on", "light.porch", 1080)),
        _automation("automation.off", _at("light.turn_off", "light.porch", 1083)),
        _automation("automation.b", _at("light.turn_on", "light.porch", 1088)),
        _automation("automation.c", _at("light.turn_on", "light.porch", 1096)),
    )
    assert found == [
        (KIND_CONTRADICTION, "light.porch", ("automation.a", "automation.off")),
        (KIND_DUPLICATE, "light.porch", ("automation.a", "automation.b", "automation.c")),
        (KIND_CONTRADICTION, "light.porch", ("automation.off", "automation.b")),
    ]


def test_on_at_2230_and_off_at_2231_contradict() -> None:
    found = _found(
        _automation("automation.lounge_on", _at("light.turn_on", "light.lounge", 22 * 60 + 30)),
        _automation("automation.lounge_off", _at("light.turn_off", "light.lounge", 22 * 60 + 31)),
    )
    assert found == [(KIND_CONTRADICTION, "light.lounge", ("automation.lounge_on", "automation.lounge_off"))]


def test_on_at_2200_and_off_at_2245_is_an_evening_not_a_contradiction() -> None:
    assert not _found(
        _automation("automation.on", _at("light.turn_on", "light.lounge", 22 * 60)),
        _automation("automation.off", _at("light.turn_off", "light.lounge", 22 * 60 + 45)),
    )


def test_around_midnight_is_about_the_same_moment() -> None:
    found = _found(
        _automation("automation.a", _at("switch.turn_on", "switch.pump", 1435)),
        _automation("automation.b", _at("switch.turn_off", "switch.pump", 3)),
    )
    assert [kind for kind, _, _ in found] == [KIND_CONTRADICTION]


def test_on_weekdays_and_off_at_weekends_do_not_meet() -> None:
    assert not _found(
        _automation("automation.a", _at("light.turn_on", "light.hall", 420, WEEKDAYS)),
        _automation("automation.b", _at("light.turn_off", "light.hall", 420, WEEKEND)),
    )
    # Every day meets weekdays.
    assert _found(
        _automation("automation.a", _at("light.turn_on", "light.hall", 420, WEEKDAYS)),
        _automation("automation.b", _at("light.turn_off", "light.hall", 420)),
    )


def test_sunset_on_and_off_three_hours_later_is_no_contradiction() -> None:
    assert not _found(
        _automation("automation.a", _sun("light.turn_on", "light.porch")),
        _automation("automation.b", _sun("light.turn_off", "light.porch", offset_min=180)),
    )
    # Sunrise is another moment than sunset.
    assert not _found(
        _automation("automation.a", _sun("light.turn_on", "light.porch", "sunset")),
        _automation("automation.b", _sun("light.turn_off", "light.porch", "sunrise")),
    )


def test_motion_on_turns_on_and_motion_off_turns_off_is_a_pair_not_a_contradiction() -> None:
    motion = "binary_sensor.hall_motion"
    assert not _found(
        _automation("automation.on", _state("light.turn_on", "light.hall", motion, "on")),
        _automation("automation.off", _state("light.turn_off", "light.hall", motion, "off")),
    )
    found = _found(
        _automation("automation.on", _state("light.turn_on", "light.hall", motion, "on")),
        _automation("automation.off", _state("light.turn_off", "light.hall", motion, "on", "unavailable")),
    )
    assert found == [(KIND_CONTRADICTION, "light.hall", ("automation.on", "automation.off"))]


def test_off_after_a_quarter_hour_of_no_motion_is_another_moment_than_at_once() -> None:
    motion = "binary_sensor.hall_motion"
    assert not _found(
        _automation("automation.night", _state("light.turn_on", "light.hall", motion, "off")),
        _automation("automation.off", _state("light.turn_off", "light.hall", motion, "off", hold_s=900)),
    )
    found = _found(
        _automation("automation.a", _state("light.turn_off", "light.hall", motion, "off", hold_s=900)),
        _automation("automation.b", _state("light.turn_off", "light.hall", motion, "off", hold_s=300)),
    )
    assert found == [(KIND_DUPLICATE, "light.hall", ("automation.a", "automation.b"))]


def test_an_unknown_moment_is_never_said_to_clash() -> None:
    """A helper's time, a state trigger on any change, a numeric threshold: could be any moment."""
    assert not _found(
        _automation("automation.a", _at("light.turn_on", "light.x", None)),
        _automation("automation.b", _at("light.turn_off", "light.x", 600)),
    )
    assert not _found(
        _automation("automation.a", _state("light.turn_on", "light.x", "sensor.door")),
        _automation("automation.b", _state("light.turn_off", "light.x", "sensor.door")),
    )
    assert not _found(
        _automation("automation.a", Behaviour("fan.turn_on", "fan.x", "numeric_state:sensor.t")),
        _automation("automation.b", Behaviour("fan.turn_off", "fan.x", "numeric_state:sensor.t")),
    )
    assert not _found(
        _automation("automation.a", _sun("light.turn_on", "light.x", offset_min=None)),
        _automation("automation.b", _sun("light.turn_off", "light.x")),
    )
    assert not _found(
        _automation("automation.a", _state("light.turn_on", "light.x", "sensor.door", "open", hold_s=None)),
        _automation("automation.b", _state("light.turn_off", "light.x", "sensor.door", "open")),
    )


def test_an_automation_that_does_both_itself_contradicts_no_one() -> None:
    """On, a delay, off (or a choose): doing both is its design, another's half is no clash."""
    blink = _automation(
        "automation.blink",
        _at("light.turn_on", "light.porch", 1200),
        _at("light.turn_off", "light.porch", 1200),
    )
    found = _found(blink, _automation("automation.on", _at("light.turn_on", "light.porch", 1200)))
    assert found == [(KIND_DUPLICATE, "light.porch", ("automation.blink", "automation.on"))]


def test_a_pending_suggestion_is_compared_with_automations_not_with_other_suggestions() -> None:
    found = _found(
        _automation("automation.kitchen_off", _at("light.turn_off", "light.kitchen", 407, WEEKDAYS)),
        _suggestion("ai_1", _at("light.turn_on", "light.kitchen", 405, WEEKDAYS)),
        _suggestion("ai_2", _at("light.turn_on", "light.kitchen", 406)),
    )
    assert found == [
        (KIND_CONTRADICTION, "light.kitchen", ("automation.kitchen_off", "ai_1")),
        (KIND_CONTRADICTION, "light.kitchen", ("automation.kitchen_off", "ai_2")),
    ]


def test_each_target_is_its_own_insight_and_other_services_say_nothing() -> None:
    found = _found(
        _automation(
            "automation.a",
            _sun("light.turn_on", "light.porch"),
            _sun("light.turn_on", "light.garden"),
        ),
        _automation(
            "automation.b",
            _sun("light.turn_on", "light.porch"),
            _sun("light.turn_off", "light.garden"),
            _sun("light.toggle", "light.shed"),
        ),
        _automation("automation.c", _sun("light.toggle", "light.shed", offset_min=60)),
    )
    assert found == [
        (KIND_CONTRADICTION, "light.garden", ("automation.a", "automation.b")),
        (KIND_DUPLICATE, "light.porch", ("automation.a", "automation.b")),
    ]


@pytest.mark.parametrize(
    ("a", "b", "undo"),
    [
        ("light.turn_on", "light.turn_off", True),
        ("cover.open_cover", "cover.close_cover", True),
        ("lock.lock", "lock.unlock", True),
        ("media_player.media_play", "media_player.media_stop", True),
        ("light.turn_on", "switch.turn_off", False),  # not the same domain
        ("light.turn_on", "light.toggle", False),
        ("media_player.media_pause", "media_player.media_stop", False),
    ],
)
def test_opposite_services(a: str, b: str, undo: bool) -> None:
    assert opposite(a, b) is undo
    assert opposite(b, a) is undo


def test_same_moment_needs_the_same_trigger() -> None:
    assert not same_moment(_sun("light.turn_on", "light.x"), _at("light.turn_on", "light.x", 1100))
    assert not same_moment(
        _state("light.turn_on", "light.x", "binary_sensor.a", "on"),
        _state("light.turn_on", "light.x", "binary_sensor.b", "on"),
    )


PEOPLE = frozenset({"person.alex", "person.sam"})


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        # Someone home / nobody home: never both.
        (frozenset({(PEOPLE, "home", True)}), frozenset({(PEOPLE, "home", False)}), False),
        # Guest mode on / guest mode off (one entity, two states).
        (
            frozenset({(frozenset({"input_boolean.guests"}), "on", True)}),
            frozenset({(frozenset({"input_boolean.guests"}), "off", True)}),
            False,
        ),
        # Someone home / guest mode on: both can hold.
        (
            frozenset({(PEOPLE, "home", True)}),
            frozenset({(frozenset({"input_boolean.guests"}), "on", True)}),
            True,
        ),
        (frozenset(), frozenset(), True),
    ],
)
def test_conditions_that_cannot_both_hold_are_no_contradiction(
    first: frozenset[tuple[frozenset[str], str, bool]],
    second: frozenset[tuple[frozenset[str], str, bool]],
    clash: bool,
) -> None:
    """The porch light on at sunset when someone is home, off at sunset when nobody is."""
    on = Behaviour("light.turn_on", "light.porch", "sun:sunset", offset_min=0, requires=first)
    off = Behaviour("light.turn_off", "light.porch", "sun:sunset", offset_min=0, requires=second)

    found = _found(_automation("automation.home", on), _automation("automation.away", off))

    assert bool(found) is clash

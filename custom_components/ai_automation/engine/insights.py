"""Insights on the home's own automations: which duplicate or contradict each other.

Read-only: the shell hands over what each automation (and each pending suggestion) does,
one ``Behaviour`` per (action, target, trigger), and gets back which pairs do the same
thing to one target at about the same moment (a *duplicate*: one of them is enough) and
which do opposite things to it then (a *contradiction*: one undoes the other).

Only triggers whose moment is understood are compared: a clock time, a sun event with its
offset, a state trigger with the states it fires on and how long they must last first.
Anything else (a numeric threshold, an event, a template, a helper's time) could fire at
any moment and is never said to clash, for a false alarm about the user's own
automations costs more trust than a missed one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

KIND_DUPLICATE = "duplicate"
KIND_CONTRADICTION = "contradiction"

# "About the same moment": an on and an off closer than this leave the target on for less
# time than anyone would want it on, and two ons this close are one routine written twice.
# Tighter than dedupe's 60 minutes: on at 22:00 and off at 22:45 is a normal evening.
SAME_MOMENT_MIN = 10
_MINUTES_PER_DAY = 1440
# Services that undo each other, by the part after the domain ("light.turn_on").
_OPPOSITES = frozenset(
    {
        frozenset({"turn_on", "turn_off"}),
        frozenset({"open_cover", "close_cover"}),
        frozenset({"open_valve", "close_valve"}),
        frozenset({"lock", "unlock"}),
        frozenset({"media_play", "media_pause"}),
        frozenset({"media_play", "media_stop"}),
    }
)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One thing an automation does: an action on a target, caused by one trigger.

    ``trigger`` is dedupe's trigger kind: ``time``, ``sun:sunset``, ``state:<entity id>``
    (anything else is never compared).
    """

    service: str  # "light.turn_on"
    target: str  # "light.lounge"
    trigger: str
    minute: int | None = None  # time: local minute of day (None: unknown, e.g. a helper)
    days: frozenset[str] | None = None  # time: weekdays it is limited to (None: every day)
    offset_min: int | None = None  # sun: minutes after the event (None: unknown)
    to_states: frozenset[str] | None = None  # state: what it fires on (None: not one known state)
    hold_s: int | None = 0  # state: seconds the state must last first (``for``; None: unknown)
    # What its conditions require: (entities, state, wanted), one of the entities in the
    # state (not wanted: none of them). Two that cannot both hold never clash.
    requires: frozenset[tuple[frozenset[str], str, bool]] = frozenset()


@dataclass(frozen=True, slots=True)
class Subject:
    """An automation of the home, or a pending suggestion, and all it does."""

    key: str  # the automation's entity id, or the suggestion's id
    suggestion: bool
    behaviours: tuple[Behaviour, ...]


@dataclass(frozen=True, slots=True)
class Side:
    """One party of an insight: who, and the behaviour that clashes."""

    key: str
    suggestion: bool
    behaviour: Behaviour


@dataclass(frozen=True, slots=True)
class Insight:
    """Parties that duplicate or contradict each other on one target.

    ``sides``: two, or for a duplicate every automation doing that same thing; automations
    in the order given, a suggestion always last.
    """

    kind: str  # KIND_DUPLICATE | KIND_CONTRADICTION
    target: str
    sides: tuple[Side, ...]


def _apart_min(a: int, b: int) -> int:
    """Minutes between two minutes of day, the short way round midnight."""
    apart = abs(a - b) % _MINUTES_PER_DAY
    return min(apart, _MINUTES_PER_DAY - apart)


def _days_overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is None or b is None or bool(a & b)


def exclusive(a: Behaviour, b: Behaviour) -> bool:
    """Whether their conditions cannot both hold: someone home / nobody home, a single
    entity in two different states."""
    for entities, state, wanted in a.requires:
        for other_entities, other_state, other_wanted in b.requires:
            if entities == other_entities and state == other_state and wanted != other_wanted:
                return True
            single = len(entities) == 1 and entities == other_entities
            if single and wanted and other_wanted and state != other_state:
                return True
    return False


def same_moment(a: Behaviour, b: Behaviour) -> bool:
    """Whether both fire at about the same moment (and it is known when they fire), and
    their conditions can both hold then."""
    if a.trigger != b.trigger or exclusive(a, b):
        return False
    kind = a.trigger.split(":", 1)[0]
    if kind == "time":
        return (
            a.minute is not None
            and b.minute is not None
            and _apart_min(a.minute, b.minute) <= SAME_MOMENT_MIN
            and _days_overlap(a.days, b.days)
        )
    if kind == "sun":
        return (
            a.offset_min is not None
            and b.offset_min is not None
            and abs(a.offset_min - b.offset_min) <= SAME_MOMENT_MIN
        )
    if kind == "state":
        return (
            a.to_states is not None
            and b.to_states is not None
            and bool(a.to_states & b.to_states)
            and a.hold_s is not None
            and b.hold_s is not None
            # Off after a quarter of an hour without motion is another moment than off at once.
            and abs(a.hold_s - b.hold_s) <= SAME_MOMENT_MIN * 60
        )
    return False


def opposite(a: str, b: str) -> bool:
    """Whether two services undo each other (same domain, opposite actions)."""
    domain_a, _, name_a = a.partition(".")
    domain_b, _, name_b = b.partition(".")
    # A mode set ("climate.set_hvac_mode:heat"): off undoes any other.
    base_a, _, choice_a = name_a.partition(":")
    base_b, _, choice_b = name_b.partition(":")
    if domain_a == domain_b and base_a == base_b and choice_a != choice_b and "off" in (choice_a, choice_b):
        return True
    return domain_a == domain_b and frozenset({name_a, name_b}) in _OPPOSITES


def _does_both(subject: Subject, target: str) -> bool:
    """Whether the subject itself does opposite things to the target.

    Such an automation (on, a delay, off; or a ``choose`` of on or off) does both by design:
    another one matching either half is not a contradiction of it.
    """
    services = {b.service for b in subject.behaviours if b.target == target}
    return any(opposite(a, b) for a, b in combinations(sorted(services), 2))


def _kind(a: Behaviour, b: Behaviour) -> str | None:
    if not same_moment(a, b):
        return None
    if a.service == b.service:
        return KIND_DUPLICATE
    return KIND_CONTRADICTION if opposite(a.service, b.service) else None


def _clashes(first: Subject, second: Subject, target: str) -> Iterable[Insight]:
    """At most one duplicate and one contradiction of two subjects on one target."""
    found: dict[str, Insight] = {}
    both = _does_both(first, target) or _does_both(second, target)
    for a in (b for b in first.behaviours if b.target == target):
        for b in (b for b in second.behaviours if b.target == target):
            kind = _kind(a, b)
            if kind is None or kind in found or (kind == KIND_CONTRADICTION and both):
                continue
            found[kind] = Insight(
                kind,
                target,
                (Side(first.key, first.suggestion, a), Side(second.key, second.suggestion, b)),
            )
    return found.values()


def _root(parent: dict[str, str], key: str) -> str:
    while parent.setdefault(key, key) != key:
        key = parent[key]
    return key


def _grouped(pairs: Sequence[Insight], order: Mapping[str, int]) -> list[Insight]:
    """Duplicates among automations linked through each other are one insight.

    Three automations turning the porch on at sunset are one "these do the same thing",
    not three pairs. Linked only within one (target, service): an automation that turns it
    on and off joins no group of ons with a group of offs. Pairs with a suggestion stay
    pairs (the record names one suggestion).
    """
    kept: list[Insight] = []
    linked: dict[tuple[str, str], list[Insight]] = defaultdict(list)
    for pair in pairs:
        if pair.kind == KIND_DUPLICATE and not any(side.suggestion for side in pair.sides):
            linked[(pair.target, pair.sides[0].behaviour.service)].append(pair)
        else:
            kept.append(pair)
    for (target, _service), duplicates in linked.items():
        parent: dict[str, str] = {}
        for pair in duplicates:
            parent[_root(parent, pair.sides[0].key)] = _root(parent, pair.sides[1].key)
        groups: dict[str, dict[str, Side]] = defaultdict(dict)
        for pair in duplicates:
            group = groups[_root(parent, pair.sides[0].key)]
            for side in pair.sides:
                group.setdefault(side.key, side)
        kept += [
            Insight(KIND_DUPLICATE, target, tuple(sorted(group.values(), key=lambda side: order[side.key])))
            for group in groups.values()
        ]
    return sorted(kept, key=lambda i: (i.target, [order[side.key] for side in i.sides]))


def find_insights(automations: Sequence[Subject], suggestions: Sequence[Subject] = ()) -> list[Insight]:
    """Every group of automations, and pair of an automation and a suggestion, that clashes.

    Suggestions are not compared with each other (the run that made them kept only one of
    any two that do the same thing). Ordered by target, then the order the subjects were
    given in.
    """
    subjects = [*automations, *suggestions]
    by_target: dict[str, list[int]] = defaultdict(list)
    for index, subject in enumerate(subjects):
        for target in dict.fromkeys(b.target for b in subject.behaviours):
            by_target[target].append(index)
    insights: list[Insight] = []
    for target in sorted(by_target):
        for i, j in combinations(by_target[target], 2):
            if subjects[i].suggestion and subjects[j].suggestion:
                continue
            insights += _clashes(subjects[i], subjects[j], target)
    return _grouped(insights, {subject.key: index for index, subject in enumerate(subjects)})

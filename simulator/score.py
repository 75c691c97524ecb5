"""``scripts/score``: are the suggestions a job SHOWS ones a household would accept?

Per seed, a real home (``simulate_real_home``) and a home of only noise
(``simulate_noise_home``) go through the job's detect and rank exactly as a job does
(``detection.detect``, ``suggestions.candidates`` with the default minimum confidence,
the first ``max_suggestions``); each shown suggestion's automation is built by
``suggestions.automation_config`` and judged against the ground truth:

- ``right``: a planted clock routine as a time trigger within 20 min on days it happens;
  a planted sun routine as a sun trigger of its event within 20 min of its offset; a
  planted co-occurrence as a state trigger on its trigger; a planted duration as a state
  trigger with ``for:`` within its tolerance + 2 min;
- ``wrong_kind``: the entity and state of something planted, with another trigger kind;
- ``unplanted``: anything else (noise, a restart, a script's changes, a loop).

Prints figures; asserts nothing. Not HA's validator (no hass): every config built here
has a shape the validator accepts; nor dedupe against existing automations.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from custom_components.ai_automation.const import (
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    DEFAULT_OPTIONS,
    WEEKDAYS,
)
from custom_components.ai_automation.detection import detect
from custom_components.ai_automation.suggestions import Candidate, automation_config, candidates
from custom_components.ai_automation.wording import word
from simulator.fetched import fetched_history, home_sun_times
from simulator.household import DAILY, PlantedCoOccurrence, PlantedRoutine
from simulator.real_home import PlantedDuration, RealHome, simulate_noise_home, simulate_real_home

TZ = ZoneInfo("Europe/Amsterdam")
END = datetime(2026, 11, 8, 0, 0, tzinfo=TZ)  # the month crosses the end of DST (25 October)
LOOKBACK_DAYS = 30
MIN_CONFIDENCE = float(str(DEFAULT_OPTIONS[CONF_MIN_CONFIDENCE])) / 100
MAX_SUGGESTIONS = int(str(DEFAULT_OPTIONS[CONF_MAX_SUGGESTIONS]))
TIME_TOLERANCE_MIN = 20.0
FOR_SLACK_MIN = 2.0  # a ``for:`` may be off by the planted tolerance and this
ABSURD_SUN_OFFSET_MIN = 180
CONTRADICTION_MIN = 15.0
RIGHT, WRONG_KIND, UNPLANTED = "right", "wrong_kind", "unplanted"


@dataclass(frozen=True, slots=True)
class Shown:
    """A shown suggestion as the automation it is: trigger, target entity and state, days."""

    trigger: dict[str, Any]
    entity_id: str
    to_state: str
    days: tuple[int, ...] = DAILY
    title: str = ""
    # Local minute the trigger fires at (a sun trigger: at the window's mean sun time).
    minute: float | None = None

    @property
    def kind(self) -> str:
        """time | sun | state | state_for."""
        kind = str(self.trigger["trigger"])
        return "state_for" if kind == "state" and self.trigger.get("for") else kind

    @property
    def trigger_key(self) -> tuple[str, str] | None:
        """(entity, state) of a state trigger."""
        if self.trigger["trigger"] != "state":
            return None
        entity = self.trigger["entity_id"]
        return str(entity[0] if isinstance(entity, list) else entity), str(self.trigger.get("to"))

    @property
    def sun_offset_min(self) -> float | None:
        """A sun trigger's offset in minutes."""
        if self.trigger["trigger"] != "sun":
            return None
        return _seconds(self.trigger.get("offset", 0)) / 60

    def describe(self) -> str:
        """kind, trigger, target, state."""
        t = self.trigger
        if t["trigger"] == "time":
            when = f"at {t['at']}"
        elif t["trigger"] == "sun":
            when = f"{t['event']} {t.get('offset', '')}"
        else:
            when = f"{t['entity_id']} -> {t.get('to')}" + (f" for {t['for']}" if t.get("for") else "")
        days = "" if set(self.days) == set(DAILY) else " " + ",".join(WEEKDAYS[d] for d in self.days)
        return f"{self.kind:9} {when}{days} => {self.entity_id} {self.to_state}  ({self.title})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a shown suggestion is, why, and the planted thing it is right for."""

    label: str
    reason: str
    planted: object | None = None


def _seconds(value: Any) -> float:
    """A trigger's ``offset``/``for``: "HH:MM:SS" (maybe signed), seconds, or a dict."""
    if isinstance(value, dict):
        return sum(float(value.get(k, 0)) * s for k, s in (("hours", 3600), ("minutes", 60), ("seconds", 1)))
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    sign = -1.0 if text.startswith("-") else 1.0
    parts = [float(p) for p in text.lstrip("+-").split(":")]
    return sign * sum(p * s for p, s in zip(parts, (3600, 60, 1), strict=False))


def _minute(hhmm: str) -> float:
    h, m = hhmm.split(":")[:2]
    return int(h) * 60 + int(m)


def _apart(a: float, b: float) -> float:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def shown_of(candidate: Candidate, home: RealHome, mean_sun: dict[str, float]) -> Shown:
    """The shown suggestion of ``candidate``, from the automation config a job builds."""
    wording = word(candidate.pattern, candidate.backtest, home.friendly_names.get)
    config = automation_config(candidate, wording.title, wording.description)
    trigger = config["triggers"][0]
    days = next(
        (tuple(WEEKDAYS.index(d) for d in c["weekday"]) for c in config["conditions"] if c.get("weekday")),
        DAILY,
    )
    minute: float | None = None
    if trigger["trigger"] == "time":
        minute = _seconds(trigger["at"]) / 60
    elif trigger["trigger"] == "sun":
        minute = mean_sun[trigger["event"]] + _seconds(trigger.get("offset", 0)) / 60
    entity = config["actions"][0]["target"]["entity_id"]
    return Shown(trigger, entity, candidate.pattern.to_state, days, wording.title, minute)


def planted_text(planted: object) -> str:
    """A planted thing in a line."""
    if isinstance(planted, PlantedRoutine):
        days = "" if set(planted.days) == set(DAILY) else " " + ",".join(WEEKDAYS[d] for d in planted.days)
        when = f"{planted.sun_event} {planted.sun_offset_min:+d} min" if planted.sun_event else planted.time
        return f"routine   {planted.entity_id} {planted.to_state} at {when}{days}"
    if isinstance(planted, PlantedCoOccurrence):
        window = getattr(planted, "window", None)
        during = f" ({window[0]}-{window[1]} only)" if window else ""
        return (
            f"pair      {planted.trigger_entity_id} {planted.trigger_to_state} -> {planted.entity_id}"
            f" {planted.to_state}{during}"
        )
    if isinstance(planted, PlantedDuration):
        d = planted
        return f"duration  {d.entity_id} {d.from_state} -> {d.to_state} after {d.after_min:g} min"
    return str(planted)


def _days_fit(shown: Shown, planted_days: Sequence[int]) -> bool:
    """Fires only on days it happens, and on at least half of them."""
    return set(shown.days) <= set(planted_days) and 2 * len(shown.days) >= len(planted_days)


def classify(shown: Shown, home: RealHome) -> Verdict:
    """``right``, ``wrong_kind`` or ``unplanted``, with the reason."""
    target = (shown.entity_id, shown.to_state)
    kind, key = shown.kind, shown.trigger_key
    kinds: dict[str, str] = {}  # trigger kinds that would be right for this target -> what
    for r in home.routines:
        if r.automated or (r.entity_id, r.to_state) != target:
            continue
        kinds["sun" if r.sun_event else "time"] = f"planted {r.sun_event or 'clock'} routine {r.time}"
        if r.sun_event is None and kind == "time" and shown.minute is not None:
            off = _apart(shown.minute, _minute(r.time))
            if off <= TIME_TOLERANCE_MIN and _days_fit(shown, r.days):
                return Verdict(RIGHT, f"clock routine {r.time}, {off:.0f} min off", r)
        offset = shown.sun_offset_min
        if r.sun_event and kind == "sun" and offset is not None and shown.trigger["event"] == r.sun_event:
            off = abs(offset - (r.sun_offset_min or 0))
            if off <= TIME_TOLERANCE_MIN and _days_fit(shown, r.days):
                return Verdict(RIGHT, f"{r.sun_event} routine, offset {off:.0f} min off", r)
    for p in home.co_occurrences:
        if p.automated or (p.entity_id, p.to_state) != target:
            continue
        kinds["state"] = f"planted: follows {p.trigger_entity_id} -> {p.trigger_to_state}"
        if key == (p.trigger_entity_id, p.trigger_to_state):
            return Verdict(RIGHT, "planted co-occurrence", p)
    for p in home.co_occurrences:
        # A light that follows motion on goes off when the motion is over: the automation
        # people write for it ("when motion turns off, turn the light off").
        if p.automated or p.entity_id != shown.entity_id or shown.to_state == p.to_state:
            continue
        if (
            kind == "state"
            and key is not None
            and key[0] == p.trigger_entity_id
            and key[1] != p.trigger_to_state
        ):
            return Verdict(RIGHT, "follows its planted trigger back", p)
    for d in home.durations:
        if d.entity_id != shown.entity_id or shown.to_state not in (d.from_state, d.to_state):
            continue
        kinds["state_for"] = f"planted: {d.entity_id} {d.to_state} {d.after_min:g} min after {d.from_state}"
        if (
            kind == "state_for"
            and shown.to_state == d.to_state
            and key == (d.entity_id, d.from_state)
            and abs(_seconds(shown.trigger["for"]) / 60 - d.after_min) <= d.tolerance_min + FOR_SLACK_MIN
        ):
            return Verdict(RIGHT, "planted duration", d)
    if not kinds:
        return Verdict(UNPLANTED, "nothing planted on this entity and state")
    if kind not in kinds:
        return Verdict(WRONG_KIND, "; ".join(kinds.values()))
    return Verdict(UNPLANTED, f"right kind, wrong detail ({kinds[kind]})")


def contradictions(shown: Sequence[Shown], verdicts: Sequence[Verdict]) -> list[tuple[Shown, Shown]]:
    """Pairs that undo each other: one entity to two states within 15 min (or by one
    trigger), or A -> B together with B -> A unless both are planted."""
    found = []
    for (a, va), (b, vb) in combinations(zip(shown, verdicts, strict=True), 2):
        if a.entity_id == b.entity_id and a.to_state != b.to_state:
            near = (
                a.minute is not None
                and b.minute is not None
                and _apart(a.minute, b.minute) < CONTRADICTION_MIN
            )
            if near and set(a.days) & set(b.days):
                found.append((a, b))
                continue
            if a.trigger_key is not None and a.trigger_key == b.trigger_key:
                found.append((a, b))
                continue
        reverse = a.trigger_key == (b.entity_id, b.to_state) and b.trigger_key == (a.entity_id, a.to_state)
        if reverse and not (va.label == vb.label == RIGHT):
            found.append((a, b))
    return found


def is_absurd_sun(shown: Shown) -> bool:
    """A sun trigger more than 3 hours from its event."""
    return abs(shown.sun_offset_min or 0) > ABSURD_SUN_OFFSET_MIN


def loops(shown: Sequence[Shown], home: RealHome) -> list[Shown]:
    """Shown suggestions whose action triggers an existing automation that changes their trigger."""
    return [
        s
        for s in shown
        if s.trigger_key is not None
        and any(
            a.trigger_entity_id == s.entity_id and a.action_entity_id == s.trigger_key[0]
            for a in home.existing_automations
        )
    ]


def ranked_suggestions(home: RealHome, min_confidence: float) -> list[Shown]:
    """Every candidate of a job on ``home`` at END with the default lookback, best first.

    A job shows the first ``max_suggestions`` of them (that Home Assistant validates)."""
    tz = home.time_zone or TZ
    start = (END - timedelta(days=LOOKBACK_DAYS)).replace(hour=0)
    sun = home_sun_times(tz, start, END, home.latitude, home.longitude)
    detection = detect(fetched_history(home, start, END), tz, start, END, sun=sun)
    mean_sun = {"sunrise": float(np.nanmean(sun.sunrise)), "sunset": float(np.nanmean(sun.sunset))}
    # What a job reads from the home's automation configs (dedupe.automation_links).
    links = frozenset((a.trigger_entity_id, a.action_entity_id) for a in home.existing_automations)
    ranked = candidates(detection, min_confidence, lambda _entity_id: None, links)
    return [shown_of(c, home, mean_sun) for c in ranked]


@dataclass(slots=True)
class SeedFigures:
    """One seed's figures."""

    seed: int
    verdicts: list[tuple[Shown, Verdict]]
    pairs_found: int
    pairs_total: int
    durations_found: int
    durations_total: int
    routines_found: int
    routines_total: int
    absurd_sun: int
    contradictions: int
    loops: int
    noise_shown: list[Shown]
    seconds: float
    # Planted things not shown right, and where the ranking has them (if anywhere).
    missed: list[str] = field(default_factory=list)

    def count(self, label: str) -> int:
        """Shown suggestions with this verdict."""
        return sum(v.label == label for _s, v in self.verdicts)

    @property
    def shown(self) -> int:
        """Shown on the real home."""
        return len(self.verdicts)


@dataclass(slots=True)
class Figures:
    """All seeds' figures and their totals."""

    seeds: list[SeedFigures] = field(default_factory=list)

    def total(self, name: str) -> int:
        """Sum of an int figure (or ``count`` of a label) over the seeds."""
        if name in (RIGHT, WRONG_KIND, UNPLANTED):
            return sum(s.count(name) for s in self.seeds)
        if name == "noise_shown":
            return sum(len(s.noise_shown) for s in self.seeds)
        return sum(int(getattr(s, name)) for s in self.seeds)

    @property
    def right_share(self) -> float:
        """Share of all shown suggestions that are right."""
        shown = self.total("shown")
        return self.total(RIGHT) / shown if shown else 0.0


def score_seed(
    seed: int, max_suggestions: int = MAX_SUGGESTIONS, min_confidence: float = MIN_CONFIDENCE
) -> SeedFigures:
    """Simulate, detect, rank and judge one seed's real home and noise home."""
    began = time.perf_counter()
    home = simulate_real_home(seed, days=LOOKBACK_DAYS + 1, end=END, time_zone=TZ)
    ranked = ranked_suggestions(home, min_confidence)
    all_verdicts = [classify(s, home) for s in ranked]
    shown, verdicts = ranked[:max_suggestions], all_verdicts[:max_suggestions]
    right = [v.planted for v in verdicts if v.label == RIGHT]
    pairs = [p for p in home.co_occurrences if not p.automated]
    routines = [r for r in home.routines if not r.automated]
    missed = []
    for planted in (*routines, *pairs, *home.durations):
        if any(planted is r for r in right):
            continue
        rank = next((i for i, v in enumerate(all_verdicts) if v.planted is planted), None)
        where = "not a candidate" if rank is None else f"ranked #{rank + 1}"
        missed.append(f"{where}: {planted_text(planted)}")
    noise = simulate_noise_home(seed, days=LOOKBACK_DAYS + 1, end=END, time_zone=TZ)
    return SeedFigures(
        seed=seed,
        verdicts=list(zip(shown, verdicts, strict=True)),
        pairs_found=sum(any(p is r for r in right) for p in pairs),
        pairs_total=len(pairs),
        durations_found=sum(any(d is r for r in right) for d in home.durations),
        durations_total=len(home.durations),
        routines_found=sum(any(p is r for r in right) for p in routines),
        routines_total=len(routines),
        absurd_sun=sum(map(is_absurd_sun, shown)),
        contradictions=len(contradictions(shown, verdicts)),
        loops=len(loops(shown, home)),
        noise_shown=ranked_suggestions(noise, min_confidence)[:max_suggestions],
        seconds=time.perf_counter() - began,
        missed=missed,
    )


def score(
    seeds: int = 20,
    first_seed: int = 1,
    max_suggestions: int = MAX_SUGGESTIONS,
    min_confidence: float = MIN_CONFIDENCE,
) -> Figures:
    """Score ``seeds`` seeds from ``first_seed`` on."""
    return Figures(
        [score_seed(s, max_suggestions, min_confidence) for s in range(first_seed, first_seed + seeds)]
    )


_HEADER = (
    f"{'seed':>5} {'shown':>5} {'right':>5} {'wrong':>5} {'unpl':>5} {'right%':>6} {'pairs':>6}"
    f" {'durat':>5} {'rout':>6} {'sun>3h':>6} {'contra':>6} {'loops':>5} {'noise':>5} {'s':>5}"
)


def _row(label: str, f: Figures | SeedFigures) -> str:
    g = f if isinstance(f, Figures) else Figures([f])
    return (
        f"{label:>5} {g.total('shown'):5d} {g.total(RIGHT):5d}"
        f" {g.total(WRONG_KIND):5d} {g.total(UNPLANTED):5d}"
        f" {g.right_share:6.0%} {g.total('pairs_found'):>3d}/{g.total('pairs_total'):<2d}"
        f" {g.total('durations_found'):>2d}/{g.total('durations_total'):<2d}"
        f" {g.total('routines_found'):>3d}/{g.total('routines_total'):<2d}"
        f" {g.total('absurd_sun'):6d} {g.total('contradictions'):6d} {g.total('loops'):5d}"
        f" {g.total('noise_shown'):5d} {sum(s.seconds for s in g.seeds):5.2f}"
    )


def print_figures(figures: Figures, verbose: bool = False) -> None:
    """The table per seed, the totals, and with ``verbose`` every shown suggestion not right."""
    print(_HEADER)
    for s in figures.seeds:
        print(_row(str(s.seed), s))
    print(_row("all", figures))
    print(
        "right% = right / shown; pairs, durat(ions), rout(ines): planted ones shown right (found/total);"
        " sun>3h: absurd sun offsets; contra(dicting pairs); loops into existing automations;"
        " noise: shown on the noise home; s: seconds per seed"
    )
    if not verbose:
        return
    for s in figures.seeds:
        for shown, verdict in s.verdicts:
            if verdict.label != RIGHT:
                print(f"seed {s.seed:3d} {verdict.label:10} {shown.describe()}\n{'':19}{verdict.reason}")
        for shown in s.noise_shown:
            print(f"seed {s.seed:3d} noise      {shown.describe()}")
        for missed in s.missed:
            print(f"seed {s.seed:3d} not shown  {missed}")


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/score``."""
    parser = argparse.ArgumentParser(prog="scripts/score", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-suggestions", type=int, default=MAX_SUGGESTIONS)
    parser.add_argument(
        "--min-confidence", type=float, default=MIN_CONFIDENCE * 100, help="percent (default: the option's)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="list the shown suggestions that are not right"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    figures = score(args.seeds, args.first_seed, args.max_suggestions, args.min_confidence / 100)
    print_figures(figures, args.verbose)
    print(f"{args.seeds} seeds in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

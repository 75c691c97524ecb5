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
  a back-and-forth suggestion is right when both ways are;
  a planted co-occurrence (or its way back) also needs the planted part of the day as its
  condition: the dark as "after sunset or before sunrise", hours as a time window that
  holds 3/4 of them and is at most 2 h longer, all day as none;
- ``wrong_kind``: the entity and state of something planted, with another trigger kind;
- ``wrong_cond``: the right trigger with the wrong condition (or none where one is due);
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
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from custom_components.ai_automation.const import (
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    DEFAULT_OPTIONS,
)
from custom_components.ai_automation.detection import build_event_log, detect
from custom_components.ai_automation.engine.after_accept import PROPOSE_MOVE, REVERTED, Watched, check
from custom_components.ai_automation.engine.presence import presence_of
from custom_components.ai_automation.suggestions import candidates
from simulator.fetched import fetched_history, home_sun_times
from simulator.judge import (
    RIGHT,
    TIME_TOLERANCE_MIN,
    UNPLANTED,
    WRONG_CONDITION,
    WRONG_KIND,
    Shown,
    Verdict,
    classify,
    contradictions,
    groups_found,
    is_absurd_sun,
    loops,
    planted_text,
    shown_of,
)
from simulator.real_home import RealHome, simulate_noise_home, simulate_real_home

TZ = ZoneInfo("Europe/Amsterdam")
END = datetime(2026, 11, 8, 0, 0, tzinfo=TZ)  # the month crosses the end of DST (25 October)
LOOKBACK_DAYS = 30
MIN_CONFIDENCE = float(str(DEFAULT_OPTIONS[CONF_MIN_CONFIDENCE])) / 100
MAX_SUGGESTIONS = int(str(DEFAULT_OPTIONS[CONF_MAX_SUGGESTIONS]))


@dataclass(frozen=True, slots=True)
class Place:
    """Where and when the simulated homes are: the month before ``end``, at that spot."""

    end: datetime = END
    time_zone: str = "Europe/Amsterdam"
    latitude: float = 52.37
    longitude: float = 4.89


def ranked_suggestions(home: RealHome, min_confidence: float) -> list[Shown]:
    """Every candidate of a job on ``home`` at its end with the default lookback, best first.

    A job shows the first ``max_suggestions`` of them (that Home Assistant validates)."""
    tz = home.time_zone or TZ
    end = home.end or END
    start = (end - timedelta(days=LOOKBACK_DAYS)).replace(hour=0)
    sun = home_sun_times(tz, start, end, home.latitude, home.longitude)
    detection = detect(fetched_history(home, start, end), tz, start, end, sun=sun)
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
    groups_found: int
    groups_total: int
    presence_found: int  # what is done when the last one leaves or someone arrives
    presence_total: int
    reverted_found: int  # the accepted automation the household undoes, found with its fix
    reverted_total: int
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
        if name in (RIGHT, WRONG_KIND, WRONG_CONDITION, UNPLANTED):
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
    seed: int,
    max_suggestions: int = MAX_SUGGESTIONS,
    min_confidence: float = MIN_CONFIDENCE,
    place: Place = Place(),  # noqa: B008 - frozen
    life: bool = False,
) -> SeedFigures:
    """Simulate, detect, rank and judge one seed's real home and noise home.

    ``life``: people come and go in the real home (``household_life``).
    """
    began = time.perf_counter()
    home = simulate_real_home(
        seed,
        LOOKBACK_DAYS + 1,
        place.end,
        place.time_zone,
        latitude=place.latitude,
        longitude=place.longitude,
        life=life,
    )
    ranked = ranked_suggestions(home, min_confidence)
    all_verdicts = [classify(s, home) for s in ranked]
    shown, verdicts = ranked[:max_suggestions], all_verdicts[:max_suggestions]
    right = [p for v in verdicts if v.label == RIGHT for p in v.right_for]
    pairs = [p for p in home.co_occurrences if not p.automated]
    routines = [r for r in home.routines if not r.automated]
    missed = []
    for planted in (*routines, *pairs, *home.durations, *home.presence_routines):
        if any(planted is r for r in right):
            continue
        rank = next((i for i, v in enumerate(all_verdicts) if any(planted is p for p in v.right_for)), None)
        where = "not a candidate" if rank is None else f"ranked #{rank + 1}"
        missed.append(f"{where}: {planted_text(planted)}")
    groups = groups_found(verdicts, home)
    reverted = _reverted_found(seed, place) if life else None
    noise = simulate_noise_home(
        seed,
        LOOKBACK_DAYS + 1,
        place.end,
        place.time_zone,
        latitude=place.latitude,
        longitude=place.longitude,
    )
    return SeedFigures(
        seed=seed,
        verdicts=list(zip(shown, verdicts, strict=True)),
        pairs_found=sum(any(p is r for r in right) for p in pairs),
        pairs_total=len(pairs),
        durations_found=sum(any(d is r for r in right) for d in home.durations),
        durations_total=len(home.durations),
        routines_found=sum(any(p is r for r in right) for p in routines),
        routines_total=len(routines),
        presence_found=sum(any(p is r for r in right) for p in home.presence_routines),
        presence_total=len(home.presence_routines),
        reverted_found=int(bool(reverted)),
        reverted_total=int(reverted is not None),
        groups_found=groups[0],
        groups_total=groups[1],
        absurd_sun=sum(map(is_absurd_sun, shown)),
        contradictions=len(contradictions(shown, verdicts)),
        loops=len(loops(shown, home)),
        noise_shown=ranked_suggestions(noise, min_confidence)[:max_suggestions],
        seconds=time.perf_counter() - began,
        missed=missed,
    )


def _reverted_found(seed: int, place: Place) -> bool:
    """The same home with an accepted automation it keeps undoing: is that found, with the
    household's own time as the fix (as each job checks accepted automations)?"""
    home = simulate_real_home(
        seed,
        LOOKBACK_DAYS + 1,
        place.end,
        place.time_zone,
        latitude=place.latitude,
        longitude=place.longitude,
        life=True,
        reverting=True,
    )
    accepted = home.accepted
    assert accepted is not None
    tz = home.time_zone or TZ
    end = home.end or END
    start = (end - timedelta(days=LOOKBACK_DAYS)).replace(hour=0)
    log = build_event_log(fetched_history(home, start, end), tz, start, end)
    hour, minute = (int(p) for p in accepted.time.split(":"))
    watched = Watched(
        key="accepted",
        entity_id=accepted.entity_id,
        to_state=accepted.to_state,
        since_ts=accepted.accepted_ts,
        weekdays=accepted.days,
        minute=hour * 60 + minute,
    )
    found = check(log, watched, end.timestamp(), presence=presence_of(log))
    by_hand = int(accepted.by_hand[:2]) * 60 + int(accepted.by_hand[3:])
    return (
        found is not None
        and (found.problem, found.proposal) == (REVERTED, PROPOSE_MOVE)
        and found.new_minute is not None
        and abs(found.new_minute - by_hand) <= TIME_TOLERANCE_MIN
    )


def score(
    seeds: int = 20,
    first_seed: int = 1,
    max_suggestions: int = MAX_SUGGESTIONS,
    min_confidence: float = MIN_CONFIDENCE,
    place: Place = Place(),  # noqa: B008 - frozen
    life: bool = False,
) -> Figures:
    """Score ``seeds`` seeds from ``first_seed`` on (``life``: see ``score_seed``)."""
    return Figures(
        [
            score_seed(s, max_suggestions, min_confidence, place, life)
            for s in range(first_seed, first_seed + seeds)
        ]
    )


_HEADER = (
    f"{'seed':>5} {'shown':>5} {'right':>5} {'wrong':>5} {'cond':>5} {'unpl':>5} {'right%':>6} {'pairs':>6}"
    f" {'durat':>5} {'rout':>6} {'group':>5} {'pres':>5} {'sun>3h':>6} {'contra':>6} {'loops':>5}"
    f" {'noise':>5} {'s':>5}"
)


def _row(label: str, f: Figures | SeedFigures) -> str:
    g = f if isinstance(f, Figures) else Figures([f])
    return (
        f"{label:>5} {g.total('shown'):5d} {g.total(RIGHT):5d}"
        f" {g.total(WRONG_KIND):5d} {g.total(WRONG_CONDITION):5d} {g.total(UNPLANTED):5d}"
        f" {g.right_share:6.0%} {g.total('pairs_found'):>3d}/{g.total('pairs_total'):<2d}"
        f" {g.total('durations_found'):>2d}/{g.total('durations_total'):<2d}"
        f" {g.total('routines_found'):>3d}/{g.total('routines_total'):<2d}"
        f" {g.total('groups_found'):>2d}/{g.total('groups_total'):<2d}"
        f" {g.total('presence_found'):>2d}/{g.total('presence_total'):<2d}"
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
        "right% = right / shown; wrong (kind of trigger); cond: right trigger, wrong condition;"
        " pairs, durat(ions), rout(ines): planted ones shown right (found/total);"
        " group: planted routines done together shown right as one suggestion;"
        " pres: what is done when the last one leaves or someone comes home, shown right;"
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
    parser.add_argument(
        "--end", type=date.fromisoformat, default=END.date(), help="the analysis date (default %(default)s)"
    )
    parser.add_argument("--time-zone", default=Place().time_zone)
    parser.add_argument("--latitude", type=float, default=Place().latitude)
    parser.add_argument("--longitude", type=float, default=Place().longitude)
    parser.add_argument(
        "--life",
        action="store_true",
        help="people come and go: a commute, a trip, a vacation (household_life)",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    zone = ZoneInfo(args.time_zone)
    place = Place(
        datetime.combine(args.end, datetime.min.time(), zone), args.time_zone, args.latitude, args.longitude
    )
    figures = score(
        args.seeds, args.first_seed, args.max_suggestions, args.min_confidence / 100, place, args.life
    )
    print_figures(figures, args.verbose)
    if args.life:
        found, total = figures.total("reverted_found"), figures.total("reverted_total")
        print(
            f"accepted automation the household keeps undoing: found with its fix on {found} of {total} seeds"
        )
    print(f"{args.seeds} seeds in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rehabilitation: the exercise library, its rules, and how closely a programme is followed.

Why it is here: in ALS, gentle exercise within limits keeps joints moving and may slow loss of fitness, but
over-exertion tires weak muscles; breathing and cough techniques, speech and swallowing strategies and energy
conservation are taught by physiotherapists, speech therapists and occupational therapists (NICE NG42, 2016,
sections on physical function, communication, nutrition and equipment; Cochrane review of therapeutic exercise
in ALS, Dal Bello-Haas & Florence 2013, CD005229: too few trials to be sure of benefit, no sign of harm from
moderate exercise; AAN 2009 practice parameter, Miller et al., Neurology 2009;73:1218-26: mechanical
insufflation-exsufflation and assisted cough may help clear secretions, Level C, clinical-reference §6). The
sources other than §6 of /work/shared/clinical-reference.md are recalled, not read here: see docs/sources.md.

Declared as data: each exercise's id, category and whether it needs a helper or the therapist's say-so; the
words are alscare's own, in ``wording/rehabilitation.en.toml``. Adherence is a pure function over a small
list of logs, so it can be tested from a table and shown alike to the person and to the therapist.

Pure: no I/O, no clock (``today`` is an argument).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from alscare.clinical.errors import InvalidInput
from alscare.clinical.wording import load_wording

__all__ = [
    "CAUTION",
    "EXERCISES",
    "EXERCISE_IDS",
    "STOPPED_AFTER_DAYS",
    "TIMES_PER_WEEK_MAX",
    "TIMES_PER_WEEK_MIN",
    "TIRING_MAX",
    "TIRING_MIN",
    "TOO_TIRING_FROM",
    "Category",
    "Exercise",
    "LoggedSession",
    "Outcome",
    "PlannedExercise",
    "WeekAdherence",
    "exercise",
    "iso_week_start",
    "too_tiring",
    "weekly_adherence",
]


class Category(StrEnum):
    """The five kinds of exercise of issue 10 item 3."""

    RANGE_OF_MOTION = "range_of_motion"
    STRENGTHENING = "strengthening"
    BREATHING = "breathing"
    SPEECH_SWALLOWING = "speech_swallowing"
    ENERGY_CONSERVATION = "energy_conservation"


class Outcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


# --- Rules, each a named constant with why ---------------------------------------------------------------

# How tiring a session was, on a 0-10 scale (0 = not at all, 10 = worn out): the scale.
TIRING_MIN: Final = 0
TIRING_MAX: Final = 10
# From this score on, a session is flagged "too tiring" to the person and the therapist. alscare's choice,
# not from a source: 7 of 10 is "hard" on the usual 0-10 exertion scales, and the advice we follow is that
# exercise in ALS should stay moderate and never exhaust (NICE NG42; Dal Bello-Haas 2013 — recalled).
TOO_TIRING_FROM: Final = 7
# Frequency a therapist may set, in sessions per week: once a week up to twice a day. Input hygiene.
TIMES_PER_WEEK_MIN: Final = 1
TIMES_PER_WEEK_MAX: Final = 14
# A programme with no log (done or skipped) for this many days is listed for the therapist as "may have
# stopped". Why 14: most programmes are set weekly, so 14 days is two whole weekly cycles with nothing
# logged; one quiet week (a cold, a trip, a bad week) is common and not worth a call, two in a row is. A
# skipped session counts as a log: the person is still engaged and telling us. alscare's choice, no source.
STOPPED_AFTER_DAYS: Final = 14


@dataclass(frozen=True)
class Exercise:
    """One exercise of the library. ``with_helper``: can be done by a helper moving the limb for the person;
    ``therapist_first``: do it only once a therapist has shown it and said it is safe."""

    id: str
    category: Category
    default_times_per_week: int
    with_helper: bool
    therapist_first: bool
    title: str
    why: str
    how: str


# id, category, default sessions per week, with helper, therapist first. Defaults are starting points for
# the therapist's choice (daily for stretching and strategies, three times a week for strength), not rules.
_LIBRARY: Final[tuple[tuple[str, Category, int, bool, bool], ...]] = (
    ("shoulder_range", Category.RANGE_OF_MOTION, 7, True, False),
    ("hand_stretch", Category.RANGE_OF_MOTION, 7, True, False),
    ("calf_stretch", Category.RANGE_OF_MOTION, 7, True, False),
    ("sit_to_stand", Category.STRENGTHENING, 3, False, True),
    ("arm_raises", Category.STRENGTHENING, 3, False, True),
    ("deep_breathing", Category.BREATHING, 7, False, False),
    ("breath_stacking", Category.BREATHING, 7, False, True),
    ("assisted_cough", Category.BREATHING, 3, True, True),
    ("speech_strategies", Category.SPEECH_SWALLOWING, 7, False, False),
    ("swallow_strategies", Category.SPEECH_SWALLOWING, 7, False, False),
    ("energy_pacing", Category.ENERGY_CONSERVATION, 7, False, False),
)


def _build() -> tuple[Exercise, ...]:
    words = load_wording("rehabilitation.en")["exercises"]
    if set(words) != {row[0] for row in _LIBRARY}:
        raise ValueError("rehabilitation wording and library disagree on the exercise ids")
    return tuple(
        Exercise(eid, cat, per_week, helper, first, words[eid]["title"], words[eid]["why"], words[eid]["how"])
        for eid, cat, per_week, helper, first in _LIBRARY
    )


EXERCISES: Final[tuple[Exercise, ...]] = _build()
EXERCISE_IDS: Final[tuple[str, ...]] = tuple(e.id for e in EXERCISES)
_BY_ID: Final[Mapping[str, Exercise]] = {e.id: e for e in EXERCISES}
CAUTION: Final[Mapping[str, str]] = load_wording("rehabilitation.en")["caution"]
CATEGORY_WORDS: Final[Mapping[str, str]] = load_wording("rehabilitation.en")["categories"]


def exercise(exercise_id: str) -> Exercise:
    try:
        return _BY_ID[exercise_id]
    except KeyError:
        raise InvalidInput("exercise_id", "No such exercise in the library.") from None


def too_tiring(tiring: int | None) -> bool:
    return tiring is not None and tiring >= TOO_TIRING_FROM


# --- Adherence -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedExercise:
    exercise_id: str
    times_per_week: int


@dataclass(frozen=True)
class LoggedSession:
    on: date
    exercise_id: str
    outcome: Outcome


@dataclass(frozen=True)
class WeekAdherence:
    """One ISO week of a programme.

    ``planned``: sessions expected that week (pro rata for a week the programme only partly covers);
    ``done``: sessions logged done, counted per exercise up to what was planned for it (ten of one exercise
    cannot make up for none of another); ``skipped``: sessions logged skipped; ``adherence``: done / planned,
    ``None`` when nothing was planned; ``partial``: the programme started, stopped or "today" falls inside it.
    """

    week_start: date  # the Monday
    iso_year: int
    iso_week: int
    planned: int
    done: int
    skipped: int
    adherence: float | None
    partial: bool

    @property
    def label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"


def iso_week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _pro_rata(times_per_week: int, days: int) -> int:
    """Sessions expected in ``days`` of a week (0-7), rounded half up: 3/week over 3 days -> 1."""
    return (times_per_week * days * 2 + 7) // 14


def weekly_adherence(
    *,
    plan: Iterable[PlannedExercise],
    starts_on: date,
    stopped_on: date | None,
    logs: Iterable[LoggedSession],
    today: date,
) -> list[WeekAdherence]:
    """Adherence per ISO week, oldest first, from the programme's first week to its last.

    The last week is the one holding ``stopped_on`` (the programme's last active day is the day before it
    stopped) or else ``today``. A week with no logs at all is kept, with ``done`` 0: a gap is information.
    Logs outside the active days (before the start, on or after the stop, in the future) are ignored, as are
    logs of exercises not in the plan.
    """
    plan = tuple(plan)
    per_week = {p.exercise_id: p.times_per_week for p in plan}
    last_active = min(today, stopped_on - timedelta(days=1)) if stopped_on is not None else today
    if last_active < starts_on:
        return []
    done: dict[tuple[date, str], int] = {}
    skipped: dict[date, int] = {}
    for log in logs:
        if not starts_on <= log.on <= last_active or log.exercise_id not in per_week:
            continue
        week = iso_week_start(log.on)
        if log.outcome is Outcome.DONE:
            done[(week, log.exercise_id)] = done.get((week, log.exercise_id), 0) + 1
        else:
            skipped[week] = skipped.get(week, 0) + 1
    weeks: list[WeekAdherence] = []
    week = iso_week_start(starts_on)
    while week <= last_active:
        first = max(week, starts_on)
        last = min(week + timedelta(days=6), last_active)
        days = (last - first).days + 1
        planned_each = {eid: _pro_rata(n, days) for eid, n in per_week.items()}
        planned = sum(planned_each.values())
        done_count = sum(min(done.get((week, eid), 0), n) for eid, n in planned_each.items())
        year, number, _ = week.isocalendar()
        weeks.append(
            WeekAdherence(
                week_start=week,
                iso_year=year,
                iso_week=number,
                planned=planned,
                done=done_count,
                skipped=skipped.get(week, 0),
                adherence=done_count / planned if planned else None,
                partial=days < 7,
            )
        )
        week += timedelta(days=7)
    return weeks

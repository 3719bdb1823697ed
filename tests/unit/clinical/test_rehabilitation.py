"""Rehabilitation core: adherence per ISO week from small tables of logs, the library's rules and wording."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import textstat

from alscare.clinical import rehabilitation as r
from alscare.clinical.errors import InvalidInput
from alscare.clinical.rehabilitation import LoggedSession, Outcome, PlannedExercise, weekly_adherence

D, S = Outcome.DONE, Outcome.SKIPPED
# 2026-03-02 is a Monday (ISO week 10 of 2026).
MON = date(2026, 3, 2)


def day(week: int, weekday: int) -> date:
    """Day ``weekday`` (1 = Monday) of week ``week`` counted from MON (week 0)."""
    return MON + timedelta(days=7 * week + weekday - 1)


def logs(*rows: tuple[int, int, str, Outcome]) -> list[LoggedSession]:
    return [LoggedSession(day(w, d), eid, outcome) for w, d, eid, outcome in rows]


PLAN = [PlannedExercise("hand_stretch", 3), PlannedExercise("deep_breathing", 2)]  # 5 sessions a week


def test_full_weeks_with_a_gap_and_extra_sessions() -> None:
    history = logs(
        # week 0: 3 of 3 hand stretches, 1 of 2 breathing; one skip
        (0, 1, "hand_stretch", D), (0, 3, "hand_stretch", D), (0, 5, "hand_stretch", D),
        (0, 2, "deep_breathing", D), (0, 4, "deep_breathing", S),
        # week 1: nothing at all (a gap)
        # week 2: six hand stretches cannot make up for no breathing: 3 of 5
        *[(2, d, "hand_stretch", D) for d in range(1, 7)],
    )  # fmt: skip
    weeks = weekly_adherence(plan=PLAN, starts_on=MON, stopped_on=None, logs=history, today=day(2, 7))
    got = [(w.label, w.planned, w.done, w.skipped, w.adherence, w.partial) for w in weeks]
    assert got == [
        ("2026-W10", 5, 4, 1, 0.8, False),
        ("2026-W11", 5, 0, 0, 0.0, False),
        ("2026-W12", 5, 3, 0, 0.6, False),
    ]


def test_stopped_programme_ends_the_weeks_and_ignores_later_logs() -> None:
    # Stopped on Thursday of week 1: active Monday to Wednesday (3 days) that week.
    history = logs(
        (0, 1, "hand_stretch", D), (1, 2, "hand_stretch", D), (1, 5, "hand_stretch", D), (3, 1, "hand_stretch", D)
    )
    weeks = weekly_adherence(plan=PLAN, starts_on=MON, stopped_on=day(1, 4), logs=history, today=day(4, 1))
    got = [(w.label, w.planned, w.done, w.partial) for w in weeks]
    # 3 days of a 3/week exercise -> 1 session (3*3/7 = 1.29); 2/week over 3 days -> 1 (0.86 rounds up).
    assert got == [("2026-W10", 5, 1, False), ("2026-W11", 2, 1, True)]


def test_start_mid_week_and_the_current_week_are_pro_rata() -> None:
    # Starts Thursday of week 0 (4 days: Thu-Sun); today is Tuesday of week 1 (2 days).
    weeks = weekly_adherence(
        plan=[PlannedExercise("energy_pacing", 7)],
        starts_on=day(0, 4),
        stopped_on=None,
        logs=logs((0, 1, "energy_pacing", D), (0, 4, "energy_pacing", D), (1, 2, "energy_pacing", D)),
        today=day(1, 2),
    )
    assert [(w.planned, w.done, w.partial) for w in weeks] == [(4, 1, True), (2, 1, True)]  # Monday log: before start


@pytest.mark.parametrize(
    ("times", "days", "planned"),
    [(1, 7, 1), (1, 3, 0), (1, 4, 1), (3, 3, 1), (3, 5, 2), (7, 1, 1), (14, 3, 6), (2, 1, 0), (2, 2, 1)],
)
def test_pro_rata_rounds_half_up(times: int, days: int, planned: int) -> None:
    weeks = weekly_adherence(
        plan=[PlannedExercise("hand_stretch", times)],
        starts_on=MON,
        stopped_on=None,
        logs=[],
        today=MON + timedelta(days=days - 1),
    )
    assert weeks[0].planned == planned
    assert weeks[0].adherence == (0.0 if planned else None)


def test_stopped_before_it_started_and_unknown_exercises() -> None:
    assert weekly_adherence(plan=PLAN, starts_on=MON, stopped_on=MON, logs=[], today=day(3, 1)) == []
    weeks = weekly_adherence(
        plan=PLAN, starts_on=MON, stopped_on=None, logs=logs((0, 1, "calf_stretch", D)), today=day(0, 7)
    )
    assert weeks[0].done == 0


def test_week_labels_cross_the_iso_year() -> None:
    weeks = weekly_adherence(plan=PLAN, starts_on=date(2026, 12, 28), stopped_on=None, logs=[], today=date(2027, 1, 4))
    assert [w.label for w in weeks] == ["2026-W53", "2027-W01"]


@pytest.mark.parametrize(("tiring", "flag"), [(None, False), (0, False), (6, False), (7, True), (10, True)])
def test_too_tiring_from_seven(tiring: int | None, flag: bool) -> None:
    assert r.too_tiring(tiring) is flag


def test_library_covers_every_category_in_our_plain_words() -> None:
    assert {e.category for e in r.EXERCISES} == set(r.Category)
    for e in r.EXERCISES:
        for text in (e.title, e.why, e.how):
            assert text.strip()
        assert textstat.flesch_kincaid_grade(f"{e.why} {e.how}") <= 8.0, e.id
    assert textstat.flesch_kincaid_grade(r.CAUTION["text"]) <= 8.0
    with pytest.raises(InvalidInput) as e:
        r.exercise("press_ups")
    assert e.value.field == "exercise_id"


def test_stopped_after_is_two_weekly_cycles() -> None:
    assert r.STOPPED_AFTER_DAYS == 14

"""Guideline prompts from the whole history (issue 8's ``alscare prompts`` table), as small patient histories.

Each case is a history written as a few table-like rows on top of a quiet baseline (a person reviewed and
measured last week, nothing reported, care wishes discussed last month), with the prompts it must raise.
Every threshold is tried on both sides of its boundary.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alscare.clinical.errors import InvalidInput
from alscare.clinical.history_prompts import MESSAGES, PROMPT_IDS, history_prompts, parse_history

TODAY = "2026-06-01"
# A quiet person: no prompt applies.
QUIET: dict[str, Any] = {
    "today": TODAY,
    "care_wishes_discussed_on": "2026-05-01",
    "assessments": [{"date": "2026-05-25", "total": 40}],
    "measurements": [{"date": "2026-05-25", "fvc_percent": 90, "snip_cmh2o": 70}],
}


def ids(**changes: Any) -> list[str]:
    return [p.id for p in history_prompts(parse_history({**QUIET, **changes}))]


def fvc(value: float, on: str = "2026-05-25") -> dict[str, Any]:
    return {"date": on, "fvc_percent": value, "snip_cmh2o": 70}


def test_the_quiet_baseline_raises_nothing() -> None:
    assert ids() == []


def test_the_issue_example() -> None:
    out = history_prompts(
        parse_history(
            {
                "today": "2026-06-01",
                "diagnosis": "2025-09-01",
                "usual_weight_kg": 80,
                "gastrostomy": False,
                "niv": False,
                "care_wishes_discussed_on": None,
                "assessments": [{"date": "2026-05-20", "total": 38}],
                "measurements": [{"date": "2026-05-20", "fvc_percent": 55, "snip_cmh2o": 45, "weight_kg": 72}],
                "symptoms": [{"date": "2026-05-28", "orthopnea": True, "choking_on_food": False}],
            }
        )
    )
    assert [p.id for p in out] == [
        "niv_orthopnoea",
        "niv_fvc_below_80_with_symptoms",
        "gastrostomy_weight_loss",
        "care_wishes_discussion",
    ]
    assert all(p.message == MESSAGES[p.id] for p in out)
    assert out[0].source == "AAN 2009"


# --- NIV ---------------------------------------------------------------------------------------------------
#   latest FVC | latest SNIP | niv   | prompts
NIV_CASES = [
    (49.9, 70, False, ["niv_fvc_below_50", "niv_fvc_below_80_with_symptoms"]),
    (50, 70, False, ["niv_fvc_below_80_with_symptoms"]),
    (90, 39.9, False, ["niv_snip_below_40"]),
    (90, 40, False, []),
    (49, 39, True, []),
]


@pytest.mark.parametrize(("fvc_value", "snip", "niv", "expected"), NIV_CASES)
def test_niv_thresholds(fvc_value: float, snip: float, niv: bool, expected: list[str]) -> None:
    # A recent breathing symptom (daytime sleepiness) so that the FVC < 80 % rule can be seen too.
    got = ids(
        niv=niv,
        measurements=[{"date": "2026-05-25", "fvc_percent": fvc_value, "snip_cmh2o": snip}],
        symptoms=[{"date": "2026-05-30", "daytime_sleepiness": True}],
        care_wishes_discussed_on="2026-05-30",
    )
    if fvc_value >= 80 or niv:
        assert "niv_fvc_below_80_with_symptoms" not in got
    assert got == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(79.9, ["niv_fvc_below_80_with_symptoms"]), (80, [])],
)
def test_fvc_below_80_needs_fvc_below_80(value: float, expected: list[str]) -> None:
    assert ids(measurements=[fvc(value)], symptoms=[{"date": TODAY, "morning_headache": True}]) == expected


@pytest.mark.parametrize("symptom", ["breathless_at_rest", "morning_headache", "daytime_sleepiness"])
def test_each_leigh_symptom_counts(symptom: str) -> None:
    assert ids(measurements=[fvc(70)], symptoms=[{"date": TODAY, symptom: True}]) == ["niv_fvc_below_80_with_symptoms"]


def test_fvc_below_80_without_symptoms_is_quiet() -> None:
    assert ids(measurements=[fvc(70)], symptoms=[{"date": TODAY, "cramps": True, "orthopnea": False}]) == []


#   symptom date   | recent? (today 2026-06-01: 30 days back is 2026-05-02)
@pytest.mark.parametrize(("on", "fires"), [("2026-05-02", True), ("2026-05-01", False), (TODAY, True)])
def test_orthopnoea_alone_counts_when_recent(on: str, fires: bool) -> None:
    got = ids(symptoms=[{"date": on, "orthopnea": True}])
    assert ("niv_orthopnoea" in got) is fires
    assert "niv_fvc_below_80_with_symptoms" not in got  # FVC 90


def test_orthopnoea_on_niv_is_quiet() -> None:
    assert ids(niv=True, symptoms=[{"date": TODAY, "orthopnea": True}]) == []


def test_latest_fvc_is_the_latest_dated_then_last_listed() -> None:
    # An older low FVC does not count once a later one is higher.
    assert ids(measurements=[fvc(40, "2026-05-20"), fvc(90, "2026-05-25")]) == []
    # Listed out of date order: the latest date still wins.
    assert ids(measurements=[fvc(90, "2026-05-25"), fvc(40, "2026-05-20")]) == []
    # Same date: the last listed wins.
    assert ids(measurements=[fvc(40), fvc(90)]) == []
    assert ids(measurements=[fvc(90), fvc(40)]) == ["niv_fvc_below_50"]
    # A later measurement without an FVC does not hide the latest FVC.
    assert ids(measurements=[fvc(40), {"date": "2026-05-30", "weight_kg": 70}]) == ["niv_fvc_below_50"]


# --- Gastrostomy -----------------------------------------------------------------------------------------
#   usual | latest weight | gastrostomy | fires
WEIGHT_CASES = [
    (80, 72, False, True),  # exactly 90 %: a loss of exactly 10 %
    (80, 72.01, False, False),
    (80, 71.99, False, True),
    (70, 63, False, True),  # 90 % exactly, where 63 / 70 in floating point is 0.8999…
    (70, 63.000001, False, False),
    (80, 72, True, False),
    (None, 50, False, False),
]


@pytest.mark.parametrize(("usual", "weight", "gastrostomy", "fires"), WEIGHT_CASES)
def test_weight_loss_of_ten_percent_exactly(usual: float | None, weight: float, gastrostomy: bool, fires: bool) -> None:
    measurements = [fvc(90), {"date": "2026-01-01", "weight_kg": weight}]  # any age: "latest weight"
    got = ids(usual_weight_kg=usual, gastrostomy=gastrostomy, measurements=measurements)
    assert ("gastrostomy_weight_loss" in got) is fires


def test_latest_weight_decides() -> None:
    later_recovered = [fvc(90), {"date": "2026-04-01", "weight_kg": 70}, {"date": "2026-05-01", "weight_kg": 75}]
    assert "gastrostomy_weight_loss" not in ids(usual_weight_kg=80, measurements=later_recovered)


@pytest.mark.parametrize("symptom", ["choking_on_food", "cannot_take_food_fluids_meds"])
@pytest.mark.parametrize(("on", "fires"), [("2026-05-02", True), ("2026-05-01", False)])
def test_dysphagia_at_any_fvc_when_recent(symptom: str, on: str, fires: bool) -> None:
    got = ids(symptoms=[{"date": on, symptom: True}])
    assert got == (["gastrostomy_dysphagia"] if fires else [])  # care wishes were discussed last month


def test_dysphagia_with_gastrostomy_is_quiet() -> None:
    assert ids(gastrostomy=True, symptoms=[{"date": TODAY, "choking_on_food": True}]) == []


@pytest.mark.parametrize(("value", "fires"), [(29.9, True), (30, False)])
def test_high_procedural_risk_is_an_other_prompt_after_the_table(value: float, fires: bool) -> None:
    got = ids(
        measurements=[fvc(value)], symptoms=[{"date": TODAY, "choking_on_food": True}], care_wishes_discussed_on=TODAY
    )
    assert got[-1] == ("gastrostomy_high_procedural_risk" if fires else "gastrostomy_dysphagia")
    assert got[:2] == ["niv_fvc_below_50", "gastrostomy_dysphagia"]


# --- Overdue reviews (92 days up to today: on or after 2026-03-01) ---------------------------------------


@pytest.mark.parametrize(("on", "overdue"), [("2026-03-01", False), ("2026-02-28", True)])
def test_breathing_assessment_overdue(on: str, overdue: bool) -> None:
    got = ids(measurements=[{"date": on, "snip_cmh2o": 70}, {"date": TODAY, "weight_kg": 70}])
    assert got == (["breathing_assessment_overdue"] if overdue else [])


def test_a_weight_alone_is_not_a_breathing_assessment() -> None:
    assert ids(measurements=[{"date": TODAY, "weight_kg": 70}]) == ["breathing_assessment_overdue"]


@pytest.mark.parametrize(("on", "overdue"), [("2026-03-01", False), ("2026-02-28", True)])
def test_review_overdue(on: str, overdue: bool) -> None:
    assert ids(assessments=[{"date": on, "total": 40}]) == (["review_overdue"] if overdue else [])


def test_nothing_known_means_both_overdue() -> None:
    assert history_prompts(parse_history({"today": TODAY})) == history_prompts(
        parse_history({"today": TODAY, "assessments": [], "measurements": [], "symptoms": []})
    )
    assert [p.id for p in history_prompts(parse_history({"today": TODAY}))] == [
        "breathing_assessment_overdue",
        "review_overdue",
    ]


# --- ALSFRS-R fall -----------------------------------------------------------------------------------------
#   earlier (date, total) | latest (date, total) | fires
FALL_CASES = [
    (("2026-02-22", 40), ("2026-05-25", 36), True),  # 92 days before, 4 points
    (("2026-02-21", 40), ("2026-05-25", 36), False),  # 93 days before
    (("2026-02-22", 39), ("2026-05-25", 36), False),  # 3 points
    (("2026-05-25", 40), ("2026-05-25", 36), True),  # same day, listed first
]


@pytest.mark.parametrize(("earlier", "latest", "fires"), FALL_CASES)
def test_alsfrs_fall_of_4_within_92_days(earlier: tuple[str, int], latest: tuple[str, int], fires: bool) -> None:
    rows = [{"date": d, "total": t} for d, t in (earlier, latest)]
    assert ids(assessments=rows) == (["alsfrs_fall_4_in_3_months"] if fires else [])


def test_the_latest_assessment_is_compared_not_the_lowest() -> None:
    # 40 → 36 → 39: the latest (39) is only 1 below the highest earlier score.
    rows = [
        {"date": "2026-04-01", "total": 40},
        {"date": "2026-05-01", "total": 36},
        {"date": "2026-05-25", "total": 39},
    ]
    assert ids(assessments=rows) == []
    # Listed out of order, the latest date is still the latest.
    assert ids(assessments=[rows[2], rows[0], rows[1]]) == []


# --- Care wishes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("discussed", "fires"),
    [(None, True), ("2026-03-01", False), ("2026-02-28", True)],  # 92 days before today: not "more than 92"
)
def test_care_wishes_after_a_key_decision(discussed: str | None, fires: bool) -> None:
    got = ids(care_wishes_discussed_on=discussed, symptoms=[{"date": TODAY, "orthopnea": True}])
    assert got == ["niv_orthopnoea", *(["care_wishes_discussion"] if fires else [])]


@pytest.mark.parametrize(("diagnosis", "fires"), [("2026-03-01", True), ("2026-02-28", False), (TODAY, True)])
def test_care_wishes_after_a_recent_diagnosis(diagnosis: str, fires: bool) -> None:
    assert ids(care_wishes_discussed_on=None, diagnosis=diagnosis) == (["care_wishes_discussion"] if fires else [])


def test_overdue_reviews_are_not_key_decisions() -> None:
    assert ids(care_wishes_discussed_on=None, assessments=[], measurements=[]) == [
        "breathing_assessment_overdue",
        "review_overdue",
    ]


def test_every_prompt_has_a_message() -> None:
    assert set(MESSAGES) == set(PROMPT_IDS)
    assert all(0 < len(m) <= 300 for m in MESSAGES.values())


# --- Input rules -----------------------------------------------------------------------------------------
BAD_INPUT = [
    ({"measurements": [fvc(90), {"date": TODAY, "fvc_percent": 151}]}, "measurements[1].fvc_percent"),
    ({"measurements": [{"date": TODAY, "fvc_percent": 9.9}]}, "measurements[0].fvc_percent"),
    ({"measurements": [{"date": TODAY, "snip_cmh2o": 201}]}, "measurements[0].snip_cmh2o"),
    ({"measurements": [{"date": TODAY, "snip_cmh2o": -1}]}, "measurements[0].snip_cmh2o"),
    ({"measurements": [{"date": TODAY, "weight_kg": 0}]}, "measurements[0].weight_kg"),
    ({"measurements": [{"date": TODAY, "weight_kg": 400.1}]}, "measurements[0].weight_kg"),
    ({"measurements": [{"date": TODAY, "weight_kg": True}]}, "measurements[0].weight_kg"),
    ({"measurements": [{"date": TODAY, "spo2_percent": 95}]}, "measurements[0].spo2_percent"),
    ({"measurements": [{"fvc_percent": 90}]}, "measurements[0].date"),
    ({"measurements": [{"date": "2026-06-02", "fvc_percent": 90}]}, "measurements[0].date"),
    ({"assessments": [{"date": TODAY, "total": 49}]}, "assessments[0].total"),
    ({"assessments": [{"date": TODAY, "total": -1}]}, "assessments[0].total"),
    ({"assessments": [{"date": TODAY, "total": 40.5}]}, "assessments[0].total"),
    ({"assessments": [{"date": "1 June 2026", "total": 40}]}, "assessments[0].date"),
    ({"assessments": [{"date": "20260601", "total": 40}]}, "assessments[0].date"),
    ({"assessments": [{"date": "2026-02-30", "total": 40}]}, "assessments[0].date"),
    ({"assessments": [{"date": TODAY, "total": 40}, {"date": "2026-07-01", "total": 40}]}, "assessments[1].date"),
    ({"symptoms": [{"date": TODAY, "orthopnea": "yes"}]}, "symptoms[0].orthopnea"),
    ({"symptoms": [{"date": TODAY, "orthopnea": 1}]}, "symptoms[0].orthopnea"),
    ({"symptoms": [{"date": TODAY, "weight_kg": 70}]}, "symptoms[0].weight_kg"),
    ({"symptoms": [{"date": TODAY, "wheezing": True}]}, "symptoms[0].wheezing"),
    ({"symptoms": ["orthopnea"]}, "symptoms[0]"),
    ({"symptoms": {"date": TODAY}}, "symptoms"),
    ({"usual_weight_kg": 0}, "usual_weight_kg"),
    ({"usual_weight_kg": "80"}, "usual_weight_kg"),
    ({"niv": "no"}, "niv"),
    ({"gastrostomy": 0}, "gastrostomy"),
    ({"diagnosis": "2026-06-02"}, "diagnosis"),
    ({"care_wishes_discussed_on": "2026-13-01"}, "care_wishes_discussed_on"),
    ({"today": None}, "today"),
    ({"bmi": 20}, "bmi"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_INPUT)
def test_bad_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_history({**QUIET, **changes})
    assert e.value.field == field


def test_limits_are_inclusive_at_the_check_ins_own_edges() -> None:
    edges = [{"date": TODAY, "fvc_percent": 10, "snip_cmh2o": 0, "weight_kg": 300}, fvc(150, TODAY)]
    assert ids(measurements=edges) == []


def test_the_rules_read_no_symptom_beyond_rule_symptom_fields() -> None:
    """``RULE_SYMPTOM_FIELDS`` is every answer a rule reads: dropping all other answers from a history never
    changes its prompts (``actions.prompts`` reads only these from the database)."""
    import random

    from alscare.clinical import history_prompts as hp

    rng = random.Random(3)
    today = date(2026, 5, 1)
    changed_by_rule_fields = 0
    for _ in range(400):
        symptoms = tuple(
            hp.SymptomEntry(
                today - timedelta(days=rng.randint(0, 40)),
                {name: rng.random() < 0.3 for name in rng.sample(hp.SYMPTOM_FIELDS, 6)},
            )
            for _ in range(rng.randint(0, 4))
        )
        history = hp.History(
            today=today,
            measurements=(hp.MeasurementEntry(today, fvc_percent=Decimal(rng.choice([25, 45, 70, 95]))),),
            symptoms=symptoms,
        )
        only = hp.History(
            today=today,
            measurements=history.measurements,
            symptoms=tuple(
                hp.SymptomEntry(s.on, {k: v for k, v in s.answers.items() if k in hp.RULE_SYMPTOM_FIELDS})
                for s in symptoms
            ),
        )
        assert hp.history_prompts(only) == hp.history_prompts(history)
        without = hp.History(today=today, measurements=history.measurements)
        changed_by_rule_fields += hp.history_prompts(without) != hp.history_prompts(history)
    assert changed_by_rule_fields > 20  # the symptoms did matter to the prompts


def test_when_care_wishes_were_discussed_only_ever_keeps_their_prompt_from_firing() -> None:
    """``actions.prompts.current_prompts`` reads the discussion date only when the care-wishes prompt fired
    without it; that is exact only if the date can change nothing but that one prompt, and only remove it."""
    import random

    from alscare.clinical import history_prompts as hp

    rng = random.Random(4)
    today = date(2026, 5, 1)
    kept_back = 0
    for _ in range(300):
        base = hp.History(
            today=today,
            diagnosis=rng.choice([None, today - timedelta(days=rng.randint(0, 200))]),
            measurements=(hp.MeasurementEntry(today, fvc_percent=Decimal(rng.choice([40, 70, 95]))),),
            symptoms=(hp.SymptomEntry(today, {"orthopnea": rng.random() < 0.5}),),
        )
        without = hp.history_prompts(base)
        discussed = hp.history_prompts(
            hp.History(**{**base.__dict__, "care_wishes_discussed_on": today - timedelta(days=rng.randint(0, 200))})
        )
        assert [p for p in without if p.id != hp.CARE_WISHES_ID] == [p for p in discussed if p.id != hp.CARE_WISHES_ID]
        assert not ({p.id for p in discussed} - {p.id for p in without})
        kept_back += len(without) != len(discussed)
    assert kept_back > 10

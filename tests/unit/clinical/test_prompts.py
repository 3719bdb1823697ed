"""Clinical prompts (clinical-reference §6, High-confidence thresholds only), tested at their boundaries.

Sources, as in ``alscare.clinical.prompts``: AAN 2009 / US Medicare NIV criteria (FVC < 50 %, SNP < 40 cmH₂O);
European consensus, Leigh 2003 (symptom and FVC ≤ 80 % or SNP ≤ 40 cmH₂O); EFNS 2012 (weight loss > 10 %,
prompted from 10 %); AAN 2009 nutrition algorithm (PEG risk bands by FVC: 30–50 % moderate, < 30 % high).
"""

from __future__ import annotations

from typing import Any

import pytest

from alscare.clinical.errors import InvalidInput
from alscare.clinical.prompts import PROMPT_MESSAGES, PROMPT_RULES, Measurements, prompts_for
from alscare.clinical.triage import CheckIn


def fired(measurements: dict[str, Any] | None = None, **answers: Any) -> list[str]:
    check_in = CheckIn.from_mapping(answers)
    return [p.id for p in prompts_for(check_in, Measurements(**(measurements or {})))]


# --- Contract over the table ---------------------------------------------------------------------------


def test_every_rule_has_a_message_a_source_and_high_confidence() -> None:
    ids = [rule.id for rule in PROMPT_RULES]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(PROMPT_MESSAGES)
    for rule in PROMPT_RULES:
        assert rule.confidence == "High"
        assert "clinical-reference §6" in rule.source
        # A prompt becomes an alert summary, which holds at most 300 characters.
        assert 0 < len(PROMPT_MESSAGES[rule.id]) <= 300


def test_every_rule_is_listed_in_docs_sources() -> None:
    from pathlib import Path

    sources = (Path(__file__).parents[3] / "docs" / "sources.md").read_text(encoding="utf-8")
    for rule in PROMPT_RULES:
        assert f"`{rule.id}`" in sources, rule.id


def test_nothing_answered_fires_nothing() -> None:
    assert fired() == []


# --- Boundaries: (measurements, answers) → prompts fired ---------------------------------------------------

BREATHLESS = {"breathless_at_rest": True}
CHOKING = {"choking_on_food": True}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    # AAN / Medicare: FVC < 50 % predicted (strictly below).
    ("FVC 49.9", {"fvc_percent": 49.9}, {}, ["niv_assessment_fvc"]),
    ("FVC 50", {"fvc_percent": 50}, {}, []),
    # AAN: SNP < 40 cmH₂O (strictly below).
    ("SNIP 39.9", {"snip_cmh2o": 39.9}, {}, ["niv_assessment_snip"]),
    ("SNIP 40 alone", {"snip_cmh2o": 40}, {}, []),
    # Leigh 2003: a symptom and FVC ≤ 80 % (inclusive) or SNP ≤ 40 (inclusive).
    ("FVC 80 with breathlessness", {"fvc_percent": 80}, BREATHLESS, ["niv_assessment_symptoms"]),
    ("FVC 80.1 with breathlessness", {"fvc_percent": 80.1}, BREATHLESS, []),
    ("FVC 80 without symptoms", {"fvc_percent": 80}, {}, []),
    ("SNIP 40 with orthopnoea", {"snip_cmh2o": 40}, {"orthopnea": True}, ["niv_assessment_symptoms"]),
    ("SNIP 40.1 with orthopnoea", {"snip_cmh2o": 40.1}, {"orthopnea": True}, []),
    ("FVC 70 with morning headache", {"fvc_percent": 70}, {"morning_headache": True}, ["niv_assessment_symptoms"]),
    ("FVC 70, sleepy only (Epworth not asked)", {"fvc_percent": 70}, {"daytime_sleepiness": True}, []),
    ("symptom but nothing measured", {}, BREATHLESS, []),
    (
        "FVC 45 with breathlessness: both NIV prompts",
        {"fvc_percent": 45},
        BREATHLESS,
        ["niv_assessment_fvc", "niv_assessment_symptoms"],
    ),
    # EFNS 2012 malnutrition: loss ≥ 10 % of usual weight (the source says > 10 %; see prompts.py).
    ("loss exactly 10 %", {}, {"weight_kg": 63, "usual_weight_kg": 70}, ["gastrostomy_weight_loss"]),
    ("loss 9.9 %", {}, {"weight_kg": 90.1, "usual_weight_kg": 100}, []),
    ("weight gain", {}, {"weight_kg": 80, "usual_weight_kg": 70}, []),
    ("only today's weight", {}, {"weight_kg": 50}, []),
    # AAN PEG risk bands: 30–50 % moderate (both ends inclusive) with swallowing problems.
    ("FVC 50 with choking", {"fvc_percent": 50}, CHOKING, ["gastrostomy_before_fvc_falls"]),
    ("FVC 50.1 with choking", {"fvc_percent": 50.1}, CHOKING, []),
    (
        "FVC 30 cannot take food",
        {"fvc_percent": 30},
        {"cannot_take_food_fluids_meds": True},
        ["niv_assessment_fvc", "gastrostomy_before_fvc_falls"],
    ),
    ("FVC 40 without swallowing problems", {"fvc_percent": 40}, {}, ["niv_assessment_fvc"]),
    (
        "FVC 29.9 with choking: high-risk band",
        {"fvc_percent": 29.9},
        CHOKING,
        ["niv_assessment_fvc", "gastrostomy_high_procedural_risk"],
    ),
]


@pytest.mark.parametrize(("measurements", "answers", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_prompt_boundaries(measurements: dict[str, Any], answers: dict[str, Any], expected: list[str]) -> None:
    assert fired(measurements, **answers) == expected


def test_a_prompt_carries_its_message_and_source() -> None:
    (prompt,) = prompts_for(CheckIn(), Measurements(fvc_percent=45))
    assert prompt.message == PROMPT_MESSAGES["niv_assessment_fvc"]
    assert "AAN 2009" in prompt.source


# --- Measurements are validated, naming the field --------------------------------------------------------

BAD = [
    ("fvc_percent", 9.9),
    ("fvc_percent", 150.1),
    ("snip_cmh2o", -1),
    ("snip_cmh2o", 200.5),
    ("spo2_percent", 49),
    ("spo2_percent", 101),
    ("fvc_percent", True),
    ("fvc_percent", "45"),
    ("spo2_percent", float("nan")),
    ("snip_cmh2o", float("inf")),
]


@pytest.mark.parametrize(("field", "value"), BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_bad_measurements_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        Measurements(**{field: value})  # type: ignore[arg-type]
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("field", "value"), [("fvc_percent", 10), ("fvc_percent", 150), ("snip_cmh2o", 0), ("spo2_percent", 100)]
)
def test_limits_are_inclusive(field: str, value: int) -> None:
    assert getattr(Measurements(**{field: value}), field) == float(value)

"""Check-in triage rule table (clinical-reference §8; the tier split is a derivation awaiting sign-off)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscare.clinical.errors import InvalidInput
from alscare.clinical.triage import (
    CHECK_IN_FIELDS,
    MEDICINE_SYNONYMS,
    QUESTIONS_MAX_CHARS,
    RULES,
    TIER_ORDER,
    CheckIn,
    Tier,
    rule_message,
    triage,
)

BOOL_FIELDS = sorted(name for name, spec in CHECK_IN_FIELDS.items() if spec.kind == "bool")


def run(**answers: Any) -> tuple[Tier, list[str]]:
    result = triage(CheckIn.from_mapping(answers))
    return result.tier, [reason.rule for reason in result.reasons]


# --- Contract over the whole table ------------------------------------------------------------------

# rule id → the smallest check-in that fires it.
FIRING: dict[str, dict[str, Any]] = {
    "chest_pain_severe": {"chest_pain_severe": True},
    "breathing_sudden_trouble": {"breathing_sudden_trouble": True},
    "choking_not_clearing": {"choking_not_clearing": True},
    "breathless_at_rest_with_danger_signs": {"breathless_at_rest": True, "blue_lips": True},
    "blue_lips": {"blue_lips": True},
    "confused_or_drowsy": {"confused_or_drowsy": True},
    "ventilator_problem": {"ventilator_problem": True},
    "fever_with_breathlessness": {"fever": True, "breathless_at_rest": True},
    "self_harm_thoughts": {"self_harm_thoughts": True},
    "breathless_at_rest": {"breathless_at_rest": True},
    "possible_chest_infection": {"cough": True},
    "riluzole_fever": {"fever": True, "medicines": ["riluzole"]},
    "riluzole_cough_or_breathless": {"cough": True, "medicines": ["riluzole"]},
    "tofersen_warning_signs": {"headache_new": True, "medicines": ["tofersen"]},
    "orthopnea": {"orthopnea": True},
    "morning_headache": {"morning_headache": True},
    "daytime_sleepiness": {"daytime_sleepiness": True},
    "choking_on_food": {"choking_on_food": True},
    "cannot_take_food_fluids_meds": {"cannot_take_food_fluids_meds": True},
    "weight_loss": {"weight_kg": 66.5, "usual_weight_kg": 70},
    "depressed_cannot_cope": {"depressed_cannot_cope": True},
    "fall": {"fall": True},
    "noted_weakness_new": {"weakness_new": True},
    "noted_cramps": {"cramps": True},
    "noted_stiffness": {"stiffness": True},
    "noted_twitching": {"twitching": True},
    "noted_drooling": {"drooling": True},
    "noted_slurred_speech": {"slurred_speech": True},
    "noted_fatigue": {"fatigue": True},
    "noted_headache_new": {"headache_new": True},
    "noted_vision_change": {"vision_change": True},
    "noted_back_pain_new": {"back_pain_new": True},
    "noted_questions": {"questions": "Can I still drive?"},
}


def test_firing_table_covers_the_rule_table_exactly() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    assert set(FIRING) == set(ids)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_has_source_wording_and_fires(rule: Any) -> None:
    assert rule.id
    assert rule.source.strip()
    assert rule_message(rule.id).strip()
    check_in = CheckIn.from_mapping(FIRING[rule.id])
    assert rule.applies(check_in)
    result = triage(check_in)
    assert rule.id in [reason.rule for reason in result.reasons]
    assert result.tier.rank >= rule.tier.rank


def test_no_rule_fires_on_an_empty_check_in() -> None:
    assert not [rule.id for rule in RULES if rule.applies(CheckIn())]


def test_check_in_fields_declared_once() -> None:
    assert [f.name for f in dataclasses.fields(CheckIn)] == list(CHECK_IN_FIELDS)
    for name, spec in CHECK_IN_FIELDS.items():
        assert spec.name == name
        assert spec.kind in {"bool", "number", "text", "list"}
        assert spec.label.strip()


def test_tiers_are_ordered() -> None:
    assert TIER_ORDER == (Tier.ROUTINE, Tier.CONTACT_TEAM, Tier.EMERGENCY)
    assert Tier.ROUTINE.rank < Tier.CONTACT_TEAM.rank < Tier.EMERGENCY.rank
    assert Tier.EMERGENCY.value == "emergency"


# --- Each tier end to end -----------------------------------------------------------------------------


def test_nothing_reported_is_routine_with_no_reasons() -> None:
    result = triage(CheckIn.from_mapping({}))
    assert result.tier is Tier.ROUTINE
    assert result.reasons == ()


def test_routine_symptoms_are_recorded() -> None:
    expected = (Tier.ROUTINE, ["noted_cramps", "noted_drooling"])
    assert run(cramps=True, drooling=True, questions="  ") == expected


def test_contact_team() -> None:
    result = triage(CheckIn.from_mapping({"orthopnea": True}))
    assert result.tier is Tier.CONTACT_TEAM
    (reason,) = result.reasons
    assert reason.rule == "orthopnea"
    assert "NG42" in reason.source
    assert reason.message == rule_message("orthopnea")


def test_emergency() -> None:
    assert run(choking_not_clearing=True) == (Tier.EMERGENCY, ["choking_not_clearing"])


def test_self_harm_is_an_emergency_with_crisis_guidance() -> None:
    result = triage(CheckIn.from_mapping({"self_harm_thoughts": True}))
    assert result.tier is Tier.EMERGENCY
    message = result.reasons[0].message.lower()
    assert "emergency number" in message
    assert "crisis" in message
    assert "not alone" in message


def test_highest_tier_wins_and_every_reason_is_listed_most_urgent_first() -> None:
    tier, rules = run(cramps=True, fall=True, ventilator_problem=True, orthopnea=True)
    assert tier is Tier.EMERGENCY
    assert rules == ["ventilator_problem", "orthopnea", "fall", "noted_cramps"]


# --- Particular rules -----------------------------------------------------------------------------------


def test_breathless_at_rest_alone_is_contact_team() -> None:
    assert run(breathless_at_rest=True) == (Tier.CONTACT_TEAM, ["breathless_at_rest"])


@pytest.mark.parametrize("danger_sign", ["blue_lips", "confused_or_drowsy"])
def test_breathless_at_rest_with_danger_sign_is_emergency(danger_sign: str) -> None:
    tier, rules = run(breathless_at_rest=True, **{danger_sign: True})
    assert tier is Tier.EMERGENCY
    assert rules[0] == "breathless_at_rest_with_danger_signs"


@pytest.mark.parametrize("name", ["Rilutek 50 mg", "TIGLUTIK", "teglutik oral suspension", "Exservan film"])
def test_riluzole_brand_name_with_fever(name: str) -> None:
    tier, rules = run(fever=True, medicines=["paracetamol", name])
    assert tier is Tier.CONTACT_TEAM
    assert "riluzole_fever" in rules


def test_fever_without_riluzole_does_not_fire_the_riluzole_rule() -> None:
    assert run(fever=True, medicines=["baclofen"]) == (Tier.CONTACT_TEAM, ["possible_chest_infection"])
    assert run(fever=True) == (Tier.CONTACT_TEAM, ["possible_chest_infection"])


def test_riluzole_without_fever_is_not_flagged() -> None:
    assert run(medicines=["riluzole"]) == (Tier.ROUTINE, [])


def test_medicine_names_match_whole_words_only() -> None:
    assert not CheckIn(medicines=("riluzolex",)).takes("riluzole")
    assert CheckIn(medicines=("(Rilutek)",)).takes("riluzole")
    assert MEDICINE_SYNONYMS["tofersen"] >= {"tofersen", "qalsody"}


@pytest.mark.parametrize("sign", ["headache_new", "vision_change", "back_pain_new", "weakness_new"])
@pytest.mark.parametrize("name", ["Qalsody", "tofersen 100 mg intrathecal"])
def test_tofersen_warning_signs(sign: str, name: str) -> None:
    tier, rules = run(medicines=[name], **{sign: True})
    assert tier is Tier.CONTACT_TEAM
    assert rules == ["tofersen_warning_signs", f"noted_{sign}"]


def test_tofersen_signs_without_tofersen_are_routine() -> None:
    assert run(headache_new=True) == (Tier.ROUTINE, ["noted_headache_new"])
    assert run(medicines=["Qalsody"], cramps=True) == (Tier.ROUTINE, ["noted_cramps"])


@pytest.mark.parametrize(
    ("weight", "usual", "fires"),
    [
        (95.0, 100.0, True),  # exactly 5 %
        (76.0, 80.0, True),  # exactly 5 %
        (28.69, 30.2, True),  # exactly 5 %, though plain float division gives 4.999999999999993
        (60.04, 63.2, True),  # exactly 5 %
        (95.1, 100.0, False),  # 4.9 %
        (66.6, 70.0, False),  # 4.86 %
        (90.0, 100.0, True),
        (105.0, 100.0, False),  # a gain
    ],
)
def test_weight_loss_boundary(weight: float, usual: float, fires: bool) -> None:
    _, rules = run(weight_kg=weight, usual_weight_kg=usual)
    assert ("weight_loss" in rules) is fires


def test_weight_without_usual_weight_does_not_fire() -> None:
    assert run(weight_kg=50) == (Tier.ROUTINE, [])


# --- Refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sore_throat", True),
        ("fever", "yes"),
        ("fever", 1),
        ("weight_kg", True),
        ("weight_kg", "70"),
        ("weight_kg", -70),
        ("weight_kg", 0),
        ("usual_weight_kg", 400.5),
        ("usual_weight_kg", 300.1),
        ("weight_kg", 0.5),  # issue 7: 0.5 kg was accepted; an adult's weight is 20-300 kg
        ("weight_kg", 19.9),
        ("usual_weight_kg", float("nan")),
        ("questions", 42),
        ("questions", "x" * (QUESTIONS_MAX_CHARS + 1)),
        ("medicines", "riluzole"),
        ("medicines", ["riluzole", 5]),
    ],
)
def test_bad_input_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        CheckIn.from_mapping({field: value})
    assert caught.value.field == field


def test_limits_are_inclusive() -> None:
    check_in = CheckIn.from_mapping(
        {"weight_kg": 300, "usual_weight_kg": 20, "questions": "x" * QUESTIONS_MAX_CHARS, "fever": None}
    )
    assert (check_in.weight_kg, check_in.usual_weight_kg) == (300.0, 20.0)
    assert check_in.fever is None


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        CheckIn(weight_kg=-1)
    assert caught.value.field == "weight_kg"


# --- Adding a symptom never lowers the tier ----------------------------------------------------------

check_ins = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.booleans() for name in BOOL_FIELDS},
        "weight_kg": st.floats(min_value=30, max_value=150),
        "usual_weight_kg": st.floats(min_value=30, max_value=150),
        "medicines": st.lists(st.sampled_from(["riluzole", "Qalsody", "baclofen", "Rilutek"]), max_size=3),
        "questions": st.text(max_size=20),
    },
)


@given(check_ins, st.sampled_from(BOOL_FIELDS))
def test_adding_a_symptom_never_lowers_the_tier(answers: dict[str, Any], symptom: str) -> None:
    before = triage(CheckIn.from_mapping(answers))
    after = triage(CheckIn.from_mapping({**answers, symptom: True}))
    assert after.tier.rank >= before.tier.rank
    assert {r.rule for r in before.reasons} <= {r.rule for r in after.reasons}


@given(check_ins)
def test_reasons_are_sorted_and_the_tier_is_the_highest(answers: dict[str, Any]) -> None:
    result = triage(CheckIn.from_mapping(answers))
    tiers = {rule.id: rule.tier for rule in RULES}
    ranks = [tiers[reason.rule].rank for reason in result.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert result.tier.rank == max(ranks, default=Tier.ROUTINE.rank)

"""ALSFRS-R items, wording, validation and scoring.

Scale: Cedarbaum et al., J Neurol Sci 1999;169:13-21. Domains: Bakker et al., J Neurol 2017 (PMC5502060);
calcmd.com ALSFRS-R calculator. Rules as written in docs/sources.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscare.clinical.alsfrs_r import (
    ITEM_IDS,
    ITEMS,
    AdministrationMode,
    Assessment,
    Domain,
    Item,
    item,
)
from alscare.clinical.errors import InvalidInput
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.clinical.wording import load_wording

ALL_NORMAL: Mapping[str, int] = {i: 4 for i in ITEM_IDS if i != "5b"}


def answers(overrides: Mapping[str, object] = {}, *, gastrostomy: bool = False) -> dict[str, object]:
    """All-normal answers (every item 4) with 5a or 5b as asked, then ``overrides`` applied."""
    result: dict[str, object] = dict(ALL_NORMAL)
    if gastrostomy:
        del result["5a"]
        result["5b"] = 4
    result.update(overrides)
    return result


@st.composite
def answer_sets(draw: st.DrawFn, gastrostomy: bool | None = None) -> dict[str, int]:
    """Any valid answer set: every item 0-4 and exactly one of 5a/5b (Cedarbaum 1999)."""
    tube = draw(st.booleans()) if gastrostomy is None else gastrostomy
    skipped = "5a" if tube else "5b"
    return {i: draw(st.integers(0, 4)) for i in ITEM_IDS if i != skipped}


# --- The items, as data --------------------------------------------------------------------------------


def test_thirteen_items_in_question_order_with_domains() -> None:
    """12 items with 5a/5b as alternatives; bulbar 1-3, fine motor 4-6, gross 7-9, respiratory 10-12.

    Source: Cedarbaum 1999; domain split from calcmd.com and Bakker 2017.
    """
    assert [it.id for it in ITEMS] == ["1", "2", "3", "4", "5a", "5b", "6", "7", "8", "9", "10", "11", "12"]
    assert tuple(it.id for it in ITEMS) == ITEM_IDS
    assert [it.number for it in ITEMS] == [1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12]
    by_domain = {d: [it.id for it in ITEMS if it.domain is d] for d in Domain}
    assert by_domain == {
        Domain.BULBAR: ["1", "2", "3"],
        Domain.FINE_MOTOR: ["4", "5a", "5b", "6"],
        Domain.GROSS_MOTOR: ["7", "8", "9"],
        Domain.RESPIRATORY: ["10", "11", "12"],
    }


@pytest.mark.parametrize("it", ITEMS, ids=lambda it: it.id)
def test_every_item_has_five_labelled_answers_from_4_down_to_0(it: Item) -> None:
    """Each item is scored 4 (normal) to 0 (no function); every score has its own words (Cedarbaum 1999)."""
    assert it is item(it.id)
    assert [o.score for o in it.options] == [4, 3, 2, 1, 0]
    labels = [o.label for o in it.options]
    assert all(label.strip() for label in labels)
    assert len(set(labels)) == 5
    assert it.name.strip() and it.question.strip()


def _texts() -> list[str]:
    return [t for it in ITEMS for t in (it.name, it.question, *(o.label for o in it.options))]


def test_wording_is_plain_short_sentences() -> None:
    """Our own plain words: no sentence over 20 words (reading age about 11; style.md, brief)."""
    for text in _texts():
        for sentence in re.split(r"[.?!]", text):
            assert len(sentence.split()) <= 20, sentence


@pytest.mark.parametrize(
    "licensed_phrase",
    [
        "detectable speech disturbance",
        "intelligible with repeating",
        "loss of useful speech",
        "nonambulatory functional movement",
        "considering using mechanical respiratory support",
        "provides minimal assistance to caregiver",
    ],
)
def test_wording_does_not_copy_the_licensed_text(licensed_phrase: str) -> None:
    """The product ships its own words, not the licensed Cedarbaum 1999 anchors (clinical-reference.md §1)."""
    assert all(licensed_phrase not in text.lower() for text in _texts())


def test_wording_names_every_domain_and_administration_mode() -> None:
    """Labels for domains (Bakker 2017) and administration modes (Kaufmann 2007; Maier 2025) exist."""
    wording = load_wording("alsfrs_r.en")
    assert set(wording["domains"]) == {d.value for d in Domain}
    assert set(wording["administration_modes"]) == {m.value for m in AdministrationMode}


def test_load_wording_hands_out_copies_and_refuses_odd_names() -> None:
    """Wording is cached but a caller's edits cannot leak to the next caller; names cannot be paths."""
    first = load_wording("alsfrs_r.en")
    first["items"]["1"]["name"] = "changed"
    assert load_wording("alsfrs_r.en")["items"]["1"]["name"] == "Speech"
    with pytest.raises(ValueError):
        load_wording("../errors")


def test_unknown_item_lookup_names_the_field() -> None:
    """Only items 1-12 with 5a/5b exist (Cedarbaum 1999)."""
    with pytest.raises(InvalidInput) as caught:
        item("5")
    assert caught.value.field == "items.5"


# --- Scoring ------------------------------------------------------------------------------------------


def test_worked_example_total_and_domains() -> None:
    """Hand-checked: bulbar 4+3+3=10, fine 2+3+2=7, gross 3+2+1=6, respiratory 3+4+4=11, total 34.

    Scoring: Cedarbaum 1999 (sum of 12 items); domains: Bakker 2017 / calcmd.com.
    """
    a = Assessment.from_answers(
        {"1": 4, "2": 3, "3": 3, "4": 2, "5a": 3, "6": 2, "7": 3, "8": 2, "9": 1, "10": 3, "11": 4, "12": 4}
    )
    assert a.total == 34
    assert a.domains == {
        Domain.BULBAR: 10,
        Domain.FINE_MOTOR: 7,
        Domain.GROSS_MOTOR: 6,
        Domain.RESPIRATORY: 11,
    }
    assert a.gastrostomy is False
    assert a.score(5) == 3
    assert a.score(9) == 1


def test_item_5b_counts_as_item_5_and_marks_gastrostomy() -> None:
    """5b replaces 5a for a person with a gastrostomy; the total still has 12 items (Cedarbaum 1999)."""
    a = Assessment.from_answers(answers({"5b": 1}, gastrostomy=True))
    assert a.gastrostomy is True
    assert a.score(5) == 1
    assert a.total == 45
    assert a.domains[Domain.FINE_MOTOR] == 9


def test_extremes() -> None:
    """All normal scores 48, no function scores 0 (Cedarbaum 1999)."""
    assert Assessment.from_answers(answers()).total == 48
    assert Assessment.from_answers(dict.fromkeys(answers(), 0)).total == 0


@given(answer_sets())
def test_total_and_domains_stay_in_bounds_and_add_up(raw: dict[str, int]) -> None:
    """Total 0-48, each domain 0-12, total = sum of the four domains (Cedarbaum 1999; Bakker 2017)."""
    a = Assessment.from_answers(raw)
    assert 0 <= a.total <= 48
    assert set(a.domains) == set(Domain)
    assert all(0 <= v <= 12 for v in a.domains.values())
    assert a.total == sum(a.domains.values()) == sum(raw.values())
    assert a.total == sum(a.score(n) for n in range(1, 13))


@given(answer_sets(), st.data())
def test_lowering_one_answer_never_improves_score_or_stage(raw: dict[str, int], data: st.DataObject) -> None:
    """Losing function on one item never raises the total nor lowers King's or MiToS stage.

    A score where 4 is normal must be monotone (Cedarbaum 1999); King's (Balendra 2014) and MiToS (Chiò 2015)
    count items at or below thresholds, so they can only rise. Gastrostomy (5a vs 5b) is held fixed.
    """
    lowerable = [k for k, v in raw.items() if v > 0]
    if not lowerable:
        return
    key = data.draw(st.sampled_from(lowerable))
    worse = dict(raw, **{key: data.draw(st.integers(0, raw[key] - 1))})
    before, after = Assessment.from_answers(raw), Assessment.from_answers(worse)
    assert after.total < before.total
    assert kings_stage(after).stage >= kings_stage(before).stage
    assert mitos_stage(after).stage >= mitos_stage(before).stage


def test_answers_are_read_only_and_equal_assessments_hash_alike() -> None:
    """An assessment is a value: it cannot be edited after validation (style.md: immutable core)."""
    a = Assessment.from_answers(answers())
    with pytest.raises(TypeError):
        a.answers["1"] = 0  # type: ignore[index]
    assert a == Assessment.from_answers(answers())
    assert hash(a) == hash(Assessment.from_answers(answers()))


# --- Validation ---------------------------------------------------------------------------------------


def _refusal(raw: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        Assessment.from_answers(raw)  # type: ignore[arg-type]
    return caught.value


def test_both_5a_and_5b_is_refused_on_5b() -> None:
    """Exactly one of 5a/5b (Cedarbaum 1999; PRO-ACT treats both as an error, yoonhohong/proact)."""
    error = _refusal(answers({"5b": 3}))
    assert error.field == "items.5b"
    assert "answer item 5a or 5b, not both" in error.message


def test_neither_5a_nor_5b_is_refused_on_5a() -> None:
    """Item 5 must be answered in one of its two forms (Cedarbaum 1999)."""
    raw = answers()
    del raw["5a"]
    assert _refusal(raw).field == "items.5a"


@pytest.mark.parametrize("missing", ["1", "4", "6", "8", "12"])
def test_missing_item_is_refused_by_name(missing: str) -> None:
    """All 12 items are needed for a total (Cedarbaum 1999)."""
    raw = answers()
    del raw[missing]
    assert _refusal(raw).field == f"items.{missing}"


@pytest.mark.parametrize("key", ["13", "0", "5", "5c", "speech", ""])
def test_unknown_item_is_refused_by_name(key: str) -> None:
    """Only items 1-12 with 5a/5b exist (Cedarbaum 1999)."""
    error = _refusal(answers({key: 4}))
    assert error.field == f"items.{key}"
    assert "unknown item" in error.message


def test_non_text_item_key_is_refused() -> None:
    """Item ids are text ("1", "5a"); an int key is a caller bug, refused rather than guessed."""
    raw: dict[object, object] = {1: 4, **{k: v for k, v in answers().items() if k != "1"}}
    assert _refusal(raw).field == "items.1"


@pytest.mark.parametrize("value", [True, False, 3.0, 2.5, "3", None, 5, -1, 100])
def test_answer_must_be_a_whole_number_0_to_4(value: object) -> None:
    """Each item is scored 0-4 (Cedarbaum 1999); bools, floats and strings are refused, not coerced."""
    error = _refusal(answers({"3": value}))
    assert error.field == "items.3"
    assert "0" in error.message and "4" in error.message


def test_not_a_mapping_is_refused() -> None:
    """Answers are keyed by item id."""
    assert _refusal([4] * 12).field == "items"


def test_direct_construction_validates_too() -> None:
    """There is no way round validation: an invalid Assessment cannot exist."""
    with pytest.raises(InvalidInput) as caught:
        Assessment(answers={"1": 4})
    assert caught.value.field.startswith("items.")


@pytest.mark.parametrize("number", [0, 13, -1, True])
def test_score_by_number_refuses_numbers_outside_1_to_12(number: int) -> None:
    """Printed question numbers run 1-12 (Cedarbaum 1999)."""
    with pytest.raises(InvalidInput) as caught:
        Assessment.from_answers(answers()).score(number)
    assert caught.value.field == "number"

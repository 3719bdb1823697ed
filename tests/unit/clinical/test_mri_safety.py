"""MRI safety checklist: every "yes" and "not sure" is flagged for the MRI team, and so is every unanswered
question; only "no" is not (ACR Manual on MR Safety 2020; UK MHRA MRI guidance)."""

from __future__ import annotations

import pytest

from alscare.clinical.errors import InvalidInput
from alscare.clinical.mri_safety import ITEM_IDS, flags, parse_answers, questions

REQUIRED_ITEMS = {
    "pacemaker_or_defibrillator",
    "cochlear_implant",
    "metal_in_eyes",
    "aneurysm_clips",
    "implanted_pump_or_stimulator",
    "shrapnel_or_bullet",
    "recent_surgery",
    "tattoos",
    "pregnant",
}


def test_the_checklist_asks_every_question_the_issue_names() -> None:
    assert set(ITEM_IDS) >= REQUIRED_ITEMS
    assert all(q.endswith("?") for q in questions().values())


@pytest.mark.parametrize(
    ("answers", "flagged"),
    [
        ({i: "no" for i in ITEM_IDS}, []),
        ({i: "no" for i in ITEM_IDS} | {"pacemaker_or_defibrillator": "yes"}, [("pacemaker_or_defibrillator", "yes")]),
        ({i: "no" for i in ITEM_IDS} | {"metal_in_eyes": "unsure"}, [("metal_in_eyes", "unsure")]),
        ({i: "no" for i in ITEM_IDS if i != "pregnant"}, [("pregnant", None)]),
    ],
)
def test_yes_unsure_and_unanswered_are_flagged_no_is_not(
    answers: dict[str, str], flagged: list[tuple[str, str | None]]
) -> None:
    assert [(f.item, f.answer) for f in flags(parse_answers(answers))] == flagged


def test_flags_keep_page_order() -> None:
    answers = parse_answers({i: "yes" for i in ITEM_IDS})
    assert [f.item for f in flags(answers)] == list(ITEM_IDS)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"pacemaker_or_defibrillator": "maybe"}, "answers.pacemaker_or_defibrillator"),
        ({"x_ray": "no"}, "answers.x_ray"),
    ],
)
def test_bad_answers_name_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_answers(raw)
    assert e.value.field == field


def test_blank_answers_are_unanswered() -> None:
    assert parse_answers({"tattoos": "", "pregnant": None}) == {}

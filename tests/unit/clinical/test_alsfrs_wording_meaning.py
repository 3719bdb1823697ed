"""Each ALSFRS-R answer keeps the meaning of the scale, in our own words, at reading grade 8 or below.

Meanings: Cedarbaum et al., J Neurol Sci 1999;169:13-21, as paraphrased in /work/shared/clinical-reference.md
§1, and the self-entry form ALSFRS-R-SE (Maier et al., Muscle Nerve 2025, PMC12803583) with the clinical
review of 2026-12 (ENCALS ALSFRS-R SOP v1.2): item 1 answer 3 is a change the person *or* those close to them
notice; item 1 answer 2 is *frequent* repetition; for items 8 and 9 help from a device counts as help.

The table pins, for every item and score, phrases that must appear (the meaning) and phrases that must not
(the old, wrong meaning). A wording change that drifts from the scale fails here by item and score.
"""

from __future__ import annotations

import pytest
import textstat

from alscare.clinical.alsfrs_r import ITEMS, Item, item

# item id -> score -> (phrases that must appear, phrases that must not); all lower case.
MEANING: dict[str, dict[int, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "1": {
        4: (("normal",), ()),
        3: (("you, or people close to you", "noticed a change"), ("other people can notice",)),
        2: (("often", "say things again"), ("sometimes",)),
        1: (("other ways to be understood", "writing"), ()),
        0: (("cannot use your voice",), ()),
    },
    "2": {
        4: (("normal",), ()),
        3: (("a little too much", "at night"), ()),
        2: (("quite a lot", "in the day"), ()),
        1: (("a lot of extra saliva", "dribble"), ()),
        0: (("all the time", "tissue"), ()),
    },
    "3": {
        4: (("as normal",), ()),
        3: (("some trouble", "now and then you choke"), ()),
        2: (("changed what you eat", "softer food"), ()),
        1: (("some of your food through a feeding tube",), ()),
        0: (("nothing by mouth",), ()),
    },
    "4": {
        4: (("normal",), ()),
        3: (("slowly", "read every word"), ()),
        2: (("cannot read some of the words",), ()),
        1: (("hold a pen", "cannot write"), ()),
        0: (("cannot hold a pen",), ()),
    },
    "5a": {
        4: (("as normal",), ()),
        3: (("slow or clumsy", "do not need help"), ()),
        2: (("cut most food", "some help"), ()),
        1: (("someone else has to cut up your food", "feed yourself"), ()),
        0: (("someone else has to feed you",), ()),
    },
    "5b": {
        4: (("as normal",), ()),
        3: (("clumsy", "every step yourself"), ()),
        2: (("some help with caps",), ()),
        1: (("someone else does it", "help them a little"), ()),
        0: (("cannot do any part",), ()),
    },
    "6": {
        4: (("as normal",), ()),
        3: (("all yourself", "more effort or more time"), ()),
        2: (("sometimes you need help", "other ways"), ()),
        1: (("need someone to help you",), ()),
        0: (("do it all for you",), ()),
    },
    "7": {
        4: (("as normal",), ()),
        3: (("slow or clumsy", "do not need help"), ()),
        2: (("yourself", "very hard"), ()),
        1: (("start", "cannot finish without help"), ()),
        0: (("cannot do it at all",), ()),
    },
    "8": {
        4: (("normal",), ()),
        3: (("some trouble walking", "no help"), ()),
        2: (("only walk with help", "a person", "stick", "frame", "ankle brace"), ()),
        1: (("cannot walk", "move your legs on purpose"), ()),
        0: (("cannot move your legs on purpose",), ()),
    },
    "9": {
        4: (("as normal",), ()),
        3: (("slow", "no help"), ()),
        2: (("unsteady or tired", "no help"), ()),
        1: (("need help", "a person", "handrail", "stick"), ()),
        0: (("cannot climb stairs",), ()),
    },
    "10": {
        4: (("never",), ()),
        3: (("when you walk",), ()),
        2: (("eat", "wash", "dressed"), ()),
        1: (("rest", "sitting down or lying down"), ()),
        0: (("very hard", "machine to help you breathe"), ()),
    },
    "11": {
        4: (("no",), ()),
        3: (("a bit harder to sleep", "no more than two pillows"), ()),
        2: (("more than two pillows",), ()),
        1: (("only sleep sitting up",), ()),
        0: (("cannot sleep",), ()),
    },
    "12": {
        4: (("no",), ()),
        3: (("mask", "some of the time"), ()),
        2: (("mask", "all through the night"), ()),
        1: (("mask", "all night and all day"), ()),
        0: (("tube in your throat",), ()),
    },
}

# Items whose question must say that a device counts as help (clinical review; ALSFRS-R-SE).
DEVICE_COUNTS_AS_HELP = {"8": ("stick", "frame", "ankle brace"), "9": ("handrail", "stick")}


def test_the_table_covers_every_item_and_score() -> None:
    """No item or answer escapes the check."""
    assert set(MEANING) == {it.id for it in ITEMS}
    assert all(sorted(scores) == [0, 1, 2, 3, 4] for scores in MEANING.values())


@pytest.mark.parametrize(
    ("item_id", "score"), [(i, s) for i, scores in MEANING.items() for s in sorted(scores, reverse=True)]
)
def test_answer_keeps_the_scale_meaning(item_id: str, score: int) -> None:
    """The answer's words carry the scale's meaning for that score and not a known wrong one."""
    label = {o.score: o.label for o in item(item_id).options}[score].lower()
    must, must_not = MEANING[item_id][score]
    for phrase in must:
        assert phrase in label, (item_id, score, phrase, label)
    for phrase in must_not:
        assert phrase not in label, (item_id, score, phrase, label)


@pytest.mark.parametrize("item_id", sorted(DEVICE_COUNTS_AS_HELP))
def test_walking_and_stairs_questions_say_a_device_counts_as_help(item_id: str) -> None:
    """Device-assisted walking or climbing is not normal function (ENCALS SOP; clinical-reference.md §1)."""
    question = item(item_id).question.lower()
    assert "counts as help" in question
    for device in DEVICE_COUNTS_AS_HELP[item_id]:
        assert device in question


@pytest.mark.parametrize("it", ITEMS, ids=lambda it: it.id)
def test_question_and_answers_read_at_grade_8_or_below(it: Item) -> None:
    """Patient-facing text at reading grade 8 or below (developer guide), measured per question and answer."""
    for text in (it.question, *(o.label for o in it.options)):
        assert textstat.flesch_kincaid_grade(text) <= 8.0, text

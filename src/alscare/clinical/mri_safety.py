"""The MRI safety checklist: the questions an MRI team asks about implants and metal before a scan.

Why it is here: an MRI uses a very strong magnet, so a pacemaker, a hearing implant, metal in the eyes or an
aneurysm clip can be dangerous, and people newly referred for tests do not always know to say so. The
checklist lets the person (or their carer) answer at home; every "yes" **and every "not sure"** is flagged for
the MRI team, who make the decision — alscare never clears anyone for a scan. Unanswered questions are flagged
too, as "not answered". The last item (lying flat, a breathing machine) is not about metal but matters in ALS:
weak breathing muscles can make lying flat in the scanner hard (clinical-reference §6, NICE NG42 1.14.7).

Questions live in ``wording/mri_safety.en.toml``. Pure: parsing and flagging only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from alscare.clinical.errors import InvalidInput
from alscare.clinical.wording import load_wording

__all__ = ["ANSWERS", "ITEM_IDS", "Answer", "Flag", "flags", "parse_answers", "questions"]

Answer = Literal["no", "yes", "unsure"]
ANSWERS: Final[tuple[Answer, ...]] = ("no", "yes", "unsure")
FLAGGED_ANSWERS: Final[frozenset[str]] = frozenset({"yes", "unsure"})


def questions() -> dict[str, str]:
    """Item id → question, in page order."""
    return {item: entry["question"] for item, entry in load_wording("mri_safety.en")["items"].items()}


def answer_labels() -> dict[str, str]:
    labels: dict[str, str] = load_wording("mri_safety.en")["answers"]
    return labels


ITEM_IDS: Final[tuple[str, ...]] = tuple(questions())


def parse_answers(raw: Mapping[str, object]) -> dict[str, Answer]:
    """Untrusted answers (item id → "no"/"yes"/"unsure"); unanswered items are left out. Names the bad field."""
    parsed: dict[str, Answer] = {}
    for item, value in raw.items():
        if item not in ITEM_IDS:
            raise InvalidInput(f"answers.{item}", "unknown question")
        if value is None or value == "":
            continue
        if value not in ANSWERS:
            raise InvalidInput(f"answers.{item}", "must be no, yes or not sure")
        parsed[item] = value
    return parsed


@dataclass(frozen=True)
class Flag:
    item: str
    question: str
    answer: Answer | None  # None: not answered


def flags(answers: Mapping[str, Answer]) -> list[Flag]:
    """Every item the MRI team must look at: answered yes or not sure, or not answered, in page order."""
    asked = questions()
    return [
        Flag(item, asked[item], answers.get(item))
        for item in ITEM_IDS
        if answers.get(item) is None or answers[item] in FLAGGED_ANSWERS
    ]

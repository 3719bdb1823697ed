"""The carer's weekly check on themselves (issue 7, item 6): five questions of our own, and what to suggest.

Why this shape: carers of people with ALS carry a heavy and growing load, and their strain is often missed
because every visit is about the person with ALS. This is not a published scale and has no total: each answer
(0 = best, 3 = worst) either suggests a kind of help or does not, and the answer "I cannot cope" (coping = 3)
offers to tell the care team, only with the carer's say-so. Questions and suggestions live in
``wording/carer_check.en.toml``. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from alscare.clinical.errors import InvalidInput
from alscare.clinical.wording import load_wording

__all__ = [
    "ANSWER_MAX",
    "CANNOT_COPE",
    "QUESTIONS",
    "SUGGEST_FROM",
    "Suggestion",
    "cannot_cope",
    "suggestions",
    "validated",
]

QUESTIONS: Final = ("sleep", "strain", "support", "own_time", "coping")
ANSWER_MAX: Final = 3
# An answer of 2 ("badly", "quite a lot", "not much", "very little", "it is hard") or worse suggests help.
SUGGEST_FROM: Final = 2
CANNOT_COPE: Final = 3  # the coping answer that offers to tell the care team


@dataclass(frozen=True)
class Suggestion:
    question: str
    text: str
    link: str | None


def wording(locale: str = "en") -> dict[str, Any]:
    return load_wording(f"carer_check.{locale}")


def validated(answers: dict[str, object]) -> dict[str, int]:
    """Every question answered with a whole number 0-3; anything else names the question."""
    out: dict[str, int] = {}
    for q in QUESTIONS:
        value = answers.get(q)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= ANSWER_MAX:
            raise InvalidInput(q, "Choose one answer.")
        out[q] = value
    return out


def suggestions(answers: dict[str, int], locale: str = "en") -> list[Suggestion]:
    words = wording(locale)["suggestions"]
    return [Suggestion(q, words[q]["text"], words[q].get("link")) for q in QUESTIONS if answers[q] >= SUGGEST_FROM]


def cannot_cope(answers: dict[str, int]) -> bool:
    return answers["coping"] >= CANNOT_COPE

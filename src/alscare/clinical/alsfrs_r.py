"""ALSFRS-R: the revised ALS Functional Rating Scale, its items, domains and scoring.

The scale has 12 questions, each scored 0-4 (4 = as before the illness, 0 = no function), so the total runs
from 0 to 48 and higher is better (Cedarbaum et al., J Neurol Sci 1999;169:13-21). Question 5 comes in two
forms: 5a for people who eat by mouth and 5b for people with a gastrostomy (feeding tube); exactly one is
answered, so the total still has 12 parts.

Four domain subscores of three items each (bulbar 1-3, fine motor 4-6, gross motor 7-9, respiratory 10-12,
each 0-12) are the usual split (calcmd.com ALSFRS-R calculator; cliot R package) and are supported by
factor analysis (Bakker et al., J Neurol 2017, PMC5502060), whose authors argue domains are more valid than
the total.

Only the scoring lives here. The words people read are alscare's own plain-language text in
``wording/alsfrs_r.en.toml``; see ``docs/sources.md`` for every rule and its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from alscare.clinical.errors import InvalidInput
from alscare.clinical.wording import load_wording

__all__ = [
    "DOMAIN_MAX",
    "GASTROSTOMY_ITEM",
    "ITEMS",
    "ITEM_DOMAINS",
    "ITEM_IDS",
    "NO_GASTROSTOMY_ITEM",
    "SCORE_MAX",
    "SCORE_MIN",
    "TOTAL_MAX",
    "AdministrationMode",
    "AnswerOption",
    "Assessment",
    "Domain",
    "Item",
    "item",
]


class Domain(StrEnum):
    """The four functional domains of the ALSFRS-R (Bakker et al., J Neurol 2017)."""

    BULBAR = "bulbar"
    FINE_MOTOR = "fine_motor"
    GROSS_MOTOR = "gross_motor"
    RESPIRATORY = "respiratory"


class AdministrationMode(StrEnum):
    """How an ALSFRS-R was taken.

    Stored with every assessment because self-, caregiver-, phone- and in-person scores agree closely but
    not perfectly at item level (Kaufmann et al., ALS 2007;8:42-6; Kasarskis et al., ALS 2005;6:50-4;
    Maier et al., Muscle Nerve 2025, PMC12803583), so a change of mode can look like a change of function.
    """

    CLINICIAN_IN_PERSON = "clinician_in_person"
    CLINICIAN_PHONE = "clinician_phone"
    SELF_REPORT = "self_report"
    CAREGIVER = "caregiver"


# --- The scale, as data ------------------------------------------------------------------------------

SCORE_MIN = 0  # no function (Cedarbaum 1999)
SCORE_MAX = 4  # normal, i.e. as before the illness (Cedarbaum 1999)
ITEM_COUNT = 12  # scored items; 5a and 5b are alternatives for the same item 5 (Cedarbaum 1999)
TOTAL_MAX = SCORE_MAX * ITEM_COUNT  # 48
DOMAIN_MAX = SCORE_MAX * 3  # 12: three items per domain

NO_GASTROSTOMY_ITEM = "5a"  # cutting food and handling utensils, eating by mouth
GASTROSTOMY_ITEM = "5b"  # the alternative form for people with a gastrostomy
# Decision (docs/sources.md, "Administration and 5a/5b"): 5b is answered whenever a gastrostomy tube is in
# place, whether or not it is the main route for food. The sources do not say which trigger to use.

# Item id -> domain, in the order the items are asked. Domain split: calcmd.com; cliot; Bakker 2017.
ITEM_DOMAINS: Mapping[str, Domain] = MappingProxyType(
    {
        "1": Domain.BULBAR,
        "2": Domain.BULBAR,
        "3": Domain.BULBAR,
        "4": Domain.FINE_MOTOR,
        "5a": Domain.FINE_MOTOR,
        "5b": Domain.FINE_MOTOR,
        "6": Domain.FINE_MOTOR,
        "7": Domain.GROSS_MOTOR,
        "8": Domain.GROSS_MOTOR,
        "9": Domain.GROSS_MOTOR,
        "10": Domain.RESPIRATORY,
        "11": Domain.RESPIRATORY,
        "12": Domain.RESPIRATORY,
    }
)
ITEM_IDS: tuple[str, ...] = tuple(ITEM_DOMAINS)
_ITEM_5_FORMS = (NO_GASTROSTOMY_ITEM, GASTROSTOMY_ITEM)


def _number_of(item_id: str) -> int:
    """The printed question number: "5a" and "5b" are both question 5."""
    return int(item_id.rstrip("ab"))


@dataclass(frozen=True)
class AnswerOption:
    """One answer to an item: its score and the words shown for it."""

    score: int
    label: str


@dataclass(frozen=True)
class Item:
    """One ALSFRS-R question, with its answers ordered from 4 (normal) down to 0."""

    id: str
    number: int
    domain: Domain
    name: str
    question: str
    options: tuple[AnswerOption, ...]

    def __post_init__(self) -> None:
        expected = tuple(range(SCORE_MAX, SCORE_MIN - 1, -1))
        if tuple(option.score for option in self.options) != expected:
            raise ValueError(f"item {self.id}: options must be scored {expected} in that order")


def _build_items(wording: Mapping[str, Any]) -> tuple[Item, ...]:
    """Join the scoring data above with the words from the TOML file, checking that they match exactly.

    Why check: a missing or extra answer label would otherwise show up only as a broken form in front of a
    patient; failing at import makes it a test failure instead.
    """
    texts = wording["items"]
    if set(texts) != set(ITEM_IDS):
        raise ValueError(f"ALSFRS-R wording must cover items {ITEM_IDS}, found {tuple(texts)}")
    items = []
    for item_id in ITEM_IDS:
        text = texts[item_id]
        labels = {int(score): label for score, label in text["options"].items()}
        if set(labels) != set(range(SCORE_MIN, SCORE_MAX + 1)):
            raise ValueError(f"ALSFRS-R wording for item {item_id} must label every score 0-4")
        items.append(
            Item(
                id=item_id,
                number=_number_of(item_id),
                domain=ITEM_DOMAINS[item_id],
                name=text["name"],
                question=text["question"],
                options=tuple(
                    AnswerOption(score=score, label=labels[score]) for score in range(SCORE_MAX, SCORE_MIN - 1, -1)
                ),
            )
        )
    return tuple(items)


ITEMS: tuple[Item, ...] = _build_items(load_wording("alsfrs_r.en"))
_ITEMS_BY_ID: Mapping[str, Item] = MappingProxyType({it.id: it for it in ITEMS})


def item(id: str) -> Item:
    """Look up an item by its id ("1".."4", "5a", "5b", "6".."12")."""
    try:
        return _ITEMS_BY_ID[id]
    except KeyError:
        raise InvalidInput(f"items.{id}", f"unknown item {id!r}; items are 1-12, with 5a or 5b") from None


# --- Validation --------------------------------------------------------------------------------------


def _validated_score(item_id: str, value: object) -> int:
    """Accept only a whole number 0-4.

    Why so strict: a bool is an int in Python and 3.0 or "3" usually mean a form or import went wrong; a
    silently coerced answer would change a total that clinicians act on.
    """
    field = f"items.{item_id}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            field, f"the answer must be a whole number from 0 to 4, not {type(value).__name__} {value!r}"
        )
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise InvalidInput(field, f"the answer must be from 0 to 4, got {value}")
    return value


def _validated_answers(answers: object) -> dict[str, int]:
    """Check a full answer set and return it as a plain dict in question order.

    Rules (Cedarbaum 1999): every item 1-12 answered; item 5 answered as exactly one of 5a or 5b (PRO-ACT
    preprocessing likewise treats records with both as errors, yoonhohong/proact); each answer 0-4.
    """
    if not isinstance(answers, Mapping):
        raise InvalidInput("items", "expected the answers as a mapping of item id to score")
    for key in answers:
        if not isinstance(key, str) or key not in ITEM_DOMAINS:
            raise InvalidInput(f"items.{key}", f"unknown item {key!r}; items are 1-12, with 5a or 5b")
    given_5 = [form for form in _ITEM_5_FORMS if form in answers]
    if len(given_5) == 2:
        raise InvalidInput(
            f"items.{GASTROSTOMY_ITEM}",
            "answer item 5a or 5b, not both: 5a without a feeding tube, 5b with one",
        )
    if not given_5:
        raise InvalidInput(
            f"items.{NO_GASTROSTOMY_ITEM}",
            "item 5 is missing: answer 5a (no feeding tube) or 5b (with a feeding tube)",
        )
    result: dict[str, int] = {}
    for item_id in ITEM_IDS:
        if item_id in _ITEM_5_FORMS and item_id not in given_5:
            continue
        if item_id not in answers:
            raise InvalidInput(f"items.{item_id}", f"item {item_id} is missing: answer every item 1-12")
        result[item_id] = _validated_score(item_id, answers[item_id])
    return result


# --- The assessment ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """One complete, valid set of ALSFRS-R answers (item id -> score), and what follows from it.

    Construct with :meth:`from_answers`. Direct construction validates too, so an invalid assessment can
    never exist; ``answers`` is stored read-only in question order.
    """

    answers: Mapping[str, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", MappingProxyType(_validated_answers(self.answers)))

    def __hash__(self) -> int:
        return hash(tuple(self.answers.items()))

    @classmethod
    def from_answers(cls, answers: Mapping[str, object]) -> Assessment:
        """Validate raw answers (from a form, an import or a test) and build an assessment.

        Raises :class:`InvalidInput` naming ``items.<id>`` for an unknown item, a missing item, both or
        neither of 5a/5b, or an answer that is not a whole number 0-4.
        """
        return cls(answers=_validated_answers(answers))

    @property
    def gastrostomy(self) -> bool:
        """True when item 5b was answered, i.e. the person has a gastrostomy tube (our 5a/5b rule)."""
        return GASTROSTOMY_ITEM in self.answers

    def score(self, number: int) -> int:
        """The score for printed question ``number`` (1-12); question 5 is whichever of 5a/5b was answered.

        Why by number: staging rules (King's, MiToS) refer to "item 5" without caring which form was used.
        """
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= ITEM_COUNT:
            raise InvalidInput("number", f"question numbers run from 1 to {ITEM_COUNT}, got {number!r}")
        if number == 5:
            return self.answers[GASTROSTOMY_ITEM if self.gastrostomy else NO_GASTROSTOMY_ITEM]
        return self.answers[str(number)]

    @property
    def total(self) -> int:
        """Sum of the 12 answered items, 0-48, higher is better (Cedarbaum 1999)."""
        return sum(self.answers.values())

    @property
    def domains(self) -> dict[Domain, int]:
        """Subscore for each domain, 0-12 each, summing to the total (Bakker 2017; calcmd.com)."""
        subscores = dict.fromkeys(Domain, 0)
        for item_id, value in self.answers.items():
            subscores[ITEM_DOMAINS[item_id]] += value
        return subscores

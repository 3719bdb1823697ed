"""Aids and equipment worth discussing, from the latest ALSFRS-R answers, check-in and measurements.

Why: aids help most when they arrive before they are needed — a voice is banked while speech is still clear,
a wheelchair is fitted before walking fails, a feeding tube is placed while breathing is strong. NICE NG42
(2016) asks teams to assess and provide equipment and communication aids promptly and to plan ahead; the
Charité ALS-App links aid suggestions to ALSFRS-R answers (issue 10). The rules below read the ALSFRS-R
option meanings of clinical-reference §1 (item 1 = 3: a change noticed, still understood; 2: needs frequent
repeating; items 8-9: help means a person or a device). Thresholds from §6 are marked High; the ALSFRS-R
cut points are alscare's reading of the anchors — a suggestion to *discuss*, which errs towards early.

Each rule is a row: id, aid, test, rationale (wording file) and source. A suggestion is never a
prescription: the person sees "worth asking about", the clinic sees why.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from alscare.clinical.errors import InvalidInput
from alscare.clinical.triage import CheckIn
from alscare.clinical.wording import load_wording

__all__ = [
    "AIDS",
    "AID_IDS",
    "AID_RULES",
    "FEEDING_TUBE_FVC_AT_MOST_PERCENT",
    "FEEDING_TUBE_WEIGHT_LOSS_PERCENT",
    "LOW_FVC_BELOW_PERCENT",
    "STATUS_WORDS",
    "Aid",
    "AidInputs",
    "AidRule",
    "AidStatus",
    "Suggestion",
    "aid",
    "suggest_aids",
]


class AidStatus(StrEnum):
    """Where a request for an aid has got to. ``requested`` first; ``delivered`` and ``declined`` end it."""

    REQUESTED = "requested"
    ASSESSED = "assessed"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    DECLINED = "declined"


OPEN_STATUSES: Final = (AidStatus.REQUESTED, AidStatus.ASSESSED, AidStatus.ORDERED)
CLOSED_STATUSES: Final = (AidStatus.DELIVERED, AidStatus.DECLINED)


@dataclass(frozen=True)
class Aid:
    id: str
    title: str
    description: str


_AID_ORDER: Final = (
    "voice_banking",
    "communication_aid",
    "adapted_cutlery",
    "writing_aids",
    "walking_aid",
    "wheelchair",
    "stairlift",
    "hospital_bed",
    "shower_chair",
    "cough_assist",
    "suction",
    "feeding_tube_info",
)
_WORDS: Final = load_wording("aids.en")
AIDS: Final[tuple[Aid, ...]] = tuple(
    Aid(i, _WORDS["aids"][i]["title"], _WORDS["aids"][i]["description"]) for i in _AID_ORDER
)
AID_IDS: Final[tuple[str, ...]] = _AID_ORDER
_BY_ID: Final[Mapping[str, Aid]] = {a.id: a for a in AIDS}
STATUS_WORDS: Final[Mapping[str, str]] = _WORDS["statuses"]


def aid(aid_id: str) -> Aid:
    try:
        return _BY_ID[aid_id]
    except KeyError:
        raise InvalidInput("aid_id", "Choose one of the aids listed.") from None


# --- Thresholds from sources ------------------------------------------------------------------------------

# AAN 2009 NIV algorithm / US Medicare: FVC < 50 % predicted marks respiratory insufficiency, and with it a
# weak cough. High (clinical-reference §6). The cough-assist use is AAN 2009 Level C (MI-E may help clear
# secretions, §6); tying it to this FVC figure is alscare's choice (peak cough flow is not recorded).
LOW_FVC_BELOW_PERCENT: Final = 50.0
# EFNS 2012: malnutrition = weight loss > 10 %; alscare suggests from 10 % inclusive, as the prompts do. High.
FEEDING_TUBE_WEIGHT_LOSS_PERCENT: Final = 10.0
# AAN 2009 nutrition algorithm: PEG risk rises once FVC is 50 % or less (moderate 30-50, high < 30). High.
FEEDING_TUBE_FVC_AT_MOST_PERCENT: Final = 50.0

SOURCE_ALSFRS: Final = (
    "ALSFRS-R option meanings (Cedarbaum 1999; ENCALS SOP v1.2; clinical-reference §1); cut point alscare's"
)
SOURCE_NICE: Final = "NICE NG42 (2016): prompt assessment for equipment and communication aids (recalled)"
SOURCE_AAN_MIE: Final = "AAN 2009 (Miller et al., Neurology 2009;73:1218-26): MI-E may help clear secretions, Level C"
SOURCE_NICE_SALIVA: Final = "NICE NG42 1.8: saliva management includes advice on suction (clinical-reference §6)"


@dataclass(frozen=True)
class AidInputs:
    """What the rules read. ``answers``: the latest ALSFRS-R (item id -> 0-4), or ``None``; ``check_in``: the
    latest symptom check-in, or ``None``; ``fvc_percent``: the latest FVC (% predicted) reported, or ``None``.
    Missing values never fire a rule."""

    answers: Mapping[str, int] | None = None
    check_in: CheckIn | None = None
    fvc_percent: float | None = None

    def item(self, item_id: str) -> int | None:
        return None if self.answers is None else self.answers.get(item_id)


@dataclass(frozen=True)
class AidRule:
    id: str
    aid_id: str
    applies: Callable[[AidInputs], bool]
    source: str
    confidence: str


def _item_in(item_id: str, low: int, high: int) -> Callable[[AidInputs], bool]:
    def test(x: AidInputs) -> bool:
        score = x.item(item_id)
        return score is not None and low <= score <= high

    return test


def _fall(x: AidInputs) -> bool:
    return x.check_in is not None and x.check_in.fall is True


def _low_fvc(x: AidInputs) -> bool:
    return x.fvc_percent is not None and x.fvc_percent < LOW_FVC_BELOW_PERCENT


def _weight_loss(x: AidInputs) -> bool:
    loss = x.check_in.weight_loss_percent() if x.check_in is not None else None
    return loss is not None and loss >= FEEDING_TUBE_WEIGHT_LOSS_PERCENT


def _swallowing_and_fvc(x: AidInputs) -> bool:
    swallowing = x.item("3")
    return (
        swallowing is not None
        and swallowing < 4
        and x.fvc_percent is not None
        and x.fvc_percent <= FEEDING_TUBE_FVC_AT_MOST_PERCENT
    )


# The table. Item ranges are inclusive; a range that stops above 0 means "not once the aid is past use"
# (voice banking needs clear speech; walking aids need walking; adapted cutlery needs self-feeding).
AID_RULES: Final[tuple[AidRule, ...]] = (
    AidRule("voice_banking_speech_changed", "voice_banking", _item_in("1", 3, 3), SOURCE_ALSFRS, "Medium"),
    AidRule("communication_aid_speech_hard", "communication_aid", _item_in("1", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("adapted_cutlery_utensils", "adapted_cutlery", _item_in("5a", 1, 3), SOURCE_ALSFRS, "Medium"),
    AidRule("writing_aids_handwriting", "writing_aids", _item_in("4", 0, 3), SOURCE_ALSFRS, "Medium"),
    AidRule("walking_aid_walking", "walking_aid", _item_in("8", 2, 3), SOURCE_ALSFRS, "Medium"),
    AidRule("walking_aid_fall", "walking_aid", _fall, SOURCE_NICE, "Medium"),
    AidRule("wheelchair_walking", "wheelchair", _item_in("8", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("stairlift_stairs", "stairlift", _item_in("9", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("hospital_bed_turning", "hospital_bed", _item_in("7", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("hospital_bed_orthopnoea", "hospital_bed", _item_in("11", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("shower_chair_self_care", "shower_chair", _item_in("6", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("shower_chair_walking", "shower_chair", _item_in("8", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule("cough_assist_fvc", "cough_assist", _low_fvc, SOURCE_AAN_MIE, "Medium"),
    AidRule("cough_assist_niv", "cough_assist", _item_in("12", 0, 3), SOURCE_AAN_MIE, "Medium"),
    AidRule("suction_saliva", "suction", _item_in("2", 0, 1), SOURCE_NICE_SALIVA, "Medium"),
    AidRule("feeding_tube_swallowing", "feeding_tube_info", _item_in("3", 0, 2), SOURCE_ALSFRS, "Medium"),
    AidRule(
        "feeding_tube_weight_loss",
        "feeding_tube_info",
        _weight_loss,
        "EFNS 2012 (Andersen et al., Eur J Neurol 2012;19:360): weight loss > 10 % (clinical-reference §6)",
        "High",
    ),
    AidRule(
        "feeding_tube_fvc",
        "feeding_tube_info",
        _swallowing_and_fvc,
        "AAN 2009 nutrition algorithm: PEG risk by FVC, > 50 % low (clinical-reference §6)",
        "High",
    ),
)
RULE_RATIONALES: Final[Mapping[str, str]] = {rid: entry["rationale"] for rid, entry in _WORDS["rules"].items()}
if set(RULE_RATIONALES) != {r.id for r in AID_RULES}:  # pragma: no cover - a wording mistake, caught at import
    raise ValueError("aids wording and rule table disagree on the rule ids")


@dataclass(frozen=True)
class Suggestion:
    """An aid worth discussing and every rule that suggested it (with its rationale and source)."""

    aid: Aid
    rules: tuple[AidRule, ...]

    @property
    def rationales(self) -> tuple[str, ...]:
        return tuple(RULE_RATIONALES[r.id] for r in self.rules)


def suggest_aids(inputs: AidInputs) -> tuple[Suggestion, ...]:
    """Every aid at least one rule suggests, in the library's order. A person with a gastrostomy (item 5b
    answered) is not sent the feeding-tube information: they already have one."""
    fired: dict[str, list[AidRule]] = {}
    has_tube = inputs.answers is not None and "5b" in inputs.answers
    for rule in AID_RULES:
        if rule.aid_id == "feeding_tube_info" and has_tube:
            continue
        if rule.applies(inputs):
            fired.setdefault(rule.aid_id, []).append(rule)
    return tuple(Suggestion(_BY_ID[a], tuple(fired[a])) for a in AID_IDS if a in fired)

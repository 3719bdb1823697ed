"""Disease stage estimated from one ALSFRS-R: King's clinical staging and MiToS functional staging.

The two systems answer different questions and are complementary: King's counts the body regions involved
and the need for gastrostomy or ventilation, so it separates early and middle disease; MiToS counts the
areas of daily life where independence is lost, so it separates late disease (Fang et al., ALS-FTD 2017,
doi 10.1080/21678421.2016.1265565).

Neither system was built on the ALSFRS-R. King's was defined clinically (Roche et al., Brain
2012;135:847-52) and mapped onto ALSFRS-R items by Balendra et al. (ALS-FTD 2014;15:279-84,
doi 10.3109/21678421.2014.897357); MiToS was defined on ALSFRS-R items from the start (Chiò et al., JNNP
2015;86:38-44, Table 1). The item rules below are declared as data; see docs/sources.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from alscare.clinical.alsfrs_r import SCORE_MAX, Assessment
from alscare.clinical.errors import InvalidInput

__all__ = [
    "KINGS_DEATH_STAGE",
    "KINGS_DYSPNOEA_ITEM",
    "KINGS_NIV_DYSPNOEA_SCORE",
    "KINGS_REGION_ITEMS",
    "KINGS_RESPIRATORY_INSUFFICIENCY_ITEM",
    "MITOS_DEATH_STAGE",
    "MITOS_RULES",
    "KingsRegion",
    "KingsStage",
    "MitosCondition",
    "MitosDomain",
    "MitosRule",
    "MitosStage",
    "kings_stage",
    "mitos_stage",
]


# --- King's (Roche 2012; ALSFRS-R mapping by Balendra 2014) ----------------------------------------------


class KingsRegion(StrEnum):
    """The three CNS regions King's staging counts (Roche 2012; diaphragmatic onset counts as limb)."""

    BULBAR = "bulbar"
    UPPER_LIMB = "upper_limb"
    LOWER_LIMB = "lower_limb"


# A region is involved when any of its items (by printed question number) scores below normal (4).
# Balendra 2014, as implemented in yoonhohong/proact staging/estimate_king_mitos_alsfrs.R. Items 6, 7, 9 and
# 11 are not used. Item 5 means whichever of 5a/5b was answered.
KINGS_REGION_ITEMS: Mapping[KingsRegion, tuple[int, ...]] = MappingProxyType(
    {
        KingsRegion.BULBAR: (1, 2, 3),  # speech, salivation, swallowing
        KingsRegion.UPPER_LIMB: (4, 5),  # handwriting, cutting food / handling utensils
        KingsRegion.LOWER_LIMB: (8,),  # walking
    }
)
KINGS_INVOLVED_BELOW = SCORE_MAX  # "< 4": any loss from normal marks the region (Balendra 2014)
KINGS_MIN_STAGE = 1  # no region below normal is recoded to 1: a person with ALS is at least stage 1 (proact)
KINGS_RESPIRATORY_FAILURE_STAGE = 4
# Stage 4A (nutritional failure) = gastrostomy, read from the ALSFRS-R as "item 5b answered" (Balendra 2014).
# Stage 4B (respiratory failure) = need for NIV (Roche 2012), read as:
KINGS_DYSPNOEA_ITEM = 10
KINGS_NIV_DYSPNOEA_SCORE = 0  # item 10 == 0: considering mechanical support (Balendra 2014)
KINGS_RESPIRATORY_INSUFFICIENCY_ITEM = 12
KINGS_NIV_RESPIRATORY_INSUFFICIENCY_BELOW = SCORE_MAX  # item 12 < 4: any BiPAP/ventilation (Balendra 2014)
KINGS_DEATH_STAGE = 5  # Roche 2012


@dataclass(frozen=True)
class KingsStage:
    """A King's stage: 1-3 regions involved, 4 (4A and/or 4B), or 5 (death).

    ``nutritional_failure`` is 4A and ``respiratory_failure`` is 4B; both are reported even at stage 5, and
    ``regions`` is reported at every stage, so a caller can show how the stage was reached.
    """

    stage: int
    nutritional_failure: bool  # 4A
    respiratory_failure: bool  # 4B
    regions: frozenset[str]

    def __post_init__(self) -> None:
        if not KINGS_MIN_STAGE <= self.stage <= KINGS_DEATH_STAGE:
            raise InvalidInput("stage", f"King's stages run from 1 to 5, got {self.stage}")


def _kings_regions(assessment: Assessment) -> frozenset[str]:
    """Regions with any of their items below normal (Balendra 2014)."""
    return frozenset(
        region
        for region, numbers in KINGS_REGION_ITEMS.items()
        if any(assessment.score(n) < KINGS_INVOLVED_BELOW for n in numbers)
    )


def _kings_respiratory_failure(assessment: Assessment) -> bool:
    """Stage 4B: need for ventilation, from items 10 and 12 (Balendra 2014)."""
    return (
        assessment.score(KINGS_DYSPNOEA_ITEM) == KINGS_NIV_DYSPNOEA_SCORE
        or assessment.score(KINGS_RESPIRATORY_INSUFFICIENCY_ITEM) < KINGS_NIV_RESPIRATORY_INSUFFICIENCY_BELOW
    )


def kings_stage(assessment: Assessment, *, died: bool = False) -> KingsStage:
    """Estimate the King's clinical stage from one ALSFRS-R (Roche 2012, mapped by Balendra 2014).

    Stage = number of regions involved (0 recoded to 1); gastrostomy (4A) or need for NIV (4B) gives stage 4,
    overriding 1-3; death gives stage 5. Death is not something the ALSFRS-R can record, hence ``died``.
    """
    regions = _kings_regions(assessment)
    nutritional = assessment.gastrostomy
    respiratory = _kings_respiratory_failure(assessment)
    if died:
        stage = KINGS_DEATH_STAGE
    elif nutritional or respiratory:
        stage = KINGS_RESPIRATORY_FAILURE_STAGE
    else:
        stage = max(len(regions), KINGS_MIN_STAGE)
    return KingsStage(stage=stage, nutritional_failure=nutritional, respiratory_failure=respiratory, regions=regions)


# --- MiToS (Chiò 2015, Table 1) ---------------------------------------------------------------------------


class MitosDomain(StrEnum):
    """The four areas of independence MiToS counts (Chiò 2015)."""

    MOVEMENT = "movement"
    SWALLOWING = "swallowing"
    COMMUNICATING = "communicating"
    BREATHING = "breathing"


@dataclass(frozen=True)
class MitosCondition:
    """A condition met when item ``number`` scores ``at_most`` or less."""

    number: int
    at_most: int


@dataclass(frozen=True)
class MitosRule:
    """A domain is lost when its conditions hold: ``any`` of them, or ``all`` of them."""

    domain: MitosDomain
    combine: Literal["any", "all"]
    conditions: tuple[MitosCondition, ...]


# Chiò et al., JNNP 2015;86:38-44, Table 1. Communicating needs BOTH speech and handwriting lost: at least
# two public R implementations use OR, which is wrong per the paper (clinical-reference.md section 3).
MITOS_RULES: tuple[MitosRule, ...] = (
    # Movement: walking (8) or dressing and hygiene (6) at 1 or less.
    MitosRule(MitosDomain.MOVEMENT, "any", (MitosCondition(8, 1), MitosCondition(6, 1))),
    # Swallowing: swallowing (3) at 1 or less.
    MitosRule(MitosDomain.SWALLOWING, "any", (MitosCondition(3, 1),)),
    # Communicating: speech (1) AND handwriting (4) both at 1 or less.
    MitosRule(MitosDomain.COMMUNICATING, "all", (MitosCondition(1, 1), MitosCondition(4, 1))),
    # Breathing: dyspnoea (10) at 1 or less, or respiratory insufficiency (12) at 2 or less.
    MitosRule(MitosDomain.BREATHING, "any", (MitosCondition(10, 1), MitosCondition(12, 2))),
)
MITOS_DEATH_STAGE = 5  # Chiò 2015


@dataclass(frozen=True)
class MitosStage:
    """A MiToS stage: the number of domains lost (0-4), or 5 (death); ``domains_lost`` always as computed."""

    stage: int
    domains_lost: frozenset[str]

    def __post_init__(self) -> None:
        if not 0 <= self.stage <= MITOS_DEATH_STAGE:
            raise InvalidInput("stage", f"MiToS stages run from 0 to 5, got {self.stage}")


def _rule_met(rule: MitosRule, assessment: Assessment) -> bool:
    results = (assessment.score(c.number) <= c.at_most for c in rule.conditions)
    return any(results) if rule.combine == "any" else all(results)


def mitos_stage(assessment: Assessment, *, died: bool = False) -> MitosStage:
    """Estimate the MiToS functional stage from one ALSFRS-R (Chiò 2015).

    Stage = number of domains in which independence is lost (0-4); death gives stage 5.
    """
    lost = frozenset(rule.domain for rule in MITOS_RULES if _rule_met(rule, assessment))
    stage = MITOS_DEATH_STAGE if died else len(lost)
    return MitosStage(stage=stage, domains_lost=lost)

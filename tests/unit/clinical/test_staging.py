"""King's and MiToS stage from one ALSFRS-R, rule boundary by rule boundary.

King's: Roche et al., Brain 2012;135:847-52; ALSFRS-R mapping by Balendra et al., ALS-FTD 2014;15:279-84
(as implemented in yoonhohong/proact staging/estimate_king_mitos_alsfrs.R).
MiToS: Chiò et al., JNNP 2015;86:38-44, Table 1.

Each case is a small table row: the answers that differ from all-normal, and the expected stage.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from alscare.clinical.alsfrs_r import ITEM_IDS, Assessment
from alscare.clinical.staging import KingsStage, MitosStage, kings_stage, mitos_stage

B, U, L = "bulbar", "upper_limb", "lower_limb"


def assessment(overrides: Mapping[str, int] = {}, *, gastrostomy: bool = False) -> Assessment:
    """All items 4 (normal), 5a or 5b as asked, then ``overrides``."""
    raw = {i: 4 for i in ITEM_IDS if i != ("5a" if gastrostomy else "5b")}
    raw.update(overrides)
    return Assessment.from_answers(raw)


# --- King's -------------------------------------------------------------------------------------------

KINGS_CASES = [
    # id, changed answers, gastrostomy, stage, regions, 4A, 4B
    ("all normal -> 1 (0 recoded)", {}, False, 1, set(), False, False),
    ("speech 3 -> bulbar", {"1": 3}, False, 1, {B}, False, False),
    ("saliva 3 -> bulbar", {"2": 3}, False, 1, {B}, False, False),
    ("swallowing 3 -> bulbar", {"3": 3}, False, 1, {B}, False, False),
    ("handwriting 3 -> upper", {"4": 3}, False, 1, {U}, False, False),
    ("cutting 5a 3 -> upper", {"5a": 3}, False, 1, {U}, False, False),
    ("walking 4 -> no lower", {"8": 4}, False, 1, set(), False, False),
    ("walking 3 -> lower", {"8": 3}, False, 1, {L}, False, False),
    ("items 6 7 9 11 unused", {"6": 0, "7": 0, "9": 0, "11": 0}, False, 1, set(), False, False),
    ("two regions -> 2", {"1": 2, "8": 1}, False, 2, {B, L}, False, False),
    ("three regions -> 3", {"2": 3, "4": 3, "8": 3}, False, 3, {B, U, L}, False, False),
    ("gastrostomy -> 4A", {}, True, 4, set(), True, False),
    ("5b 3 -> upper and 4A", {"5b": 3}, True, 4, {U}, True, False),
    ("dyspnoea 1 -> not 4B", {"10": 1}, False, 1, set(), False, False),
    ("dyspnoea 0 -> 4B", {"10": 0}, False, 4, set(), False, True),
    ("resp. insufficiency 4 -> not 4B", {"12": 4}, False, 1, set(), False, False),
    ("resp. insufficiency 3 -> 4B", {"12": 3}, False, 4, set(), False, True),
    ("4 overrides 3", {"1": 3, "4": 3, "8": 3, "12": 2}, False, 4, {B, U, L}, False, True),
    ("4A and 4B", {"12": 0}, True, 4, set(), True, True),
]


@pytest.mark.parametrize(
    ("changed", "gastrostomy", "stage", "regions", "nutritional", "respiratory"),
    [case[1:] for case in KINGS_CASES],
    ids=[case[0] for case in KINGS_CASES],
)
def test_kings_stage_rules(
    changed: dict[str, int],
    gastrostomy: bool,
    stage: int,
    regions: set[str],
    nutritional: bool,
    respiratory: bool,
) -> None:
    """Region involved when an item is below 4; 4A = 5b answered; 4B = item 10 = 0 or item 12 < 4.

    Source: Balendra 2014 (King's from ALSFRS-R), King's stages from Roche 2012.
    """
    assert kings_stage(assessment(changed, gastrostomy=gastrostomy)) == KingsStage(
        stage=stage,
        nutritional_failure=nutritional,
        respiratory_failure=respiratory,
        regions=frozenset(regions),
    )


def test_kings_death_is_stage_5_keeping_what_was_found() -> None:
    """Death is stage 5 (Roche 2012); 4A/4B and regions are still reported as computed."""
    result = kings_stage(assessment({"1": 3, "12": 3}, gastrostomy=True), died=True)
    assert result == KingsStage(stage=5, nutritional_failure=True, respiratory_failure=True, regions=frozenset({B}))
    assert kings_stage(assessment(), died=True).stage == 5


# --- MiToS --------------------------------------------------------------------------------------------

MITOS_CASES = [
    # id, changed answers, stage, domains lost
    ("all normal -> 0", {}, 0, set()),
    ("walking 2 -> kept", {"8": 2}, 0, set()),
    ("walking 1 -> movement", {"8": 1}, 1, {"movement"}),
    ("dressing 2 -> kept", {"6": 2}, 0, set()),
    ("dressing 1 -> movement", {"6": 1}, 1, {"movement"}),
    ("swallowing 2 -> kept", {"3": 2}, 0, set()),
    ("swallowing 1 -> swallowing", {"3": 1}, 1, {"swallowing"}),
    ("speech 0 alone -> kept", {"1": 0}, 0, set()),
    ("handwriting 0 alone -> kept", {"4": 0}, 0, set()),
    ("speech 2 handwriting 1 -> kept", {"1": 2, "4": 1}, 0, set()),
    ("speech 1 handwriting 2 -> kept", {"1": 1, "4": 2}, 0, set()),
    ("speech 1 handwriting 1 -> communicating", {"1": 1, "4": 1}, 1, {"communicating"}),
    ("dyspnoea 2 -> kept", {"10": 2}, 0, set()),
    ("dyspnoea 1 -> breathing", {"10": 1}, 1, {"breathing"}),
    ("resp. insufficiency 3 -> kept", {"12": 3}, 0, set()),
    ("resp. insufficiency 2 -> breathing", {"12": 2}, 1, {"breathing"}),
    ("unused items at 0 -> kept", {"2": 0, "5a": 0, "7": 0, "9": 0, "11": 0}, 0, set()),
    (
        "all four -> 4",
        {"8": 0, "3": 0, "1": 1, "4": 0, "12": 0},
        4,
        {"movement", "swallowing", "communicating", "breathing"},
    ),
]


@pytest.mark.parametrize(
    ("changed", "stage", "lost"),
    [case[1:] for case in MITOS_CASES],
    ids=[case[0] for case in MITOS_CASES],
)
def test_mitos_stage_rules(changed: dict[str, int], stage: int, lost: set[str]) -> None:
    """Movement: 8 ≤ 1 or 6 ≤ 1; swallowing: 3 ≤ 1; communicating: 1 ≤ 1 AND 4 ≤ 1; breathing: 10 ≤ 1 or
    12 ≤ 2. Stage = domains lost.

    Source: Chiò 2015, Table 1 (communicating needs both; OR is a known error in public code).
    """
    assert mitos_stage(assessment(changed)) == MitosStage(stage=stage, domains_lost=frozenset(lost))


def test_mitos_death_is_stage_5_keeping_domains_lost() -> None:
    """Death is MiToS stage 5 (Chiò 2015)."""
    assert mitos_stage(assessment({"3": 0}), died=True) == MitosStage(stage=5, domains_lost=frozenset({"swallowing"}))
    assert mitos_stage(assessment(), died=True).stage == 5


def test_both_systems_at_no_function() -> None:
    """Every item 0 with a gastrostomy: King's 4 with 4A and 4B, all regions (Balendra 2014); MiToS 4
    (Chiò 2015)."""
    worst = Assessment.from_answers({i: 0 for i in ITEM_IDS if i != "5a"})
    assert kings_stage(worst) == KingsStage(
        stage=4, nutritional_failure=True, respiratory_failure=True, regions=frozenset({B, U, L})
    )
    assert mitos_stage(worst).stage == 4


def test_regions_and_domains_compare_as_plain_strings() -> None:
    """The API promises frozensets of plain region/domain names, usable without importing the enums."""
    result = kings_stage(assessment({"8": 3}))
    assert result.regions == {"lower_limb"}
    assert "lower_limb" in result.regions
    assert mitos_stage(assessment({"3": 1})).domains_lost == {"swallowing"}

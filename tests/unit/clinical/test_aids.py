"""Aid rules as small tables: answers (and check-in, FVC) -> aids that must and must not be suggested.

Each threshold is tested on both sides. ALSFRS-R option meanings: clinical-reference §1.
"""

from __future__ import annotations

from typing import Any

import pytest
import textstat

from alscare.clinical.aids import AID_IDS, AIDS, AidInputs, suggest_aids
from alscare.clinical.triage import CheckIn
from alscare.content import all_items

NORMAL = {i: 4 for i in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}


def answers(**changed: int) -> dict[str, int]:
    """All items normal (4) except those named: answers(i1=3) sets item 1; i5a sets 5a; i5b replaces 5a."""
    result = dict(NORMAL)
    for key, value in changed.items():
        item = key.removeprefix("i")
        if item == "5b":
            del result["5a"]
        result[item] = value
    return result


def suggested(**kwargs: Any) -> set[str]:
    return {s.aid.id for s in suggest_aids(AidInputs(**kwargs))}


# (answers, aids that must be suggested, aids that must not be)
TABLE: list[tuple[dict[str, int], set[str], set[str]]] = [
    (answers(), set(), set(AID_IDS)),
    # Voice banking only while speech is changed but clear (item 1 = 3); communication aid from 2 down.
    (answers(i1=3), {"voice_banking"}, {"communication_aid"}),
    (answers(i1=2), {"communication_aid"}, {"voice_banking"}),
    (answers(i1=1), {"communication_aid"}, {"voice_banking"}),
    (answers(i1=0), {"communication_aid"}, {"voice_banking"}),
    # Adapted cutlery while the person still feeds themself (5a 3..1), not at 4 or 0, not on 5b.
    (answers(i5a=3), {"adapted_cutlery"}, set()),
    (answers(i5a=1), {"adapted_cutlery"}, set()),
    (answers(i5a=0), set(), {"adapted_cutlery"}),
    (answers(i5b=2), set(), {"adapted_cutlery", "feeding_tube_info"}),
    (answers(i4=3), {"writing_aids"}, set()),
    (answers(i4=0), {"writing_aids"}, set()),
    # Walking: aid at 3 and 2; wheelchair and shower chair from 2; no walking aid once non-ambulatory.
    (answers(i8=3), {"walking_aid"}, {"wheelchair", "shower_chair"}),
    (answers(i8=2), {"walking_aid", "wheelchair", "shower_chair"}, set()),
    (answers(i8=1), {"wheelchair", "shower_chair"}, {"walking_aid"}),
    (answers(i9=3), set(), {"stairlift"}),
    (answers(i9=2), {"stairlift"}, set()),
    (answers(i7=3), set(), {"hospital_bed"}),
    (answers(i7=2), {"hospital_bed"}, set()),
    (answers(i11=3), set(), {"hospital_bed"}),
    (answers(i11=2), {"hospital_bed"}, set()),
    (answers(i6=3), set(), {"shower_chair"}),
    (answers(i6=2), {"shower_chair"}, set()),
    (answers(i12=3), {"cough_assist"}, set()),
    (answers(i2=2), set(), {"suction"}),
    (answers(i2=1), {"suction"}, set()),
    (answers(i3=3), set(), {"feeding_tube_info"}),
    (answers(i3=2), {"feeding_tube_info"}, set()),
]


@pytest.mark.parametrize(("given", "must", "must_not"), TABLE)
def test_answers_to_aids(given: dict[str, int], must: set[str], must_not: set[str]) -> None:
    got = suggested(answers=given)
    assert must <= got, f"missing {must - got}"
    assert not (must_not & got), f"should not suggest {must_not & got}"
    if not must:
        assert got <= set(AID_IDS) - must_not


@pytest.mark.parametrize(
    ("kwargs", "aid", "expected"),
    [
        ({"fvc_percent": 49.9}, "cough_assist", True),
        ({"fvc_percent": 50.0}, "cough_assist", False),
        ({"check_in": CheckIn(fall=True)}, "walking_aid", True),
        ({"check_in": CheckIn(fall=False)}, "walking_aid", False),
        ({"check_in": CheckIn(weight_kg=63.0, usual_weight_kg=70.0)}, "feeding_tube_info", True),  # 10 %
        ({"check_in": CheckIn(weight_kg=63.1, usual_weight_kg=70.0)}, "feeding_tube_info", False),
        ({"answers": answers(i3=3), "fvc_percent": 50.0}, "feeding_tube_info", True),
        ({"answers": answers(i3=3), "fvc_percent": 50.1}, "feeding_tube_info", False),
        ({"answers": answers(), "fvc_percent": 40.0}, "feeding_tube_info", False),  # swallowing normal
        ({"answers": answers(i5b=3, i3=1)}, "feeding_tube_info", False),  # has a tube already
        ({}, "cough_assist", False),
    ],
)
def test_check_in_and_measurement_rules(kwargs: dict[str, Any], aid: str, expected: bool) -> None:
    assert (aid in suggested(**kwargs)) is expected


def test_each_suggestion_says_why_and_from_which_source() -> None:
    (walking,) = [
        s
        for s in suggest_aids(AidInputs(answers=answers(i8=3), check_in=CheckIn(fall=True)))
        if s.aid.id == "walking_aid"
    ]
    assert [r.id for r in walking.rules] == ["walking_aid_walking", "walking_aid_fall"]
    assert all(text for text in walking.rationales) and all(r.source for r in walking.rules)


def test_descriptions_are_plain_and_offered_to_the_registry() -> None:
    registry = {i.id: i for i in all_items() if i.kind in ("aid", "exercise")}
    for a in AIDS:
        assert textstat.flesch_kincaid_grade(a.description) <= 8.0, a.id
        item = registry[f"aid.{a.id}"]
        assert item.sources and item.reviewed_on
    assert sum(1 for i in registry.values() if i.kind == "exercise") == 11
    for item in registry.values():
        assert textstat.flesch_kincaid_grade(item.text) <= 8.0, item.id

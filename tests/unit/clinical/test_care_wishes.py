"""Care wishes in the clinical core: the sections as data, validation, the diff (small before/after tables),
and the wording (every section, question and answer has words, at reading grade 8 or below)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import textstat

from alscare.clinical import care_wishes as cw
from alscare.clinical.errors import InvalidInput

ISSUE_SECTIONS = (
    "what_matters", "breathing", "feeding_tube", "resuscitation", "hospital", "place", "refusals", "proxy",
    "communication", "donation", "anything_else",
)  # fmt: skip


def test_the_sections_are_the_issues_in_its_order() -> None:
    assert tuple(s.id for s in cw.SECTIONS) == ISSUE_SECTIONS
    # Treatment decisions offer yes / no / not yet decided / only if …, and "only if" asks for its condition.
    for section, field in (
        ("breathing", "niv"),
        ("breathing", "invasive_ventilation"),
        ("feeding_tube", "feeding_tube"),
        ("resuscitation", "cpr"),
        ("hospital", "hospital"),
    ):
        spec = cw.field_spec(section, field)
        assert spec.options == ("yes", "no", "undecided", "only_if")
        assert spec.detail == f"{field}_condition" and spec.needs_detail == ("only_if",)
    assert {f.id for f in cw.section_spec("proxy").fields} >= {"name", "relationship", "phone", "email"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, {}),
        ({"breathing": {"niv": "", "notes": "  "}}, {}),  # empty answers and empty sections are dropped
        ({"resuscitation": {"cpr": "no", "notes": " Not after a long illness. "}},
         {"resuscitation": {"cpr": "no", "notes": "Not after a long illness."}}),
        ({"communication": {"methods": ["eye_gaze", "speech", "eye_gaze"]}},
         {"communication": {"methods": ("speech", "eye_gaze")}}),  # declared order, no repeats
        ({"hospital": {"hospital_condition": "x", "hospital": "only_if"}},
         {"hospital": {"hospital": "only_if", "hospital_condition": "x"}}),
        ({"proxy": {"phone": "+44 20 7946 0123", "email": "sam@example.org"}},
         {"proxy": {"phone": "+44 20 7946 0123", "email": "sam@example.org"}}),
    ],
)  # fmt: skip
def test_validate_tidies(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    assert cw.validate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"breathing": {"niv": "maybe"}}, "breathing.niv"),
        ({"breathing": {"invasive_ventilation": "only_if"}}, "breathing.invasive_ventilation_condition"),
        ({"place": {"place_of_death": "other"}}, "place.place_of_death_detail"),
        ({"spaceship": {}}, "spaceship"),
        ({"breathing": {"fins": "yes"}}, "breathing.fins"),
        ({"proxy": {"phone": "call me"}}, "proxy.phone"),
        ({"proxy": {"email": "not-an-email"}}, "proxy.email"),
        ({"communication": {"methods": ["telepathy"]}}, "communication.methods"),
        ({"what_matters": {"text": "x" * 2001}}, "what_matters.text"),
        ({"resuscitation": {"cpr": 1}}, "resuscitation.cpr"),
    ],
)
def test_validate_refuses_by_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        cw.validate(raw)
    assert e.value.field == field


# The diff as small tables: before, after, and (section, section kind, [(field, kind, old, new)]).
DIFFS = [
    ({}, {}, []),
    ({"resuscitation": {"cpr": "no"}}, {"resuscitation": {"cpr": "no"}}, []),
    ({}, {"resuscitation": {"cpr": "no"}}, [("resuscitation", "added", [("cpr", "added", None, "no")])]),
    ({"resuscitation": {"cpr": "no"}}, {}, [("resuscitation", "removed", [("cpr", "removed", "no", None)])]),
    ({"resuscitation": {"cpr": "no"}}, {"resuscitation": {"cpr": "yes"}},
     [("resuscitation", "changed", [("cpr", "changed", "no", "yes")])]),
    ({"breathing": {"niv": "yes", "invasive_ventilation": "undecided"}},
     {"breathing": {"niv": "yes", "invasive_ventilation": "only_if", "invasive_ventilation_condition": "I can talk"}},
     [("breathing", "changed", [("invasive_ventilation", "changed", "undecided", "only_if"),
                                ("invasive_ventilation_condition", "added", None, "I can talk")])]),
    ({"hospital": {"hospital": "no"}, "proxy": {"name": "Sam"}},
     {"proxy": {"name": "Sam", "phone": "0123 456"}, "hospital": {"hospital": "no"}},
     [("proxy", "changed", [("phone", "added", None, "0123 456")])]),
    ({"communication": {"methods": ("speech",)}}, {"communication": {"methods": ("speech", "eye_gaze")}},
     [("communication", "changed", [("methods", "changed", ("speech",), ("speech", "eye_gaze"))])]),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), DIFFS)
def test_diff(old: cw.Answers, new: cw.Answers, expected: list[tuple[Any, ...]]) -> None:
    got = [(c.section, c.kind, [(f.field, f.kind, f.old, f.new) for f in c.fields]) for c in cw.diff(old, new)]
    assert got == expected


def test_stored_answers_read_back_as_they_were_saved() -> None:
    answers = cw.validate({"communication": {"methods": ["speech"], "how": "Slowly"}, "resuscitation": {"cpr": "no"}})
    assert cw.from_stored(cw.to_stored(answers)) == answers


def _texts(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}" if path else key)
    elif isinstance(node, str):
        yield path, node


def test_every_section_field_and_option_has_words() -> None:
    words = cw.wording()
    for spec in cw.SECTIONS:
        section = words["sections"][spec.id]
        assert section["title"] and section["intro"], spec.id
        assert set(section["fields"]) == {f.id for f in spec.fields}, spec.id
        for f in spec.fields:
            if f.kind in ("choice", "multi"):
                labels = cw.option_labels(spec.id, f.id)
                assert [o for o, _ in labels] == list(f.options)
                assert all(label for _, label in labels)


# Option labels and short field labels are phrases, not prose; the grade is measured on sentences.
_PROSE_MIN_WORDS = 6


def test_patient_facing_words_are_at_reading_grade_8_or_below() -> None:
    too_hard = []
    for path, text in _texts(cw.wording()):
        if path.endswith(".options") or len(text.split()) < _PROSE_MIN_WORDS:
            continue
        grade = textstat.flesch_kincaid_grade(text)
        if grade > 8.0:
            too_hard.append((round(grade, 1), path, text))
    assert not too_hard, too_hard

"""Every patient-facing text in the content registry, through ``alscare content export``: plain words (Flesch–
Kincaid grade ≤ 8.0, textstat 0.7.8, which works offline), a source and a review date for each, no markup.

These tests read the export itself (the CLI, in-process), so they cover every domain that offers texts to the
registry (articles, diagnosis tests, and after the merge medicines, exercises and aids) without naming them.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import textstat
from typer.testing import CliRunner

from alscare.cli import app
from alscare.content import KINDS, all_items

MAX_GRADE = 8.0


def export(*args: str) -> tuple[int, list[dict[str, object]] | None, str]:
    result = CliRunner().invoke(app, ["content", "export", *args])
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else None, result.stderr


_EXPORTED = export()[1] or []


def _id(item: dict[str, object]) -> str:
    return str(item["id"])


def test_export_is_one_json_array_of_every_registry_item() -> None:
    code, items, _ = export()
    assert code == 0 and isinstance(items, list)
    assert [i["id"] for i in items] == [i.id for i in all_items("en")]
    assert all(set(i) == {"id", "kind", "title", "text", "sources", "reviewed_on"} for i in items)
    assert {i["kind"] for i in items} <= set(KINDS)
    assert len({i["id"] for i in items}) == len(items), "ids must be unique"


def test_export_holds_at_least_twelve_articles_and_every_diagnosis_test() -> None:
    kinds = [i["kind"] for i in _EXPORTED]
    assert kinds.count("article") >= 12
    tests = {i["id"] for i in _EXPORTED if i["kind"] == "test"}
    assert {"test.emg", "test.nerve_conduction", "test.mri", "test.lumbar_puncture", "test.blood_tests"} <= tests


@pytest.mark.parametrize("item", _EXPORTED, ids=_id)
def test_every_item_reads_at_grade_8_or_below(item: dict[str, object]) -> None:
    text, title = str(item["text"]), str(item["title"])
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"{item['id']}: text at grade {grade}"
    # A title alone is a few words, too short for the formula to mean much; read with its text, it counts.
    combined = textstat.flesch_kincaid_grade(f"{title}.\n{text}")
    assert combined <= MAX_GRADE, f"{item['id']}: title and text at grade {combined}"


def test_the_readability_check_can_fail() -> None:
    hard = (
        "Amyotrophic lateral sclerosis constitutes a heterogeneous neurodegenerative condition characterised by "
        "progressive degeneration of corticospinal and anterior horn motor neurons, necessitating multidisciplinary "
        "management incorporating pharmacological, respiratory and nutritional interventions."
    )
    assert textstat.flesch_kincaid_grade(hard) > MAX_GRADE


@pytest.mark.parametrize("item", _EXPORTED, ids=_id)
def test_every_item_has_a_source_and_a_review_date(item: dict[str, object]) -> None:
    sources = item["sources"]
    assert isinstance(sources, list) and sources and all(isinstance(s, str) and s.strip() for s in sources)
    reviewed = date.fromisoformat(str(item["reviewed_on"]))
    assert date(2026, 1, 1) <= reviewed


@pytest.mark.parametrize("item", _EXPORTED, ids=_id)
def test_text_is_plain_with_no_markup(item: dict[str, object]) -> None:
    for value in (item["text"], item["title"]):
        assert not re.search(r"<[a-zA-Z/!]|&[a-z]+;|\*\*|^#", str(value), re.M), f"{item['id']}: markup in {value!r}"


def test_spanish_prints_an_empty_array_until_it_is_written() -> None:
    code, items, stderr = export("--locale", "es")
    assert (code, items) == (0, [])
    assert "No texts in locale 'es' yet" in stderr


def test_unknown_locale_exits_2_naming_the_field() -> None:
    code, _, stderr = export("--locale", "xx")
    assert code == 2
    assert json.loads(stderr)["error"]["field"] == "locale"

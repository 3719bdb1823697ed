"""``alscare prompts`` in process: one JSON object in, one out; bad input exits 2 naming the field."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from alscare.cli import app

EXAMPLE: dict[str, Any] = {
    "today": "2026-06-01",
    "diagnosis": "2025-09-01",
    "usual_weight_kg": 80,
    "gastrostomy": False,
    "niv": False,
    "care_wishes_discussed_on": None,
    "assessments": [{"date": "2026-05-20", "total": 38}],
    "measurements": [{"date": "2026-05-20", "fvc_percent": 55, "snip_cmh2o": 45, "weight_kg": 72}],
    "symptoms": [{"date": "2026-05-28", "orthopnea": True, "choking_on_food": False}],
}


def run(data: object) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["prompts"], input=json.dumps(data))
    text = result.stdout if result.exit_code == 0 else result.stderr
    return result.exit_code, json.loads(text)


def test_the_issue_example() -> None:
    code, out = run(EXAMPLE)
    assert code == 0
    assert [p["id"] for p in out["prompts"]] == [
        "niv_orthopnoea",
        "niv_fvc_below_80_with_symptoms",
        "gastrostomy_weight_loss",
        "care_wishes_discussion",
    ]
    assert set(out["prompts"][0]) == {"id", "message", "source"}
    assert out["prompts"][1]["source"] == "Leigh 2003 (European NIV criteria)"


def test_only_today_is_needed() -> None:
    code, out = run({"today": "2026-06-01"})
    assert code == 0
    assert [p["id"] for p in out["prompts"]] == ["breathing_assessment_overdue", "review_overdue"]


def test_bad_input_exits_2_naming_the_field_with_its_index() -> None:
    data = {**EXAMPLE, "measurements": [EXAMPLE["measurements"][0], {"date": "2026-05-21", "fvc_percent": 200}]}
    code, out = run(data)
    assert code == 2
    assert out["error"]["field"] == "measurements[1].fvc_percent"


def test_a_future_entry_and_an_unknown_field_exit_2() -> None:
    assert run({**EXAMPLE, "symptoms": [{"date": "2026-06-02", "orthopnea": True}]}) == (
        2,
        {"error": {"field": "symptoms[0].date", "message": "must not be after today (2026-06-01)"}},
    )
    assert run({**EXAMPLE, "height_cm": 170})[1]["error"]["field"] == "height_cm"
    assert run([EXAMPLE])[1]["error"]["field"] == "input"

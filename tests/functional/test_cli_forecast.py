"""``alscare forecast``, run in-process: one JSON object in, one out; bad input exits 2 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from alscare.cli import app

BASE: dict[str, Any] = {
    "today": "2025-01-15",
    "onset": "2023-03-01",
    "age_at_onset": 58,
    "bulbar_onset": False,
    "assessments": [
        {"date": "2024-01-15", "total": 40},
        {"date": "2024-04-15", "total": 37},
        {"date": "2024-07-15", "total": 34},
        {"date": "2024-10-15", "total": 31},
        {"date": "2025-01-15", "total": 28},
    ],
    "fvc": [{"date": "2024-10-15", "percent": 82}, {"date": "2025-01-15", "percent": 76.5}],
}


def run(payload: Any) -> tuple[int, Any, str]:
    stdin = payload if isinstance(payload, str) else json.dumps(payload)
    result = CliRunner().invoke(app, ["forecast"], input=stdin)
    out = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, out, result.stderr


def test_forecast_gives_the_slope_and_three_horizons() -> None:
    code, out, _ = run(BASE)
    assert code == 0
    assert set(out) == {"slope_per_month", "horizons"}
    assert set(out["horizons"]) == {"3", "6", "12"}
    # One point a month for a year: the forecast follows it.
    assert out["slope_per_month"] == pytest.approx(-1.0, abs=0.15)
    previous_width = 0.0
    for h in ("3", "6", "12"):
        band = out["horizons"][h]
        assert set(band) == {"total", "low", "high"}
        assert 0 <= band["low"] < band["total"] < band["high"] <= 48
        assert band["total"] == pytest.approx(28 - int(h), abs=0.15 * int(h) + 0.75)
        assert band["high"] - band["low"] > previous_width
        previous_width = band["high"] - band["low"]


def test_forecast_totals_are_clamped_to_the_scale() -> None:
    payload = BASE | {"assessments": [{"date": "2024-07-15", "total": 9}, {"date": "2025-01-15", "total": 3}]}
    code, out, _ = run(payload)
    assert code == 0
    twelve = out["horizons"]["12"]
    assert twelve["total"] == 0 and twelve["low"] == 0 and 0 < twelve["high"] <= 48


def test_fvc_is_optional_and_does_not_change_the_forecast() -> None:
    without = {k: v for k, v in BASE.items() if k != "fvc"}
    assert run(without)[1] == run(BASE)[1]


def test_one_assessment_is_enough_and_gives_a_wider_interval() -> None:
    one = BASE | {"assessments": BASE["assessments"][-1:]}
    code, out, _ = run(one)
    assert code == 0
    many = run(BASE)[1]
    for h in ("3", "6", "12"):
        assert out["horizons"][h]["high"] - out["horizons"][h]["low"] > (
            many["horizons"][h]["high"] - many["horizons"][h]["low"]
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"today": "15/01/2025"}, "today"),
        ({"onset": None}, "onset"),
        ({"age_at_onset": "58"}, "age_at_onset"),
        ({"bulbar_onset": "no"}, "bulbar_onset"),
        ({"assessments": {}}, "assessments"),
        ({"assessments": []}, "assessments"),
        (
            {"assessments": [{"date": "2024-01-15", "total": 40}, {"date": "2024-04-15", "total": 48.5}]},
            "assessments[1].total",
        ),
        (
            {"assessments": [{"date": "2024-01-15", "total": 40}, {"date": "2024-04-15", "total": 49}]},
            "assessments[1].total",
        ),
        ({"assessments": [{"date": "2024-01-15", "total": 40}, {"date": "2024-04-15"}]}, "assessments[1].total"),
        ({"assessments": [{"date": "2024-01-15", "total": 40}, {"total": 39}]}, "assessments[1].date"),
        (
            {"assessments": [{"date": "2024-01-15", "total": 40}, {"date": "2024-13-01", "total": 39}]},
            "assessments[1].date",
        ),
        ({"assessments": [{"date": "2022-01-15", "total": 40}]}, "assessments[0].date"),
        ({"assessments": [{"date": "2025-02-15", "total": 40}]}, "assessments[0].date"),
        ({"assessments": [{"date": "2024-01-15", "total": 40, "items": {}}]}, "assessments[0].items"),
        ({"assessments": ["40"]}, "assessments[0]"),
        ({"fvc": [{"date": "2024-10-15", "percent": "82"}]}, "fvc[0].percent"),
        ({"fvc": [{"date": "2024-10-15", "percent": 82}, {"date": "2024-12-15", "percent": 250}]}, "fvc[1].percent"),
        ({"fvc": [{"date": "2025-10-15", "percent": 82}]}, "fvc[0].date"),
        ({"fvc": [{"date": "2024-10-15"}]}, "fvc[0].percent"),
        ({"fvc": "82"}, "fvc"),
        ({"weight": 70}, "weight"),
    ],
)
def test_bad_input_exits_2_naming_the_field(change: dict[str, Any], field: str) -> None:
    code, _, stderr = run(BASE | change)
    assert code == 2
    assert json.loads(stderr)["error"]["field"] == field


@pytest.mark.parametrize("missing", ["today", "onset", "age_at_onset", "bulbar_onset", "assessments"])
def test_required_fields(missing: str) -> None:
    code, _, stderr = run({k: v for k, v in BASE.items() if k != missing})
    assert code == 2
    assert json.loads(stderr)["error"] == {"field": missing, "message": "is required"}


def test_not_json_exits_2() -> None:
    code, _, stderr = run("{not json")
    assert code == 2 and json.loads(stderr)["error"]["field"] == "input"

"""The ``alscare`` command, run in-process: clinical commands read JSON on stdin and write JSON on stdout;
invalid input exits with status 2 and names the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alscare.cli import app

# The example from the issue: 5a answered (eats by mouth), one point lost in each of items 3, 5a, 8 and 9.
ISSUE_ITEMS = {"1": 4, "2": 4, "3": 3, "4": 4, "5a": 3, "6": 4, "7": 4, "8": 3, "9": 3, "10": 4, "11": 4, "12": 4}
NO_FLAGS = {"bulbar_onset": False, "definite_el_escorial": False, "ftd": False, "c9orf72": False}
DAYS_PER_MONTH = 365.25 / 12


def run(command: str, payload: Any) -> tuple[int, Any, str]:
    """Run ``alscare <command>`` with ``payload`` (JSON-encoded unless a str) on stdin."""
    stdin = payload if isinstance(payload, str) else json.dumps(payload)
    result = CliRunner().invoke(app, [command], input=stdin)
    out = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, out, result.stderr


def error_field(stderr: str) -> str:
    field: str = json.loads(stderr)["error"]["field"]
    return field


# --- alsfrs -------------------------------------------------------------------------------------------------


def test_alsfrs_scores_the_issue_example() -> None:
    code, out, _ = run("alsfrs", {"items": ISSUE_ITEMS, "died": False})
    assert code == 0
    assert out == {
        "total": 44,
        "domains": {"bulbar": 11, "fine_motor": 11, "gross_motor": 10, "respiratory": 12},
        "kings_stage": 3,  # three regions involved, no gastrostomy or NIV
        "kings_4a": False,
        "kings_4b": False,
        "mitos_stage": 0,  # no domain lost (Chiò 2015)
    }


def test_alsfrs_with_gastrostomy_is_kings_4a() -> None:
    items = {k: v for k, v in ISSUE_ITEMS.items() if k != "5a"} | {"5b": 3}
    code, out, _ = run("alsfrs", {"items": items})
    assert code == 0
    assert out["total"] == 44
    # Answering 5b means a gastrostomy: King's 4A, nutritional failure (Roche 2012; Balendra 2014).
    assert (out["kings_stage"], out["kings_4a"], out["kings_4b"]) == (4, True, False)


def test_alsfrs_death_is_stage_5_on_both_scales() -> None:
    code, out, _ = run("alsfrs", {"items": ISSUE_ITEMS, "died": True})
    assert code == 0
    assert (out["kings_stage"], out["mitos_stage"]) == (5, 5)


# --- progression --------------------------------------------------------------------------------------------


def test_progression_two_assessments_has_no_standard_error() -> None:
    # Onset 1 Jan 2024. Last total 38 on 1 Jan 2025, 366 days later = 366 / 30.4375 = 12.0246 months.
    # ΔFS = (48 - 38) / 12.0246 = 0.8316 points/month: intermediate (0.5-1.0, Kimura 2006).
    # Slope over 44 → 38 in 184 days (6.0452 months) = -6 / 6.0452 = -0.9925 points/month.
    payload = {
        "onset": "2024-01-01",
        "assessments": [{"date": "2025-01-01", "total": 38}, {"date": "2024-07-01", "total": 44}],
    }
    code, out, _ = run("progression", payload)
    assert code == 0
    assert out["delta_fs"] == pytest.approx(10 / (366 / DAYS_PER_MONTH), abs=1e-4)
    assert out["delta_fs"] == pytest.approx(0.8316, abs=1e-4)
    assert out["delta_fs_band"] == "intermediate"
    assert out["slope_per_month"] == pytest.approx(-6 / (184 / DAYS_PER_MONTH), abs=1e-4)
    assert out["slope_se"] is None


def test_progression_three_assessments_has_a_standard_error() -> None:
    payload = {
        "onset": "2024-01-01",
        "assessments": [
            {"date": "2024-07-01", "total": 44},
            {"date": "2024-10-01", "total": 40},
            {"date": "2025-01-01", "total": 38},
        ],
    }
    code, out, _ = run("progression", payload)
    assert code == 0
    assert out["delta_fs"] == pytest.approx(0.8316, abs=1e-4)
    assert isinstance(out["slope_se"], float) and out["slope_se"] > 0
    assert out["slope_per_month"] < 0


# --- prognosis ----------------------------------------------------------------------------------------------


def test_prognosis_reference_example() -> None:
    # The reference example (Westeneng et al., Lancet Neurol 2018): age 60 at onset, diagnosis 12 months
    # after onset, ΔFS 0.5, FVC 90 %, none of the four flags → median survival about 38 months from onset.
    payload = {"age_at_onset": 60, "diagnostic_delay_months": 12, "delta_fs": 0.5, "fvc_percent": 90, **NO_FLAGS}
    code, out, _ = run("prognosis", payload)
    assert code == 0
    assert out["median_survival_months"] == pytest.approx(38, abs=1)
    assert set(out["survival"]) == {"12", "24", "36", "60"}
    survival = [out["survival"][k] for k in ("12", "24", "36", "60")]
    assert all(0 < s < 1 for s in survival)
    assert survival == sorted(survival, reverse=True)
    assert out["survival"]["36"] > 0.5 > out["survival"]["60"]  # the median lies between 36 and 60 months


# --- triage -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_in", "tier", "rule"),
    [
        ({"choking_not_clearing": True, "fall": True}, "emergency", "choking_not_clearing"),
        ({"fever": True, "cough": True, "medicines": ["Riluzole 50 mg"]}, "contact_team", "possible_chest_infection"),
        ({"cramps": True, "questions": "Is magnesium worth trying?"}, "routine", "noted_cramps"),
        ({}, "routine", None),
    ],
    ids=["emergency", "contact_team", "routine", "nothing to report"],
)
def test_triage(check_in: dict[str, Any], tier: str, rule: str | None) -> None:
    code, out, _ = run("triage", check_in)
    assert code == 0
    assert out["tier"] == tier
    rules = [r["rule"] for r in out["reasons"]]
    if rule is not None:
        assert rule in rules
    for reason in out["reasons"]:
        assert reason["message"] and reason["source"]


def test_triage_emergency_lists_every_rule_that_fired() -> None:
    code, out, _ = run("triage", {"breathless_at_rest": True, "fever": True})
    assert code == 0
    assert out["tier"] == "emergency"
    assert {"fever_with_breathlessness", "breathless_at_rest"} <= {r["rule"] for r in out["reasons"]}


# --- Invalid input ------------------------------------------------------------------------------------------

PROGNOSIS = {"age_at_onset": 60, "diagnostic_delay_months": 12, "delta_fs": 0.5, "fvc_percent": 90, **NO_FLAGS}
INVALID = {
    "alsfrs unknown field": ("alsfrs", {"items": ISSUE_ITEMS, "mood": "fine"}, "mood"),
    "alsfrs item out of range": ("alsfrs", {"items": ISSUE_ITEMS | {"7": 5}}, "items.7"),
    "alsfrs unknown item": ("alsfrs", {"items": ISSUE_ITEMS | {"13": 1}}, "items.13"),
    "alsfrs both 5a and 5b": ("alsfrs", {"items": ISSUE_ITEMS | {"5b": 1}}, "items.5b"),
    "alsfrs answer true": ("alsfrs", {"items": ISSUE_ITEMS | {"4": True}}, "items.4"),
    "alsfrs died not a bool": ("alsfrs", {"items": ISSUE_ITEMS, "died": "no"}, "died"),
    "alsfrs items missing": ("alsfrs", {"died": False}, "items"),
    "prognosis age 17": ("prognosis", PROGNOSIS | {"age_at_onset": 17}, "age_at_onset"),
    "prognosis missing fvc": ("prognosis", {k: v for k, v in PROGNOSIS.items() if k != "fvc_percent"}, "fvc_percent"),
    "prognosis unknown field": ("prognosis", PROGNOSIS | {"weight": 70}, "weight"),
    "progression bad date": (
        "progression",
        {"onset": "2024-02-30", "assessments": [{"date": "2024-07-01", "total": 44}]},
        "onset",
    ),
    "progression bad assessment date": (
        "progression",
        {"onset": "2024-01-01", "assessments": [{"date": "01/07/2024", "total": 44}]},
        "assessments[0].date",
    ),
    "progression total 49": (
        "progression",
        {"onset": "2024-01-01", "assessments": [{"date": "2024-07-01", "total": 49}]},
        "assessments[0].total",
    ),
    "progression before onset": (
        "progression",
        {"onset": "2024-01-01", "assessments": [{"date": "2023-12-01", "total": 40}]},
        "assessments[0].date",
    ),
    "triage unknown field": ("triage", {"chest_pain": True}, "chest_pain"),
    "triage not a bool": ("triage", {"fever": "yes"}, "fever"),
    "bad JSON": ("alsfrs", '{"items": {"1": 4,', "input"),
    "empty input": ("triage", "", "input"),
    "non-object JSON": ("prognosis", "[60, 12, 0.5]", "input"),
    "JSON string": ("alsfrs", '"items"', "input"),
}


@pytest.mark.parametrize(("command", "payload", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_input_exits_2_naming_the_field(command: str, payload: Any, field: str) -> None:
    code, out, stderr = run(command, payload)
    assert code == 2
    assert out is None
    assert error_field(stderr) == field
    assert json.loads(stderr)["error"]["message"]


# --- The installed console script ---------------------------------------------------------------------------


def test_console_script_entry_point(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("alscare")
    assert script.exists(), f"console script not installed next to {sys.executable}"
    ok = subprocess.run(
        [str(script), "alsfrs"],
        input=json.dumps({"items": ISSUE_ITEMS, "died": False}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["total"] == 44
    bad = subprocess.run(
        [str(script), "alsfrs"], input="not json", capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
    )
    assert bad.returncode == 2
    assert json.loads(bad.stderr)["error"]["field"] == "input"

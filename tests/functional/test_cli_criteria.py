"""``alscare criteria`` in-process: JSON in, JSON out, exit 2 naming the field (issue 10's exact contract).

Rules: Revised El Escorial (Brooks 2000), Awaji–Shima (de Carvalho 2008), Gold Coast (Shefner 2020); every
category is covered in tests/unit/clinical/test_criteria.py, here the command's contract.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from alscare.cli import app

NONE = {"umn": False, "lmn_clinical": False, "lmn_emg": False}
BOTH = {"umn": True, "lmn_clinical": True, "lmn_emg": False}


def run(payload: Any) -> tuple[int, Any, str]:
    stdin = payload if isinstance(payload, str) else json.dumps(payload)
    result = CliRunner().invoke(app, ["criteria"], input=stdin)
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else None, result.stderr


def sheet(**regions: dict[str, bool]) -> dict[str, Any]:
    return {
        "regions": {r: regions.get(r, NONE) for r in ("bulbar", "cervical", "thoracic", "lumbosacral")},
        "progressive": True,
        "other_causes_excluded": True,
    }


def test_definite_in_three_regions() -> None:
    code, out, _ = run(sheet(bulbar=BOTH, cervical=BOTH, lumbosacral=BOTH))
    assert code == 0
    assert set(out) == {"el_escorial", "awaji", "gold_coast", "explanation"}
    assert (out["el_escorial"], out["awaji"], out["gold_coast"]) == ("definite", "definite", True)
    assert isinstance(out["explanation"], list) and "not a diagnosis" in out["explanation"][0]


def test_emg_makes_the_laboratory_supported_category_and_awaji_probable() -> None:
    emg_only = {"umn": False, "lmn_clinical": False, "lmn_emg": True}
    code, out, _ = run(sheet(bulbar={"umn": True, "lmn_clinical": False, "lmn_emg": True}, cervical=emg_only))
    assert code == 0
    assert (out["el_escorial"], out["awaji"], out["gold_coast"]) == ("probable_laboratory_supported", "possible", True)


def test_not_progressive_meets_nothing() -> None:
    data = sheet(bulbar=BOTH, cervical=BOTH, lumbosacral=BOTH) | {"progressive": False}
    code, out, _ = run(data)
    assert (code, out["el_escorial"], out["awaji"], out["gold_coast"]) == (0, "not_met", "not_met", False)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("not json", "input"),
        ("[]", "input"),
        ({"progressive": True, "other_causes_excluded": True}, "regions"),
        ({k: v for k, v in sheet().items() if k != "other_causes_excluded"}, "other_causes_excluded"),
        (sheet(thoracic={"umn": False, "lmn_clinical": False}), "regions.thoracic.lmn_emg"),
        (sheet(cervical={"umn": "yes", "lmn_clinical": False, "lmn_emg": False}), "regions.cervical.umn"),
    ],
)
def test_bad_input_exits_2_naming_the_field(payload: Any, field: str) -> None:
    code, _, stderr = run(payload)
    assert code == 2
    assert json.loads(stderr)["error"]["field"] == field

"""The diagnostic criteria worksheet: every category of every scheme reached by a worked example, every rule
tried on both sides, first match wins (issue 10's rule table).

Sources: Revised El Escorial — Brooks BR et al., Amyotroph Lateral Scler Other Motor Neuron Disord
2000;1:293–9. Awaji–Shima — de Carvalho M et al., Clin Neurophysiol 2008;119:497–503. Gold Coast — Shefner JM
et al., Clin Neurophysiol 2020;131:1975–8 (clinical-reference §5).

Worksheets are written one region per column, top to bottom (bulbar, cervical, thoracic, lumbosacral), with
U = UMN signs, L = clinical LMN signs, E = EMG LMN signs, "-" = nothing found.
"""

from __future__ import annotations

from typing import Any

import pytest

from alscare.clinical.criteria import REGIONS, CriteriaInput, evaluate
from alscare.clinical.errors import InvalidInput


def sheet(columns: str, *, progressive: bool = True, excluded: bool = True) -> dict[str, Any]:
    """'UL - UE -' → the JSON object the CLI reads."""
    cells = columns.split()
    assert len(cells) == 4, columns
    return {
        "regions": {
            region: {"umn": "U" in cell, "lmn_clinical": "L" in cell, "lmn_emg": "E" in cell}
            for region, cell in zip(REGIONS, cells, strict=True)
        },
        "progressive": progressive,
        "other_causes_excluded": excluded,
    }


def run(columns: str, **kw: bool) -> tuple[str, str, bool]:
    r = evaluate(CriteriaInput.from_mapping(sheet(columns, **kw)))
    return r.el_escorial, r.awaji, r.gold_coast


# (worksheet, El Escorial, Awaji, Gold Coast, what it shows)
WORKED = [
    # Revised El Escorial (Brooks 2000), LMN by examination only.
    ("-  UL UL UL", "definite", "definite", True, "EE definite: UMN+LMN in 3 regions"),
    ("UL UL UL UL", "definite", "definite", True, "EE definite: 4 regions is still ≥ 3"),
    ("UL UL -  - ", "probable", "probable", True, "EE probable: exactly 2 both-regions (definite's other side)"),
    ("UL UL E  E ", "probable", "probable", True, "first match wins: probable before laboratory-supported"),
    ("UL -  E  E ", "probable_laboratory_supported", "possible", True, "EE lab: 1 both-region + EMG in 2"),
    ("U  E  E  - ", "probable_laboratory_supported", "not_met", True, "EE lab: UMN alone in 1 region + EMG in 2"),
    ("ULE -  -  - ", "possible", "possible", True, "EE lab other side: EMG in only 1 region → possible"),
    ("U  E  -  - ", "not_met", "not_met", False, "EE lab other side: UMN + EMG in 1 region only"),
    ("-  E  E  E ", "not_met", "not_met", True, "EE lab other side: EMG in 3 regions but no UMN anywhere"),
    ("UL -  -  - ", "possible", "possible", True, "EE possible: 1 both-region"),
    ("U  U  -  - ", "possible", "possible", False, "EE possible: UMN alone in 2 regions"),
    ("U  -  -  - ", "not_met", "not_met", False, "EE possible other side: UMN in only 1 region"),
    ("L  -  -  U ", "possible", "possible", False, "EE possible: clinical LMN in a region above one with UMN"),
    ("U  -  -  L ", "not_met", "not_met", False, "EE possible other side: LMN below the UMN region"),
    ("-  -  U  L ", "not_met", "not_met", False, "'above' is strict order: lumbosacral is below thoracic"),
    ("E  -  -  U ", "not_met", "possible", False, "EE counts only clinical LMN above UMN; Awaji counts EMG"),
    ("-  -  -  - ", "not_met", "not_met", False, "nothing found"),
    # Awaji–Shima (de Carvalho 2008): EMG counts as LMN, no laboratory-supported category.
    ("UE UE UE - ", "probable_laboratory_supported", "definite", True, "Awaji definite by EMG in 3 UMN regions"),
    ("UE UE -  - ", "probable_laboratory_supported", "probable", True, "Awaji probable by EMG in 2 UMN regions"),
    ("UE -  -  - ", "not_met", "possible", True, "Awaji possible: UMN + EMG in 1 region"),
    ("U  -  E  E ", "probable_laboratory_supported", "not_met", True, "Awaji has no lab category: not_met"),
    ("UL UE -  - ", "possible", "probable", True, "Awaji mixes clinical and EMG LMN; EE: EMG in 1 region"),
    # Gold Coast (Shefner 2020).
    ("-  UE -  - ", "not_met", "possible", True, "GC: UMN and EMG LMN in the same region"),
    ("-  L  E  - ", "not_met", "not_met", True, "GC: LMN (clinical or EMG) in 2 regions, no UMN at all"),
    ("-  L  -  - ", "not_met", "not_met", False, "GC other side: LMN in only 1 region, no UMN"),
    ("U  L  -  - ", "not_met", "not_met", False, "GC other side: UMN and LMN, but not in the same region"),
    ("U  U  U  U ", "possible", "possible", False, "GC other side: UMN everywhere, no LMN"),
]


@pytest.mark.parametrize(("columns", "el_escorial", "awaji", "gold_coast", "why"), WORKED, ids=[w[4] for w in WORKED])
def test_worked_examples(columns: str, el_escorial: str, awaji: str, gold_coast: bool, why: str) -> None:
    assert run(columns) == (el_escorial, awaji, gold_coast), why


def test_every_category_of_every_scheme_is_reached() -> None:
    reached_ee = {w[1] for w in WORKED}
    reached_aw = {w[2] for w in WORKED}
    reached_gc = {w[3] for w in WORKED}
    assert reached_ee == {"definite", "probable", "probable_laboratory_supported", "possible", "not_met"}
    assert reached_aw == {"definite", "probable", "possible", "not_met"}
    assert reached_gc == {True, False}


@pytest.mark.parametrize(("progressive", "excluded"), [(False, True), (True, False), (False, False)])
def test_not_progressive_or_not_excluded_meets_nothing(progressive: bool, excluded: bool) -> None:
    # All three schemes require progression and the exclusion of other causes (Brooks 2000; de Carvalho
    # 2008; Shefner 2020): even a worksheet that is otherwise definite meets nothing.
    assert run("UL UL UL UL", progressive=progressive, excluded=excluded) == ("not_met", "not_met", False)
    r = evaluate(CriteriaInput.from_mapping(sheet("UL UL UL UL", progressive=progressive, excluded=excluded)))
    assert len(r.explanation) == 1 + (not progressive) + (not excluded)


def test_explanation_names_the_rule_and_says_it_is_not_a_diagnosis() -> None:
    r = evaluate(CriteriaInput.from_mapping(sheet("L  -  -  U ")))
    text = " ".join(r.explanation)
    assert "not a diagnosis" in text
    assert "above a region with UMN" in text
    assert "Brooks" in text and "de Carvalho" in text and "Shefner" in text
    assert r.as_json()["explanation"] == list(r.explanation)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("regions"), "regions"),
        (lambda d: d.__setitem__("regions", []), "regions"),
        (lambda d: d["regions"].pop("thoracic"), "regions.thoracic"),
        (lambda d: d["regions"].__setitem__("cervical", True), "regions.cervical"),
        (lambda d: d["regions"]["thoracic"].pop("lmn_emg"), "regions.thoracic.lmn_emg"),
        (lambda d: d["regions"]["bulbar"].__setitem__("umn", 1), "regions.bulbar.umn"),
        (lambda d: d["regions"]["lumbosacral"].__setitem__("lmn_clinical", "yes"), "regions.lumbosacral.lmn_clinical"),
        (lambda d: d["regions"]["bulbar"].__setitem__("sensory", True), "regions.bulbar.sensory"),
        (lambda d: d["regions"].__setitem__("sacral", {}), "regions.sacral"),
        (lambda d: d.pop("progressive"), "progressive"),
        (lambda d: d.__setitem__("other_causes_excluded", None), "other_causes_excluded"),
        (lambda d: d.__setitem__("diagnosis", "ALS"), "diagnosis"),
    ],
)
def test_bad_input_names_the_field(mutate: Any, field: str) -> None:
    data = sheet("UL -  -  - ")
    mutate(data)
    with pytest.raises(InvalidInput) as e:
        CriteriaInput.from_mapping(data)
    assert e.value.field == field

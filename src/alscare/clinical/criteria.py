"""Diagnostic criteria worksheet for clinicians: Revised El Escorial, Awaji–Shima and Gold Coast.

This is **decision support, never a diagnosis**. It applies the published criteria to findings a clinician has
already recorded, region by region, so that the three schemes can be compared side by side. The rules are the
exact table of issue 10 (the ``alscare criteria`` command), which simplifies the papers in places; other tools
depend on that table, so it is built as written, first match wins:

* Not progressive, or other causes not excluded → ``not_met`` in El Escorial and Awaji, Gold Coast false.
* **Revised El Escorial** (Brooks et al., *ALS Other Motor Neuron Disord* 2000;1:293–9), LMN = clinical LMN
  only, except where EMG is named. *both* = regions with UMN and clinical LMN.
  ``definite``: ≥ 3 *both* regions · ``probable``: 2 · ``probable_laboratory_supported``: (1 *both* region or
  UMN in ≥ 1 region) and EMG LMN in ≥ 2 regions · ``possible``: 1 *both* region, or UMN in ≥ 2 regions, or
  clinical LMN in a region above a region with UMN · otherwise ``not_met``.
* **Awaji–Shima** (de Carvalho et al., *Clin Neurophysiol* 2008;119:497–503): the same with LMN = clinical or
  EMG (EMG counts as clinical LMN), no laboratory-supported category.
* **Gold Coast** (Shefner et al., *Clin Neurophysiol* 2020;131:1975–8): true when UMN and LMN (clinical or
  EMG) in the same region, or LMN (clinical or EMG) in ≥ 2 regions.

Regions run from top to bottom: bulbar, cervical, thoracic, lumbosacral (clinical-reference §5). "Above"
means strictly higher in that order. Explanation lines come from ``wording/criteria.en.toml``.

Pure: no I/O beyond reading the wording file once, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast

from alscare.clinical.errors import InvalidInput
from alscare.clinical.wording import load_wording

__all__ = [
    "FINDINGS",
    "REGIONS",
    "CriteriaInput",
    "CriteriaResult",
    "RegionFindings",
    "evaluate",
]

Region = Literal["bulbar", "cervical", "thoracic", "lumbosacral"]
# Top to bottom: an index lower in this tuple is "above" (rostral to) a higher one.
REGIONS: Final[tuple[Region, ...]] = ("bulbar", "cervical", "thoracic", "lumbosacral")
FINDINGS: Final[tuple[str, ...]] = ("umn", "lmn_clinical", "lmn_emg")
TOP_LEVEL: Final[tuple[str, ...]] = ("regions", "progressive", "other_causes_excluded")

ElEscorial = Literal["definite", "probable", "probable_laboratory_supported", "possible", "not_met"]
Awaji = Literal["definite", "probable", "possible", "not_met"]

# Thresholds of the rule table, named so each can be tested on both sides.
DEFINITE_MIN_BOTH: Final = 3
PROBABLE_BOTH: Final = 2
LAB_SUPPORTED_MIN_EMG: Final = 2
POSSIBLE_MIN_UMN: Final = 2
GOLD_COAST_MIN_LMN: Final = 2

SOURCE_EL_ESCORIAL: Final = "Brooks BR et al., Amyotroph Lateral Scler Other Motor Neuron Disord 2000;1:293–9"
SOURCE_AWAJI: Final = "de Carvalho M et al., Clin Neurophysiol 2008;119:497–503"
SOURCE_GOLD_COAST: Final = "Shefner JM et al., Clin Neurophysiol 2020;131:1975–8"


@dataclass(frozen=True)
class RegionFindings:
    """What the clinician found in one body region: upper and lower motor neuron signs."""

    umn: bool
    lmn_clinical: bool
    lmn_emg: bool


@dataclass(frozen=True)
class CriteriaInput:
    """The worksheet: findings for all four regions, and the two conditions every scheme requires."""

    regions: Mapping[Region, RegionFindings]
    progressive: bool
    other_causes_excluded: bool

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> CriteriaInput:
        """Parse untrusted JSON; every refusal names the field (e.g. ``regions.thoracic.lmn_emg``)."""
        for key in data:
            if key not in TOP_LEVEL:
                raise InvalidInput(str(key), "unknown field")
        if "regions" not in data:
            raise InvalidInput("regions", "is required")
        raw_regions = data["regions"]
        if not isinstance(raw_regions, Mapping):
            raise InvalidInput("regions", "must be an object with bulbar, cervical, thoracic and lumbosacral")
        for key in raw_regions:
            if key not in REGIONS:
                raise InvalidInput(f"regions.{key}", "unknown region")
        regions: dict[Region, RegionFindings] = {}
        for region in REGIONS:
            where = f"regions.{region}"
            if region not in raw_regions:
                raise InvalidInput(where, "is required")
            raw = raw_regions[region]
            if not isinstance(raw, Mapping):
                raise InvalidInput(where, "must be an object with umn, lmn_clinical and lmn_emg")
            for key in raw:
                if key not in FINDINGS:
                    raise InvalidInput(f"{where}.{key}", "unknown field")
            values = {finding: _required_bool(raw, finding, f"{where}.{finding}") for finding in FINDINGS}
            regions[region] = RegionFindings(**values)
        return cls(
            regions=regions,
            progressive=_required_bool(data, "progressive", "progressive"),
            other_causes_excluded=_required_bool(data, "other_causes_excluded", "other_causes_excluded"),
        )


def _required_bool(data: Mapping[str, object], key: str, field: str) -> bool:
    if key not in data:
        raise InvalidInput(field, "is required")
    value = data[key]
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


@dataclass(frozen=True)
class CriteriaResult:
    """Each scheme's category, and plain explanation lines saying which rule matched."""

    el_escorial: ElEscorial
    awaji: Awaji
    gold_coast: bool
    explanation: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "el_escorial": self.el_escorial,
            "awaji": self.awaji,
            "gold_coast": self.gold_coast,
            "explanation": list(self.explanation),
        }


def _lmn_above_umn(lmn: list[bool], umn: list[bool]) -> bool:
    """LMN in some region strictly above (rostral to) a region with UMN."""
    return any(lmn[i] and any(umn[j] for j in range(i + 1, len(umn))) for i in range(len(lmn)))


def _category(umn: list[bool], lmn: list[bool], emg: list[bool] | None) -> tuple[str, str]:
    """The shared El Escorial / Awaji ladder. ``emg`` is None for Awaji (no laboratory-supported category).

    Returns (category, wording key of the rule that matched).
    """
    both = sum(u and m for u, m in zip(umn, lmn, strict=True))
    umn_count = sum(umn)
    if both >= DEFINITE_MIN_BOTH:
        return "definite", "definite"
    if both == PROBABLE_BOTH:
        return "probable", "probable"
    if emg is not None and (both == 1 or umn_count >= 1) and sum(emg) >= LAB_SUPPORTED_MIN_EMG:
        return "probable_laboratory_supported", "probable_laboratory_supported"
    if both == 1:
        return "possible", "possible_one_region"
    if umn_count >= POSSIBLE_MIN_UMN:
        return "possible", "possible_umn_regions"
    if _lmn_above_umn(lmn, umn):
        return "possible", "possible_lmn_above_umn"
    return "not_met", "not_met"


def evaluate(worksheet: CriteriaInput) -> CriteriaResult:
    """Apply the three schemes to one worksheet (decision support; see the module docstring)."""
    words = load_wording("criteria.en")["explanation"]
    if not worksheet.progressive or not worksheet.other_causes_excluded:
        lines = [words["always"]]
        if not worksheet.progressive:
            lines.append(words["not_progressive"])
        if not worksheet.other_causes_excluded:
            lines.append(words["other_causes_not_excluded"])
        return CriteriaResult("not_met", "not_met", False, tuple(lines))

    findings = [worksheet.regions[r] for r in REGIONS]
    umn = [f.umn for f in findings]
    clinical = [f.lmn_clinical for f in findings]
    emg = [f.lmn_emg for f in findings]
    any_lmn = [c or e for c, e in zip(clinical, emg, strict=True)]

    el_escorial, ee_rule = _category(umn, clinical, emg)
    awaji, aw_rule = _category(umn, any_lmn, None)
    same_region = any(u and m for u, m in zip(umn, any_lmn, strict=True))
    gold_coast = same_region or sum(any_lmn) >= GOLD_COAST_MIN_LMN
    if same_region:
        gc_rule = "gold_coast_same_region"
    else:
        gc_rule = "gold_coast_lmn_regions" if gold_coast else "gold_coast_not_met"

    lines = [
        words["always"],
        words["el_escorial"].format(rule=words["rules"][ee_rule], source=SOURCE_EL_ESCORIAL),
        words["awaji"].format(rule=words["rules"][aw_rule], source=SOURCE_AWAJI),
        words["gold_coast"].format(rule=words["rules"][gc_rule], source=SOURCE_GOLD_COAST),
    ]
    return CriteriaResult(cast(ElEscorial, el_escorial), cast(Awaji, awaji), gold_coast, tuple(lines))

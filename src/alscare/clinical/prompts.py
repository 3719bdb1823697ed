"""Clinical prompts: guideline thresholds a check-in has crossed, for the care team to act on.

Triage (``alscare.clinical.triage``) says how soon the *person* should talk to someone. Prompts say something
different: a published threshold for a planned intervention — an assessment for non-invasive ventilation
(NIV), or a discussion of gastrostomy — has been crossed, so the care team should raise it. They go to the
clinic as alerts of severity ``prompt``; they are never shown to the person as advice.

Only **High**-confidence thresholds from clinical-reference §6 are used. Each rule names its source and its
confidence; ``docs/sources.md`` lists every one. Thresholds marked UNCONFIRMED in the reference (the NICE
NIV referral table, SpO₂ ≤ 92 %, the NICE weight-loss trigger) are deliberately left out.

A prompt is a reminder, not a decision: the full European NIV criteria also need nocturnal oximetry or a
blood gas, which a check-in cannot give, so the prompt asks for an *assessment*.

Like triage, this module is pure: it takes parsed values and returns frozen results, no clock, no database.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Final, Literal

from alscare.clinical.errors import InvalidInput
from alscare.clinical.triage import CheckIn
from alscare.clinical.wording import load_wording

# --- Measurements ---------------------------------------------------------------------------------

# Plausibility limits on breathing measurements (input hygiene, not clinical thresholds; alscare choice).
FVC_PERCENT_MIN: Final = 10.0
FVC_PERCENT_MAX: Final = 150.0
SNIP_CMH2O_MIN: Final = 0.0
SNIP_CMH2O_MAX: Final = 200.0
SPO2_PERCENT_MIN: Final = 50.0
SPO2_PERCENT_MAX: Final = 100.0

_LIMITS: Final[dict[str, tuple[float, float, str]]] = {
    "fvc_percent": (FVC_PERCENT_MIN, FVC_PERCENT_MAX, "% of predicted"),
    "snip_cmh2o": (SNIP_CMH2O_MIN, SNIP_CMH2O_MAX, "cmH₂O"),
    "spo2_percent": (SPO2_PERCENT_MIN, SPO2_PERCENT_MAX, "%"),
}


@dataclass(frozen=True)
class Measurements:
    """Breathing measurements reported with a check-in; ``None`` = not measured, which never fires a rule.

    FVC: forced vital capacity, % of predicted. SNIP: sniff nasal inspiratory pressure, cmH₂O (its magnitude).
    SpO₂: oxygen saturation by pulse oximetry, % (recorded only; no prompt uses it, see the module docstring).
    """

    fvc_percent: float | None = None
    snip_cmh2o: float | None = None
    spo2_percent: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                object.__setattr__(self, f.name, _measurement(f.name, value))


def _measurement(field: str, value: object) -> float:
    low, high, unit = _LIMITS[field]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field, "must be a number")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low:g} and {high:g} {unit}")
    return float(value)


# --- Thresholds, each with its source --------------------------------------------------------------

# AAN 2009 algorithm as used for US Medicare NIV cover (rcjournal 58(9):1555; Neurol Clin 2020, PMC7963888):
# FVC < 50 % predicted. High (clinical-reference §6).
NIV_FVC_BELOW_PERCENT: Final = 50.0
# AAN 2009 adds SNP (SNIP) < 40 cmH₂O. High (clinical-reference §6).
NIV_SNIP_BELOW_CMH2O: Final = 40.0
# European consensus (Leigh 2003; ojrd 1750-1172-4-3 Table 5): respiratory muscle weakness is FVC ≤ 80 %
# or SNP ≤ 40 cmH₂O. High (clinical-reference §6).
LEIGH_FVC_AT_MOST_PERCENT: Final = 80.0
LEIGH_SNIP_AT_MOST_CMH2O: Final = 40.0
# EFNS 2012 (Andersen et al., Eur J Neurol 2012;19:360): malnutrition = weight loss > 10 %. The source says
# "> 10 %"; alscare prompts at ≥ 10 % (a prompt to discuss may over-call, never under-call). High.
GASTROSTOMY_WEIGHT_LOSS_PERCENT: Final = 10.0
# AAN 2009 nutrition algorithm (Fig. 2): PEG risk by FVC — > 50 % low, 30–50 % moderate, < 30 % high. High.
PEG_MODERATE_RISK_FVC_LOW: Final = 30.0
PEG_MODERATE_RISK_FVC_HIGH: Final = 50.0

SOURCE_AAN_NIV: Final = (
    "AAN 2009 practice parameter (Miller et al., Neurology 2009;73:1218–26) NIV algorithm and US Medicare "
    "NIV criteria: FVC < 50 % predicted, or SNP < 40 cmH₂O (rcjournal 58(9):1555; Neurol Clin 2020, "
    "PMC7963888; clinical-reference §6)"
)
SOURCE_LEIGH: Final = (
    "European consensus NIV criteria (Leigh et al. 2003; ojrd 1750-1172-4-3 Table 5): at least one symptom "
    "(dyspnoea, orthopnoea, morning headache …) and respiratory muscle weakness (FVC ≤ 80 % or SNP ≤ "
    "40 cmH₂O); the third criterion (nocturnal desaturation or pCO₂ ≥ 6.5 kPa) needs the assessment this "
    "prompts (clinical-reference §6)"
)
SOURCE_EFNS_WEIGHT: Final = (
    "EFNS 2012 guideline (Andersen et al., Eur J Neurol 2012;19:360): gastrostomy timing considers "
    "malnutrition, weight loss > 10 % (clinical-reference §6); alscare prompts from 10 % inclusive"
)
SOURCE_AAN_PEG: Final = (
    "AAN 2009 nutrition algorithm (Miller et al., Neurology 2009;73:1218–26, Fig. 2): PEG risk by FVC — "
    "> 50 % low, 30–50 % moderate, < 30 % high (clinical-reference §6)"
)
SOURCE_AAN_PEG_HIGH_RISK: Final = (
    SOURCE_AAN_PEG + "; below 30 %: anaesthetic review, respiratory support during placement, consider "
    "alternatives — EFNS 2012: RIG when PEG is hazardous (clinical-reference §6)"
)

Confidence = Literal["High"]

# --- The rule table -------------------------------------------------------------------------------

# Check-in answers that are Leigh 2003 symptoms: dyspnoea (breathless at rest, sudden trouble breathing),
# orthopnoea, morning headache. "Sleepy in the day" is not used: Leigh asks for an Epworth score > 9.
_RESPIRATORY_SYMPTOMS: Final = ("breathless_at_rest", "breathing_sudden_trouble", "orthopnea", "morning_headache")
# Check-in answers that are swallowing problems (AAN nutrition algorithm: symptom progression).
_SWALLOWING_PROBLEMS: Final = ("choking_on_food", "cannot_take_food_fluids_meds")


@dataclass(frozen=True)
class PromptRule:
    """One row of the prompt table. Its message, for the care team, is ``PROMPT_MESSAGES[id]``."""

    id: str
    applies: Callable[[CheckIn, Measurements], bool]
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class Prompt:
    """A prompt that fired: its rule id, the message for the care team, and the rule's source."""

    id: str
    message: str
    source: str


def _yes_to_any(check_in: CheckIn, names: tuple[str, ...]) -> bool:
    return any(getattr(check_in, name) is True for name in names)


def _niv_fvc(_c: CheckIn, m: Measurements) -> bool:
    return m.fvc_percent is not None and m.fvc_percent < NIV_FVC_BELOW_PERCENT


def _niv_snip(_c: CheckIn, m: Measurements) -> bool:
    return m.snip_cmh2o is not None and m.snip_cmh2o < NIV_SNIP_BELOW_CMH2O


def _niv_symptoms_with_weakness(c: CheckIn, m: Measurements) -> bool:
    weak = (m.fvc_percent is not None and m.fvc_percent <= LEIGH_FVC_AT_MOST_PERCENT) or (
        m.snip_cmh2o is not None and m.snip_cmh2o <= LEIGH_SNIP_AT_MOST_CMH2O
    )
    return weak and _yes_to_any(c, _RESPIRATORY_SYMPTOMS)


def _gastrostomy_weight_loss(c: CheckIn, _m: Measurements) -> bool:
    loss = c.weight_loss_percent()
    return loss is not None and loss >= GASTROSTOMY_WEIGHT_LOSS_PERCENT


def _gastrostomy_before_fvc_falls(c: CheckIn, m: Measurements) -> bool:
    fvc = m.fvc_percent
    in_band = fvc is not None and PEG_MODERATE_RISK_FVC_LOW <= fvc <= PEG_MODERATE_RISK_FVC_HIGH
    return in_band and _yes_to_any(c, _SWALLOWING_PROBLEMS)


def _gastrostomy_high_risk(c: CheckIn, m: Measurements) -> bool:
    fvc = m.fvc_percent
    return fvc is not None and fvc < PEG_MODERATE_RISK_FVC_LOW and _yes_to_any(c, _SWALLOWING_PROBLEMS)


PROMPT_RULES: Final[tuple[PromptRule, ...]] = (
    PromptRule("niv_assessment_fvc", _niv_fvc, SOURCE_AAN_NIV, "High"),
    PromptRule("niv_assessment_snip", _niv_snip, SOURCE_AAN_NIV, "High"),
    PromptRule("niv_assessment_symptoms", _niv_symptoms_with_weakness, SOURCE_LEIGH, "High"),
    PromptRule("gastrostomy_weight_loss", _gastrostomy_weight_loss, SOURCE_EFNS_WEIGHT, "High"),
    PromptRule("gastrostomy_before_fvc_falls", _gastrostomy_before_fvc_falls, SOURCE_AAN_PEG, "High"),
    PromptRule("gastrostomy_high_procedural_risk", _gastrostomy_high_risk, SOURCE_AAN_PEG_HIGH_RISK, "High"),
)

# Messages for the care team (clinicians), not for the person: wording lives in wording/prompts.en.toml.
PROMPT_MESSAGES: Final[dict[str, str]] = {
    rule_id: entry["message"] for rule_id, entry in load_wording("prompts.en").items()
}


def prompts_for(check_in: CheckIn, measurements: Measurements) -> tuple[Prompt, ...]:
    """Every prompt whose rule fires, in table order. Unanswered values never fire a rule."""
    return tuple(
        Prompt(rule.id, PROMPT_MESSAGES[rule.id], rule.source)
        for rule in PROMPT_RULES
        if rule.applies(check_in, measurements)
    )

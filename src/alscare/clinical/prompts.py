"""Clinical prompts: what a prompt is, and the breathing measurements a check-in carries.

Triage (``alscare.clinical.triage``) says how soon the *person* should talk to someone. Prompts say something
different: a published threshold for a planned intervention — an assessment for non-invasive ventilation
(NIV), a discussion of gastrostomy, an overdue review — has been crossed, so the care team should raise it.
They go to the clinic as alerts of severity ``prompt``; they are never shown to the person as advice.

The rules look at the whole history, not one check-in: they are ``alscare.clinical.history_prompts`` (issue 8),
which replaced the check-in-only table that lived here. What stays here is the ``Prompt`` result shared by
every prompt source (the history rules, medicines) and the validated breathing measurements of a check-in,
whose limits the history rules reuse.

Like triage, this module is pure: it takes parsed values and returns frozen results, no clock, no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Final

from alscare.clinical.errors import InvalidInput

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


# --- Thresholds kept here for other modules ----------------------------------------------------------

# AAN 2009 nutrition algorithm (Fig. 2): PEG risk by FVC — > 50 % low, 30–50 % moderate, < 30 % high. High
# (clinical-reference §6). ``clinical.history_prompts`` uses the lower edge for its high-risk prompt.
PEG_MODERATE_RISK_FVC_LOW: Final = 30.0
PEG_MODERATE_RISK_FVC_HIGH: Final = 50.0


@dataclass(frozen=True)
class Prompt:
    """A prompt that fired: its rule id, the message for the care team, and the rule's source."""

    id: str
    message: str
    source: str

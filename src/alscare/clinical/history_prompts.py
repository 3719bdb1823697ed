"""Guideline prompts from a person's whole history (issue 8, ``alscare prompts``).

``alscare.clinical.prompts`` looked at one check-in at a time. Here the input is everything known: every
ALSFRS-R total, every measurement (FVC, SNIP, weight), every check-in's symptom answers, and a few facts about
the person (usual weight, diagnosis date, gastrostomy, NIV, when care wishes were last discussed). The rule
table is the issue's, exactly: ids, order, boundaries. Prompts go to the care team as alerts of severity
``prompt``; they are reminders of a published threshold, never advice to the person and never a diagnosis.

Definitions (from the issue, and pinned by tests on both sides of every boundary)
    *Latest X* is the X of the latest-dated entry that has one; among entries of the same date, the last
    listed. *Within the N days up to today* is dated on or after today − N days and not after today.
    *Recent* is within the 30 days up to today. Weight shares are compared exactly (Decimal of the number as
    written), so 72 kg of 80 kg is exactly 90 %.

Input rules (``parse_history``)
    Every refusal is ``InvalidInput`` naming the field with 0-based indexes (``measurements[1].fvc_percent``):
    an unknown field, a date that is not ``YYYY-MM-DD`` or is after ``today``, a total outside 0–48, a
    symptom that is not true/false, a number outside the check-in's plausibility limits (FVC and SNIP from
    ``clinical.prompts``, weights from ``clinical.triage``). ``null`` is taken as "not given" for an optional
    value, as the check-in does.

This module is pure: no clock (``today`` is an argument), no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from alscare.clinical.alsfrs_r import TOTAL_MAX
from alscare.clinical.errors import InvalidInput
from alscare.clinical.prompts import (
    FVC_PERCENT_MAX,
    FVC_PERCENT_MIN,
    PEG_MODERATE_RISK_FVC_LOW,
    SNIP_CMH2O_MAX,
    SNIP_CMH2O_MIN,
    Prompt,
)
from alscare.clinical.triage import CHECK_IN_FIELDS, WEIGHT_KG_MAX
from alscare.clinical.wording import load_wording

# --- Windows ---------------------------------------------------------------------------------------------

# "Recent" symptoms: within the 30 days up to today (the definition; alscare's window, chosen so a
# monthly check-in is always in view).
RECENT_DAYS: Final = 30
# NICE NG42 / QS126 statement 2: MDT and respiratory review "every 2–3 months"; 92 days is three calendar
# months at their longest (31 + 30 + 31), so no one counts as overdue before three full months have passed.
REVIEW_WINDOW_DAYS: Final = 92
# Early-review rule (ours, from NICE NG42's "rapid progression"): a fall of 4 ALSFRS-R points within
# 92 days (≈ 1.3 points/month, above the Kimura "fast" band of 1 point/month; clinical-reference §2).
ALSFRS_FALL_POINTS: Final = 4
ALSFRS_FALL_WINDOW_DAYS: Final = 92
# NICE NG42 1.3 / QS126 statement 5: discuss advance care planning at diagnosis and at key decision points
# (NIV, gastrostomy). Discussed within the last 92 days counts as discussed.
CARE_WISHES_WINDOW_DAYS: Final = 92
DIAGNOSIS_WINDOW_DAYS: Final = 92

# --- Thresholds, each with its source (clinical-reference §6) -------------------------------------------

# AAN 2009 (Miller et al., Neurology 2009;73:1218–26) / US Medicare NIV criteria: FVC < 50 % predicted.
NIV_FVC_BELOW_PERCENT: Final = 50
# AAN 2009: SNP (SNIP) < 40 cmH₂O.
NIV_SNIP_BELOW_CMH2O: Final = 40
# Leigh 2003 European consensus (ojrd 1750-1172-4-3 Table 5): respiratory muscle weakness with symptoms; the
# issue's table uses FVC < 80 %.
NIV_SYMPTOMS_FVC_BELOW_PERCENT: Final = 80
# EFNS 2012 (Andersen et al., Eur J Neurol 2012;19:360): malnutrition = weight loss > 10 %; the table prompts
# at a loss of 10 % or more, i.e. latest weight ≤ 90 % of usual weight (a prompt may over-call).
GASTROSTOMY_WEIGHT_AT_MOST_PERCENT_OF_USUAL: Final = 90

# Check-in answers the rules read (names of the check-in's boolean fields, clinical.triage).
NIV_ORTHOPNOEA_FIELD: Final = "orthopnea"
# Leigh 2003 symptoms the check-in asks about: orthopnoea, dyspnoea at rest, morning headache, daytime
# sleepiness (the table's list).
NIV_SYMPTOM_FIELDS: Final = ("orthopnea", "breathless_at_rest", "morning_headache", "daytime_sleepiness")
# AAN 2009 nutrition algorithm: swallowing symptom progression.
DYSPHAGIA_FIELDS: Final = ("choking_on_food", "cannot_take_food_fluids_meds")
# Every check-in answer a rule reads: a history whose symptoms hold only these gives the same prompts.
RULE_SYMPTOM_FIELDS: Final = tuple(dict.fromkeys((NIV_ORTHOPNOEA_FIELD, *NIV_SYMPTOM_FIELDS, *DYSPHAGIA_FIELDS)))

# The table's "source" column, verbatim (the CLI prints these). Full citations are in docs/sources.md.
SOURCE_AAN: Final = "AAN 2009"
SOURCE_LEIGH: Final = "Leigh 2003 (European NIV criteria)"
SOURCE_WEIGHT: Final = "EFNS 2012; AAN 2009"
SOURCE_BREATHING: Final = "NICE NG42 (every 3 months)"
SOURCE_REVIEW: Final = "NICE NG42 / QS126 (review every 2–3 months)"
SOURCE_FALL: Final = 'early-review rule (ours, from NICE NG42\'s "rapid progression")'
SOURCE_CARE_WISHES: Final = "NICE NG42 1.3 (advance care planning at diagnosis and at key decision points)"
# Kept from the check-in table (clinical.prompts): AAN 2009 nutrition algorithm, PEG risk high below 30 %.
SOURCE_PEG_HIGH_RISK: Final = "AAN 2009 (nutrition algorithm: PEG risk high below FVC 30 %)"

# --- Input -----------------------------------------------------------------------------------------------

SYMPTOM_FIELDS: Final = tuple(name for name, spec in CHECK_IN_FIELDS.items() if spec.kind == "bool")
MEASUREMENT_FIELDS: Final = ("fvc_percent", "snip_cmh2o", "weight_kg")
TOP_FIELDS: Final = (
    "today",
    "diagnosis",
    "usual_weight_kg",
    "gastrostomy",
    "niv",
    "care_wishes_discussed_on",
    "assessments",
    "measurements",
    "symptoms",
)
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class AssessmentEntry:
    on: date
    total: int


@dataclass(frozen=True)
class MeasurementEntry:
    """Numbers are kept as Decimal of the number as written, so comparisons are exact."""

    on: date
    fvc_percent: Decimal | None = None
    snip_cmh2o: Decimal | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class SymptomEntry:
    on: date
    answers: Mapping[str, bool] = field(default_factory=dict)

    def reports(self, names: Sequence[str]) -> bool:
        return any(self.answers.get(name) is True for name in names)


@dataclass(frozen=True)
class History:
    """Everything the prompts look at. Lists keep input order (it breaks same-date ties)."""

    today: date
    diagnosis: date | None = None
    usual_weight_kg: Decimal | None = None
    gastrostomy: bool = False
    niv: bool = False
    care_wishes_discussed_on: date | None = None
    assessments: tuple[AssessmentEntry, ...] = ()
    measurements: tuple[MeasurementEntry, ...] = ()
    symptoms: tuple[SymptomEntry, ...] = ()


def _date(value: object, name: str, today: date | None) -> date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise InvalidInput(name, "must be a date written YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, "must be a real date written YYYY-MM-DD") from None
    if today is not None and parsed > today:
        raise InvalidInput(name, f"must not be after today ({today.isoformat()})")
    return parsed


def _number(value: object, name: str, low: float, high: float, unit: str, *, low_open: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(name, "must be a number")
    inside = (low < value if low_open else low <= value) and value <= high
    if not inside:
        lower = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise InvalidInput(name, f"must be {lower} and at most {high:g} {unit}")
    # Decimal of the shortest repr: the number as it was written (72.5 stays 72.5, not its binary neighbour).
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


_MEASUREMENT_LIMITS: Final[dict[str, tuple[float, float, str, bool]]] = {
    "fvc_percent": (FVC_PERCENT_MIN, FVC_PERCENT_MAX, "% of predicted", False),
    "snip_cmh2o": (SNIP_CMH2O_MIN, SNIP_CMH2O_MAX, "cmH₂O", False),
    "weight_kg": (0.0, WEIGHT_KG_MAX, "kg", True),  # stored history: entries from before the 20 kg floor still read
}


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be true or false")
    return value


def _entries(data: Mapping[str, Any], name: str) -> list[tuple[str, Mapping[str, Any]]]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(name, "must be a list")
    out: list[tuple[str, Mapping[str, Any]]] = []
    for index, entry in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(entry, dict):
            raise InvalidInput(where, "must be an object")
        out.append((where, entry))
    return out


def _entry_date(entry: Mapping[str, Any], where: str, today: date) -> date:
    if entry.get("date") is None:
        raise InvalidInput(f"{where}.date", "is required")
    return _date(entry["date"], f"{where}.date", today)


def _only(entry: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
    for key in entry:
        if key not in allowed:
            raise InvalidInput(f"{where}.{key}", "unknown field")


def parse_history(data: Mapping[str, Any]) -> History:
    """Validate the ``alscare prompts`` input (one JSON object) and build a ``History``."""
    for key in data:
        if key not in TOP_FIELDS:
            raise InvalidInput(str(key), "unknown field")
    if data.get("today") is None:
        raise InvalidInput("today", "is required")
    today = _date(data["today"], "today", None)
    optional_date = {
        name: None if data.get(name) is None else _date(data[name], name, today)
        for name in ("diagnosis", "care_wishes_discussed_on")
    }
    usual = data.get("usual_weight_kg")
    usual_weight = None if usual is None else _number(usual, "usual_weight_kg", 0.0, WEIGHT_KG_MAX, "kg", low_open=True)
    flags = {name: False if data.get(name) is None else _bool(data[name], name) for name in ("gastrostomy", "niv")}

    assessments: list[AssessmentEntry] = []
    for where, entry in _entries(data, "assessments"):
        _only(entry, where, ("date", "total"))
        on = _entry_date(entry, where, today)
        total = entry.get("total")
        if total is None:
            raise InvalidInput(f"{where}.total", "is required")
        if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= TOTAL_MAX:
            raise InvalidInput(f"{where}.total", f"must be a whole number from 0 to {TOTAL_MAX}")
        assessments.append(AssessmentEntry(on, total))

    measurements: list[MeasurementEntry] = []
    for where, entry in _entries(data, "measurements"):
        _only(entry, where, ("date", *MEASUREMENT_FIELDS))
        on = _entry_date(entry, where, today)
        numbers: dict[str, Decimal] = {}
        for name in MEASUREMENT_FIELDS:
            if entry.get(name) is not None:
                low, high, unit, low_open = _MEASUREMENT_LIMITS[name]
                numbers[name] = _number(entry[name], f"{where}.{name}", low, high, unit, low_open=low_open)
        measurements.append(MeasurementEntry(on, **numbers))

    symptoms: list[SymptomEntry] = []
    for where, entry in _entries(data, "symptoms"):
        _only(entry, where, ("date", *SYMPTOM_FIELDS))
        on = _entry_date(entry, where, today)
        answers = {
            name: _bool(entry[name], f"{where}.{name}") for name in SYMPTOM_FIELDS if entry.get(name) is not None
        }
        symptoms.append(SymptomEntry(on, answers))

    return History(
        today=today,
        diagnosis=optional_date["diagnosis"],
        usual_weight_kg=usual_weight,
        gastrostomy=flags["gastrostomy"],
        niv=flags["niv"],
        care_wishes_discussed_on=optional_date["care_wishes_discussed_on"],
        assessments=tuple(assessments),
        measurements=tuple(measurements),
        symptoms=tuple(symptoms),
    )


# --- Reading the history ---------------------------------------------------------------------------------


def within(on: date, today: date, days: int) -> bool:
    """Dated on or after ``today − days`` and not after ``today``."""
    return today - timedelta(days=days) <= on <= today


def latest_measurement(history: History, name: str) -> Decimal | None:
    """The ``name`` value of the latest-dated measurement that has one; same date: the last listed."""
    best: tuple[date, int, Decimal] | None = None
    for index, entry in enumerate(history.measurements):
        value: Decimal | None = getattr(entry, name)
        if value is not None and (best is None or (entry.on, index) >= (best[0], best[1])):
            best = (entry.on, index, value)
    return None if best is None else best[2]


def _recent_reports(history: History, names: Sequence[str]) -> bool:
    return any(within(s.on, history.today, RECENT_DAYS) and s.reports(names) for s in history.symptoms)


def _latest_assessment_index(history: History) -> int | None:
    if not history.assessments:
        return None
    return max(range(len(history.assessments)), key=lambda i: (history.assessments[i].on, i))


# --- The rules, in the table's order -------------------------------------------------------------------


def _niv_fvc(h: History) -> bool:
    fvc = latest_measurement(h, "fvc_percent")
    return not h.niv and fvc is not None and fvc < NIV_FVC_BELOW_PERCENT


def _niv_snip(h: History) -> bool:
    snip = latest_measurement(h, "snip_cmh2o")
    return not h.niv and snip is not None and snip < NIV_SNIP_BELOW_CMH2O


def _niv_orthopnoea(h: History) -> bool:
    return not h.niv and _recent_reports(h, (NIV_ORTHOPNOEA_FIELD,))


def _niv_fvc_80_with_symptoms(h: History) -> bool:
    fvc = latest_measurement(h, "fvc_percent")
    return (
        not h.niv
        and fvc is not None
        and fvc < NIV_SYMPTOMS_FVC_BELOW_PERCENT
        and _recent_reports(h, NIV_SYMPTOM_FIELDS)
    )


def _gastrostomy_weight_loss(h: History) -> bool:
    weight = latest_measurement(h, "weight_kg")
    if h.gastrostomy or h.usual_weight_kg is None or weight is None:
        return False
    # Exact: weight ≤ 90 % of usual ⇔ 100 × weight ≤ 90 × usual (Decimal, no rounding).
    return weight * 100 <= h.usual_weight_kg * GASTROSTOMY_WEIGHT_AT_MOST_PERCENT_OF_USUAL


def _gastrostomy_dysphagia(h: History) -> bool:
    return not h.gastrostomy and _recent_reports(h, DYSPHAGIA_FIELDS)


def _breathing_overdue(h: History) -> bool:
    return not any(
        (m.fvc_percent is not None or m.snip_cmh2o is not None) and within(m.on, h.today, REVIEW_WINDOW_DAYS)
        for m in h.measurements
    )


def _review_overdue(h: History) -> bool:
    return not any(within(a.on, h.today, REVIEW_WINDOW_DAYS) for a in h.assessments)


def _alsfrs_fall(h: History) -> bool:
    last = _latest_assessment_index(h)
    if last is None:
        return False
    latest = h.assessments[last]
    return any(
        index != last
        and (latest.on - a.on).days <= ALSFRS_FALL_WINDOW_DAYS
        and a.total - latest.total >= ALSFRS_FALL_POINTS
        for index, a in enumerate(h.assessments)
    )


def _peg_high_risk(h: History) -> bool:
    fvc = latest_measurement(h, "fvc_percent")
    return (
        not h.gastrostomy
        and fvc is not None
        and fvc < Decimal(repr(PEG_MODERATE_RISK_FVC_LOW))
        and _recent_reports(h, DYSPHAGIA_FIELDS)
    )


@dataclass(frozen=True)
class HistoryRule:
    id: str
    applies: Callable[[History], bool]
    source: str


# The table, in its order. ``care_wishes_discussion`` is computed last from these (see below).
TABLE_RULES: Final[tuple[HistoryRule, ...]] = (
    HistoryRule("niv_fvc_below_50", _niv_fvc, SOURCE_AAN),
    HistoryRule("niv_snip_below_40", _niv_snip, SOURCE_AAN),
    HistoryRule("niv_orthopnoea", _niv_orthopnoea, SOURCE_AAN),
    HistoryRule("niv_fvc_below_80_with_symptoms", _niv_fvc_80_with_symptoms, SOURCE_LEIGH),
    HistoryRule("gastrostomy_weight_loss", _gastrostomy_weight_loss, SOURCE_WEIGHT),
    HistoryRule("gastrostomy_dysphagia", _gastrostomy_dysphagia, SOURCE_AAN),
    HistoryRule("breathing_assessment_overdue", _breathing_overdue, SOURCE_BREATHING),
    HistoryRule("review_overdue", _review_overdue, SOURCE_REVIEW),
    HistoryRule("alsfrs_fall_4_in_3_months", _alsfrs_fall, SOURCE_FALL),
)
CARE_WISHES_ID: Final = "care_wishes_discussion"
# Key decision points for the care-wishes rule: the four niv_* and the two gastrostomy_* prompts.
KEY_DECISION_IDS: Final = frozenset(r.id for r in TABLE_RULES if r.id.startswith(("niv_", "gastrostomy_")))
# Prompts beyond the table (the issue allows other ids), after it. Kept from the check-in table: swallowing
# problems with FVC < 30 % make gastrostomy urgent and riskier (AAN 2009 PEG risk bands).
OTHER_RULES: Final[tuple[HistoryRule, ...]] = (
    HistoryRule("gastrostomy_high_procedural_risk", _peg_high_risk, SOURCE_PEG_HIGH_RISK),
)
PROMPT_IDS: Final = (*(r.id for r in TABLE_RULES), CARE_WISHES_ID, *(r.id for r in OTHER_RULES))

MESSAGES: Final[dict[str, str]] = {
    rule_id: entry["message"] for rule_id, entry in load_wording("history_prompts.en").items()
}


def _care_wishes_due(h: History, fired: set[str]) -> bool:
    discussed = h.care_wishes_discussed_on
    not_lately = discussed is None or (h.today - discussed).days > CARE_WISHES_WINDOW_DAYS
    newly_diagnosed = h.diagnosis is not None and within(h.diagnosis, h.today, DIAGNOSIS_WINDOW_DAYS)
    return not_lately and (bool(fired & KEY_DECISION_IDS) or newly_diagnosed)


def history_prompts(history: History) -> tuple[Prompt, ...]:
    """Every prompt that applies, in the table's order, then the other prompts."""
    fired = [rule for rule in TABLE_RULES if rule.applies(history)]
    out = [Prompt(r.id, MESSAGES[r.id], r.source) for r in fired]
    if _care_wishes_due(history, {r.id for r in fired}):
        out.append(Prompt(CARE_WISHES_ID, MESSAGES[CARE_WISHES_ID], SOURCE_CARE_WISHES))
    out.extend(Prompt(r.id, MESSAGES[r.id], r.source) for r in OTHER_RULES if r.applies(history))
    return tuple(out)

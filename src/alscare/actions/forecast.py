"""The forecast (``clinical.forecast``) fed from the stored record: the timeline's shaded band and the clinic
table's "expected to cross" columns.

This module only translates rows into the core's inputs. A person with no onset date, no date of birth or no
assessment has no forecast (``None``), never a guessed one. The clinic columns are computed with the rest of a
person's summary row (``actions.clinic_summary``) and read back from it, so the dashboard and its CSV export
never fit a forecast while a clinician waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from alscare.clinical.errors import InvalidInput
from alscare.clinical.forecast import (
    BandPoint,
    CrossingRange,
    DatedValue,
    Trajectory,
    expected_crossings,
    forecast_band,
    trajectory,
)
from alscare.clinical.progression import DatedTotal
from alscare.storage.models import AlsfrsAssessment, Patient

__all__ = ["CROSSING_COLUMNS", "band_for", "crossing_cells", "crossing_values", "trajectory_for"]


def _age_at(birth: date, on: date) -> float:
    return (on - birth).days / 365.25


def trajectory_for(patient: Patient, assessments: Iterable[tuple[date, int]], *, today: date) -> Trajectory | None:
    """The person's forecast line, or None when the record lacks what the model needs."""
    points = [DatedTotal(on=on, total=total) for on, total in assessments if on <= today]
    if not points or patient.onset_date is None or patient.date_of_birth is None:
        return None
    try:
        return trajectory(
            today=today,
            onset=patient.onset_date,
            age_at_onset=_age_at(patient.date_of_birth, patient.onset_date),
            bulbar_onset=patient.onset_region == "bulbar",
            assessments=points,
        )
    except InvalidInput:
        return None


def band_for(patient: Patient, assessments: Sequence[AlsfrsAssessment], *, today: date) -> list[BandPoint] | None:
    """The timeline's shaded band: one point a month for the next 12 months, or None without a forecast."""
    t = trajectory_for(patient, ((a.assessed_on, a.total) for a in assessments), today=today)
    return None if t is None else forecast_band(t)


# --- The clinic table's "expected to cross" columns ----------------------------------------------------------

# (column id, header) in the order the table shows them; the planning step each one prompts is in the header.
CROSSING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("speech_at_most_2", "Speech item ≤ 2 expected (plan communication aid, voice banking)"),
    ("fvc_below_50", "FVC < 50 % expected"),
    ("total_at_most_24", "ALSFRS-R ≤ 24 expected"),
)


def _range_text(r: CrossingRange | None) -> str:
    if r is None:
        return ""
    if r.already:
        return f"reached {r.earliest.isoformat()}"
    if r.latest is None:
        return f"from {r.earliest.isoformat()}"
    return f"{r.earliest.isoformat()} to {r.latest.isoformat()}"


def crossing_values(
    patient: Patient,
    assessments: Sequence[tuple[date, int, object]],
    fvc: Sequence[tuple[date, float]],
    *,
    today: date,
) -> dict[str, date | bool | None]:
    """The summary row's crossing columns (``<column>_from``, ``_to``, ``_reached``) for one person.

    ``assessments``: (assessed_on, total, answers), oldest first; ``fvc``: (day, % predicted), oldest first.
    Computed when the person's data change and refreshed daily (``clinic_summary.refresh_stale_summaries``),
    because the forecast runs from "today": a 10,000-row export then reads stored dates instead of fitting
    10,000 forecasts.
    """
    values: dict[str, date | bool | None] = {}
    for column, _ in CROSSING_COLUMNS:
        values[f"{column}_from"] = values[f"{column}_to"] = values[f"{column}_reached"] = None
    t = trajectory_for(patient, ((on, total) for on, total, _ in assessments), today=today)
    speech = [
        DatedValue(on=on, value=float(answers["1"]))
        for on, _, answers in assessments
        if on <= today and isinstance(answers, dict) and isinstance(answers.get("1"), int)
    ]
    try:
        found = expected_crossings(
            t, today=today, fvc=[DatedValue(on=on, value=float(v)) for on, v in fvc if on <= today], speech=speech
        )
    except InvalidInput:
        return values
    for column, _ in CROSSING_COLUMNS:
        r: CrossingRange | None = getattr(found, column)
        if r is not None:
            values[f"{column}_from"], values[f"{column}_to"], values[f"{column}_reached"] = (
                r.earliest,
                r.latest,
                r.already,
            )
    return values


def crossing_cells(summary: object) -> dict[str, str]:
    """The three crossing columns of a stored summary row as date ranges ("2027-03-01 to 2027-09-12")."""
    out: dict[str, str] = {}
    for column, _ in CROSSING_COLUMNS:
        earliest = getattr(summary, f"{column}_from", None)
        if earliest is None:
            out[column] = ""
            continue
        out[column] = _range_text(
            CrossingRange(
                earliest=earliest,
                latest=getattr(summary, f"{column}_to", None),
                already=bool(getattr(summary, f"{column}_reached", False)),
            )
        )
    return out

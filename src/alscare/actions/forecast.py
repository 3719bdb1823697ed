"""The forecast (``clinical.forecast``) fed from the stored record: the timeline's shaded band and the clinic
table's "expected to cross" columns.

This module only translates rows into the core's inputs. A person with no onset date, no date of birth or no
assessment has no forecast (``None``), never a guessed one. The clinic columns are computed for a whole page
of people with a fixed number of queries (one for the people, one for their assessments, one for their FVC),
so the dashboard's statement count does not grow with the number of people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from alscare.storage.models import AlsfrsAssessment, CheckIn, Patient

__all__ = ["CROSSING_COLUMNS", "band_for", "crossing_cells", "trajectory_for"]


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


def crossing_cells(db: Session, patient_ids: list[int], now: datetime) -> dict[int, dict[str, str]]:
    """For each person on a page: the three crossing columns as date ranges ("2027-03-01 to 2027-09-12")."""
    if not patient_ids:
        return {}
    today = now.date()
    patients = {p.id: p for p in db.execute(select(Patient).where(Patient.id.in_(patient_ids))).scalars()}
    totals: dict[int, list[tuple[date, int]]] = defaultdict(list)
    speech: dict[int, list[DatedValue]] = defaultdict(list)
    for pid, on, total, answers in db.execute(
        select(
            AlsfrsAssessment.patient_id, AlsfrsAssessment.assessed_on, AlsfrsAssessment.total, AlsfrsAssessment.answers
        )
        .where(AlsfrsAssessment.patient_id.in_(patient_ids))
        .order_by(AlsfrsAssessment.assessed_on)
    ):
        totals[pid].append((on, total))
        if isinstance(answers, dict) and isinstance(answers.get("1"), int):
            speech[pid].append(DatedValue(on=on, value=float(answers["1"])))
    fvc: dict[int, list[DatedValue]] = defaultdict(list)
    for pid, at, percent in db.execute(
        select(CheckIn.patient_id, CheckIn.submitted_at, CheckIn.fvc_percent)
        .where(CheckIn.patient_id.in_(patient_ids), CheckIn.fvc_percent.is_not(None))
        .order_by(CheckIn.submitted_at)
    ):
        if percent is not None:
            fvc[pid].append(DatedValue(on=at.date(), value=float(percent)))
    out: dict[int, dict[str, str]] = {}
    for pid in patient_ids:
        patient = patients.get(pid)
        if patient is None:
            continue
        t = trajectory_for(patient, totals.get(pid, []), today=today)
        try:
            found = expected_crossings(
                t,
                today=today,
                fvc=[v for v in fvc.get(pid, []) if v.on <= today],
                speech=[v for v in speech.get(pid, []) if v.on <= today],
            )
        except InvalidInput:
            continue
        out[pid] = {column: _range_text(getattr(found, column)) for column, _ in CROSSING_COLUMNS}
    return out

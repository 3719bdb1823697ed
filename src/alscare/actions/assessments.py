"""Recording and reading ALSFRS-R assessments (scope: check-ins and scores)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput
from alscare.actions.records import open_record
from alscare.clinical.alsfrs_r import AdministrationMode, Assessment
from alscare.storage.models import AlsfrsAssessment, User


def record_alsfrs_assessment(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    answers: Mapping[str, object],
    assessed_on: date,
    administration_mode: str,
    now: datetime,
    source_ip: str | None = None,
) -> AlsfrsAssessment:
    """Validate and store one assessment; nothing is stored if any answer is refused."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=now,
        resource="alsfrs_r",
        source_ip=source_ip,
    )
    assessment = Assessment.from_answers(answers)
    try:
        mode = AdministrationMode(administration_mode)
    except ValueError:
        allowed = ", ".join(m.value for m in AdministrationMode)
        raise InvalidInput("administration_mode", f"Choose one of: {allowed}.") from None
    if assessed_on > now.date():
        raise InvalidInput("assessed_on", "The assessment date cannot be in the future.")
    if patient.onset_date is not None and assessed_on < patient.onset_date:
        raise InvalidInput("assessed_on", "The assessment date cannot be before symptoms started.")
    row = AlsfrsAssessment(
        patient_id=patient.id,
        assessed_on=assessed_on,
        administration_mode=mode.value,
        answers=dict(assessment.answers),
        total=assessment.total,
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    db.add(row)
    db.flush()
    return row


def assessments_of(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> list[AlsfrsAssessment]:
    """All assessments of a person, oldest first."""
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource="alsfrs_r",
        source_ip=source_ip,
    )
    return list(
        db.execute(
            select(AlsfrsAssessment)
            .where(AlsfrsAssessment.patient_id == patient_id)
            .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
        ).scalars()
    )

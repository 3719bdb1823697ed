"""Recording and reading ALSFRS-R assessments (scope: check-ins and scores)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput
from alscare.actions.prompts import refresh_prompts
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
    client_id: str | None = None,
    base_url: str | None = None,
) -> AlsfrsAssessment:
    """Validate and store one assessment; nothing is stored if any answer is refused.

    With ``client_id`` (the submitting form's own id) the call is idempotent: a retried or doubled submit
    returns the row already stored for (patient, client_id) instead of adding another (decision 0001).
    """
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
    if client_id is not None:
        if not 0 < len(client_id) <= 64:
            raise InvalidInput("client_id", "The form's id must be 1 to 64 characters.")
        stored = _by_client_id(db, patient_id=patient.id, client_id=client_id)
        if stored is not None:
            return stored
    assessment = Assessment.from_answers(answers)
    try:
        mode = AdministrationMode(administration_mode)
    except ValueError:
        allowed = ", ".join(m.value for m in AdministrationMode)
        raise InvalidInput("administration_mode", f"Choose one of: {allowed}.") from None
    check_mode_for(actor, mode)
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
        client_id=client_id,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # A concurrent submit of the same form won the race: its row is the answer.
        stored = _by_client_id(db, patient_id=patient.id, client_id=client_id) if client_id else None
        if stored is None:
            raise
        return stored
    # Guideline prompts from the whole history, this assessment included (actions.prompts).
    refresh_prompts(db, patient_id=patient.id, now=now, base_url=base_url)
    return row


# Modes that say a clinician asked the questions: only a clinician may record them (issue 14, finding 2). The
# access check (``open_record``) already made sure the clinician's clinic holds a grant for this record.
CLINIC_MODES: Final = frozenset({AdministrationMode.CLINICIAN_IN_PERSON, AdministrationMode.CLINICIAN_PHONE})


def may_record_mode(actor: User, mode: AdministrationMode) -> bool:
    return mode not in CLINIC_MODES or (actor.role == "clinician" and actor.clinic_id is not None)


def check_mode_for(actor: User, mode: AdministrationMode) -> None:
    """Refuse a clinician's mode from anyone but a clinician, naming the field; nothing is stored."""
    if not may_record_mode(actor, mode):
        raise InvalidInput(
            "administration_mode",
            "Only a clinician can record an assessment a clinician asked. Choose self_report or caregiver.",
        )


def _by_client_id(db: Session, *, patient_id: int, client_id: str) -> AlsfrsAssessment | None:
    return db.execute(
        select(AlsfrsAssessment).where(
            AlsfrsAssessment.patient_id == patient_id, AlsfrsAssessment.client_id == client_id
        )
    ).scalar_one_or_none()


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
            .options(selectinload(AlsfrsAssessment.recorded_by))
            .where(AlsfrsAssessment.patient_id == patient_id)
            .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
        ).scalars()
    )

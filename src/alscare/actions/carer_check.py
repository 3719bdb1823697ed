"""The carer's weekly check on themselves: store the week's answers, and tell the care team only with consent.

One action per change, one transaction each (the caller commits). The answers are the carer's own data, not
the person's record: nobody else reads them. Telling the team raises one alert (severity ``contact_team``,
source ``carer_check``) for the clinic of a person the carer cares for; the alert says only that a carer is
struggling and asked to be contacted, never the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.alerts import clinic_receiving_alerts, raise_alert
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import may, open_record, visible_patients
from alscare.clinical import carer_check as core
from alscare.storage.models import Clinic, Patient, User
from alscare.storage.models.access import CarerCheck

__all__ = ["CarerTeam", "check_of_week", "record_carer_check", "teams_for", "tell_the_team", "week_of"]

ALERT_SOURCE: Final = "carer_check"
ALERT_SUMMARY: Final = "A carer says they cannot cope and has asked the care team to contact them."


@dataclass(frozen=True)
class CarerTeam:
    """A person the carer cares for, and the clinic that would be told (None: no clinic receives alerts)."""

    patient_id: int
    patient_name: str
    clinic_name: str | None


def week_of(day: date) -> date:
    """The Monday of ``day``'s week: one check per carer per week."""
    return day - timedelta(days=day.weekday())


def _carer(user: User) -> None:
    if user.role != "caregiver":
        raise NotFound("This check is for carers.")


def check_of_week(db: Session, *, carer: User, now: datetime) -> CarerCheck | None:
    _carer(carer)
    return db.execute(
        select(CarerCheck).where(CarerCheck.carer_user_id == carer.id, CarerCheck.week_of == week_of(now.date()))
    ).scalar_one_or_none()


def record_carer_check(db: Session, *, carer: User, answers: dict[str, object], now: datetime) -> CarerCheck:
    """Store this week's answers (answering again in the same week replaces them; a consent already given
    stays, and so does the alert it raised)."""
    _carer(carer)
    valid = core.validated(answers)
    row = check_of_week(db, carer=carer, now=now)
    if row is None:
        row = CarerCheck(
            carer_user_id=carer.id, week_of=week_of(now.date()), clinic_told=False, answered_at=now, **valid
        )
        db.add(row)
    else:
        for key, value in valid.items():
            setattr(row, key, value)
        row.answered_at = now
    db.flush()
    return row


def teams_for(db: Session, *, carer: User) -> list[CarerTeam]:
    """The people this carer may see, each with the clinic that receives their alerts (if any)."""
    _carer(carer)
    teams = []
    for patient in visible_patients(db, user=carer):
        clinic_id = clinic_receiving_alerts(db, patient=patient)
        clinic = db.get(Clinic, clinic_id) if clinic_id is not None else None
        teams.append(CarerTeam(patient.id, patient.full_name, clinic.name if clinic else None))
    return teams


def tell_the_team(
    db: Session,
    *,
    carer: User,
    check_id: int,
    patient_id: int,
    now: datetime,
    base_url: str | None = None,
    source_ip: str | None = None,
) -> CarerTeam:
    """With the carer's consent (this call is it), alert the care team of ``patient_id`` that the carer
    cannot cope. Only for this week's check that said so, and only for a person the carer may see."""
    _carer(carer)
    row = db.get(CarerCheck, check_id)
    if row is None or row.carer_user_id != carer.id:
        raise NotFound("No such check.")
    if not core.cannot_cope({"coping": row.coping}):
        raise InvalidInput("coping", "The team is told only when you say you cannot cope.")
    patient = db.get(Patient, patient_id)
    if patient is None or not may(db, user=carer, patient=patient, scope=Scope.PROFILE, action=Action.READ):
        raise NotFound("No such person.")
    open_record(
        db, user=carer, patient_id=patient_id, scope=Scope.PROFILE, action=Action.READ, now=now,
        resource=ALERT_SOURCE, source_ip=source_ip,
    )  # fmt: skip
    alert = raise_alert(
        db,
        patient=patient,
        source=ALERT_SOURCE,
        source_id=str(row.id),
        severity="contact_team",
        summary=ALERT_SUMMARY,
        now=now,
        base_url=base_url,
    )
    clinic = db.get(Clinic, alert.clinic_id) if alert is not None and alert.clinic_id is not None else None
    if alert is not None:
        row.clinic_told, row.alert_id, row.patient_id = True, alert.id, patient.id
        db.flush()
    return CarerTeam(patient.id, patient.full_name, clinic.name if clinic else None)

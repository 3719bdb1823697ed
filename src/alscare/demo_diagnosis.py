"""Demo data for the diagnosis journey: each demo person's tests before their diagnosis (through the actions,
so the demo's audit trail shows them). The MRI safety checklist is left for people to fill in."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions.diagnosis import record_test
from alscare.storage.models import Patient, User

# (test kind, status, days before diagnosis it was done, note)
_JOURNEY = (
    ("nerve_conduction", "result_discussed", 40, None),
    ("emg", "result_discussed", 40, "Done on the same day as the nerve conduction study."),
    ("mri", "result_discussed", 55, "Neck and brain: no other cause found."),
    ("blood_tests", "result_discussed", 60, None),
)


def seed_demo_diagnosis(db: Session, *, now: datetime) -> None:
    people = db.execute(select(Patient).where(Patient.user_id.is_not(None), Patient.diagnosis_date.is_not(None)))
    for patient in people.scalars():
        user = db.get(User, patient.user_id)
        assert user is not None and patient.diagnosis_date is not None
        for kind, status, days_before, note in _JOURNEY:
            done = patient.diagnosis_date - timedelta(days=days_before)
            record_test(
                db,
                actor=user,
                patient_id=patient.id,
                kind=kind,
                status=status,
                done_on=done,
                discussed_on=patient.diagnosis_date,
                notes=note or "",
                now=now,
            )
        record_test(db, actor=user, patient_id=patient.id, kind="genetic_tests", status="planned", now=now)

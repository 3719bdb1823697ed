"""The diagnosis journey: a person's tests (status, dates, notes, what to expect) and their MRI safety checklist.

Access: the journey is part of the **check-ins scope** of a record (or the full record): the same people who
follow a person's check-ins and scores — a carer helping with appointments, the clinic — see and update it,
and nobody else. Every read and write goes through ``open_record`` and is audited. Callers commit.

Creating a test row races safely: two saves of the same new test at once end in one row (unique per person and
kind), the second updating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput
from alscare.actions.records import open_record
from alscare.clinical import mri_safety
from alscare.content.diagnosis_tests import DiagnosisTest as TestText
from alscare.content.diagnosis_tests import diagnosis_tests
from alscare.storage.models import Patient, User
from alscare.storage.models.diagnosis import TEST_STATUSES, DiagnosisTest, MriSafetyChecklist

__all__ = [
    "NOTES_MAX_CHARS",
    "Journey",
    "MriChecklistView",
    "TestView",
    "mri_checklist",
    "record_test",
    "save_mri_checklist",
    "view_journey",
]

RESOURCE_TESTS: Final = "diagnosis_tests"
RESOURCE_MRI: Final = "mri_safety_checklist"
NOTES_MAX_CHARS: Final = 2000
DETAILS_MAX_CHARS: Final = 2000


@dataclass(frozen=True)
class TestView:
    text: TestText
    row: DiagnosisTest | None


@dataclass(frozen=True)
class MriChecklistView:
    patient: Patient
    answers: dict[str, mri_safety.Answer]
    details: str
    flags: list[mri_safety.Flag]
    updated_at: datetime | None

    @property
    def answered(self) -> int:
        return len(self.answers)


@dataclass(frozen=True)
class Journey:
    patient: Patient
    tests: list[TestView]
    mri: MriChecklistView


def _open(
    db: Session, actor: User, patient_id: int, action: Action, now: datetime, resource: str, ip: str | None
) -> Patient:
    return open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=action,
        now=now,
        resource=resource,
        source_ip=ip,
    )


def _checklist_view(db: Session, patient: Patient) -> MriChecklistView:
    row = db.execute(select(MriSafetyChecklist).where(MriSafetyChecklist.patient_id == patient.id)).scalar_one_or_none()
    answers = mri_safety.parse_answers(row.answers) if row else {}
    return MriChecklistView(
        patient=patient,
        answers=answers,
        details=(row.details or "") if row else "",
        flags=mri_safety.flags(answers),
        updated_at=row.updated_at if row else None,
    )


def view_journey(db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None) -> Journey:
    """Every test kind in journey order (with its row, if any) and the MRI checklist's state (audited)."""
    patient = _open(db, actor, patient_id, Action.READ, now, RESOURCE_TESTS, source_ip)
    rows = {
        r.kind: r for r in db.execute(select(DiagnosisTest).where(DiagnosisTest.patient_id == patient.id)).scalars()
    }
    tests = [TestView(t, rows.get(t.kind)) for t in diagnosis_tests()]
    return Journey(patient=patient, tests=tests, mri=_checklist_view(db, patient))


def _check_dates(today: date, **dates: date | None) -> None:
    for name, value in dates.items():
        if value is not None and name != "planned_on" and value > today:
            raise InvalidInput(name, "cannot be in the future")


def record_test(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    kind: str,
    status: str,
    planned_on: date | None = None,
    done_on: date | None = None,
    discussed_on: date | None = None,
    notes: str = "",
    now: datetime,
    source_ip: str | None = None,
) -> DiagnosisTest:
    """Set where one test stands. Planned dates may be ahead; done and discussed dates may not (names the field)."""
    patient = _open(db, actor, patient_id, Action.WRITE, now, RESOURCE_TESTS, source_ip)
    if kind not in {t.kind for t in diagnosis_tests()}:
        raise InvalidInput("kind", "is not a test on the journey")
    if status not in TEST_STATUSES:
        raise InvalidInput("status", "must be planned, done or result discussed")
    if len(notes) > NOTES_MAX_CHARS:
        raise InvalidInput("notes", f"must be at most {NOTES_MAX_CHARS} characters")
    _check_dates(now.date(), planned_on=planned_on, done_on=done_on, discussed_on=discussed_on)
    if done_on and discussed_on and discussed_on < done_on:
        raise InvalidInput("discussed_on", "cannot be before the test was done")
    query = select(DiagnosisTest).where(DiagnosisTest.patient_id == patient.id, DiagnosisTest.kind == kind)
    row = db.execute(query).scalar_one_or_none()
    if row is None:
        row = DiagnosisTest(
            patient_id=patient.id, kind=kind, status=status, updated_by_user_id=actor.id, updated_at=now
        )
        try:
            with db.begin_nested():
                db.add(row)
        except IntegrityError:
            row = db.execute(query).scalar_one()
    row.status = status
    row.planned_on, row.done_on, row.discussed_on = planned_on, done_on, discussed_on
    row.notes = notes or None
    row.updated_by_user_id, row.updated_at = actor.id, now
    db.flush()
    return row


def mri_checklist(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> MriChecklistView:
    """The checklist with its flags (audited read), for the page and the printout."""
    patient = _open(db, actor, patient_id, Action.READ, now, RESOURCE_MRI, source_ip)
    return _checklist_view(db, patient)


def save_mri_checklist(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    answers: dict[str, object],
    details: str = "",
    now: datetime,
    source_ip: str | None = None,
) -> MriChecklistView:
    """Replace the person's answers (unanswered questions stay unanswered and are flagged)."""
    patient = _open(db, actor, patient_id, Action.WRITE, now, RESOURCE_MRI, source_ip)
    parsed = mri_safety.parse_answers(answers)
    if len(details) > DETAILS_MAX_CHARS:
        raise InvalidInput("details", f"must be at most {DETAILS_MAX_CHARS} characters")
    query = select(MriSafetyChecklist).where(MriSafetyChecklist.patient_id == patient.id)
    row = db.execute(query).scalar_one_or_none()
    if row is None:
        row = MriSafetyChecklist(patient_id=patient.id, answers={}, updated_by_user_id=actor.id, updated_at=now)
        try:
            with db.begin_nested():
                db.add(row)
        except IntegrityError:
            row = db.execute(query).scalar_one()
    row.answers = dict(parsed)
    row.details = details or None
    row.updated_by_user_id, row.updated_at = actor.id, now
    db.flush()
    return _checklist_view(db, patient)

"""Export a person's record as a FHIR Bundle: decide what the viewer may see, load it, audit the export.

The person, their proxy and anyone they share with get the parts their grants cover (``alscare.access``):
the header (name, emergency number) for anyone with a grant, then each part under its own scope. The CLI is
an operator tool with direct database access: it exports everything and its audit row names the operator as
the system (no user; detail ``operator=cli``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alscare.access import Action, Scope
from alscare.actions.audit import record_event
from alscare.actions.errors import NotFound
from alscare.actions.records import may, open_record
from alscare.fhir.export import build_bundle
from alscare.fhir.record import ALL_PARTS, Part, PersonRecord
from alscare.storage.models import Alert, AlsfrsAssessment, CheckIn, Clinic, ConsentGrant, Patient, User
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.medicines import MedicineEntry
from alscare.storage.models.rehabilitation import RehabProgramme

RESOURCE = "fhir_export"
OPERATOR_DETAIL = "operator=cli"

# Which scope lets a viewer see each part of the Bundle.
PART_SCOPES: dict[Part, Scope] = {
    Part.PROFILE_DETAILS: Scope.PROFILE_DETAILS,
    Part.CHECKINS: Scope.CHECKINS,
    Part.MEDICINES: Scope.MEDICINES,
    Part.CARE_WISHES: Scope.CARE_WISHES,
    Part.SHARING: Scope.SHARING,
}


def person_base_url(base_url: str, patient_id: int) -> str:
    """The base of every ``fullUrl`` in this person's Bundle: one per person, so fullUrls never collide."""
    return f"{base_url.rstrip('/')}/fhir/patients/{patient_id}"


def load_record(db: Session, *, patient: Patient, parts: Iterable[Part]) -> PersonRecord:
    """Load the rows of ``parts`` of ``patient``'s record (a fixed number of queries, whatever its size)."""
    chosen = frozenset(parts)
    record = PersonRecord(patient=patient, parts=chosen)
    pid = patient.id
    user_ids: set[int] = set()
    clinic_ids: set[int] = {patient.clinic_id} if patient.clinic_id is not None else set()
    if Part.CHECKINS in chosen:
        record.assessments = list(
            db.execute(
                select(AlsfrsAssessment)
                .where(AlsfrsAssessment.patient_id == pid)
                .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.recorded_at, AlsfrsAssessment.id)
            ).scalars()
        )
        record.check_ins = list(
            db.execute(
                select(CheckIn).where(CheckIn.patient_id == pid).order_by(CheckIn.submitted_at, CheckIn.id)
            ).scalars()
        )
        record.alerts = list(
            db.execute(select(Alert).where(Alert.patient_id == pid).order_by(Alert.created_at, Alert.id)).scalars()
        )
        record.programmes = list(
            db.execute(
                select(RehabProgramme)
                .where(RehabProgramme.patient_id == pid)
                .options(selectinload(RehabProgramme.exercises))
                .order_by(RehabProgramme.assigned_at, RehabProgramme.id)
            ).scalars()
        )
        user_ids.update(a.recorded_by_id for a in record.assessments if a.recorded_by_id is not None)
        user_ids.update(c.submitted_by_id for c in record.check_ins)
        user_ids.update(p.assigned_by_id for p in record.programmes)
    if Part.MEDICINES in chosen:
        record.medicines = list(
            db.execute(
                select(MedicineEntry).where(MedicineEntry.patient_id == pid).order_by(MedicineEntry.entered_at,
                                                                                      MedicineEntry.id)
            ).scalars()
        )  # fmt: skip
        user_ids.update(m.entered_by_id for m in record.medicines)
    if Part.CARE_WISHES in chosen:
        record.care_wishes = list(
            db.execute(
                select(CareWishesVersion).where(CareWishesVersion.patient_id == pid).order_by(CareWishesVersion.number)
            ).scalars()
        )
        user_ids.update(v.author_user_id for v in record.care_wishes)
    if Part.SHARING in chosen:
        record.grants = list(
            db.execute(
                select(ConsentGrant).where(ConsentGrant.patient_id == pid).order_by(ConsentGrant.granted_at,
                                                                                    ConsentGrant.id)
            ).scalars()
        )  # fmt: skip
        for g in record.grants:
            user_ids.add(g.granted_by_id)
            if g.grantee_user_id is not None:
                user_ids.add(g.grantee_user_id)
            if g.grantee_clinic_id is not None:
                clinic_ids.add(g.grantee_clinic_id)
    if user_ids:
        record.people = {u.id: u for u in db.execute(select(User).where(User.id.in_(user_ids))).scalars()}
    if clinic_ids:
        record.clinics = {c.id: c for c in db.execute(select(Clinic).where(Clinic.id.in_(clinic_ids))).scalars()}
    return record


def _bundle(record: PersonRecord, *, base_url: str, now: datetime) -> dict[str, Any]:
    return build_bundle(
        record,
        base_url=person_base_url(base_url, record.patient.id),
        exported_at=now,
        bundle_id=str(uuid.uuid4()),
    )


def export_for_user(
    db: Session, *, user: User, patient_id: int, now: datetime, base_url: str, source_ip: str | None = None
) -> dict[str, Any]:
    """The Bundle of the parts of ``patient_id``'s record that ``user`` may see; audited (allowed or refused).

    Raises ``RecordRefused`` (a ``NotFound``) for anyone without any grant, as for a missing record.
    """
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.PROFILE,
        action=Action.READ,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    parts = [part for part, scope in PART_SCOPES.items() if may(db, user=user, patient=patient, scope=scope)]
    return _bundle(load_record(db, patient=patient, parts=parts), base_url=base_url, now=now)


def export_as_operator(db: Session, *, patient_id: int, now: datetime, base_url: str) -> dict[str, Any]:
    """The whole record, for the operator's CLI; the audit row names the system (no user) as the reader."""
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    record_event(
        db,
        now=now,
        actor_user_id=None,
        patient_id=patient.id,
        action="read",
        resource=RESOURCE,
        detail=OPERATOR_DETAIL,
    )
    return _bundle(load_record(db, patient=patient, parts=ALL_PARTS), base_url=base_url, now=now)

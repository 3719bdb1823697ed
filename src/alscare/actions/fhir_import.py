"""Import a person's record from a FHIR Bundle made by alscare (issue 13, item 2): all or nothing.

The Bundle is validated and read first (``alscare.fhir.read``), so a malformed file is refused, naming where,
before any row is written; then every row is added in the caller's transaction, which commits only if all of
it went in. People named in the record (clinicians, family, the person themselves when they entered data) get
accounts that cannot sign in (no password, inactive): they hold the "who entered it" of each row, and an
administrator can invite the real person later. Clinics named in it are created. The import is audited as
written by the system (the operator's CLI).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alscare.actions.audit import record_event
from alscare.clinical.errors import InvalidInput
from alscare.fhir.export import PATIENT_ID
from alscare.fhir.read import ImportedRecord, read_bundle
from alscare.storage.models import Alert, AlsfrsAssessment, CheckIn, Clinic, ConsentGrant, Patient, User
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.medicines import MedicineChange, MedicineEntry
from alscare.storage.models.rehabilitation import ProgrammeExercise, RehabProgramme

RESOURCE = "fhir_import"
NO_SIGN_IN = "!imported-no-sign-in"
_PATIENT_REF = f"Patient/{PATIENT_ID}"


class _Writer:
    def __init__(self, db: Session, record: ImportedRecord, now: datetime) -> None:
        self.db = db
        self.record = record
        self.now = now
        self.clinics: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.patient: Patient | None = None

    def _account(self, name: str, role: str) -> User:
        user = User(
            email=f"imported.{uuid.uuid4().hex}@import.alscare.invalid",
            display_name=name,
            role=role,
            password_hash=NO_SIGN_IN,
            is_active=False,
            totp_enabled=False,
            created_at=self.now,
        )
        self.db.add(user)
        self.db.flush()
        return user

    def user(self, ref: str | None) -> int | None:
        """The account for a reference: the person's own (made when first needed), or a named person's."""
        if ref is None:
            return None
        if ref == _PATIENT_REF:
            assert self.patient is not None
            if self.patient.user_id is None:
                self.patient.user_id = self._account(self.patient.full_name, "patient").id
                self.db.flush()
            return self.patient.user_id
        if ref not in self.users:
            raise InvalidInput(ref, "is not a person in this Bundle")
        return self.users[ref]

    def needed_user(self, ref: str | None) -> int:
        found = self.user(ref)
        return found if found is not None else self.user(_PATIENT_REF) or 0

    def write(self) -> Patient:
        r = self.record
        for ref, values in r.organizations.items():
            clinic = Clinic(name=values["name"], phone=values["phone"], hours="", email=values["email"],
                            created_at=self.now)  # fmt: skip
            self.db.add(clinic)
            self.db.flush()
            self.clinics[ref] = clinic.id
        for named in r.people:
            role = "clinician" if named.kind == "Practitioner" else "caregiver"
            self.users[named.ref] = self._account(named.name, role).id
        clinic_id = self.clinics.get(r.clinic_ref) if r.clinic_ref else None
        self.patient = Patient(**r.patient, clinic_id=clinic_id, created_at=self.now)
        self.db.add(self.patient)
        self.db.flush()
        pid = self.patient.id
        for a in r.assessments:
            values = {k: v for k, v in a.items() if k not in ("ref", "recorded_by_ref")}
            self.db.add(AlsfrsAssessment(patient_id=pid, recorded_by_id=self.user(a["recorded_by_ref"]), **values))
        check_in_ids: dict[str, int] = {}
        for c in r.check_ins:
            values = {k: v for k, v in c.items() if k not in ("ref", "submitted_by_ref")}
            row = CheckIn(patient_id=pid, submitted_by_id=self.needed_user(c["submitted_by_ref"]), **values)
            self.db.add(row)
            self.db.flush()
            check_in_ids[c["ref"]] = row.id
        for a in r.alerts:
            head = str(check_in_ids[a["check_in_ref"]]) if a["check_in_ref"] else f"imported-{pid}-{a['ref']}"
            self.db.add(
                Alert(
                    patient_id=pid,
                    clinic_id=clinic_id,
                    source=a["source"],
                    source_id=f"{head}:{a['kind']}" if a["kind"] else head,
                    severity=a["severity"],
                    summary=a["summary"],
                    status=a["status"],
                    created_at=a["created_at"],
                    resolved_at=a["resolved_at"],
                    escalation_level=0,
                )
            )
        for p in r.programmes:
            programme = RehabProgramme(
                patient_id=pid,
                assigned_by_id=self.needed_user(p["assigned_by_ref"]),
                assigned_at=p["assigned_at"],
                starts_on=p["starts_on"],
                note=p["note"],
                stopped_at=p["stopped_at"],
                exercises=[
                    ProgrammeExercise(exercise_id=e, times_per_week=t, position=n)
                    for n, (e, t) in enumerate(p["exercises"])
                ],
            )
            self.db.add(programme)
        for m in r.medicines:
            values = {k: v for k, v in m.items() if k != "entered_by_ref"}
            by = self.needed_user(m["entered_by_ref"])
            entry = MedicineEntry(patient_id=pid, entered_by_id=by, updated_by_id=by, updated_at=m["entered_at"],
                                  version=1, **values)  # fmt: skip
            self.db.add(entry)
            self.db.flush()
            snapshot = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()
                        if k in ("name", "catalogue_id", "dose", "started_on", "stopped_on", "prescriber")}  # fmt: skip
            self.db.add(
                MedicineChange(entry_id=entry.id, patient_id=pid, version=1, kind="added", changed_by_id=by,
                               changed_as="clinician" if by != self.patient.user_id else "self",
                               changed_at=m["entered_at"], snapshot=snapshot)
            )  # fmt: skip
        for v in r.care_wishes:
            values = {k: x for k, x in v.items() if k != "author_ref"}
            self.db.add(CareWishesVersion(patient_id=pid, author_user_id=self.needed_user(v["author_ref"]), **values))
        for g in r.grants:
            grantee = g["grantee_ref"]
            if grantee is None:
                raise InvalidInput("Consent.provision.actor", "a sharing grant needs its grantee")
            self.db.add(
                ConsentGrant(
                    patient_id=pid,
                    grantee_clinic_id=self.clinics.get(grantee),
                    grantee_user_id=None if grantee in self.clinics else self.user(grantee),
                    scope=g["scope"],
                    granted_by_id=self.needed_user(g["granted_by_ref"]),
                    granted_at=g["granted_at"],
                    revoked_at=g["revoked_at"],
                )
            )
        self.db.flush()
        return self.patient


def import_bundle(db: Session, *, bundle: Any, now: datetime) -> Patient:
    """Add the person in ``bundle`` (a parsed JSON object) to the database; the caller commits.

    Raises ``InvalidInput`` (naming where) before writing anything when the Bundle is malformed.
    """
    record = read_bundle(bundle)
    patient = _Writer(db, record, now).write()
    record_event(
        db, now=now, actor_user_id=None, patient_id=patient.id, action="write", resource=RESOURCE,
        detail="operator=cli",
    )  # fmt: skip
    return patient

"""Opening a person's record: the single gate between a request and patient data.

``open_record`` asks the access policy, writes the audit event (allowed or refused) and returns the
patient, or raises ``NotFound`` — the same answer whether the record is missing or merely not shared, so
nobody can probe which records exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.orm import Session

from alscare.access import Action, ActiveGrant, Actor, RecordOwner, Scope, decide
from alscare.actions.audit import AccessLogEntry, access_log, record_event
from alscare.actions.errors import NotFound
from alscare.actions.paging import Page, check_page, offset_of
from alscare.storage.memo import remembered
from alscare.storage.models import ConsentGrant, Patient, User


class RecordRefused(NotFound):
    """``open_record`` said no (or there is no such record). Carries the audit event it wrote, so a caller that
    rolls its transaction back can still keep the refusal on the audit trail (``keep_on_audit_trail``)."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__("record not found")
        self.event = event

    def keep_on_audit_trail(self, db: Session) -> None:
        _note_refusal(db, self.event)


def _note_refusal(db: Session, event: dict[str, Any]) -> None:
    """Count a refusal; only the first of each actor's hour per kind of record goes on the audit trail.

    A script probing ids would otherwise add one audit row per request and flood the trail (issue 14,
    finding 11); the count in ``refused_probe_counts`` still shows how many were refused.
    """
    from alscare.actions.security import count_refused_probe

    if count_refused_probe(
        db,
        actor_user_id=event["actor_user_id"],
        patient_id=event["patient_id"],
        resource=event["resource"],
        now=event["now"],
    ):
        record_event(db, **event)


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, role=user.role, clinic_id=user.clinic_id, service=bool(user.is_service))


# Built once, so SQLAlchemy works out its cache key once: every record opened runs it.
_ACTIVE_GRANTS = (
    select(ConsentGrant)
    .where(ConsentGrant.patient_id == bindparam("patient_id"), ConsentGrant.revoked_at.is_(None))
    .order_by(ConsentGrant.id)
)


def active_grants(db: Session, *, patient_id: int) -> list[ConsentGrant]:
    """The person's grants in force, read once per transaction (``storage.memo``): a check-in asks the policy
    several times (may the actor write it, may the clinic receive its alerts, for each alert raised)."""

    def load() -> list[ConsentGrant]:
        return list(db.execute(_ACTIVE_GRANTS, {"patient_id": patient_id}).scalars())

    return list(remembered(db, "active_grants", patient_id, (ConsentGrant,), load))


def _policy_grants(grants: list[ConsentGrant]) -> list[ActiveGrant]:
    return [ActiveGrant(g.scope, g.grantee_user_id, g.grantee_clinic_id) for g in grants]


def may(db: Session, *, user: User, patient: Patient, scope: Scope, action: Action = Action.READ) -> bool:
    """Ask the policy without auditing: for deciding what to show on a page already opened."""
    grants = _policy_grants(active_grants(db, patient_id=patient.id))
    return decide(actor_for(user), RecordOwner(patient.id, patient.user_id), grants, scope, action)


def may_each(
    db: Session, *, user: User, patients: list[Patient], scope: Scope, action: Action = Action.READ
) -> set[int]:
    """Ids of the ``patients`` on whom ``user`` may ``action`` ``scope``: one query whatever their number."""
    ids = [p.id for p in patients]
    by_patient: dict[int, list[ConsentGrant]] = {i: [] for i in ids}
    if ids:
        rows = db.execute(
            select(ConsentGrant).where(ConsentGrant.patient_id.in_(ids), ConsentGrant.revoked_at.is_(None))
        ).scalars()
        for g in rows:
            by_patient[g.patient_id].append(g)
    actor = actor_for(user)
    return {
        p.id
        for p in patients
        if decide(actor, RecordOwner(p.id, p.user_id), _policy_grants(by_patient[p.id]), scope, action)
    }


def open_record(
    db: Session,
    *,
    user: User,
    patient_id: int,
    scope: Scope,
    action: Action,
    now: datetime,
    resource: str,
    source_ip: str | None = None,
    flush: bool = True,
) -> Patient:
    """Return the patient if ``user`` may ``action`` their ``scope``; audit the attempt either way.

    ``flush=False``: an allowed attempt's audit row is written at the session's next flush (``record_event``);
    a refusal is always written at once."""
    patient = db.get(Patient, patient_id)
    allowed = patient is not None and may(db, user=user, patient=patient, scope=scope, action=action)
    event: dict[str, Any] = {
        "now": now,
        "actor_user_id": user.id,
        "patient_id": patient_id if patient is not None else None,
        "action": action.value if allowed else "denied",
        "resource": resource,
        "source_ip": source_ip,
    }
    if not allowed or patient is None:
        _note_refusal(db, event)
        raise RecordRefused(event)
    record_event(db, **event, flush=flush)
    return patient


def refuse_record(
    db: Session, *, user: User, patient_id: int, resource: str, now: datetime, source_ip: str | None = None
) -> RecordRefused:
    """A refusal decided outside the consent policy (e.g. a clinician-only form opened by someone else), counted
    and audited like any other and answered like a missing record. Raise what it returns."""
    patient = db.get(Patient, patient_id)
    event: dict[str, Any] = {
        "now": now,
        "actor_user_id": user.id,
        "patient_id": patient_id if patient is not None else None,
        "action": "denied",
        "resource": resource,
        "source_ip": source_ip,
    }
    _note_refusal(db, event)
    return RecordRefused(event)


def _visible_condition(user: User) -> ColumnElement[bool]:
    """Records this user can open at all, as one condition on ``Patient`` (subqueries on the grants)."""
    conditions = [Patient.user_id == user.id]
    granted = select(ConsentGrant.patient_id).where(ConsentGrant.revoked_at.is_(None))
    user_grants = granted.where(ConsentGrant.grantee_user_id == user.id)
    conditions.append(Patient.id.in_(user_grants))
    if user.role == "clinician" and user.clinic_id is not None:
        conditions.append(Patient.id.in_(granted.where(ConsentGrant.grantee_clinic_id == user.clinic_id)))
    return or_(*conditions)


def visible_patients(db: Session, *, user: User) -> list[Patient]:
    """Records this user can open at all: their own, and those shared with them or their clinic."""
    return list(db.execute(select(Patient).where(_visible_condition(user)).order_by(Patient.full_name)).scalars())


def visible_patients_page(db: Session, *, user: User, page: int, page_size: int) -> Page[Patient]:
    """One page of ``visible_patients`` (by name, then id) and their total: two statements whatever their number."""
    check_page(page)
    condition = _visible_condition(user)
    total = db.execute(select(func.count(Patient.id)).where(condition)).scalar_one()
    patients = db.execute(
        select(Patient)
        .where(condition)
        .order_by(Patient.full_name, Patient.id)
        .limit(page_size)
        .offset(offset_of(page, page_size))
    ).scalars()
    return Page(items=list(patients), total=int(total), page=page, page_size=page_size)


def own_patient(db: Session, *, user: User) -> Patient | None:
    return db.execute(select(Patient).where(Patient.user_id == user.id)).scalar_one_or_none()


def access_log_of(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> tuple[Patient, list[AccessLogEntry]]:
    """Who read or changed a record, newest first. Only the person and their proxy may see it."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.READ,
        now=now,
        resource="access_log",
        source_ip=source_ip,
    )
    return patient, access_log(db, patient_id=patient_id)

"""Consent grants: the person with ALS (or their proxy) shares parts of their record, and takes it back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import GRANTABLE_SCOPES, Action, Scope
from alscare.actions.audit import record_event
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import open_record
from alscare.storage.models import Clinic, ConsentGrant, User


def grant_access(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    scope: str,
    now: datetime,
    grantee_user_id: int | None = None,
    grantee_clinic_id: int | None = None,
    source_ip: str | None = None,
) -> ConsentGrant:
    """Share ``scope`` with one clinic, or with one account already known by its id, at once.

    Pages and the API never share with a person this way: sharing by email is an invitation the person accepts
    (``actions.share_invitations``), so the sharer never learns whether an email has an account (finding 5).
    """
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource="sharing",
        source_ip=source_ip,
    )
    if scope not in {s.value for s in GRANTABLE_SCOPES}:
        raise InvalidInput("scope", "Choose what to share from the list.")
    if (grantee_user_id is None) == (grantee_clinic_id is None):
        raise InvalidInput("grantee_clinic_id", "Give either a person or a clinic, not both.")
    if scope == Scope.RESEARCH.value and grantee_user_id is not None:
        raise InvalidInput("grantee_user_id", "Research use is shared with a clinic, not with a person.")
    if grantee_user_id is not None:
        if db.get(User, grantee_user_id) is None:
            raise NotFound("No such account.")
        if grantee_user_id == actor.id:
            raise InvalidInput("grantee_user_id", "You can already see your own record.")
    elif db.get(Clinic, grantee_clinic_id) is None:
        raise InvalidInput("grantee_clinic_id", "No such clinic.")
    existing = db.execute(
        select(ConsentGrant).where(
            ConsentGrant.patient_id == patient_id,
            ConsentGrant.scope == scope,
            ConsentGrant.revoked_at.is_(None),
            ConsentGrant.grantee_user_id.is_(grantee_user_id)
            if grantee_user_id is None
            else ConsentGrant.grantee_user_id == grantee_user_id,
            ConsentGrant.grantee_clinic_id.is_(None)
            if grantee_clinic_id is None
            else ConsentGrant.grantee_clinic_id == grantee_clinic_id,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    return add_grant(
        db,
        patient_id=patient_id,
        scope=scope,
        granted_by_id=actor.id,
        now=now,
        grantee_user_id=grantee_user_id,
        grantee_clinic_id=grantee_clinic_id,
        source_ip=source_ip,
    )


def add_grant(
    db: Session,
    *,
    patient_id: int,
    scope: str,
    granted_by_id: int,
    now: datetime,
    grantee_user_id: int | None = None,
    grantee_clinic_id: int | None = None,
    detail: str | None = None,
    source_ip: str | None = None,
) -> ConsentGrant:
    """Store one grant and put it on the audit trail, as done by ``granted_by_id``.

    No access check: callers have made theirs (``grant_access`` opens the record for sharing; accepting an
    invitation carries the consent the person gave when inviting, or gives when accepting).
    """
    grant = ConsentGrant(
        patient_id=patient_id,
        grantee_user_id=grantee_user_id,
        grantee_clinic_id=grantee_clinic_id,
        scope=scope,
        granted_by_id=granted_by_id,
        granted_at=now,
    )
    db.add(grant)
    db.flush()
    record_event(
        db,
        now=now,
        actor_user_id=granted_by_id,
        patient_id=patient_id,
        action="write",
        resource="sharing",
        detail=detail or f"granted {scope} (grant {grant.id})",
        source_ip=source_ip,
    )
    return grant


def revoke_access(
    db: Session, *, actor: User, patient_id: int, grant_id: int, now: datetime, source_ip: str | None = None
) -> ConsentGrant:
    """Stop a grant at once. The row stays, marked revoked, so the history is kept."""
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource="sharing",
        source_ip=source_ip,
    )
    grant = db.get(ConsentGrant, grant_id)
    if grant is None or grant.patient_id != patient_id:
        raise NotFound("No such sharing arrangement.")
    if grant.revoked_at is None:
        grant.revoked_at = now
        grant.revoked_by_id = actor.id
        db.flush()
        record_event(
            db,
            now=now,
            actor_user_id=actor.id,
            patient_id=patient_id,
            action="write",
            resource="sharing",
            detail=f"revoked grant {grant.id}",
            source_ip=source_ip,
        )
    return grant


def grants_of(db: Session, *, patient_id: int) -> list[ConsentGrant]:
    """All grants, current and past, newest first (the caller has already opened the record)."""
    return list(
        db.execute(
            select(ConsentGrant).where(ConsentGrant.patient_id == patient_id).order_by(ConsentGrant.id.desc())
        ).scalars()
    )


def revoke_consequences(db: Session, *, grant: ConsentGrant) -> list[str]:
    """What stops when ``grant`` is taken back, in plain words, for the confirmation page (clinic grants).

    The clinic's alerts and messages run on a grant covering check-ins (``checkins``, ``full_record`` or
    ``proxy``, see ``actions.alerts.ALERT_SCOPES``): they stop only if no other such grant to the same clinic
    remains.
    """
    from alscare.access import SCOPE_SHOWS
    from alscare.actions.alerts import ALERT_SCOPES
    from alscare.storage.models import Patient

    shows = SCOPE_SHOWS[Scope(grant.scope)][0]
    stops = [f"They will no longer see this: {shows}"]
    if grant.grantee_clinic_id is None or grant.scope not in ALERT_SCOPES:
        return stops
    others = [
        g
        for g in grants_of(db, patient_id=grant.patient_id)
        if g.id != grant.id
        and g.revoked_at is None
        and g.grantee_clinic_id == grant.grantee_clinic_id
        and g.scope in ALERT_SCOPES
    ]
    if others:
        return stops
    patient = db.get(Patient, grant.patient_id)
    if patient is not None and patient.clinic_id == grant.grantee_clinic_id:
        stops.append("The team will stop getting alerts when a check-in shows a problem.")
        stops.append("You will no longer be able to send messages to the team through alscare, nor they to you.")
    return stops

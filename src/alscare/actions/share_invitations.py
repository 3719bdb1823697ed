"""Sharing a record with a person: always an invitation the person accepts (issue 14, finding 5).

Whether an email has an alscare account says who uses an ALS care app. So the sharer never learns it: sharing
with an email stores a waiting invitation and sends one email, with the same work and the same answer ("waiting
for them to accept") for a known and an unknown address. No account is looked up until the invitee opens the
link from their mailbox: someone with an account signs in and accepts; someone without one makes an account
from the link (``accounts.accept_invitation``). The grants exist only once the invitation is accepted, and the
link travels only by email (never back to the sharer, who could otherwise accept it themselves).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.accounts import (
    OutgoingMail,
    _check_scopes,
    find_invitation,
    new_invitation,
    normalise_email,
    share_invitation_email,
)
from alscare.actions.audit import record_event
from alscare.actions.consent import add_grant
from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.actions.records import open_record
from alscare.storage.models import ConsentGrant, Invitation, Patient, User

__all__ = ["accept_share", "invite_to_share", "share_mail"]


def invite_to_share(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    email: str,
    scopes: list[str],
    now: datetime,
    source_ip: str | None = None,
) -> tuple[Invitation, str]:
    """Store a waiting invitation to see ``scopes`` of the record; returns it and its one-time token.

    Nothing here depends on whether ``email`` has an account (no lookup is made), so neither the answer nor its
    timing can tell. The token goes only into the email (``share_mail``).
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
    chosen = _check_scopes(scopes)
    if not chosen:
        raise InvalidInput("scope", "Choose at least one part of your record to share.")
    address = normalise_email(email, "grantee_email")
    if address == actor.email:
        raise InvalidInput("grantee_email", "You can already see this record.")
    invitation, token = new_invitation(
        db,
        email=address,
        role="caregiver",
        clinic_id=None,
        patient_id=patient_id,
        scopes=chosen,
        invited_by_id=actor.id,
        now=now,
    )
    record_event(
        db,
        now=now,
        actor_user_id=actor.id,
        patient_id=patient_id,
        action="write",
        resource="sharing",
        detail=f"invited a person to see {', '.join(chosen)} (invitation {invitation.id})",
        source_ip=source_ip,
    )
    return invitation, token


def share_mail(invitation: Invitation, *, token: str, base_url: str) -> OutgoingMail:
    """The one email of a share invitation: the same words whether or not the address has an account."""
    subject, body = share_invitation_email(f"{base_url}/invite/{token}")
    return OutgoingMail(to=invitation.email, subject=subject, body=body)


def accept_share(db: Session, *, token: str, user: User, now: datetime, source_ip: str | None = None) -> Invitation:
    """A signed-in account accepts a share invitation sent to its email: the grants start now.

    The link works once and only for the address it was sent to. A scope the person already sees is not
    granted twice.
    """
    inv = find_invitation(db, token=token, now=now)
    if inv.patient_id is None or inv.role != "caregiver":
        raise NotFound("This invitation link is not valid any more. Ask for a new one.")
    if user.email != inv.email:
        raise PermissionDenied(
            "This invitation was sent to another email address. Sign out, then sign in with that address."
        )
    patient = db.get(Patient, inv.patient_id)
    if patient is not None and patient.user_id != user.id:
        held = set(
            db.execute(
                select(ConsentGrant.scope).where(
                    ConsentGrant.patient_id == inv.patient_id,
                    ConsentGrant.grantee_user_id == user.id,
                    ConsentGrant.revoked_at.is_(None),
                )
            ).scalars()
        )
        for scope in inv.scopes:
            if scope not in held:
                add_grant(
                    db,
                    patient_id=inv.patient_id,
                    scope=scope,
                    granted_by_id=inv.invited_by_id,
                    now=now,
                    grantee_user_id=user.id,
                    detail=f"granted {scope} by invitation {inv.id}",
                    source_ip=source_ip,
                )
    inv.accepted_at = now
    inv.accepted_by_id = user.id
    db.flush()
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=inv.patient_id,
        action="write",
        resource="sharing",
        detail=f"accepted invitation {inv.id}",
        source_ip=source_ip,
    )
    return inv

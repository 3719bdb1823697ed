"""Running a clinic's accounts (issue 14, item 4): what a clinic administrator does.

The administrator edits the clinic's details, sees the staff, deactivates a leaver (every session of theirs
ends at once), resets a colleague's two-step sign-in (they enrol again at their next sign-in, as clinic
staff must), and sees the people the clinic cares for — names and dates only, never clinical data, which
their consent does not open to an administrator. Every change and every read of the people list is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from alscare.actions.accounts import check_name, normalise_email
from alscare.actions.audit import record_event
from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.storage.models import Clinic, Patient, User, WebSession
from alscare.storage.models.api_tokens import ApiToken

_PHONE = re.compile(r"[0-9+ ()-]{3,40}")
_EMERGENCY = re.compile(r"[0-9+ ]{2,20}")
PAGE_SIZE = 25


def require_admin(user: User) -> int:
    """The administrator's clinic id; PermissionDenied for anyone else."""
    if user.role != "admin" or user.clinic_id is None:
        raise PermissionDenied("Only the clinic's administrator can do this.")
    return user.clinic_id


def _colleague(db: Session, *, admin: User, user_id: int) -> User:
    clinic_id = require_admin(admin)
    colleague = db.get(User, user_id)
    # A clinic system's account (API token) is managed on the tokens page, never as a colleague.
    if colleague is None or colleague.clinic_id != clinic_id or not colleague.is_clinic_staff or colleague.is_service:
        raise NotFound("There is no such member of staff in your clinic.")
    return colleague


def end_sessions(db: Session, *, user_id: int) -> int:
    """Sign someone out everywhere: their sessions, and any half-finished sign-in, are deleted."""
    result = db.execute(
        delete(WebSession).where(or_(WebSession.user_id == user_id, WebSession.pending_user_id == user_id))
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class ClinicDetails:
    name: str
    phone: str
    hours: str
    address: str | None
    email: str | None
    emergency_number: str | None


def clinic_details(db: Session, *, admin: User) -> Clinic:
    clinic = db.get(Clinic, require_admin(admin))
    if clinic is None:
        raise NotFound("Your clinic was not found.")
    return clinic


def update_clinic_details(db: Session, *, admin: User, details: ClinicDetails, now: datetime) -> Clinic:
    """Check every field (naming the one that is wrong), then save them together."""
    clinic = clinic_details(db, admin=admin)
    name = check_name(details.name, "name")
    phone = details.phone.strip()
    if not _PHONE.fullmatch(phone):
        raise InvalidInput("phone", "Enter the clinic's phone number using digits, spaces, + ( ) or -.")
    hours = details.hours.strip()
    if not hours or len(hours) > 200:
        raise InvalidInput("hours", "Say when the clinic answers the phone, in at most 200 characters.")
    address = (details.address or "").strip() or None
    if address is not None and len(address) > 400:
        raise InvalidInput("address", "Use at most 400 characters for the address.")
    email = normalise_email(details.email or "", "email") if (details.email or "").strip() else None
    emergency = (details.emergency_number or "").strip() or None
    if emergency is not None and not _EMERGENCY.fullmatch(emergency):
        raise InvalidInput("emergency_number", "Enter the emergency number using digits, for example 112.")
    changed = [
        field
        for field, value in (
            ("name", name),
            ("phone", phone),
            ("hours", hours),
            ("address", address),
            ("email", email),
            ("emergency_number", emergency),
        )
        if getattr(clinic, field) != value
    ]
    clinic.name, clinic.phone, clinic.hours = name, phone, hours
    clinic.address, clinic.email, clinic.emergency_number = address, email, emergency
    record_event(
        db,
        now=now,
        actor_user_id=admin.id,
        patient_id=None,
        action="write",
        resource="clinic_details",
        detail=("changed " + ", ".join(changed)) if changed else "saved unchanged",
    )
    db.flush()
    return clinic


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    email: str
    role: str
    active: bool
    two_step: bool


def staff_list(db: Session, *, admin: User) -> list[StaffMember]:
    """The clinic's clinicians and administrators, by name (one statement)."""
    clinic_id = require_admin(admin)
    rows = db.execute(
        select(User)
        .where(User.clinic_id == clinic_id, User.role.in_(("clinician", "admin")), User.is_service.is_(False))
        .order_by(User.display_name, User.id)
    ).scalars()
    return [
        StaffMember(
            id=u.id, name=u.display_name, email=u.email, role=u.role, active=u.is_active, two_step=u.totp_enabled
        )
        for u in rows
    ]


def _end_api_tokens_of(db: Session, *, responsible_id: int, now: datetime) -> None:
    """A leaver's API tokens end for good (``actions/api_tokens``): reactivating them later does not bring
    back a token that a system may still hold."""
    live = (ApiToken.responsible_user_id == responsible_id, ApiToken.revoked_at.is_(None))
    db.execute(update(User).where(User.id.in_(select(ApiToken.service_user_id).where(*live))).values(is_active=False))
    db.execute(update(ApiToken).where(*live).values(revoked_at=now))


def set_staff_active(db: Session, *, admin: User, user_id: int, active: bool, now: datetime) -> User:
    """Deactivate a leaver (their sessions end now; they can no longer sign in) or let them back in."""
    colleague = _colleague(db, admin=admin, user_id=user_id)
    if colleague.id == admin.id:
        raise InvalidInput("user_id", "You cannot deactivate your own account.")
    colleague.is_active = active
    ended = 0 if active else end_sessions(db, user_id=colleague.id)
    if not active:
        _end_api_tokens_of(db, responsible_id=colleague.id, now=now)
    record_event(
        db,
        now=now,
        actor_user_id=admin.id,
        patient_id=None,
        action="write",
        resource="staff_account",
        detail=f"{'reactivated' if active else 'deactivated'} user {colleague.id}; {ended} session(s) ended",
    )
    db.flush()
    return colleague


def reset_second_factor(db: Session, *, admin: User, user_id: int, now: datetime) -> User:
    """Forget a colleague's authenticator (a lost phone): they sign in again and must enrol a new one."""
    colleague = _colleague(db, admin=admin, user_id=user_id)
    colleague.totp_enabled = False
    colleague.totp_secret = None
    colleague.totp_last_step = None
    ended = end_sessions(db, user_id=colleague.id)
    record_event(
        db,
        now=now,
        actor_user_id=admin.id,
        patient_id=None,
        action="write",
        resource="staff_two_step",
        detail=f"reset two-step sign-in of user {colleague.id}; {ended} session(s) ended",
    )
    db.flush()
    return colleague


@dataclass(frozen=True)
class PersonRow:
    """One person the clinic cares for, as an administrator may see them: no clinical data."""

    id: int
    name: str
    joined: datetime
    has_account: bool


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    page: int
    pages: int
    total: int


def clinic_people(db: Session, *, admin: User, page: int, now: datetime, page_size: int = PAGE_SIZE) -> PeoplePage:
    """One page of the people attached to the clinic, by name; two statements whatever the page holds."""
    clinic_id = require_admin(admin)
    total = int(
        db.execute(select(func.count()).select_from(Patient).where(Patient.clinic_id == clinic_id)).scalar_one()
    )
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = db.execute(
        select(Patient.id, Patient.full_name, Patient.created_at, User.is_active)
        .outerjoin(User, User.id == Patient.user_id)
        .where(Patient.clinic_id == clinic_id)
        .order_by(Patient.full_name, Patient.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    record_event(
        db,
        now=now,
        actor_user_id=admin.id,
        patient_id=None,
        action="read",
        resource="clinic_people_list",
        detail=f"page {page} of {pages}: {len(rows)} name(s)",
    )
    return PeoplePage(
        rows=[PersonRow(id=r[0], name=r[1], joined=r[2], has_account=bool(r[3])) for r in rows],
        page=page,
        pages=pages,
        total=total,
    )

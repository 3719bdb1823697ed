"""Opening a clinic: the clinic itself and its first administrator.

Everything else about a clinic's people happens through invitations (administrator → clinicians →
people with ALS); this is the one step that has nobody to invite it, so it is run by the operator from the
command line (``alscare clinic create``). The administrator gets no password: they receive a single-use link
to choose one, and, as clinic staff, must set up two-step sign-in at first sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alscare.actions.accounts import check_name, issue_reset_token, normalise_email
from alscare.actions.errors import InvalidInput
from alscare.security.passwords import hash_password
from alscare.security.tokens import new_token
from alscare.storage.models import Clinic, User

_PHONE = re.compile(r"[0-9+ ()-]{3,40}")


@dataclass(frozen=True)
class OpenedClinic:
    clinic: Clinic
    admin: User
    password_token: str


def open_clinic(
    db: Session,
    *,
    name: str,
    phone: str,
    hours: str,
    admin_email: str,
    admin_name: str,
    now: datetime,
    email: str | None = None,
    address: str | None = None,
) -> OpenedClinic:
    """Create a clinic and its administrator; returns the token for the administrator's set-password link."""
    clinic_name = check_name(name, "name")
    if not _PHONE.fullmatch(phone.strip()):
        raise InvalidInput("phone", "Enter the clinic's phone number using digits, spaces, + ( ) or -.")
    if not hours.strip() or len(hours) > 200:
        raise InvalidInput("hours", "Say when the clinic answers the phone, in at most 200 characters.")
    admin_address = normalise_email(admin_email, "admin_email")
    if db.execute(select(func.count()).select_from(User).where(User.email == admin_address)).scalar_one():
        raise InvalidInput("admin_email", "An account with this email already exists.")
    clinic = Clinic(
        name=clinic_name,
        phone=phone.strip(),
        hours=hours.strip(),
        email=normalise_email(email, "email") if email else None,
        address=address.strip() if address else None,
        created_at=now,
    )
    db.add(clinic)
    db.flush()
    admin = User(
        email=admin_address,
        display_name=check_name(admin_name, "admin_name"),
        role="admin",
        # A random password nobody knows: the administrator chooses their own through the link.
        password_hash=hash_password(new_token()),
        clinic_id=clinic.id,
        created_at=now,
        totp_enabled=False,
        is_active=True,
    )
    db.add(admin)
    db.flush()
    token = issue_reset_token(db, user=admin, now=now)
    return OpenedClinic(clinic=clinic, admin=admin, password_token=token)

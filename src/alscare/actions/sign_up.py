"""Self sign-up confirmed by email (issue 14, finding 5).

The sign-up page must not tell a stranger whether an email already has an account: that would say who uses
an ALS care app. So every well-formed sign-up gets the same answer ("check your email") after the same work:
a fresh token and its digest, a password hash, and one email to the address given. A new address gets a
link that creates the account when used; an address that already has an account is told so in its own
mailbox, which only its owner reads. Nothing is created until the link is used, so a mistyped address
never gets a record.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alscare.actions.accounts import (
    OutgoingMail,
    PatientProfile,
    _check_password,
    _email_taken,
    create_patient_account,
    normalise_email,
    validate_profile,
)
from alscare.actions.errors import NotFound
from alscare.security.tokens import new_token, token_digest
from alscare.storage.models import User
from alscare.storage.models.sign_ups import PendingSignUp

SIGN_UP_LINK_LIFETIME: Final = timedelta(hours=24)
_DATES: Final = ("date_of_birth", "onset_date", "diagnosis_date")

__all__ = ["SIGN_UP_LINK_LIFETIME", "find_pending", "finish_sign_up", "start_sign_up"]


def _profile_to_json(profile: PatientProfile) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(profile).items()}


def _profile_from_json(data: dict[str, Any]) -> PatientProfile:
    values: dict[str, Any] = {k: (date.fromisoformat(v) if k in _DATES and v else v) for k, v in data.items()}
    return PatientProfile(**values)


def start_sign_up(
    db: Session, *, email: str, password: str, profile: PatientProfile, now: datetime, base_url: str
) -> OutgoingMail:
    """Check the form (bad input raises ``InvalidInput`` naming the field, whoever owns the address) and
    return the one email to send. A pending sign-up is stored only for an address without an account."""
    address = normalise_email(email)
    validate_profile(profile, today=now.date())
    pw_hash = _check_password(password)
    token = new_token()
    digest = token_digest(token)
    if _email_taken(db, address):
        return OutgoingMail(
            to=address,
            subject="Your alscare account",
            body=(
                "Someone tried to create an alscare account with this email address, but it already has one.\n\n"
                f"If it was you, sign in at {base_url}/signin. If you forgot your password, you can reset it "
                f"at {base_url}/password/forgot. If it was not you, you can ignore this email.\n"
            ),
        )
    db.add(
        PendingSignUp(
            token_digest=digest,
            email=address,
            password_hash=pw_hash,
            profile=_profile_to_json(profile),
            created_at=now,
            expires_at=now + SIGN_UP_LINK_LIFETIME,
        )
    )
    db.flush()
    return OutgoingMail(
        to=address,
        subject="Finish creating your alscare account",
        body=(
            "Someone asked to create an alscare account with this email address.\n\n"
            f"If it was you, open this link within 24 hours to finish:\n{base_url}/signup/confirm/{token}\n\n"
            "If it was not you, you can ignore this email. No account is made until the link is used.\n"
        ),
    )


def find_pending(db: Session, *, token: str, now: datetime) -> PendingSignUp:
    """The sign-up behind a link that still works, or ``NotFound``."""
    found = db.execute(
        select(PendingSignUp).where(PendingSignUp.token_digest == token_digest(token))
    ).scalar_one_or_none()
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise NotFound("This link is not valid any more. Sign up again to get a new one.")
    return found


def finish_sign_up(db: Session, *, token: str, now: datetime, default_emergency_number: str) -> User:
    """Create the account and record of a confirmed sign-up. The link works once; every other waiting
    sign-up for the same address stops working too. If the address got an account meanwhile (a second link
    used first, an invitation accepted), that account is left alone and the link is refused."""
    pending = find_pending(db, token=token, now=now)
    db.execute(
        update(PendingSignUp)
        .where(PendingSignUp.email == pending.email, PendingSignUp.used_at.is_(None))
        .values(used_at=now)
    )
    if _email_taken(db, pending.email):
        raise NotFound("This email already has an account. Sign in instead.")
    return create_patient_account(
        db,
        email=pending.email,
        password_hash=pending.password_hash,
        profile=_profile_from_json(pending.profile),
        default_emergency_number=default_emergency_number,
        now=now,
    )

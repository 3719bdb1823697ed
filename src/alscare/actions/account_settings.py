"""Everyone's own account (issue 14, item 4): change the password, change the email address.

A new email address takes effect only when the link sent to it is opened: that proves the person owns it,
and a session left open on a shared computer cannot move the account to someone else's mailbox without the
password too. The link travels only by email, never back to the page. Both changes are audited, and a
password change signs the person out of every other session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from alscare.actions.accounts import normalise_email
from alscare.actions.audit import record_event
from alscare.actions.clinic_admin import end_sessions
from alscare.actions.errors import InvalidInput, NotFound
from alscare.security.passwords import check_password_policy, hash_password, verify_password
from alscare.security.tokens import new_token, token_digest
from alscare.storage.models import User
from alscare.storage.models.clinic_operations import EmailChange

EMAIL_CHANGE_LIFETIME = timedelta(hours=24)


def _check_current(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        raise InvalidInput("current_password", "That is not your current password.")


def change_password(db: Session, *, user: User, current_password: str, new_password: str, now: datetime) -> None:
    """Set a new password after checking the current one; every session of the account ends."""
    _check_current(user, current_password)
    problem = check_password_policy(new_password)
    if problem:
        raise InvalidInput("new_password", problem)
    user.password_hash = hash_password(new_password)
    ended = end_sessions(db, user_id=user.id)
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="own_password",
        detail=f"changed password; {ended} session(s) ended",
    )
    db.flush()


@dataclass(frozen=True)
class EmailChangeRequest:
    """Where to send the confirmation link, and its token (None when the address is taken: send nothing)."""

    new_email: str
    token: str | None


def request_email_change(
    db: Session, *, user: User, password: str, new_email: str, now: datetime
) -> EmailChangeRequest:
    """Start an email change; the page says the same thing whether or not the address already has an account."""
    _check_current(user, password)
    email = normalise_email(new_email, "new_email")
    if email == user.email:
        raise InvalidInput("new_email", "This is already your email address.")
    taken = db.execute(select(func.count()).select_from(User).where(User.email == email)).scalar_one() > 0
    # Older links of this account stop working: only the newest request counts.
    db.execute(
        update(EmailChange)
        .where(EmailChange.user_id == user.id, EmailChange.confirmed_at.is_(None), EmailChange.expires_at > now)
        .values(expires_at=now)
    )
    token = None
    if not taken:
        token = new_token()
        db.add(
            EmailChange(
                user_id=user.id,
                new_email=email,
                token_digest=token_digest(token),
                created_at=now,
                expires_at=now + EMAIL_CHANGE_LIFETIME,
            )
        )
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="own_email",
        detail="asked to change email" + ("" if token else " (address in use: no link sent)"),
    )
    db.flush()
    return EmailChangeRequest(new_email=email, token=token)


def confirm_email_change(db: Session, *, token: str, now: datetime) -> tuple[User, str]:
    """Open the link: the account's email becomes the new address. Returns the user and the old address."""
    change = db.execute(
        select(EmailChange).where(EmailChange.token_digest == token_digest(token)).with_for_update()
    ).scalar_one_or_none()
    if change is None or change.confirmed_at is not None or change.expires_at <= now:
        raise NotFound("This link is not valid any more. Ask for a new one from your account page.")
    user = db.get(User, change.user_id)
    if user is None or not user.is_active:
        raise NotFound("This link is not valid any more. Ask for a new one from your account page.")
    if db.execute(select(func.count()).select_from(User).where(User.email == change.new_email)).scalar_one():
        raise NotFound("This link is not valid any more. Ask for a new one from your account page.")
    old = user.email
    user.email = change.new_email
    change.confirmed_at = now
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="own_email",
        detail="changed email",
    )
    db.flush()
    return user, old


def email_change_emails(link: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(subject, body) for the new address (with the link) and for the old one (a notice, no link)."""
    confirm = (
        "Confirm your new alscare email address",
        "Someone asked to use this address for an alscare account.\n\n"
        f"To confirm, open this link within 24 hours:\n{link}\n\n"
        "If it was not you, ignore this email; nothing changes.\n",
    )
    notice = (
        "Your alscare email address was changed",
        "The email address of your alscare account was just changed, and this address is no longer used.\n\n"
        "If you did not do this, contact your clinic or reset your password straight away.\n",
    )
    return confirm, notice

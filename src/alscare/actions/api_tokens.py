"""API tokens for a clinic's own systems (issue 13): issued by the clinic administrator, received by a clinician.

Why this shape:

- **The administrator never holds the token.** Consent does not open clinical data to an administrator
  (issue 14, finding 1: an administrator must not be able to make themselves a reader). A token reads what a
  clinician reads, so it goes by email to an active clinician of the clinic whom the administrator names,
  never back to the administrator who asked — as invitation and reset links travel (the guide's rule).
- **One access policy.** Each token acts through its own service account, a clinician of the clinic that
  cannot sign in and is never emailed (``users.is_service``). The consent grants a person gave the clinic
  decide what the token reads, exactly as for a clinician, and the audit trail names the system.
- **Read only.** A token may call the API's reading methods only (enforced in ``web/deps.py``); writing
  stays with people who sign in.
- **It ends.** A year after it is made, when it is revoked, or when its clinician leaves (is deactivated).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions.accounts import OutgoingMail
from alscare.actions.audit import record_event
from alscare.actions.clinic_admin import end_sessions
from alscare.actions.errors import InvalidInput, NotFound
from alscare.clinical.wording import load_wording
from alscare.security.tokens import new_token, token_digest
from alscare.storage.models import User
from alscare.storage.models.api_tokens import ApiToken

TOKEN_LIFETIME = timedelta(days=365)
# A prefix lets secret scanners (and people) recognise a leaked alscare token.
TOKEN_PREFIX = "alscare_api_"
NAME_MAX = 100
# Service accounts get an address that can never receive mail (RFC 2606 reserves .invalid).
SERVICE_EMAIL_DOMAIN = "api-token.invalid"


def require_admin(user: User) -> int:
    """The administrator's clinic id. Anyone else: NotFound, as for webhooks, so the page's existence and its
    tokens' ids reveal nothing."""
    if user.role != "admin" or user.clinic_id is None:
        raise NotFound("Page not found.")
    return user.clinic_id


def wording() -> dict[str, Any]:
    """The words of the API-token page and email (``clinical/wording/api_tokens.en.toml``)."""
    return load_wording("api_tokens.en")


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    responsible: str
    created_at: datetime
    expires_at: datetime
    status: str  # "active", "revoked" or "expired"


def _status(token: ApiToken, responsible: User, now: datetime) -> str:
    if token.revoked_at is not None or not responsible.is_active:
        return "revoked"
    return "expired" if token.expires_at <= now else "active"


def clinicians(db: Session, *, admin: User) -> list[User]:
    """The active clinicians of the administrator's clinic who may receive a token (people, not services)."""
    clinic_id = require_admin(admin)
    return list(
        db.execute(
            select(User)
            .where(
                User.clinic_id == clinic_id,
                User.role == "clinician",
                User.is_active.is_(True),
                User.is_service.is_(False),
            )
            .order_by(User.display_name, User.id)
        ).scalars()
    )


def clinic_tokens(db: Session, *, admin: User, now: datetime) -> list[TokenRow]:
    """Every token the clinic made, newest first (one statement)."""
    clinic_id = require_admin(admin)
    rows = db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.responsible_user_id)
        .where(ApiToken.clinic_id == clinic_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [TokenRow(t.id, t.name, u.display_name, t.created_at, t.expires_at, _status(t, u, now)) for t, u in rows]


def _audit(db: Session, *, admin: User, now: datetime, detail: str, source_ip: str | None) -> None:
    """A security event of the clinic's administration: no patient, only the token's and accounts' ids."""
    record_event(
        db,
        now=now,
        actor_user_id=admin.id,
        patient_id=None,
        action="write",
        resource="api_token",
        detail=detail,
        source_ip=source_ip,
    )


def _check_name(raw: str) -> str:
    name = " ".join(raw.split())
    # No control, format (bidirectional overrides, zero-width) or unassigned characters: the name is shown to
    # people in their access log, and must read there exactly as it was typed.
    if not name or len(name) > NAME_MAX or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in name):
        raise InvalidInput("name", wording()["errors"]["name"])
    return name


def issue_token(
    db: Session,
    *,
    admin: User,
    name: str,
    responsible_user_id: int | None,
    now: datetime,
    base_url: str,
    source_ip: str | None = None,
) -> tuple[ApiToken, OutgoingMail]:
    """Make a token and the email that carries it to the responsible clinician (send it after commit).

    Returns the stored token (its digest only) and the mail; the raw token is in the mail and nowhere else.
    """
    clinic_id = require_admin(admin)
    name = _check_name(name)
    words = wording()
    responsible = db.get(User, responsible_user_id) if responsible_user_id is not None else None
    if responsible is None or responsible not in clinicians(db, admin=admin):
        raise InvalidInput("responsible", words["errors"]["responsible"])
    raw = TOKEN_PREFIX + new_token()
    service = User(
        email=f"service-{uuid.uuid4().hex}@{SERVICE_EMAIL_DOMAIN}",
        display_name=f"{name} (clinic system)",
        role="clinician",
        # Not a hash of any password: verify_password never accepts it, so the account cannot sign in.
        password_hash="!service-account",
        clinic_id=clinic_id,
        is_active=True,
        is_service=True,
        created_at=now,
    )
    db.add(service)
    db.flush()
    token = ApiToken(
        clinic_id=clinic_id,
        name=name,
        token_digest=token_digest(raw),
        service_user_id=service.id,
        responsible_user_id=responsible.id,
        created_by_id=admin.id,
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    db.add(token)
    db.flush()
    detail = f"issued api token {token.id} to user {responsible.id}"
    _audit(db, admin=admin, now=now, detail=detail, source_ip=source_ip)
    body = words["email"]["body"].format(
        name=name, token=raw, base_url=base_url.rstrip("/"), expires=token.expires_at.strftime("%-d %B %Y")
    )
    return token, OutgoingMail(to=responsible.email, subject=words["email"]["subject"], body=body)


def revoke_token(db: Session, *, admin: User, token_id: int, now: datetime, source_ip: str | None = None) -> ApiToken:
    """Revoke a token at once: its service account is deactivated too, so nothing it held keeps working."""
    clinic_id = require_admin(admin)
    token = db.get(ApiToken, token_id)
    if token is None or token.clinic_id != clinic_id:
        raise NotFound(wording()["errors"]["not_found"])
    if token.revoked_at is None:
        token.revoked_at = now
        token.service_user.is_active = False
        end_sessions(db, user_id=token.service_user_id)
        _audit(db, admin=admin, now=now, detail=f"revoked api token {token.id}", source_ip=source_ip)
    return token


def authenticate(db: Session, *, raw: str, now: datetime) -> User | None:
    """The service account a bearer token acts as, or None when the token is unknown, revoked or expired, or
    its clinician has left. One indexed lookup; nothing is written (reads never take SQLite's write lock)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.responsible_user_id)
        .where(ApiToken.token_digest == token_digest(raw))
    ).first()
    if row is None:
        return None
    token, responsible = row
    if _status(token, responsible, now) != "active":
        return None
    service = token.service_user
    return service if service.is_active else None

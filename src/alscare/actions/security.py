"""Security state shared by every app process: sign-in throttles, refused-probe counts, security events.

Throttles live in the ``sign_in_throttles`` table, so N processes behind a load balancer count each guess once.
They are keyed so that nobody can lock the owner out of their own account (issue 14, findings 3 and 4):

* ``pair`` — one account from one address. After a few failures each further attempt from *that address for
  that account* waits longer (back-off, never a permanent lock). The owner signing in from their own device
  (another address) is not slowed at all. A successful sign-in clears only its own pair.
* ``address`` — every account from one address (password spraying). A success does not clear it, so an
  attacker cannot reset their budget by signing in to an account of their own.
* ``account`` — every address for one account. It never blocks (that would hand anyone a lock-out), but past a
  ceiling the clinic's administrators get one notice per day, without patient data.

The back-off arithmetic is the pure ``alscare.security.ratelimit``; this module only stores its state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alscare.actions.audit import record_event
from alscare.security.ratelimit import BackoffPolicy, Throttle, register_failure, retry_after
from alscare.security.secretbox import has_key, is_sealed, seal
from alscare.storage.models import Patient, User
from alscare.storage.models.security import RefusedProbeCount, SignInThrottle

# One account from one address: five free tries, then 30 s doubling to 15 min; forgotten after a day.
PAIR_POLICY: Final = BackoffPolicy(free_attempts=5, base_seconds=30, max_seconds=15 * 60)
# One address, any account: a household or a clinic behind one NAT gets room; a sprayer does not.
ADDRESS_POLICY: Final = BackoffPolicy(free_attempts=20, base_seconds=30, max_seconds=15 * 60, forget_after_seconds=3600)
# Second factor codes for one account (the password was already right): like a pair.
CODE_POLICY: Final = BackoffPolicy(free_attempts=5, base_seconds=30, max_seconds=15 * 60)
# Password-reset requests: per address and per email, a few an hour.
FORGOT_ADDRESS_POLICY: Final = BackoffPolicy(
    free_attempts=10, base_seconds=60, max_seconds=60 * 60, forget_after_seconds=3600
)
FORGOT_EMAIL_POLICY: Final = BackoffPolicy(
    free_attempts=3, base_seconds=300, max_seconds=60 * 60, forget_after_seconds=3600
)
# Failures on one account from all addresses before its clinic's administrators are told.
ACCOUNT_CEILING: Final = 20
ACCOUNT_WINDOW: Final = BackoffPolicy(free_attempts=10**6, base_seconds=1, max_seconds=1)
ALERT_EVERY: Final = timedelta(days=1)
PROBE_WINDOW: Final = timedelta(hours=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def pair_key(email: str, address: str | None) -> str:
    return f"pair:{email.strip().lower()}|{address or '-'}"


def address_key(address: str | None) -> str:
    return f"address:{address or '-'}"


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()}"


def _row(db: Session, key: str, *, lock: bool) -> SignInThrottle | None:
    stmt = select(SignInThrottle).where(SignInThrottle.key_digest == _digest(key))
    if lock:
        stmt = stmt.with_for_update()
    return db.execute(stmt).scalar_one_or_none()


def wait_seconds(db: Session, keys: list[str], *, now: datetime) -> float | None:
    """The longest wait any of ``keys`` imposes now, or None if an attempt may go ahead."""
    digests = [_digest(k) for k in keys]
    rows = db.execute(select(SignInThrottle).where(SignInThrottle.key_digest.in_(digests))).scalars()
    waits = [w for r in rows if (w := retry_after(_state(r), now)) is not None]
    return max(waits) if waits else None


def _state(r: SignInThrottle) -> Throttle:
    return Throttle(failures=r.failures, locked_until=r.locked_until, last_failure_at=r.last_failure_at)


def register(db: Session, key: str, *, now: datetime, policy: BackoffPolicy) -> SignInThrottle:
    """Count one failure (or one request, for rate limits) against ``key``, race-free across processes."""
    row = _row(db, key, lock=True)
    if row is None:
        try:
            with db.begin_nested():
                row = SignInThrottle(key_digest=_digest(key), failures=0)
                db.add(row)
        except IntegrityError:
            # Another process inserted it first: count on its row.
            row = _row(db, key, lock=True)
            assert row is not None
    t = register_failure(_state(row), now, policy=policy)
    row.failures, row.locked_until, row.last_failure_at = t.failures, t.locked_until, t.last_failure_at
    db.flush()
    return row


def clear(db: Session, key: str) -> None:
    db.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key_digest == _digest(key))
        .values(failures=0, locked_until=None, last_failure_at=None)
    )


@dataclass(frozen=True)
class CeilingNotice:
    clinic_id: int
    emails: list[str]


def sign_in_failed(db: Session, *, email: str, address: str | None, now: datetime, base_url: str) -> None:
    """Count a failed password: the pair, the address, and the account (which may alert its clinic)."""
    register(db, pair_key(email, address), now=now, policy=PAIR_POLICY)
    register(db, address_key(address), now=now, policy=ADDRESS_POLICY)
    account = register(db, account_key(email), now=now, policy=ACCOUNT_WINDOW)
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    record_event(
        db,
        now=now,
        actor_user_id=user.id if user else None,
        patient_id=None,
        action="denied",
        resource="sign_in",
        detail="wrong password" if user else "unknown account",
        source_ip=address,
    )
    if user is None or account.failures < ACCOUNT_CEILING:
        return
    if account.alerted_at is not None and now - account.alerted_at < ALERT_EVERY:
        return
    account.alerted_at = now
    _alert_clinic_admins(db, user=user, failures=account.failures, now=now, base_url=base_url)


def _alert_clinic_admins(db: Session, *, user: User, failures: int, now: datetime, base_url: str) -> None:
    from alscare.delivery.outbox import enqueue_email

    clinic_id = user.clinic_id
    if clinic_id is None:
        clinic_id = db.execute(select(Patient.clinic_id).where(Patient.user_id == user.id)).scalar_one_or_none()
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="alert",
        resource="sign_in",
        detail=f"{failures} failed sign-ins on one account",
    )
    if clinic_id is None:
        return
    admins = db.execute(
        select(User.email).where(User.clinic_id == clinic_id, User.role == "admin", User.is_active.is_(True))
    ).scalars()
    # No name, no email address of the account, no health data: the admin looks it up in alscare.
    who = f"staff account number {user.id}" if user.is_clinic_staff else f"account number {user.id}"
    for to in admins:
        enqueue_email(
            db,
            kind="security",
            to=to,
            subject="alscare: many failed sign-ins",
            body=(
                f"There have been {failures} failed attempts to sign in to {who} at your clinic.\n\n"
                "The account is not locked: its owner can still sign in from their own device. If this was not "
                "them, ask them to choose a new password and check that two-step sign-in is on.\n\n"
                f"{base_url}/home\n"
            ),
            dedupe_key=f"signin-ceiling:{user.id}:{now.date().isoformat()}:{to}",
            now=now,
        )


def sign_in_succeeded(db: Session, *, user: User, email: str, address: str | None, now: datetime) -> None:
    """Clear only this account's counter from this address; other addresses' counters stay."""
    clear(db, pair_key(email, address))
    record_event(
        db, now=now, actor_user_id=user.id, patient_id=None, action="signin", resource="sign_in", source_ip=address
    )


def security_event(
    db: Session,
    *,
    now: datetime,
    actor_user_id: int | None,
    action: str,
    resource: str,
    detail: str | None = None,
    source_ip: str | None = None,
    patient_id: int | None = None,
) -> None:
    """A security event on the audit trail (sign-in, reset, two-step enrolment, invitation, webhook change)."""
    record_event(
        db,
        now=now,
        actor_user_id=actor_user_id,
        patient_id=patient_id,
        action=action,
        resource=resource,
        detail=detail,
        source_ip=source_ip,
    )


def _is(column: object, value: int | None) -> object:
    return column.is_(None) if value is None else column == value  # type: ignore[attr-defined]


def count_refused_probe(
    db: Session, *, actor_user_id: int | None, patient_id: int | None, resource: str, now: datetime
) -> bool:
    """Count one refused attempt in the actor's current window; True if it is the window's first.

    The caller writes an audit row only for the first, so a flood of probes adds one row an hour, not one each.
    """
    window = now.replace(minute=0, second=0, microsecond=0)
    stmt = select(RefusedProbeCount).where(
        _is(RefusedProbeCount.actor_user_id, actor_user_id),  # type: ignore[arg-type]
        _is(RefusedProbeCount.patient_id, patient_id),  # type: ignore[arg-type]
        RefusedProbeCount.resource == resource,
        RefusedProbeCount.window_start == window,
    )
    row = db.execute(stmt.with_for_update()).scalar_one_or_none()
    if row is None:
        try:
            with db.begin_nested():
                db.add(
                    RefusedProbeCount(
                        actor_user_id=actor_user_id,
                        patient_id=patient_id,
                        resource=resource,
                        window_start=window,
                        count=1,
                        last_at=now,
                    )
                )
            return True
        except IntegrityError:
            row = db.execute(stmt.with_for_update()).scalar_one()
    row.count += 1
    row.last_at = now
    db.flush()
    return False


def seal_legacy_secrets(db: Session) -> int:
    """Seal every two-step key and webhook secret still stored in plaintext (from before sealing); returns how
    many. Run at start-up, after migrations, once a key is registered (``secretbox.use_key``)."""
    if not has_key():
        return 0
    done = 0
    for table, column in (("users", "totp_secret"), ("webhook_endpoints", "secret")):
        rows = db.execute(text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
        for row_id, value in rows:
            if not is_sealed(value):
                db.execute(
                    text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                    {"v": seal(value), "id": row_id},
                )
                done += 1
    return done

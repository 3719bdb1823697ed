"""The outbox: notifications written in the caller's transaction, delivered later by the worker.

Call these inside the transaction that creates the alert (or reminder, or message): if that transaction
rolls back, nothing is queued; if it commits, the worker will deliver. Every row has a unique
``dedupe_key``; queuing the same thing again inserts nothing (``ON CONFLICT DO NOTHING``, so a duplicate
never breaks the caller's transaction).

The text carries no clinical details and no names of people: only the tier ("emergency", "contact today",
"guideline prompt", or "escalated" for a reminder nobody acknowledged), the clinic's name, and a link that
needs signing in (and the two-step code) and then lands on the alert. Webhooks add the alert's severity,
tier and clinic (what a clinic system routes on) and ids.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alscare.clinical.wording import load_wording
from alscare.storage.models import Alert, Clinic, Notification, User, WebhookEndpoint

DEFAULT_BASE_URL: Final = "http://127.0.0.1:8000"

# The tier as the email and webhook name it (severity → words a clinician triages on); escalations say
# "escalated" whatever the severity, so a repeat stands out from a first notice.
TIER_WORDS: Final = {"emergency": "emergency", "contact_team": "contact today", "prompt": "guideline prompt"}
ESCALATED: Final = "escalated"
TIER_HINTS: Final = {
    "emergency": "Emergency signs were reported: look at it now.",
    "contact today": "The person should hear from the team today.",
    "guideline prompt": "A guideline says a discussion may be due: look at it before the next review.",
    ESCALATED: "Nobody has acknowledged this alert yet.",
}
ALERT_SUBJECT: Final = "alscare: {tier} alert at {clinic}"
ALERT_BODY: Final = (
    "An alert needs attention at {clinic}.\n\n"
    "Tier: {tier}. {hint}\n\n"
    "Sign in to see it:\n{url}\n\n"
    "This email holds no names and no clinical details on purpose. You get it because you are on the care team."
)
ESCALATION_SUBJECT: Final = "alscare: escalated alert at {clinic}, still not acknowledged"
ESCALATION_BODY: Final = (
    "An alert at {clinic} has not been acknowledged yet.\n\n"
    "Tier: escalated (first raised as {first_tier}). {hint}\n\n"
    "Sign in to see it:\n{url}\n\n"
    "This email holds no names and no clinical details on purpose. You get it because you are on the care team "
    "or run the clinic."
)

# The worker's own email to a clinic's administrators when an alert's notification was given up.
UNDELIVERED: Final = "undelivered"
_WORDS: Final = load_wording("delivery.en")

EVENT_ALERT_RAISED: Final = "alert.raised"
EVENT_ALERT_ESCALATED: Final = "alert.escalated"

_DEDUPE_KEY_MAX: Final = 200  # the column's length


def enqueue_alert_notifications(
    db: Session, *, alert: Alert, now: datetime, base_url: str = DEFAULT_BASE_URL
) -> list[Notification]:
    """Queue the notifications for a new alert: an email to each active clinician of the alert's clinic and a
    call to each of the clinic's active webhook endpoints. Returns the rows created now (none if already queued,
    or if the alert has no clinic)."""
    return _enqueue_for_alert(
        db,
        alert=alert,
        now=now,
        base_url=base_url,
        kind="alert",
        key_prefix=f"alert:{_flushed_id(db, alert)}",
        roles=("clinician",),
        subject=ALERT_SUBJECT,
        body=ALERT_BODY,
        event=EVENT_ALERT_RAISED,
        extra={"tier": TIER_WORDS[alert.severity]},
    )


def enqueue_escalation_notifications(
    db: Session, *, alert: Alert, now: datetime, base_url: str = DEFAULT_BASE_URL
) -> list[Notification]:
    """Queue the notifications for an alert that was not acknowledged in time: the clinic's active clinicians
    and administrators by email, and its webhooks. Keyed by ``alert.escalation_level``: raise the level
    first, then call this once per level."""
    return _enqueue_for_alert(
        db,
        alert=alert,
        now=now,
        base_url=base_url,
        kind="escalation",
        key_prefix=f"escalation:{_flushed_id(db, alert)}:{alert.escalation_level}",
        roles=("clinician", "admin"),
        subject=ESCALATION_SUBJECT,
        body=ESCALATION_BODY,
        event=EVENT_ALERT_ESCALATED,
        extra={"escalation_level": alert.escalation_level, "tier": ESCALATED},
    )


def enqueue_email(
    db: Session, *, kind: str, to: str, subject: str, body: str, dedupe_key: str, now: datetime
) -> Notification | None:
    """Queue one email (reminders, message notifications). Returns the new row, or None if ``dedupe_key``
    was queued before. The caller makes sure ``subject`` and ``body`` hold no clinical details."""
    return _insert(
        db,
        dedupe_key=dedupe_key,
        kind=kind,
        channel="email",
        target=to,
        subject=subject,
        body=body,
        alert_id=None,
        now=now,
    )


def notification_key(notification: Notification) -> str:
    """The notification's id as receivers see it (email ``Message-ID``, webhook ``Idempotency-Key``).

    The same on every try, so a receiver can drop a repeat (a worker that died after the far side accepted
    but before it could record that sends again). The token comes from the row's unique ``dedupe_key`` and
    the moment it was queued, so two installations' notification 42 do not share a key (a receiver would
    otherwise drop a real message as a repeat).
    """
    created = notification.created_at.isoformat()
    token = hashlib.sha256(f"{notification.dedupe_key}|{created}".encode()).hexdigest()[:16]
    return f"alscare-notification-{notification.id}.{token}"


def enqueue_undelivered_notice(
    db: Session, *, given_up: Notification, now: datetime, retry_hours: int, base_url: str = DEFAULT_BASE_URL
) -> list[Notification]:
    """Tell the active administrators of the clinic of an alert whose notification was given up, by email.

    At most one email per administrator per clinic per day (the ``dedupe_key`` names the date), however many
    notifications fail: an SMTP outage should not turn into a storm. The text says only what kind of
    notification failed and links to the clinic's alerts: no names, no clinical details. Notifications that
    are not about an alert (reminders, messages) have no clinic to tell; the notice itself is never reported.
    """
    if given_up.alert_id is None or given_up.kind == UNDELIVERED:
        return []
    alert = db.get(Alert, given_up.alert_id)
    if alert is None or alert.clinic_id is None:
        return []
    clinic = db.get(Clinic, alert.clinic_id)
    words = _WORDS["undelivered"]
    values = {
        "clinic": clinic.name if clinic is not None else "your clinic",
        "what": words["what"].get(given_up.channel, given_up.channel),
        "hours": retry_hours,
        "error": (given_up.last_error or "unknown")[:200],
        "url": f"{base_url.rstrip('/')}/clinic/alerts",
    }
    created: list[Notification] = []
    for address in _staff_emails(db, clinic_id=alert.clinic_id, roles=("admin",)):
        row = _insert(
            db,
            dedupe_key=_dedupe_key(f"{UNDELIVERED}:{alert.clinic_id}:{now.date().isoformat()}", "email", address),
            kind=UNDELIVERED,
            channel="email",
            target=address,
            subject=words["subject"].format(**values)[:200],
            body=words["body"].format(**values),
            alert_id=None,
            now=now,
        )
        if row is not None:
            created.append(row)
    return created


def alert_url(base_url: str, alert_id: int) -> str:
    return f"{base_url.rstrip('/')}/clinic/alerts/{alert_id}"


def _flushed_id(db: Session, alert: Alert) -> int:
    """The alert's id, flushing first if the caller has only just added it."""
    if alert.id is None:
        db.flush()
    return alert.id


def _enqueue_for_alert(
    db: Session,
    *,
    alert: Alert,
    now: datetime,
    base_url: str,
    kind: str,
    key_prefix: str,
    roles: tuple[str, ...],
    subject: str,
    body: str,
    event: str,
    extra: dict[str, Any],
) -> list[Notification]:
    if alert.clinic_id is None:
        return []
    url = alert_url(base_url, alert.id)
    clinic = db.get(Clinic, alert.clinic_id)
    clinic_name = clinic.name if clinic is not None else "your clinic"
    tier = str(extra["tier"])
    words = {
        "clinic": clinic_name,
        "tier": tier,
        "first_tier": TIER_WORDS[alert.severity],
        "hint": TIER_HINTS[tier],
        "url": url,
    }
    created: list[Notification] = []
    for address in _staff_emails(db, clinic_id=alert.clinic_id, roles=roles):
        row = _insert(
            db,
            dedupe_key=_dedupe_key(key_prefix, "email", address),
            kind=kind,
            channel="email",
            target=address,
            subject=subject.format(**words),
            body=body.format(**words),
            alert_id=alert.id,
            now=now,
        )
        if row is not None:
            created.append(row)
    payload = json.dumps(
        {
            "event": event,
            "alert_id": alert.id,
            "severity": alert.severity,
            "clinic_id": alert.clinic_id,
            "created_at": alert.created_at.isoformat(),
            "url": url,
            "clinic": clinic_name,
            **extra,
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    for endpoint_id in _active_endpoint_ids(db, clinic_id=alert.clinic_id):
        row = _insert(
            db,
            dedupe_key=_dedupe_key(key_prefix, "webhook", str(endpoint_id)),
            kind=kind,
            channel="webhook",
            target=str(endpoint_id),
            subject=event,  # a webhook's "subject" is its event name, sent as X-Alscare-Event
            body=payload,
            alert_id=alert.id,
            now=now,
        )
        if row is not None:
            created.append(row)
    return created


def _staff_emails(db: Session, *, clinic_id: int, roles: tuple[str, ...]) -> list[str]:
    return list(
        db.execute(
            select(User.email)
            .where(
                User.clinic_id == clinic_id,
                User.role.in_(roles),
                User.is_active.is_(True),
                User.is_service.is_(False),  # a clinic system's account (API token) has no mailbox
            )
            .order_by(User.id)
        ).scalars()
    )


def _active_endpoint_ids(db: Session, *, clinic_id: int) -> list[int]:
    return list(
        db.execute(
            select(WebhookEndpoint.id)
            .where(WebhookEndpoint.clinic_id == clinic_id, WebhookEndpoint.active.is_(True))
            .order_by(WebhookEndpoint.id)
        ).scalars()
    )


def _dedupe_key(prefix: str, channel: str, target: str) -> str:
    key = f"{prefix}:{channel}:{target}"
    if len(key) <= _DEDUPE_KEY_MAX:
        return key
    # A very long email address: keep the key within the column, still unique per target.
    return f"{prefix}:{channel}:sha256:{hashlib.sha256(target.encode()).hexdigest()}"


def _insert(
    db: Session,
    *,
    dedupe_key: str,
    kind: str,
    channel: str,
    target: str,
    subject: str,
    body: str,
    alert_id: int | None,
    now: datetime,
) -> Notification | None:
    if len(dedupe_key) > _DEDUPE_KEY_MAX:
        raise ValueError(f"dedupe_key longer than {_DEDUPE_KEY_MAX} characters")
    values = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "channel": channel,
        "target": target,
        "subject": subject,
        "body": body,
        "alert_id": alert_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
        .returning(Notification)
    )
    return db.execute(stmt, execution_options={"populate_existing": True}).scalars().one_or_none()

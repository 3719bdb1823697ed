"""The audit trail: append-only and hash-chained (see ``AuditEvent``).

Writers lock the single ``audit_head`` row first, so concurrent requests append one after another and the
chain never forks; the lock is held only to the end of the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.security.hashchain import GENESIS, ChainProblem, entry_hash, verify_chain
from alscare.storage.models import AuditEvent, AuditHead, User


def record_event(
    db: Session,
    *,
    now: datetime,
    actor_user_id: int | None,
    patient_id: int | None,
    action: str,
    resource: str,
    detail: str | None = None,
    source_ip: str | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    # Hash the time exactly as it will read back from the database: in UTC.
    now = now.astimezone(UTC)
    head = db.execute(select(AuditHead).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(singleton=1, last_id=0, last_hash=GENESIS)
        db.add(head)
        db.flush()
    event = AuditEvent(
        id=head.last_id + 1,
        at=now,
        actor_user_id=actor_user_id,
        patient_id=patient_id,
        action=action,
        resource=resource,
        detail=detail,
        source_ip=source_ip,
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = entry_hash(head.last_hash, event.chain_fields())
    db.add(event)
    head.last_id = event.id
    head.last_hash = event.hash
    db.flush()
    return event


def verify(db: Session) -> list[ChainProblem]:
    """Recompute the whole chain; an empty list means no row was edited, removed or reordered."""
    rows = db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    problems = verify_chain((e.id, e.chain_fields(), e.prev_hash, e.hash) for e in rows)
    head = db.execute(select(AuditHead)).scalar_one_or_none()
    last = db.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
    if head is not None and (last is None or last.hash != head.last_hash):
        # Rows removed from the end leave the chain consistent but shorter than the head remembers.
        problems.append(ChainProblem(index=-1, entry_id=head.last_id, reason="newest entries are missing"))
    return problems


@dataclass(frozen=True)
class AccessLogEntry:
    at: datetime
    who: str
    role: str
    action: str
    resource: str


def access_log(db: Session, *, patient_id: int, limit: int = 200) -> list[AccessLogEntry]:
    """Who read or changed this person's record, newest first (for the person themselves)."""
    rows = db.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        AccessLogEntry(
            at=e.at,
            who=u.display_name if u else "system",
            role=u.role if u else "system",
            action=e.action,
            resource=e.resource,
        )
        for e, u in rows
    ]


def record_list_view(
    db: Session,
    *,
    now: datetime,
    actor_user_id: int,
    resource: str,
    patient_ids: list[int],
    source_ip: str | None = None,
) -> AuditEvent:
    """One audit event for one clinic-wide page view, naming every person it showed.

    The event's ``detail`` holds how many people were shown and a SHA-256 over their ids (so the hash chain
    covers the list); ``audit_event_patients`` holds one row per person, inserted in one statement. One
    lock and one event per page view, however many people are on it.
    """
    import hashlib
    from typing import cast

    from sqlalchemy import Table, insert

    from alscare.storage.models.clinic_dashboard import AuditEventPatient

    ids = sorted(set(patient_ids))
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    event = record_event(
        db,
        now=now,
        actor_user_id=actor_user_id,
        patient_id=None,
        action="read",
        resource=resource,
        detail=f"people={len(ids)} sha256={digest}",
        source_ip=source_ip,
    )
    if ids:
        db.execute(
            insert(cast(Table, AuditEventPatient.__table__)),
            [{"audit_event_id": event.id, "patient_id": i} for i in ids],
        )
    return event

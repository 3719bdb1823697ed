"""The audit trail: append-only and hash-chained (see ``AuditEvent``).

Appending takes no lock (issue 11, item 2): ``record_event`` inserts the row with its fields only, and any
number of requests append side by side. ``seal_pending`` then links the rows into the hash chain in the
order they became visible: under a lock on the one ``audit_head`` row it gives each unsealed row the next
``seq``, the previous entry's hash and its own. The worker seals every cycle; ``verify`` and the checkpoint
seal first, so what they check and anchor is the whole trail. The database triggers refuse every DELETE and
every UPDATE except that one sealing step on an unsealed row, which cannot change a field the hash covers.

Until a row is sealed (seconds, while the worker runs) it is protected by the triggers only, not yet by
the chain; an unsealed row with edited fields would be sealed as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from alscare.security.hashchain import GENESIS, ChainProblem, entry_hash, verify_chain
from alscare.storage.db import claim_write
from alscare.storage.models import AuditEvent, AuditHead, User

SEAL_BATCH = 5000


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
    flush: bool = True,
) -> AuditEvent:
    """Append one event inside the caller's transaction; it is sealed into the chain later.

    ``flush=False`` leaves the row to the session's next flush, for a caller that reads on before it writes
    (on SQLite the first write takes the write lock, held until commit).
    """
    # Hash the time exactly as it will read back from the database: in UTC.
    event = AuditEvent(
        at=now.astimezone(UTC),
        actor_user_id=actor_user_id,
        patient_id=patient_id,
        action=action,
        resource=resource,
        detail=detail,
        source_ip=source_ip,
    )
    db.add(event)
    if flush:
        db.flush()
    return event


def seal_pending(db: Session, *, batch: int = SEAL_BATCH) -> int:
    """Seal every row appended so far into the chain, oldest first, in the caller's transaction; how many.

    Rows are taken in id order among those visible now; a row whose transaction commits later (a lower id
    on PostgreSQL, numbered before a faster one committed) is sealed in a later round, further along.
    """
    claim_write(db)
    head = db.execute(select(AuditHead).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(singleton=1, last_id=0, last_hash=GENESIS)
        db.add(head)
        db.flush()
    sealed = 0
    while True:
        pending = (
            db.execute(select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(batch))
            .scalars()
            .all()
        )
        for event in pending:
            event.seq = head.last_id + 1
            event.prev_hash = head.last_hash
            event.hash = entry_hash(head.last_hash, event.chain_fields())
            head.last_id, head.last_hash = event.seq, event.hash
        db.flush()
        sealed += len(pending)
        if len(pending) < batch:
            return sealed


def unsealed_count(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))).scalar_one())


def verify(db: Session) -> list[ChainProblem]:
    """Seal what is pending, then recompute the whole chain; an empty list means no row was edited, removed or
    reordered. (The seal is kept only if the caller commits; the check holds either way.)"""
    seal_pending(db)
    rows = db.execute(select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)).scalars()
    problems = verify_chain((e.id, e.chain_fields(), e.prev_hash or "", e.hash or "") for e in rows)
    head = db.execute(select(AuditHead)).scalar_one_or_none()
    last = db.execute(
        select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one_or_none()
    if head is not None and head.last_id > 0 and (last is None or last.hash != head.last_hash):
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
    user_id: int | None = None  # who, as an id: the page says "You" for the viewer


def _lists_naming(patient_id: int) -> Any:
    """Clinic-wide list views that showed this person (``record_list_view``): one indexed subquery."""
    from alscare.storage.models.clinic_dashboard import AuditEventPatient

    return select(AuditEventPatient.audit_event_id).where(AuditEventPatient.patient_id == patient_id)


def access_log(db: Session, *, patient_id: int, limit: int = 200) -> list[AccessLogEntry]:
    """Who read or changed this person's record, newest first (for the person themselves), including the
    clinic-wide lists that showed them (one audit event per list view, naming everyone on it)."""
    rows = db.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(or_(AuditEvent.patient_id == patient_id, AuditEvent.id.in_(_lists_naming(patient_id))))
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
            user_id=u.id if u else None,
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
    event per page view, however many people are on it, and no lock.
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

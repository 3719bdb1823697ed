"""Service health (issue 11, item 5): the worker's heartbeat and what ``/healthz`` checks.

Each check answers ok or not with a short, data-free reason, so an operator (or a load balancer) sees what
is wrong without reading logs: the database takes a write, the data folder has room, the worker finished a
cycle recently, and no notification has waited long past its due time.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alscare.storage.models import Notification
from alscare.storage.models.health import ServiceHeartbeat

WORKER: str = "worker"


def beat(sessions: sessionmaker[Session], *, name: str = WORKER, detail: str | None = None, now: datetime) -> None:
    """Record that a process of kind ``name`` is alive (one short transaction)."""
    with sessions() as db:
        row = db.get(ServiceHeartbeat, name)
        if row is None:
            db.add(ServiceHeartbeat(name=name, at=now, detail=detail))
        else:
            row.at, row.detail = now, detail
        try:
            db.commit()
        except IntegrityError:  # another process created the row at the same moment: its beat counts
            db.rollback()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def free_disk_bytes(path: Path) -> int:
    """Free space where ``path`` lives (its nearest existing parent); replaced in tests to fake a full disk."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def database_writable(engine: Engine) -> Check:
    """Take the write lock and write a row, then roll back: a read-only or unreachable database fails.

    (A heartbeat row of that name never exists, so the probe cannot collide with anything.)"""
    try:
        with engine.connect() as conn, conn.begin() as txn:
            conn.execute(insert(ServiceHeartbeat).values(name="healthz-probe", detail="rolled back"))
            txn.rollback()
    except Exception as e:
        return Check("database", False, f"not writable ({type(e).__name__})")
    return Check("database", True, "writable")


def disk(path: Path, *, minimum_mb: int) -> Check:
    free_mb = free_disk_bytes(path) // (1024 * 1024)
    return Check("disk", free_mb >= minimum_mb, f"{free_mb} MB free (minimum {minimum_mb} MB)")


def worker_heartbeat(db: Session, *, now: datetime, stale_after: timedelta) -> Check:
    at = db.execute(select(ServiceHeartbeat.at).where(ServiceHeartbeat.name == WORKER)).scalar_one_or_none()
    if at is None:
        return Check("worker", False, "no heartbeat yet")
    age = (now - at).total_seconds()
    return Check("worker", age <= stale_after.total_seconds(), f"last heartbeat {age:.0f} s ago")


def backlog(db: Session, *, now: datetime, limit: timedelta) -> Check:
    """How long the most overdue notification has waited past its due time, and how many are due."""
    due = (Notification.status == "pending") & (Notification.next_attempt_at <= now)
    oldest, count = db.execute(select(func.min(Notification.next_attempt_at), func.count()).where(due)).one()
    if oldest is None:
        return Check("backlog", True, "nothing waiting")
    age = (now - oldest).total_seconds()
    return Check("backlog", age <= limit.total_seconds(), f"{count} due, the oldest {age:.0f} s overdue")

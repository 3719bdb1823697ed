"""Migration 0018 on a database with data, on SQLite and PostgreSQL: every person gets a schedule row per kind,
looked at from the upgrade on; a claim taken before the upgrade still expires when it did."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from alscare.delivery.worker import claim_next
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker

THEN = datetime(2026, 3, 2, 10, 0)  # naive: written with plain SQL, as stored (UTC)


@pytest.fixture
def blank_engine(backend: str, database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (a new SQLite file, or a PostgreSQL database made and dropped here)."""
    if backend == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")
        yield eng
        eng.dispose()
        return
    name = f"alscare_m0018_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(database_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migration_0018_adds_schedule_rows_and_keeps_old_claims_expiring(blank_engine: Engine) -> None:
    migrate.upgrade(blank_engine, "0017")
    with blank_engine.begin() as conn:
        for pid in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO patients (id, full_name, emergency_number, created_at) VALUES (:id, 'P', '999', :at)"
                ),
                {"id": pid, "at": THEN},
            )
        conn.execute(
            text("INSERT INTO check_in_schedules (patient_id, kind, interval_days) VALUES (1, 'alsfrs_r', 14)")
        )
        conn.execute(
            text(
                "INSERT INTO notifications (id, dedupe_key, kind, channel, target, subject, body, status, attempts, "
                "next_attempt_at, claimed_by, claimed_until, created_at) VALUES (7, 'k', 'message', 'email', "
                "'a@example.org', 's', 'b', 'sending', 1, :then, 'w-old', :until, :then)"
            ),
            {"then": THEN, "until": THEN + timedelta(minutes=2)},
        )
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    migrate.upgrade(blank_engine)
    assert migrate.pending_model_changes(blank_engine) == []
    with blank_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT patient_id, kind, interval_days, remind_at FROM check_in_schedules ORDER BY patient_id, kind")
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (1, "alsfrs_r", 14),  # kept as chosen
        (1, "symptom_check_in", 7),
        (2, "alsfrs_r", 28),
        (2, "symptom_check_in", 7),
    ]
    for row in rows:
        remind_at = row[3] if isinstance(row[3], datetime) else datetime.fromisoformat(row[3])
        assert remind_at >= before  # everyone is looked at from the upgrade on

    aware = THEN.replace(tzinfo=UTC)
    sessions = make_sessionmaker(blank_engine)
    with sessions() as db:
        assert claim_next(db, worker_id="new", now=aware + timedelta(minutes=1)) is None  # the old claim holds
    with sessions() as db:
        taken = claim_next(db, worker_id="new", now=aware + timedelta(minutes=2))
        assert taken is not None and (taken.id, taken.claimed_by, taken.attempts) == (7, "new", 2)

"""Migration 0018 on a database with data, on SQLite and PostgreSQL: every person gets a schedule row per kind,
looked at from the upgrade on; a claim taken before the upgrade still expires when it did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from alscare.delivery.worker import claim_next
from alscare.storage import migrate
from alscare.storage.db import make_sessionmaker

THEN = datetime(2026, 3, 2, 10, 0)  # naive: written with plain SQL, as stored (UTC)


def test_migration_0018_adds_schedule_rows_and_keeps_old_claims_expiring(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0017")
    with fresh_engine.begin() as conn:
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
    migrate.upgrade(fresh_engine)
    assert migrate.pending_model_changes(fresh_engine) == []
    with fresh_engine.connect() as conn:
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
    sessions = make_sessionmaker(fresh_engine)
    with sessions() as db:
        assert claim_next(db, worker_id="new", now=aware + timedelta(minutes=1)) is None  # the old claim holds
    with sessions() as db:
        taken = claim_next(db, worker_id="new", now=aware + timedelta(minutes=2))
        assert taken is not None and (taken.id, taken.claimed_by, taken.attempts) == (7, "new", 2)

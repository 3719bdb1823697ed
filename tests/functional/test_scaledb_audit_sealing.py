"""Issue 11, item 2: audit rows are appended without a lock and sealed into the hash chain afterwards.

Tampering with a sealed row is still caught; concurrent appends do not wait for each other; the worker seals
what is waiting; rows that commit out of id order are sealed in the order they became visible.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from alscare.actions.audit import record_event, seal_pending, unsealed_count, verify
from alscare.delivery.worker import run_periodic
from alscare.settings import Settings
from alscare.storage.db import make_sessionmaker
from alscare.storage.models import AuditEvent

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _append(db: Session, n: int = 1, resource: str = "profile") -> list[int]:
    ids = [
        record_event(db, now=NOW, actor_user_id=1, patient_id=7, action="read", resource=resource).id for _ in range(n)
    ]
    return ids


def test_appending_leaves_rows_unsealed_and_sealing_chains_them(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        _append(db, 3)
        db.commit()
        rows = db.query(AuditEvent).order_by(AuditEvent.id).all()
        assert [(r.seq, r.hash) for r in rows] == [(None, None)] * 3
        assert seal_pending(db) == 3
        db.commit()
        assert [r.seq for r in db.query(AuditEvent).order_by(AuditEvent.id)] == [1, 2, 3]
        assert unsealed_count(db) == 0
        assert verify(db) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'edited'",
        "UPDATE audit_events SET seq = 99, prev_hash = :h, hash = :h, detail = 'edited'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_anything_but_the_seal_on_unsealed_rows_too(engine: Engine, statement: str) -> None:
    with make_sessionmaker(engine)() as db:
        _append(db)
        db.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement), {"h": "a" * 64})


def test_a_sealed_row_cannot_be_sealed_again(engine: Engine) -> None:
    with make_sessionmaker(engine)() as db:
        _append(db)
        seal_pending(db)
        db.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET seq = 5, prev_hash = :h, hash = :h"), {"h": "b" * 64})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE audit_events SET detail = 'nothing to see' WHERE id = 2",
        "UPDATE audit_events SET patient_id = 8 WHERE id = 3",
        "DELETE FROM audit_events WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 4",
        "UPDATE audit_events SET seq = 9 WHERE id = 1",
    ],
)
def test_tampering_with_a_sealed_row_is_detected(engine: Engine, tampering: str) -> None:
    with make_sessionmaker(engine)() as db:
        _append(db, 4)
        seal_pending(db)
        db.commit()
        assert verify(db) == []
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        assert conn.execute(text(tampering)).rowcount == 1
    with make_sessionmaker(engine)() as db:
        _append(db)  # later rows are sealed onto the chain as usual; the break stays visible
        assert verify(db) != []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_concurrent_appends_do_not_wait_for_each_other(engine: Engine) -> None:
    """The old writer locked one head row per event: a second writer waited for the first to commit."""
    sessions = make_sessionmaker(engine)
    with sessions() as first:
        first_id = _append(first)[0]  # open, not committed
        done = threading.Event()

        def second() -> None:
            with sessions() as db:
                _append(db)
                db.commit()
            done.set()

        t = threading.Thread(target=second)
        t.start()
        assert done.wait(5), "the second append waited for the first transaction"
        t.join()
        # The committed one is sealed now; the one still open is sealed once it is visible, after it.
        with sessions() as sealer:
            assert seal_pending(sealer) == 1
            sealer.commit()
        first.commit()
    with sessions() as db:
        assert seal_pending(db) == 1
        db.commit()
        late = db.get(AuditEvent, first_id)
        assert late is not None and late.seq == 2
        assert verify(db) == []


def test_the_worker_seals_what_is_waiting(engine: Engine, settings: Settings) -> None:
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        _append(db, 5)
        db.commit()
        assert unsealed_count(db) == 5
    run_periodic(sessions, settings=settings, now=NOW)
    with sessions() as db:
        assert unsealed_count(db) == 0
        assert verify(db) == []

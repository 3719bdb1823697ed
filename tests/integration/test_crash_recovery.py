"""A server killed mid-load loses no acknowledged check-in, and a retry stores none twice (decision 0001).

Under a stream of check-ins from a few client threads, the real ``alscare serve`` is SIGKILLed. Requests in
flight fail; the clients count those as unacknowledged. The server is started again on the same database,
the clients sign in again and retry every unacknowledged check-in with its own ``client_id`` (as the form
would on resubmit), then send a few more. Reading the database directly: every check-in that got a 2xx is
there exactly once, the retried ones too, nothing else was stored, each check-in above routine has exactly
one alert, and the audit trail's hash chain is intact. Runs on SQLite and on a fresh PostgreSQL database.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_client import Ledger, ServerProcess, free_port, join_all, sign_in, stream
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from alscare.actions.audit import verify
from alscare.storage.db import make_engine
from alscare.storage.models import Alert, CheckIn

# As in tests/conftest.py: the PostgreSQL server to create a throwaway database on.
POSTGRES_ADMIN_URL = os.environ.get("ALSCARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PERSON = "mei@demo.alscare.example"  # a demo person with ALS, enrolled at the demo clinic, sharing everything
THREADS = 3
LOAD_SECONDS = 1.5  # load before the kill
MIN_ACKED_BEFORE_KILL = 10
AFTER_SECONDS = 0.5  # the short stream after the restart
MAX_EACH = 2000  # per client thread: bounds every loop by count as well as by time
BUDGET_SECONDS = 60.0


@pytest.fixture
def crash_database(backend: str, tmp_path: Path) -> Iterator[str | None]:
    """``None`` for SQLite (the server's default file in its data folder), or a fresh PostgreSQL database URL."""
    if backend == "sqlite":
        yield None
        return
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "not reachable"
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} not reachable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if os.environ.get("ALSCARE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"ALSCARE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"alscare_crash_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
def test_killed_server_loses_no_acknowledged_check_in(crash_database: str | None, tmp_path: Path) -> None:
    started = time.monotonic()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = ServerProcess(data_dir=data_dir, database_url=crash_database, port=free_port(), log=tmp_path / "log")
    before, after = Ledger(), Ledger()
    retried: dict[str, int] = {}  # client_id -> status of the retry (200: stored before the crash; 201: not)
    try:
        # --- Load, then SIGKILL mid-stream -------------------------------------------------------------------
        server.start()
        session = sign_in(server.base_url, PERSON)
        stop = threading.Event()
        workers = stream(session, before, threads=THREADS, seconds=LOAD_SECONDS + 5, max_each=MAX_EACH, stop=stop)
        load_until = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < load_until or len(before.acknowledged) < MIN_ACKED_BEFORE_KILL:
            assert time.monotonic() < load_until + 5, f"only {len(before.acknowledged)} check-ins acknowledged"
            time.sleep(0.05)
        killed_at = time.monotonic()
        server.kill(wait=False)
        stop.set()  # no new requests; those in flight fail as the kernel closes the dead server's sockets
        server.kill()  # reaps it
        join_all(workers, timeout=2 * 5.0 + 2)
        assert not before.refused, f"non-2xx answers before the kill: {before.refused}"
        in_flight = {c for c in before.unacknowledged if before.sent_at[c] < killed_at}
        assert in_flight, "the kill hit no request in flight; the test proved nothing"

        # --- Restart on the same database, retry what was not acknowledged, send a few more ------------------
        server.start()
        session = sign_in(server.base_url, PERSON)
        with session.client() as http:
            for client_id in sorted(before.unacknowledged):
                after.submit(http, session.patient_id, client_id, before.payloads[client_id])
                retried[client_id] = after.acknowledged.get(client_id, 0)
        workers = stream(session, after, threads=2, seconds=AFTER_SECONDS, max_each=MAX_EACH, stop=threading.Event())
        join_all(workers, timeout=AFTER_SECONDS + 5.0 + 2)
        assert not after.refused and not after.unacknowledged, (after.refused, after.unacknowledged)
        server.stop()
    finally:
        server.kill()

    # --- What the database holds -------------------------------------------------------------------------
    acknowledged = set(before.acknowledged) | set(after.acknowledged)
    stored_before_crash = sorted(c for c, status in retried.items() if status == 200)
    not_stored = sorted(c for c, status in retried.items() if status == 201)
    summary = (
        f"[{'postgresql' if crash_database else 'sqlite'}] acknowledged before the kill: {len(before.acknowledged)}; "
        f"unacknowledged: {len(before.unacknowledged)} ({len(in_flight)} in flight at the kill, "
        f"{len(before.unacknowledged) - len(in_flight)} sent to the dead server); retried: {len(retried)} "
        f"({len(stored_before_crash)} had been stored before the crash -> 200, {len(not_stored)} had not -> 201); "
        f"new after restart: {len(after.acknowledged) - len(retried)}; total acknowledged: {len(acknowledged)}"
    )
    print(summary)
    assert all(status == 201 for status in before.acknowledged.values()), summary
    assert set(retried.values()) <= {200, 201}, (retried, summary)

    engine = make_engine(crash_database or f"sqlite:///{data_dir / 'alscare.db'}")
    try:
        with Session(engine) as db:
            rows = db.execute(
                select(CheckIn.id, CheckIn.client_id, CheckIn.tier).where(CheckIn.patient_id == session.patient_id)
            ).all()
            counts = Counter(r.client_id for r in rows)
            alerts = Counter(
                db.execute(
                    select(Alert.source_id).where(Alert.source == "check_in", Alert.patient_id == session.patient_id)
                )
                .scalars()
                .all()
            )
            problems = verify(db)
    finally:
        engine.dispose()

    twice = {c: n for c, n in counts.items() if n != 1}
    assert not twice, f"check-ins stored more than once: {twice}; {summary}"
    missing = acknowledged - set(counts)
    assert not missing, f"{len(missing)} acknowledged check-ins are missing: {sorted(missing)[:5]}; {summary}"
    unexpected = set(counts) - acknowledged
    assert not unexpected, f"stored but never acknowledged: {sorted(unexpected)[:5]}; {summary}"
    assert len(rows) == len(acknowledged), summary
    above_routine = {str(r.id) for r in rows if r.tier != "routine"}
    assert above_routine, summary
    assert set(alerts) == above_routine and set(alerts.values()) == {1}, f"not one alert per check-in; {summary}"
    assert problems == [], f"audit chain broken after the crash: {problems}; {summary}"
    assert time.monotonic() - started < BUDGET_SECONDS, summary

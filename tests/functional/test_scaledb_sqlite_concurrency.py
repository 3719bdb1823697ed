"""Issue 11, item 1: SQLite that never stalls.

Reads never take the write lock (a read transaction and a writer run side by side), a read transaction that
writes upgrades without ``SQLITE_BUSY`` even when someone wrote in between, and 40 concurrent check-ins over
a real server on loopback all succeed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from loopback import free_port
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from world import OWN, build_world

from alscare.mail import OutboxMailer
from alscare.security.tokens import csrf_token, new_token, token_digest
from alscare.settings import Settings
from alscare.storage.db import claim_write, make_engine, make_read_sessionmaker, make_sessionmaker
from alscare.storage.models import CheckIn, Clinic, WebSession
from alscare.web.app import create_app


@pytest.fixture
def sqlite_engine(tmp_path: Path, _sqlite_template: Path) -> Iterator[Engine]:
    target = tmp_path / "alscare.db"
    target.write_bytes(_sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{target}", pool_size=20)
    yield engine
    engine.dispose()


def _add_clinic(db: Session, name: str) -> None:
    from alscare.web.context import utc_now

    db.add(Clinic(name=name, phone="+44 20 7946 0000", hours="any", created_at=utc_now()))


def _in_thread(fn: object, timeout: float = 5.0) -> None:
    """Run ``fn`` in a thread; fail if it has not finished within ``timeout`` (it was blocked)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as e:  # handed back to the test below
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "blocked: it did not finish in time"
    if errors:
        raise errors[0]


def test_an_open_read_transaction_and_a_writer_do_not_block_each_other(sqlite_engine: Engine) -> None:
    reads, writes = make_read_sessionmaker(sqlite_engine), make_sessionmaker(sqlite_engine)
    with reads() as reader:
        before = reader.execute(select(func.count()).select_from(Clinic)).scalar_one()

        # A writer commits while the read transaction stays open ...
        def write() -> None:
            with writes() as w:
                _add_clinic(w, "Written while a read was open")
                w.commit()

        _in_thread(write)
        # ... and a writer holding the lock uncommitted does not stop the reader either.
        with writes() as holder:
            _add_clinic(holder, "Held")
            holder.flush()
            _in_thread(lambda: reader.execute(select(func.count()).select_from(Clinic)).scalar_one())
            holder.rollback()
        # The reader saw one consistent snapshot throughout.
        assert reader.execute(select(func.count()).select_from(Clinic)).scalar_one() == before
        reader.commit()
    with reads() as fresh:
        assert fresh.execute(select(func.count()).select_from(Clinic)).scalar_one() == before + 1


def test_a_read_transaction_that_writes_after_someone_else_wrote_does_not_fail(sqlite_engine: Engine) -> None:
    """In place, this upgrade fails at once with SQLITE_BUSY_SNAPSHOT; ours restarts as a writer."""
    reads, writes = make_read_sessionmaker(sqlite_engine), make_sessionmaker(sqlite_engine)
    with reads() as reader:
        reader.execute(select(func.count()).select_from(Clinic)).scalar_one()
        with writes() as w:
            _add_clinic(w, "In between")
            w.commit()
        _add_clinic(reader, "After the upgrade")
        reader.commit()
    with reads() as fresh:
        names = set(fresh.execute(select(Clinic.name)).scalars())
    assert {"In between", "After the upgrade"} <= names


def test_claim_write_makes_later_reads_current_and_takes_the_lock(sqlite_engine: Engine) -> None:
    reads, writes = make_read_sessionmaker(sqlite_engine), make_sessionmaker(sqlite_engine)
    with reads() as reader:
        reader.execute(select(func.count()).select_from(Clinic)).scalar_one()
        with writes() as w:
            _add_clinic(w, "Committed before the claim")
            w.commit()
        claim_write(reader)
        assert "Committed before the claim" in set(reader.execute(select(Clinic.name)).scalars())
        # It now holds the write lock: another writer cannot start until it ends.
        probe = sqlite_engine.raw_connection()
        try:
            probe.execute("PRAGMA busy_timeout=50")
            with pytest.raises(Exception, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()
        reader.rollback()


def _serve(settings: Settings, engine: Engine, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(settings, engine=engine, mailer=OutboxMailer(settings.outbox_dir))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return server, thread


def test_forty_concurrent_check_ins_over_a_real_server_all_succeed(engine: Engine, settings: Settings) -> None:
    """On SQLite and PostgreSQL alike (the same code path): every check-in is stored, none fails."""
    sqlite_engine = engine
    port = free_port()
    settings = replace(
        settings,
        base_url=f"http://127.0.0.1:{port}",
        cookie_secure=False,
        db_pool_size=8,
        worker_stale_seconds=0,
    )
    with make_sessionmaker(sqlite_engine)() as db:
        world = build_world(db)
    clients = 40
    tokens = [new_token() for _ in range(clients)]
    with make_sessionmaker(sqlite_engine)() as db:
        from alscare.web.context import utc_now

        for t in tokens:
            db.add(
                WebSession(
                    token_digest=token_digest(t),
                    user_id=world.users[OWN],
                    created_at=utc_now(),
                    expires_at=utc_now() + timedelta(hours=1),
                )
            )
        db.commit()
        before = db.execute(select(func.count()).select_from(CheckIn)).scalar_one()
    server, thread = _serve(settings, sqlite_engine, port)
    results: list[int | str] = []
    start = threading.Barrier(clients)

    def one(token: str) -> None:
        with httpx.Client(base_url=settings.base_url, cookies={"alscare_session": token}, timeout=60) as c:
            start.wait()
            # A page read and a check-in each: reads and writes interleave as they do in a clinic.
            page = c.get(f"/patients/{world.patient_p_id}/check-in")
            form = {
                "csrf_token": csrf_token(settings.secret_key, token),
                "client_id": str(uuid.uuid4()),
                "cramps": "true",
            }
            try:
                r = c.post(f"/patients/{world.patient_p_id}/check-in", data=form)
                results.append(r.status_code if page.status_code == 200 else f"page {page.status_code}")
            except httpx.HTTPError as e:
                results.append(type(e).__name__)

    threads = [threading.Thread(target=one, args=(t,)) for t in tokens]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    finally:
        server.should_exit = True
        thread.join(15)
    assert results == [303] * clients
    with make_sessionmaker(sqlite_engine)() as db:
        assert db.execute(select(func.count()).select_from(CheckIn)).scalar_one() == before + clients

"""Two workers, one queue: every notification is sent exactly once (decision 0001, healthchecks' claim).

Each worker runs in its own thread with its own sessions, on SQLite and on PostgreSQL. The transport only
records what it was asked to send, with a short pause so that the workers genuinely overlap.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from alscare.delivery.outbox import enqueue_email
from alscare.delivery.transports import Envelope
from alscare.delivery.worker import Transports, claim_next, deliver_due
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Notification

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
N = 40


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def send(self, envelope: Envelope, *, now: datetime) -> None:
        time.sleep(0.002)  # long enough for the other worker to try to claim meanwhile
        with self._lock:
            self.sent.append((threading.current_thread().name, envelope.notification_id))


def _enqueue(engine: Engine, n: int) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        for i in range(n):
            enqueue_email(
                db, kind="message", to=f"c{i}@example.org", subject="s", body="b", dedupe_key=f"race:{i}", now=NOW
            )


def test_two_workers_send_each_notification_exactly_once(engine: Engine) -> None:
    _enqueue(engine, N)
    transport = RecordingTransport()
    transports = Transports(email=transport, webhook=transport)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(worker_id: str) -> None:
        try:
            sessions = make_sessionmaker(engine)  # separate sessions (and connections) per worker
            start.wait()
            deliver_due(sessions, worker_id=worker_id, transports=transports, clock=lambda: NOW)
        except BaseException as e:  # surfaced in the main thread below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(f"w{i}",), name=f"w{i}") for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    per_id = Counter(nid for _, nid in transport.sent)
    assert len(per_id) == N
    assert set(per_id.values()) == {1}, {k: v for k, v in per_id.items() if v != 1}
    with make_sessionmaker(engine)() as db:
        rows = list(db.execute(select(Notification)).scalars())
    assert len(rows) == N
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}


def test_many_workers_racing_for_one_notification_one_wins(engine: Engine) -> None:
    _enqueue(engine, 1)
    contenders = 6
    start = threading.Barrier(contenders)
    won: list[str] = []
    errors: list[BaseException] = []

    def claim(worker_id: str) -> None:
        try:
            with make_sessionmaker(engine)() as db:
                start.wait()
                if claim_next(db, worker_id=worker_id, now=NOW) is not None:
                    won.append(worker_id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(won) == 1
    with make_sessionmaker(engine)() as db:
        row = db.execute(select(Notification)).scalar_one()
    assert (row.status, row.claimed_by, row.attempts) == ("sending", won[0], 1)

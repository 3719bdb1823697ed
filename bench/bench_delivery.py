"""Delivery throughput: notifications delivered per second to a local SMTP sink, with 1 and 2 workers.

Run: .venv/bin/python bench/bench_delivery.py [-n 400] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]
     .venv/bin/python bench/bench_delivery.py --claims 400000 [--postgres ...]

``--claims N`` times one claim (``claim_next``: pick and conditional UPDATE, committed) against a table of N
delivered notifications and a backlog of ``--backlog`` due ones (default 20,000): what the worker pays per
notification on a clinic whose table has grown (issue 11: 65-75 ms at 420,000 rows on SQLite before the
queue index).

The sink is aiosmtpd's ``Sink`` handler in a separate process on 127.0.0.1 (so it does not compete with the
workers for the GIL). Each worker is a thread with its own sessions, claiming with the conditional UPDATE
and opening one SMTP connection per email, as in production. SQLite runs on a temporary file; with
``--postgres ADMIN_URL`` a scratch database is created there too and dropped afterwards. Prints figures; no
pass/fail. Target: far above any clinic's alert rate (a busy clinic raises tens of alerts a day).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, bindparam, create_engine, delete, func, select, text

from alscare.delivery.outbox import enqueue_email
from alscare.delivery.transports import EmailTransport, WebhookTransport
from alscare.delivery.worker import Transports, claim_next, claim_query, deliver_due
from alscare.settings import SmtpSettings
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker, transaction
from alscare.storage.models import Notification, UTCDateTime

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        yield engine
        engine.dispose()


@contextmanager
def postgres_engine(admin_url: str) -> Iterator[Engine]:
    name = f"alscare_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(engine: Engine, *, smtp_port: int, n: int, workers: int) -> float:
    """Queue ``n`` emails, deliver them with ``workers`` threads; returns notifications per second."""
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as db:
        db.execute(delete(Notification))
        for i in range(n):
            enqueue_email(
                db,
                kind="message",
                to=f"clinician{i}@example.org",
                subject="A new message in alscare",
                body="You have a new message in alscare. Sign in to read it.",
                dedupe_key=f"bench:{workers}:{i}",
                now=NOW,
            )
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_port, starttls=False, sender="alscare@bench.example")

    def work(i: int) -> None:
        transports = Transports(email=EmailTransport(smtp, Path("unused")), webhook=WebhookTransport())
        deliver_due(make_sessionmaker(engine), worker_id=f"bench-{i}", transports=transports, clock=lambda: NOW)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    with sessions() as db:
        sent = db.execute(select(func.count()).select_from(Notification).where(Notification.status == "sent"))
        count = sent.scalar_one()
    if count != n:
        raise RuntimeError(f"only {count} of {n} notifications were sent")
    return n / elapsed


def claim_ms(engine: Engine, *, rows: int, backlog: int, samples: int = 200) -> float:
    """Median milliseconds of one claim with ``rows`` delivered notifications and ``backlog`` due ones."""
    sessions = make_sessionmaker(engine)
    base = {
        "kind": "message",
        "channel": "email",
        "target": "clinician@example.org",
        "subject": "A new message in alscare",
        "body": "You have a new message in alscare. Sign in to read it.",
        "attempts": 1,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }
    with engine.begin() as conn:
        conn.execute(delete(Notification))
        for start in range(0, rows, 20_000):
            chunk = range(start, min(rows, start + 20_000))
            conn.execute(
                Notification.__table__.insert(),
                [{**base, "dedupe_key": f"old:{i}", "status": "sent", "sent_at": NOW} for i in chunk],
            )
        conn.execute(
            Notification.__table__.insert(),
            [{**base, "dedupe_key": f"due:{i}", "status": "pending", "attempts": 0} for i in range(backlog)],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE notifications"))
            conn.commit()
    times = []
    with sessions() as db:
        for _ in range(samples):
            start = time.perf_counter()
            claimed = claim_next(db, worker_id="bench", now=NOW)
            times.append(time.perf_counter() - start)
            if claimed is None:
                raise RuntimeError("nothing to claim")
    return _median_ms(times)


# The pick before issue 11's queue index, kept here to time it against the current one in the same run.
_OLD_PICK = (
    "SELECT notifications.id FROM notifications WHERE "
    "(notifications.status = 'pending' AND notifications.next_attempt_at <= :now) OR "
    "(notifications.status = 'sending' AND notifications.claimed_until < :now) "
    "ORDER BY notifications.next_attempt_at, notifications.id LIMIT 1"
)


def pick_ms(engine: Engine, *, analyzed: bool, samples: int = 50) -> tuple[float, float]:
    """Median ms of the candidate pick alone, (before issue 11, now), on the table ``claim_ms`` left."""
    if analyzed:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    now = claim_query(engine.dialect.name, NOW)
    lock = " FOR UPDATE SKIP LOCKED" if engine.dialect.name == "postgresql" else ""  # as then
    old = text(_OLD_PICK + lock).bindparams(bindparam("now", NOW, type_=UTCDateTime()))
    out = []
    for statement in (old, now):
        times = []
        with engine.connect() as conn:
            for _ in range(samples):
                start = time.perf_counter()
                conn.execute(statement).all()
                times.append(time.perf_counter() - start)
            conn.rollback()
        out.append(_median_ms(times))
    return out[0], out[1]


def _median_ms(times: list[float]) -> float:
    times = sorted(times)
    return times[len(times) // 2] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=400, help="notifications per run (default 400)")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="also run on a scratch PostgreSQL database")
    parser.add_argument("--claims", type=int, metavar="ROWS", help="time one claim with ROWS delivered rows instead")
    parser.add_argument("--backlog", type=int, default=20_000, help="due notifications with --claims")
    args = parser.parse_args()
    backends: list[tuple[str, Callable[[], AbstractContextManager[Engine]]]] = [("SQLite", sqlite_engine)]
    if args.postgres:
        backends.append(("PostgreSQL", lambda: postgres_engine(args.postgres)))
    if args.claims:
        for label, make in backends:
            with make() as engine:
                ms = claim_ms(engine, rows=args.claims, backlog=max(args.backlog, 200))
                print(
                    f"{label:<11} one claim, {args.claims:,} delivered and {args.backlog:,} due rows: "
                    f"{ms:.2f} ms (median of 200, with its commit)"
                )
                for analyzed in (False, True):
                    before, after = pick_ms(engine, analyzed=analyzed)
                    print(
                        f"{label:<11}   the pick alone{' after ANALYZE' if analyzed else ''}: "
                        f"{before:.2f} ms with the former OR query, {after:.2f} ms with the queue index"
                    )
        return
    with smtp_sink() as port:
        for label, make in backends:
            with make() as engine:
                run(engine, smtp_port=port, n=20, workers=1)  # warm up: connections, imports
                for workers in (1, 2):
                    rate = run(engine, smtp_port=port, n=args.n, workers=workers)
                    print(
                        f"{label:<11} {workers} worker{'s' if workers > 1 else ' '}  "
                        f"{rate:>8,.0f} notifications per second to SMTP   (n={args.n:,})"
                    )


if __name__ == "__main__":
    main()

"""The reminder task at clinic scale: one cycle of ``send_due_reminders`` on a synthetic clinic.

Run: .venv/bin/python bench/bench_reminders.py [--people 10000] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]

Builds the synthetic clinic (``alscare.synthetic_clinic``: two years of check-ins and ALSFRS-R for each
person), then runs the reminder task the way the worker does, every cycle in its own transaction: first
until it has looked at every schedule once (what follows an upgrade or a bulk load), then a cycle in the
steady state, which is what the worker pays every 2 s. Prints milliseconds and SQL statements per cycle.
Issue 11 measured 0.9-2.3 s per cycle before, when every cycle read everyone.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from bench_delivery import postgres_engine, sqlite_engine  # the same throwaway databases
from sqlalchemy import Engine, bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import Session

from alscare.actions.schedules import send_due_reminders
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Patient, User
from alscare.synthetic_clinic import build_synthetic_clinic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BASE_URL = "https://alscare.example"


def cycle(engine: Engine, now: datetime) -> tuple[float, int, int]:
    """One reminder cycle in its own transaction: (ms, statements, reminders queued)."""
    statements = 0

    def count(*args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        start = time.perf_counter()
        with transaction(make_sessionmaker(engine)) as db:
            queued = send_due_reminders(db, now=now, base_url=BASE_URL)
        ms = (time.perf_counter() - start) * 1000
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return ms, statements, queued


def _own_accounts(db: Session, patient_ids: list[int]) -> None:
    """The synthetic clinic's people have no accounts of their own; reminders go only to people who do."""
    first = (db.execute(select(func.max(User.id))).scalar_one() or 0) + 1
    db.execute(
        insert(User),
        [
            {
                "id": first + i,
                "email": f"person{pid}@bench.alscare.example",
                "display_name": f"Person {pid}",
                "role": "patient",
                "password_hash": "!bench",
                "is_active": True,
                "created_at": NOW - timedelta(days=800),
            }
            for i, pid in enumerate(patient_ids)
        ],
    )
    db.connection().execute(
        update(Patient.__table__).where(Patient.__table__.c.id == bindparam("pid")).values(user_id=bindparam("uid")),
        [{"pid": pid, "uid": first + i} for i, pid in enumerate(patient_ids)],
    )
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))"))


def run(label: str, engine: Engine, people: int) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=people, now=NOW)
        _own_accounts(db, clinic.patient_ids)
    moment, cycles, total_ms, queued = NOW, 0, 0.0, 0
    while True:  # catch-up: every schedule is looked at once, REMINDER_BATCH a cycle
        ms, statements, n = cycle(engine, moment)
        cycles += 1
        total_ms += ms
        queued += n
        if statements <= 2:  # found nothing to look at (the finding query, and BEGIN on SQLite)
            break
        moment += timedelta(seconds=2)
        if cycles > 1000:
            raise RuntimeError("the reminder task does not settle")
    steady = sorted(cycle(engine, moment + timedelta(seconds=2 * i)) for i in range(20))
    ms, statements, _ = steady[len(steady) // 2]
    print(
        f"{label:<11} {people:,} people: catch-up {cycles} cycles, {total_ms / 1000:.1f} s, {queued:,} reminders; "
        f"steady cycle {ms:.2f} ms, {statements} statements (median of 20)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="also run on a scratch PostgreSQL database")
    args = parser.parse_args()
    with sqlite_engine() as engine:
        run("SQLite", engine, args.people)
    if args.postgres:
        with postgres_engine(args.postgres) as engine:
            run("PostgreSQL", engine, args.people)


if __name__ == "__main__":
    main()

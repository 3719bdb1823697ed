"""How long a 100,000-row ALSFRS-R CSV import takes: the check (the dry run) and the all-or-nothing commit.

Run: .venv/bin/python bench/csv_import.py [rows] [--postgres URL]  — prints figures; no pass/fail.
Builds a fresh SQLite database (or uses an empty PostgreSQL one) with 2,000 people, writes a CSV of ``rows``
assessments spread over them, and times ``check_assessments`` and ``commit_assessments`` + commit.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from alscare.actions import csv_import
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import Clinic, Patient, User

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PEOPLE = 2000


def _csv(rows: int, patient_ids: list[int], rng: random.Random) -> str:
    lines = [",".join(csv_import.ASSESSMENT_COLUMNS)]
    start = date(2020, 1, 1)
    modes = sorted(csv_import.MODES)
    for n in range(rows):
        pid = patient_ids[n % len(patient_ids)]
        day = start + timedelta(days=(n // len(patient_ids)) * 30 + rng.randint(0, 20))
        items = [str(rng.randint(0, 4)) for _ in range(13)]
        gastrostomy = rng.random() < 0.2
        items[4], items[5] = ("", items[5]) if gastrostomy else (items[4], "")
        lines.append(",".join([str(pid), day.isoformat(), rng.choice(modes), *items]))
    return "\n".join(lines) + "\n"


def main() -> None:
    args = sys.argv[1:]
    rows = int(args[0]) if args and args[0].isdigit() else 100_000
    url = args[args.index("--postgres") + 1] if "--postgres" in args else None
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(url or f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate.upgrade(engine)
        with make_sessionmaker(engine)() as db:
            clinic = Clinic(name="Bench clinic", phone="0", hours="", created_at=NOW)
            db.add(clinic)
            db.flush()
            staff = User(email="bench@bench.example", display_name="Bench", role="clinician", password_hash="!",
                         clinic_id=clinic.id, created_at=NOW)  # fmt: skip
            db.add(staff)
            db.execute(
                insert(Patient),
                [{"full_name": f"P{n}", "emergency_number": "112", "clinic_id": clinic.id, "created_at": NOW}
                 for n in range(PEOPLE)],
            )  # fmt: skip
            db.commit()
            ids = [p.id for p in db.query(Patient.id).all()]
            text = _csv(rows, ids, random.Random(13))
            t0 = time.perf_counter()
            checked = csv_import.check_assessments(db, text, now=NOW)
            t1 = time.perf_counter()
            assert checked.ok, checked.problems[:5]
            added = csv_import.commit_assessments(db, checked, by=staff, now=NOW)
            db.commit()
            t2 = time.perf_counter()
        engine.dispose()
    backend = "PostgreSQL" if url else "SQLite"
    print(f"CSV import, {rows:,} ALSFRS-R rows over {PEOPLE:,} people ({backend}):")
    print(f"  check (dry run)        {t1 - t0:8.2f} s   ({rows / (t1 - t0):,.0f} rows/s)")
    print(f"  commit (insert, audit, summaries) {t2 - t1:8.2f} s")
    print(f"  total                  {t2 - t0:8.2f} s   ({added:,} rows added)")


if __name__ == "__main__":
    main()

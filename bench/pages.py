"""Clinic-wide pages at clinic scale: server time, SQL statements and bytes per page, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/pages.py [--people N] [--database URL ...] [--json] [--repeat 20]

Builds (or reuses) a synthetic clinic of N people (default 10,000; about 15 ALSFRS-R and 50 check-ins each
over two years, with alerts in every state, overdue people and messages: ``alscare.synthetic_clinic``) with
bulk inserts through the models' tables, then requests each page through the app in process (Starlette's
TestClient, the full middleware stack) as a signed-in clinician and reports per database:

- ``ms``: median server time of ``--repeat`` requests (20); a page slower than 2 s on its first request is
  measured over 3 requests instead, and says so (``runs``);
- ``statements``: SQL statements the request sent (counted on the engine); ``bytes``: size of the answer.

Default databases: a SQLite file under ``data/bench/`` and a database of its own on the local PostgreSQL
(``alscare_bench_pages_<N>``). A database that already holds the synthetic clinic of that size is reused, so
the build time is paid once. ``--json`` prints one JSON array of {"page", "people", "ms", "statements",
"bytes"} (plus "database" and "runs"); the build is a row with page "(build)". Pages: the dashboard (and
its CSV), a timeline, the alerts inbox (open, and ``show=all``), overdue, messages, ``/home`` for a clinician
(a redirect to the dashboard), and the API's patient and alert lists. Targets (issue 11) at 10,000 people:
each page < 300 ms and < 100 KB (the CSV < 2 s), statements the same at 2,000 and 10,000. Prints figures;
no pass/fail.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, make_url, select, text

from alscare.security.tokens import csrf_token, new_token, token_digest
from alscare.settings import load_settings
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker, transaction
from alscare.storage.models import Clinic, Patient, User, WebSession
from alscare.synthetic_clinic import build_synthetic_clinic
from alscare.web.app import create_app
from alscare.web.middleware import SESSION_COOKIE

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SLOW_FIRST_SECONDS = 2.0
SLOW_REPEAT = 3


def _clinic_name(people: int) -> str:
    return f"Bench clinic ({people} people)"


def _ensure_postgres_database(people: int) -> str:
    name = f"alscare_bench_pages_{people}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)


def _build_or_reuse(engine: Engine, people: int) -> tuple[int, int, float]:
    """(clinician id, one patient id, build seconds — 0 when reused)."""
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        clinic = db.execute(select(Clinic).where(Clinic.name == _clinic_name(people))).scalar_one_or_none()
        if clinic is not None:
            clinician = db.execute(
                select(User.id).where(User.clinic_id == clinic.id, User.role == "clinician")
            ).scalar()
            patient = db.execute(select(Patient.id).where(Patient.clinic_id == clinic.id).limit(1)).scalar()
            if clinician is not None and patient is not None:
                _analyze(engine)
                return int(clinician), int(patient), 0.0
    started = time.perf_counter()
    with transaction(sessions) as db:
        built = build_synthetic_clinic(db, people=people, now=datetime.now(UTC), seed=people)
        found = db.get(Clinic, built.clinic_id)
        assert found is not None
        found.name = _clinic_name(people)
    seconds = time.perf_counter() - started
    _analyze(engine)
    return built.clinician_id, built.patient_ids[0], seconds


def _analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after the bulk load, as autovacuum would within minutes on a real
    server: without it PostgreSQL plans the dashboard's joins for empty tables (seconds instead of ms)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def _client(engine: Engine, folder: Path, clinician_id: int) -> tuple[TestClient, Any]:
    base = load_settings({"ALSCARE_DATA_DIR": str(folder / "data"), "ALSCARE_SECRET_KEY": "b" * 48})
    settings = replace(
        base, database_url=engine.url.render_as_string(hide_password=False), base_url="https://testserver"
    )
    app = create_app(settings, engine=engine)
    token = new_token()
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as db:
        db.add(
            WebSession(
                token_digest=token_digest(token),
                user_id=clinician_id,
                created_at=now,
                expires_at=now + timedelta(hours=12),
            )
        )
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    client.headers["X-CSRF-Token"] = csrf_token(settings.secret_key, token)
    return client, app


def _pages(patient_id: int) -> list[tuple[str, str]]:
    return [
        ("dashboard first page", "/clinic"),
        ("dashboard filtered and sorted", "/clinic?filter=fast&sort=slope&dir=asc&page=2"),
        ("dashboard CSV export", "/clinic/export.csv"),
        ("timeline", f"/patients/{patient_id}/timeline"),
        ("alerts inbox", "/clinic/alerts"),
        ("alerts inbox, all", "/clinic/alerts?show=all"),
        ("overdue", "/clinic/overdue"),
        ("messages", "/clinic/messages"),
        ("home for a clinician", "/home"),
        ("API patient list", "/api/v1/patients"),
        ("API alert list", "/api/v1/alerts"),
        ("API alert list, all", "/api/v1/alerts?include_resolved=true"),
    ]


def _measure(client: TestClient, engine: Engine, path: str, repeat: int) -> dict[str, Any] | None:
    statements: list[str] = []

    def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    started = time.perf_counter()
    response = client.get(path)
    first = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", _count)
    if response.status_code == 404:
        return None
    if response.status_code not in (200, 303):
        raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    runs = SLOW_REPEAT if first > SLOW_FIRST_SECONDS else repeat
    times = [first]
    for _ in range(runs - 1):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return {
        "ms": round(statistics.median(times) * 1000, 1),
        "statements": len(statements),
        "bytes": len(response.content),
        "runs": runs,
    }


def bench_database(label: str, url: str, people: int, repeat: int, folder: Path) -> list[dict[str, Any]]:
    engine = make_engine(url)
    clinician_id, patient_id, build_seconds = _build_or_reuse(engine, people)
    rows: list[dict[str, Any]] = [
        {
            "database": label,
            "page": "(build)",
            "people": people,
            "ms": round(build_seconds * 1000, 1),
            "statements": 0,
            "bytes": 0,
            "runs": 1 if build_seconds else 0,
        }
    ]
    client, _app = _client(engine, folder, clinician_id)
    with client:
        for name, path in _pages(patient_id):
            found = _measure(client, engine, path, repeat)
            if found is None:
                print(f"[{label}] {path}: 404, not built here; skipped", file=sys.stderr)
                continue
            rows.append({"database": label, "page": f"{name} ({path.split('?')[0]})", "people": people, **found})
    engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--database", action="append", help="database URL (repeatable); default SQLite and PostgreSQL")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")
    urls: list[tuple[str, str]] = []
    if args.database:
        urls = [(make_url(u).get_backend_name(), u) for u in args.database]
    else:
        folder = ROOT / "data" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        urls = [
            ("sqlite", f"sqlite:///{folder / f'pages-{args.people}.db'}"),
            ("postgresql", _ensure_postgres_database(args.people)),
        ]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, url in urls:
            results.extend(bench_database(label, url, args.people, args.repeat, Path(tmp)))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for label in dict.fromkeys(r["database"] for r in results):
        print(f"\n{label}, {args.people} people")
        print(f"{'page':52} {'ms':>10} {'statements':>11} {'bytes':>10}  runs")
        for r in results:
            if r["database"] == label:
                print(f"{r['page']:52} {r['ms']:>10} {r['statements']:>11} {r['bytes']:>10}  {r['runs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

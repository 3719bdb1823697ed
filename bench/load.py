"""Check-in streams against the app started the production way, beside the database's raw write rate.

Run: .venv/bin/python bench/load.py [--people N] [--seconds S] [--clients 1,20,50,200] [--database sqlite|postgresql
...] [--json]

Builds (or reuses) a synthetic clinic of N people (default 10,000: ``alscare.synthetic_clinic``), gives the
first 200 of them an account and a session, starts ``alscare serve --workers 2 --no-worker`` on a loopback
port, and for each number of concurrent clients runs, for ``--seconds`` (default 20):

- a check-in stream: each client (a thread with its own HTTP connection; the threads spread over up to 4
  processes, so the load generator's interpreter lock is not what is measured) posts routine check-ins for
  its own person as fast as the server answers; per run: check-ins/s, p50 and p99 latency, errors (any answer
  but the redirect to the stored check-in, or no answer within 30 s);
- the same clients against the no-op page ``/healthz?checks=web``: what this machine's HTTP round trip alone
  allows (the server, the clients and the database share its cores), as a floor beside the check-in figures;
- the raw loop: the same number of threads, each with its own database connection (the driver directly,
  the app's SQLite settings: WAL, synchronous=FULL), inserting one row and committing, in a table of its own;
  its rate, and the ratio check-ins/s ÷ raw rate, measured in the same run.

Targets (issue 11): 0 errors and p99 < 1 s at every concurrency; at 1 client, check-ins/s ≥ 20 % of the raw
rate; on PostgreSQL, 20 clients ≥ 3 × the 1-client rate. Prints figures; no pass/fail. 2 shared cores: the
clients, the server and the database share them, so figures are indicative.

Databases: a SQLite file under ``data/bench-load/`` and ``alscare_bench_load_<N>`` on the local PostgreSQL; a
database holding a clinic of that size is reused, without the check-ins earlier runs posted (every run and level
starts from the clinic as built). ``--tag`` names them apart (to measure another checkout's
code: run this file with that checkout's ``src`` first on PYTHONPATH and a different tag; the server inherits it).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, delete, make_url, select, text

from alscare.actions.clinic_summary import refresh_summaries
from alscare.security.tokens import csrf_token, new_token, token_digest
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker, transaction
from alscare.storage.models import CheckIn, Clinic, Patient, User, WebSession
from alscare.synthetic_clinic import build_synthetic_clinic

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "bench-load-only-secret-key-" + "z" * 32
ACCOUNTS = 200
REQUEST_TIMEOUT = 30.0
CLIENT_PROCESSES = 4


def _clinic_name(people: int) -> str:
    return f"Load bench clinic ({people} people)"


def _postgres_url(people: int, tag: str) -> str:
    name = f"alscare_bench_load_{people}{'_' + tag if tag else ''}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)


def _sqlite_url(people: int, tag: str) -> str:
    folder = ROOT / "data" / "bench-load"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f"_{tag}" if tag else ""
    return f"sqlite:///{folder / f'load_{people}{suffix}.db'}"


def _build_or_reuse(engine: Engine, people: int) -> tuple[list[tuple[int, str]], float]:
    """Sessions for the clinic's first people: [(patient id, session token)], and the build's seconds."""
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with transaction(sessions) as db:
        clinic = db.execute(select(Clinic).where(Clinic.name == _clinic_name(people))).scalar_one_or_none()
        if clinic is None:
            built = build_synthetic_clinic(db, people=people, now=now, seed=people)
            found = db.get(Clinic, built.clinic_id)
            assert found is not None
            found.name = _clinic_name(people)
            clinic_id = built.clinic_id
        else:
            clinic_id = clinic.id
    build_seconds = time.perf_counter() - started
    out: list[tuple[int, str]] = []
    with transaction(sessions) as db:
        people_rows = db.execute(
            select(Patient).where(Patient.clinic_id == clinic_id).order_by(Patient.id).limit(ACCOUNTS)
        ).scalars()
        for p in people_rows:
            if p.user_id is None:
                user = User(
                    email=f"load.{p.id}@example.org",
                    display_name=f"Load {p.id}",
                    role="patient",
                    password_hash="!bench-no-sign-in",
                    created_at=now,
                )
                db.add(user)
                db.flush()
                p.user_id = user.id
            token = new_token()
            db.add(
                WebSession(
                    token_digest=token_digest(token),
                    user_id=p.user_id,
                    created_at=now,
                    expires_at=now + timedelta(hours=6),
                )
            )
            out.append((p.id, token))
    _forget_posted(engine, [i for i, _ in out])
    return out, build_seconds


def _forget_posted(engine: Engine, patient_ids: list[int]) -> None:
    """Remove the check-ins the bench's accounts posted (and refresh those people's summaries): each run starts
    from the clinic as built, so a person's history, which prompts and summaries read, is the same at the start
    of every run and level (at 1 client, one person otherwise gains hundreds of check-ins a run)."""
    with transaction(make_sessionmaker(engine)) as db:
        posted_by = list(db.execute(select(Patient.user_id).where(Patient.id.in_(patient_ids))).scalars())
        db.execute(delete(CheckIn).where(CheckIn.submitted_by_id.in_(posted_by)))
        refresh_summaries(db, patient_ids=patient_ids, now=datetime.now(UTC))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``alscare serve --workers 2 --no-worker`` on a loopback port, as a clinic runs it."""

    def __init__(self, url: str, folder: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALSCARE_")}
        env |= {
            "ALSCARE_DATABASE_URL": url,
            "ALSCARE_DATA_DIR": str(folder),
            "ALSCARE_SECRET_KEY": SECRET,
            "ALSCARE_BASE_URL": self.base_url,
            "ALSCARE_COOKIE_SECURE": "false",
            "ALSCARE_WORKER_STALE_SECONDS": "0",
        }
        cmd = [sys.executable, "-c", "from alscare.cli import main; main()", "serve", "--workers", "2"]
        cmd += ["--no-worker", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(self.base_url + "/healthz?checks=web", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("serve did not become healthy")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)


def _client_process(
    base_url: str,
    people: list[tuple[int, str]],
    seconds: float,
    floor: bool,
    start_at: float,
    results: Any,
) -> None:
    """One load process: a thread per client, each with its own HTTP connection, posting as fast as the server
    answers from ``start_at`` (CLOCK_MONOTONIC is the same in every process) for ``seconds``."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = start_at + seconds

    def client(patient_id: int, token: str) -> None:
        csrf = csrf_token(SECRET.encode(), token)
        with httpx.Client(base_url=base_url, cookies={"alscare_session": token}, timeout=REQUEST_TIMEOUT) as c:
            time.sleep(max(0.0, start_at - time.monotonic()))
            while time.monotonic() < stop_at:
                t0 = time.monotonic()
                try:
                    if floor:
                        r = c.get("/healthz?checks=web")
                        ok = r.status_code == 200
                    else:
                        form = {"csrf_token": csrf, "client_id": str(uuid.uuid4()), "cramps": "true", "fatigue": "true"}
                        r = c.post(f"/patients/{patient_id}/check-in", data=form)
                        ok = r.status_code == 303
                    why = f"HTTP {r.status_code}"
                except httpx.HTTPError as e:
                    ok, why = False, type(e).__name__
                took = time.monotonic() - t0
                with lock:
                    (latencies.append(took) if ok else errors.append(why))

    threads = [threading.Thread(target=client, args=person, daemon=True) for person in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, stop_at - time.monotonic()) + REQUEST_TIMEOUT + 10)
    results.put((latencies, errors))


def _stream(
    base_url: str, people: list[tuple[int, str]], clients: int, seconds: float, *, floor: bool = False
) -> dict[str, Any]:
    """``clients`` concurrent clients for ``seconds``: check-ins, or with ``floor`` the no-op ``/healthz?checks=web``.

    The clients are spread over up to ``CLIENT_PROCESSES`` processes: 200 threads in one Python process spend
    their time queueing for its one interpreter lock, and the figures were then the load generator's, not the
    server's (with one process, 200 clients got fewer answers a second than 20, even from the no-op page).
    """
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    processes = min(clients, CLIENT_PROCESSES)
    assigned = [people[i % len(people)] for i in range(clients)]
    start_at = time.monotonic() + 3.0 + 0.2 * processes  # time for the processes to start and connect
    workers = [
        ctx.Process(target=_client_process, args=(base_url, assigned[k::processes], seconds, floor, start_at, results))
        for k in range(processes)
    ]
    for w in workers:
        w.start()
    latencies: list[float] = []
    errors: list[str] = []
    for _ in workers:
        got_latencies, got_errors = results.get(timeout=seconds + REQUEST_TIMEOUT + 120)
        latencies += got_latencies
        errors += got_errors
    for w in workers:
        w.join(30)
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    return {
        "check_ins_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(pct(0.99), 1) if ordered else None,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "check_ins": len(latencies),
    }


def _raw_rate(url: str, clients: int, seconds: float) -> tuple[float, int]:
    """Single-row INSERT + COMMIT per iteration, one driver connection per thread, for ``seconds``: the rate,
    and how many connections were used (fewer than asked on a PostgreSQL near its connection limit)."""
    sqlite = url.startswith("sqlite")
    path = make_url(url).database or ""

    def connect() -> Any:
        if sqlite:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            return conn
        import psycopg

        return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False), autocommit=True)

    setup = connect()
    if not sqlite:
        # PostgreSQL refuses connections past max_connections (shared with the server's pool): stay below it.
        most = int(setup.execute("SHOW max_connections").fetchone()[0])
        used = int(setup.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0])
        clients = max(1, min(clients, most - used - 10))
    setup.execute("DROP TABLE IF EXISTS bench_raw_inserts")
    key = "INTEGER PRIMARY KEY" if sqlite else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    setup.execute(f"CREATE TABLE bench_raw_inserts (id {key}, at TEXT, body TEXT)")
    setup.close()
    counts = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]
    mark = "?" if sqlite else "%s"

    def loop(i: int) -> None:
        conn = connect()
        barrier.wait()
        while time.monotonic() < stop_at[0]:
            if sqlite:
                conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                f"INSERT INTO bench_raw_inserts (at, body) VALUES ({mark}, {mark})",
                (datetime.now(UTC).isoformat(), "x" * 200),
            )
            if sqlite:
                conn.execute("COMMIT")
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    started = time.monotonic()
    barrier.wait(timeout=120)
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.monotonic() - started
    cleanup = connect()
    cleanup.execute("DROP TABLE bench_raw_inserts")
    cleanup.close()
    return round(sum(counts) / elapsed, 1), clients


def bench_database(label: str, url: str, people: int, levels: list[int], seconds: float) -> list[dict[str, Any]]:
    engine = make_engine(url)
    accounts, build_seconds = _build_or_reuse(engine, people)
    folder = ROOT / "data" / "bench-load" / f"server-{label}"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    server = Server(url, folder)
    try:
        for clients in levels:
            _forget_posted(engine, [i for i, _ in accounts])
            run = _stream(server.base_url, accounts, clients, seconds)
            floor = _stream(server.base_url, accounts, clients, seconds, floor=True)
            raw, raw_connections = _raw_rate(url, clients, seconds)
            ratio = round(run["check_ins_per_s"] / raw, 3) if raw else None
            rows.append(
                {
                    "database": label,
                    "people": people,
                    "clients": clients,
                    **run,
                    "floor_per_s": floor["check_ins_per_s"],
                    "floor_p99_ms": floor["p99_ms"],
                    "raw_per_s": raw,
                    "raw_connections": raw_connections,
                    "ratio": ratio,
                }
            )
            print(_line(rows[-1]), file=sys.stderr)
    finally:
        server.stop()
        engine.dispose()
    rows.append({"database": label, "people": people, "clients": 0, "build_s": round(build_seconds, 1)})
    return rows


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['database']:<10} {r['clients']:>4} clients  {r['check_ins_per_s']:>7} check-ins/s  "
        f"p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  errors {r['errors']} {r['error_kinds'] or ''}  "
        f"no-op page {r['floor_per_s']}/s (p99 {r['floor_p99_ms']} ms)  "
        f"raw {r['raw_per_s']}/s ({r['raw_connections']} connections)  ratio {r['ratio']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", default="1,20,50,200", help="comma-separated concurrency levels")
    parser.add_argument("--database", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--tag", default="", help="name the databases apart (a before/after comparison)")
    parser.add_argument("--json", action="store_true", help="print one JSON array of the runs")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",") if c.strip()]
    rows: list[dict[str, Any]] = []
    for label in args.database or ["sqlite", "postgresql"]:
        url = _sqlite_url(args.people, args.tag) if label == "sqlite" else _postgres_url(args.people, args.tag)
        rows += bench_database(label, url, args.people, levels, args.seconds)
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            if r["clients"]:
                print(_line(r))
            else:
                print(f"{r['database']:<10} build or reuse of {r['people']} people: {r['build_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

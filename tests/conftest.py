"""Shared fixtures: one suite, two databases.

Every test that asks for ``engine`` (directly or through ``db``, ``app`` or ``client``) runs once on SQLite
and once on PostgreSQL. PostgreSQL comes from ``ALSCARE_TEST_POSTGRES_URL`` (default: the local server,
database ``test``). When it cannot be reached the PostgreSQL half is skipped and the run says so loudly at
the end; with ``ALSCARE_REQUIRE_POSTGRES=1`` (set by CI) an unreachable PostgreSQL fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from alscare.mail import OutboxMailer
from alscare.settings import Settings, load_settings
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import Base
from alscare.web.app import create_app

POSTGRES_ADMIN_URL = os.environ.get("ALSCARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str] = {}


def _postgres_problem() -> str | None:
    if "problem" not in _pg_state:
        try:
            eng = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_state["problem"] = ""
        except Exception as exc:  # any failure to connect means "not reachable"
            _pg_state["problem"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return _pg_state["problem"] or None


def pytest_sessionstart(session: pytest.Session) -> None:
    problem = _postgres_problem()
    if problem and os.environ.get("ALSCARE_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(f"ALSCARE_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {problem}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    problem = _postgres_problem()
    tr = terminalreporter
    if problem:
        tr.write_sep("!", "PostgreSQL half SKIPPED", red=True, bold=True)
        tr.write_line(f"PostgreSQL at {POSTGRES_ADMIN_URL} was not reachable ({problem}).", red=True)
        tr.write_line("Only SQLite was tested. Start PostgreSQL or set ALSCARE_TEST_POSTGRES_URL.", red=True)
    else:
        used = _pg_state.get("used", "0")
        tr.write_sep("=", f"database backends: SQLite and PostgreSQL ({used} PostgreSQL databases used)", green=True)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once and dropped at the end."""
    problem = _postgres_problem()
    if problem:
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"alscare_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    _pg_state["used"] = str(int(_pg_state.get("used", "0")) + 1)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "alscare.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    return str(request.getfixturevalue("_postgres_database"))


@pytest.fixture
def engine(database_url: str, backend: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    if backend == "postgresql":
        # Clean slate for the next test. TRUNCATE is not a row DELETE, so the audit trigger allows it.
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    base = load_settings({"ALSCARE_DATA_DIR": str(tmp_path / "data"), "ALSCARE_SECRET_KEY": "x" * 48})
    # No worker runs beside the test app: /healthz leaves its heartbeat out (tests that want it set it back).
    return replace(base, database_url=database_url, base_url="https://testserver", worker_stale_seconds=0)


@pytest.fixture
def outbox(tmp_path: Path) -> OutboxMailer:
    return OutboxMailer(tmp_path / "outbox")


@pytest.fixture
def app(settings: Settings, engine: Engine, outbox: OutboxMailer) -> FastAPI:
    return create_app(settings, engine=engine, mailer=outbox)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https so the Secure session cookie is sent back, as a browser would.
    with TestClient(app, base_url="https://testserver") as c:
        yield c

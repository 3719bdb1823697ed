"""Engine and session factory for SQLite (embedded default) and PostgreSQL (clinic networks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout so concurrent writers wait."""
    # Bound values are patient data: keep them out of SQL echo logs and database error messages.
    kwargs.setdefault("hide_parameters", True)
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            # A fresh data folder (the secret key given in the environment) must exist before SQLite opens a file.
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        files = _sqlite_files(database_url)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transaction boundaries, and take the write lock at BEGIN so two writers
            # queue instead of failing half-way (the audit chain and idempotent check-ins rely on this).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # The database holds health data: readable by its owner only, whatever the umask was.
            for f in files:
                if f.exists():
                    f.chmod(0o600)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return create_engine(database_url, pool_pre_ping=True, **kwargs)


def _sqlite_files(database_url: str) -> list[Path]:
    """The database file and its WAL companions, for a file database (none for ``:memory:``)."""
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return []
    base = Path(path)
    return [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session

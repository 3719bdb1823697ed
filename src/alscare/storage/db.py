"""Engine and session factory for SQLite (embedded default) and PostgreSQL (clinic networks).

How SQLite is kept from stalling (issue 11, item 1)
---------------------------------------------------
SQLite has one writer at a time; in WAL mode readers never wait for it and it never waits for readers. So:

- **Read transactions** (``make_read_sessionmaker``: every web request) start with a plain, deferred
  ``BEGIN``. They read from a snapshot and never take the write lock.
- **Write transactions** (``make_sessionmaker``: the worker, the CLI) start with ``BEGIN IMMEDIATE``: the
  write lock is taken before the first read, so a writer never has to *upgrade* a read snapshot. Writers
  queue on the busy timeout and none can fail half-way.
- **A read transaction that turns out to write** (a check-in, an audit row for a page view) is
  upgraded at its first write statement, or earlier by ``claim_write``, in a way that cannot deadlock: the
  read-only transaction is ended (it has changed nothing, so nothing is lost) and ``BEGIN IMMEDIATE`` starts
  a write transaction on the same connection, which waits its turn like any writer. Upgrading in place
  instead (a deferred transaction writing after it has read) fails at once with ``SQLITE_BUSY`` /
  ``SQLITE_BUSY_SNAPSHOT`` whenever another connection wrote in between, and the busy timeout cannot help,
  because the snapshot can never become current again. The price is the one PostgreSQL's default READ
  COMMITTED isolation already charges: what the request read before its first write may have changed by the
  time it writes. Code that writes based on what it read calls ``claim_write`` before reading, and then
  reads inside the write transaction.

Writers of one process first queue on a per-process lock (``_take_write_lock``), so only one of them at a
time polls SQLite's busy handler, whose growing sleeps otherwise hand the lock out unfairly (seconds of p99).

PostgreSQL takes the same code path: ``claim_write`` and the read/write split are no-ops there, since its
row-level locking lets readers and writers run together.

The pool (``ALSCARE_DB_POOL_SIZE``) is sized with the server's thread limit and its admission gate in
``web/app.py``: no more requests hold a database session than there are pooled connections, and there are
more worker threads than that, so a request holding a connection (and perhaps the write lock) always finds a
thread to finish on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

# How long a writer waits for SQLite's write lock before giving up (seconds). Transactions are short, so
# reaching it means something is wrong; the request then fails instead of hanging for ever.
SQLITE_BUSY_TIMEOUT_S: Final = 30
DEFAULT_POOL_SIZE: Final = 10

_MODE: Final = "alscare_txn"  # connection.info key: "read" or "write" while a transaction is open
_WRITE_OPTION: Final = "alscare_write"
_GATE: Final = "alscare_write_gate"  # connection.info key: this process's writer lock, while held
_GATES: dict[str, threading.Lock] = {}  # one writer lock per SQLite database, per process
# Statements that write, and SAVEPOINT: a savepoint in a read transaction is opened to write inside it, and
# the upgrade has to happen before it (a savepoint does not survive the restart).
_WRITES: Final = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|SAVEPOINT)\b", re.IGNORECASE)


def make_engine(database_url: str, *, pool_size: int = DEFAULT_POOL_SIZE, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and the read/write split above.

    ``pool_size`` connections are kept, with as many again allowed for a moment (a request that opens a
    second session, the worker thread); a request that cannot get one within 10 s fails instead of hanging.
    """
    # Bound values are patient data: keep them out of SQL echo logs and database error messages.
    kwargs.setdefault("hide_parameters", True)
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            # A fresh data folder (the secret key given in the environment) must exist before SQLite opens a file.
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        files = _sqlite_files(database_url)
        if files:
            kwargs.setdefault("pool_size", pool_size)
            kwargs.setdefault("max_overflow", pool_size)
            kwargs.setdefault("pool_timeout", 10)
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transaction boundaries; BEGIN is issued by ``_sqlite_begin`` below.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.close()
            # The database holds health data: readable by its owner only, whatever the umask was.
            for f in files:
                if f.exists():
                    f.chmod(0o600)

        gate = _GATES.setdefault(str(engine.url), threading.Lock())

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            if conn.get_execution_options().get(_WRITE_OPTION, True):
                conn.info[_MODE] = "write"
                _take_write_lock(conn, gate, lambda: conn.exec_driver_sql("BEGIN IMMEDIATE"))
            else:
                conn.exec_driver_sql("BEGIN")
                conn.info[_MODE] = "read"

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_first_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
            if conn.info.get(_MODE) == "read" and (match := _WRITES.match(statement)):
                _upgrade(conn, savepoint_next=match.group(1).upper() == "SAVEPOINT")

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn: Connection) -> None:
            conn.info.pop(_MODE, None)
            held = conn.info.pop(_GATE, None)
            if held is not None:
                held.release()

        return engine
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", pool_size)
    kwargs.setdefault("pool_timeout", 10)
    return create_engine(database_url, pool_pre_ping=True, **kwargs)


def _upgrade(conn: Connection, *, savepoint_next: bool = False) -> None:
    """Turn this connection's read-only SQLite transaction into a write transaction (see the module doc)."""
    if conn.in_nested_transaction() and not savepoint_next:
        # A savepoint would not survive the restart: this is a programming error, not a race.
        raise RuntimeError("claim_write must be called before begin_nested() in a read transaction")
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("COMMIT")  # read-only so far: ends the snapshot, changes nothing
    conn.info[_MODE] = "write"  # before BEGIN IMMEDIATE, so a failure there cannot loop back here
    gate = _GATES[str(conn.engine.url)]
    _take_write_lock(conn, gate, lambda: raw.execute("BEGIN IMMEDIATE"))


def _take_write_lock(conn: Connection, gate: threading.Lock, begin: Callable[[], object]) -> None:
    """Queue on this process's writer lock, then take SQLite's.

    SQLite's busy handler polls with growing sleeps, so among many waiting writers the lock goes to whoever
    polls at the right moment and some wait for seconds. Writers of one process queue here instead and are
    let through one at a time; only one per process polls SQLite. After the busy timeout a writer goes on to
    SQLite anyway (never worse than without the gate). Released when the transaction ends.
    """
    held = gate.acquire(timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        begin()
    except BaseException:
        if held:
            gate.release()
        raise
    if held:
        conn.info[_GATE] = gate


def claim_write(db: Session) -> None:
    """Make sure the session's transaction holds the write lock before it reads what it will write on.

    A no-op on PostgreSQL and in write transactions; in a SQLite read transaction it ends the read snapshot
    and takes the write lock (waiting its turn), so what is read next is current until commit.
    """
    conn = db.connection()
    if conn.info.get(_MODE) == "read":
        _upgrade(conn)


def _sqlite_files(database_url: str) -> list[Path]:
    """The database file and its WAL companions, for a file database (none for ``:memory:``)."""
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return []
    base = Path(path)
    return [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose transactions write: on SQLite they take the write lock at BEGIN."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose transactions start read-only (deferred BEGIN on SQLite) and upgrade at a first write.

    ``SELECT ... FOR UPDATE`` (which SQLite does not have) claims the write lock first, as it takes row locks
    on PostgreSQL: code that locks what it reads keeps its guarantee in a read session too.
    """
    factory = sessionmaker(bind=engine.execution_options(**{_WRITE_OPTION: False}), expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _lock_before_for_update)
    return factory


def _lock_before_for_update(state: ORMExecuteState) -> None:
    statement: Any = state.statement
    if state.is_select and getattr(statement, "_for_update_arg", None) is not None:
        claim_write(state.session)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session

"""Backup and restore of the whole database (``alscare backup`` / ``alscare restore``).

SQLite: the sqlite3 online backup API, which copies a consistent snapshot while the app keeps running.
PostgreSQL: ``pg_dump`` in its custom format and ``pg_restore``, the tools PostgreSQL itself provides; the
password travels in ``PGPASSWORD``, never on the command line where other users could see it.

A restore goes into an empty database only (no ``users`` table, or one without rows): overwriting a live
clinic by mistake would lose everything since the backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why and what to do."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the SQLite database must be a file to back it up")
    return Path(url.database)


def _pg_command(tool: str, url: URL) -> tuple[list[str], dict[str, str]]:
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} is not installed; install the PostgreSQL client tools (same major version)")
    args = [exe, "--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{what} failed: {last}")


def backup(engine: Engine, target: Path) -> None:
    """Write a full, consistent copy of the database to ``target`` (readable only by its owner)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    url = engine.url
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return
    args, env = _pg_command("pg_dump", url)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    _run([*args, "--format=custom", "--no-owner", "--file", str(target), str(url.database)], env, "pg_dump")


def is_empty(engine: Engine) -> bool:
    """No clinic data in it yet: no ``users`` table, or one without rows."""
    if "users" not in inspect(engine).get_table_names():
        return True
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0)


def restore(engine: Engine, source: Path) -> None:
    """Load a backup made by ``backup`` into the (empty) database of ``engine``."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    url = engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_path(url).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not is_empty(engine):
        raise BackupError("the target database is not empty; restore into a new, empty database")
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if src.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"{source} is not an intact SQLite database")
        except sqlite3.DatabaseError:
            raise BackupError(f"{source} is not a SQLite backup") from None
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(target)
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
            src.close()
        target.chmod(0o600)
        return
    if inspect(engine).get_table_names():
        raise BackupError("the target PostgreSQL database has tables; restore into a new database made with createdb")
    engine.dispose()
    args, env = _pg_command("pg_restore", url)
    _run([*args, "--no-owner", "--exit-on-error", "--dbname", str(url.database), str(source)], env, "pg_restore")

"""Migrations, on SQLite and PostgreSQL: none is missing, and upgrade → downgrade → upgrade works on a
fresh database (including the triggers that keep the audit trail append-only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from alscare.storage import migrate
from alscare.storage.db import make_engine
from alscare.storage.models import Base


def test_no_migration_is_missing(engine: Engine) -> None:
    assert migrate.pending_model_changes(engine) == []


@pytest.fixture
def fresh_engine(backend: str, database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own: a new SQLite file, or a PostgreSQL database created and dropped here."""
    if backend == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield eng
        eng.dispose()
        return
    # ``database_url`` is the session's test database; use it to reach the server and make another.
    name = f"alscare_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(database_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _audit_row_is_append_only(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (id, at, action, resource, prev_hash, hash) "
                "VALUES (1, :at, 'read', 'profile', :prev, :hash)"
            ),
            {"at": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None), "prev": "0" * 64, "hash": "1" * 64},
        )
    for statement in ("UPDATE audit_events SET detail = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_upgrade_downgrade_upgrade(fresh_engine: Engine) -> None:
    model_tables = set(Base.metadata.tables)
    assert _tables(fresh_engine) == set()

    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == model_tables
    assert migrate.pending_model_changes(fresh_engine) == []
    _audit_row_is_append_only(fresh_engine)

    migrate.downgrade(fresh_engine)
    assert _tables(fresh_engine) == set()
    if fresh_engine.dialect.name == "postgresql":
        with fresh_engine.connect() as conn:
            leftover = conn.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_events_append_only'")
            ).scalar_one()
        assert leftover == 0

    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == model_tables
    assert migrate.pending_model_changes(fresh_engine) == []
    _audit_row_is_append_only(fresh_engine)

"""Migrations, on SQLite and PostgreSQL: none is missing, and upgrade → downgrade → upgrade works on a
fresh database (including the triggers that keep the audit trail append-only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from alscare.storage import migrate
from alscare.storage.models import Base


def test_no_migration_is_missing(engine: Engine) -> None:
    assert migrate.pending_model_changes(engine) == []


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

"""The production commands without compose (issue 14, items 3 and 5), on SQLite and PostgreSQL:
``backup`` then ``restore`` into an empty database gives the same record and a verified chain; a database
superuser who rewrites the whole audit chain consistently is caught by the signed checkpoint."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from typer.testing import CliRunner

from alscare.actions.accounts import PatientProfile, sign_up_patient
from alscare.actions.audit import record_event
from alscare.actions.audit_anchor import CHECKPOINT_FILE, checkpoint_if_due, read_checkpoint
from alscare.cli import app
from alscare.security.hashchain import entry_hash
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import AuditEvent, Patient

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SECRET = "s" * 48


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {"ALSCARE_DATABASE_URL": database_url, "ALSCARE_DATA_DIR": str(data_dir), "ALSCARE_SECRET_KEY": SECRET}


def _cli(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.stdout + result.stderr


def _seed(engine: Engine) -> int:
    with make_sessionmaker(engine)() as db:
        user = sign_up_patient(
            db,
            email="ada@example.org",
            password="violet tractor lemonade",
            profile=PatientProfile(full_name="Ada Lovelace", onset_date=date(2025, 6, 1), onset_region="bulbar"),
            default_emergency_number="999",
            now=NOW,
        )
        patient = db.execute(select(Patient).where(Patient.user_id == user.id)).scalar_one()
        for i in range(3):
            record_event(
                db,
                now=NOW + timedelta(minutes=i),
                actor_user_id=user.id,
                patient_id=patient.id,
                action="read",
                resource="profile",
            )
        db.commit()
        return patient.id


@pytest.fixture
def restore_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'alscare.db'}"
        return
    # The suite's PostgreSQL server (tests/conftest.py reads the same variable; importing it by module name
    # would find tests/e2e/conftest.py first when the whole suite runs).
    admin_url = os.environ.get("ALSCARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    name = f"alscare_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_then_restore_gives_the_same_record_and_a_verified_chain(
    engine: Engine, database_url: str, restore_url: str, tmp_path: Path
) -> None:
    patient_id = _seed(engine)
    source_env = _env(database_url, tmp_path / "data")
    code, out = _cli(["audit", "checkpoint"], source_env)
    assert code == 0, out
    backup_file = tmp_path / "backups" / "alscare.backup"
    code, out = _cli(["backup", str(backup_file)], source_env)
    assert code == 0, out
    assert backup_file.stat().st_mode & 0o077 == 0  # the backup holds patient data: owner only

    # A second backup to the same file is refused rather than overwriting it.
    assert _cli(["backup", str(backup_file)], source_env)[0] == 1

    code, out = _cli(["restore", str(backup_file)], _env(restore_url, tmp_path / "data"))
    assert code == 0, out
    assert "restored from" in out
    assert "audit chain intact: 4 entries verified; matches the signed checkpoint" in out

    restored = make_engine(restore_url)
    try:
        with make_sessionmaker(restored)() as db:
            p = db.get(Patient, patient_id)
            assert p is not None
            assert (p.full_name, p.onset_date, p.onset_region, p.emergency_number) == (
                "Ada Lovelace",
                date(2025, 6, 1),
                "bulbar",
                "999",
            )
            hashes = list(db.execute(select(AuditEvent.hash).order_by(AuditEvent.id)).scalars())
        with make_sessionmaker(engine)() as db:
            assert hashes == list(db.execute(select(AuditEvent.hash).order_by(AuditEvent.id)).scalars())
        # Restoring again over the now-filled database is refused: nothing is overwritten.
        code, out = _cli(["restore", str(backup_file)], _env(restore_url, tmp_path / "data"))
        assert code == 1
        assert "not empty" in out or "has tables" in out
    finally:
        restored.dispose()


def _rewrite_chain(engine: Engine, backend: str) -> None:
    """What a database superuser could do: drop the append-only guard, change one entry, and recompute every
    hash after it so the chain is consistent again."""
    with engine.begin() as conn:
        if backend == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(text("UPDATE audit_events SET detail = 'nothing happened' WHERE id = 1"))
    with make_sessionmaker(engine)() as db:
        prev = "0" * 64
        for event in db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all():
            new_hash = entry_hash(prev, event.chain_fields())
            db.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": prev, "h": new_hash, "i": event.id},
            )
            prev = new_hash
        db.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
        db.commit()
    if backend != "sqlite":
        # The PostgreSQL test database outlives the test: put the guard back for the tests that follow.
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def test_a_consistent_rewrite_of_the_chain_is_caught_by_the_checkpoint(
    engine: Engine, database_url: str, backend: str, tmp_path: Path
) -> None:
    _seed(engine)
    env = _env(database_url, tmp_path / "data")
    assert _cli(["audit", "checkpoint"], env)[0] == 0
    checkpoint_file = tmp_path / "data" / CHECKPOINT_FILE
    assert checkpoint_file.stat().st_mode & 0o077 == 0
    code, out = _cli(["audit", "verify"], env)
    assert code == 0, out
    assert "matches the signed checkpoint" in out

    _rewrite_chain(engine, backend)
    # The chain alone no longer shows anything: every hash was recomputed.
    code, out = _cli(["audit", "verify", "--checkpoint", str(tmp_path / "none.json")], env)
    assert code == 0, out
    # The checkpoint outside the database does.
    code, out = _cli(["audit", "verify"], env)
    assert code == 1
    assert "hash differs from the signed checkpoint: the chain was rewritten" in out


def test_a_forged_checkpoint_fails_its_signature(engine: Engine, database_url: str, tmp_path: Path) -> None:
    _seed(engine)
    env = _env(database_url, tmp_path / "data")
    assert _cli(["audit", "checkpoint"], env)[0] == 0
    path = tmp_path / "data" / CHECKPOINT_FILE
    path.write_text(path.read_text().replace('"entries": 4', '"entries": 3'))
    code, out = _cli(["audit", "verify"], env)
    assert code == 1
    assert "bad signature" in out


def test_the_worker_checkpoints_periodically_and_keeps_evidence(engine: Engine, backend: str, tmp_path: Path) -> None:
    _seed(engine)
    path = tmp_path / "data" / CHECKPOINT_FILE
    key = SECRET.encode()
    with make_sessionmaker(engine)() as db:
        first = checkpoint_if_due(db, path=path, secret_key=key, now=NOW)
        assert first is not None and first.entries == 4
        assert checkpoint_if_due(db, path=path, secret_key=key, now=NOW + timedelta(minutes=5)) is None
        record_event(db, now=NOW, actor_user_id=None, patient_id=None, action="read", resource="clinic")
        db.commit()
        later = checkpoint_if_due(db, path=path, secret_key=key, now=NOW + timedelta(minutes=11))
        assert later is not None and later.entries == 5
    _rewrite_chain(engine, backend)
    with make_sessionmaker(engine)() as db, pytest.raises(Exception, match="no longer matches"):
        checkpoint_if_due(db, path=path, secret_key=key, now=NOW + timedelta(minutes=30))
    saved = read_checkpoint(path, secret_key=key)
    assert saved is not None and saved.entries == 5  # the evidence was not overwritten

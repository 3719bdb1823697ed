"""audit concurrency: audit rows are appended freely and sealed into the hash chain afterwards (issue 11)

``prev_hash`` and ``hash`` may be empty until the row is sealed, and ``seq`` (its place in the chain, given at
sealing) is new. Existing rows are already chained in id order, so each gets ``seq = id``. The append-only
triggers are replaced by ones that still refuse every DELETE and every UPDATE, except the one that seals a
row: setting ``seq``, ``prev_hash`` and ``hash`` on an unsealed row and changing nothing else.

Also ``service_heartbeats``: the worker's heartbeat, read by ``/healthz`` (issue 11, item 5).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from alscare.storage.migrations.triggers import create_audit_triggers, drop_audit_triggers
from alscare.storage.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every field the hash covers must stay as it was when a row is sealed.
_UNCHANGED = ("id", "at", "actor_user_id", "patient_id", "action", "resource", "detail", "source_ip")


def _same(column: str) -> str:
    return (
        f"NEW.{column} IS NOT OLD.{column}"
        if op.get_bind().dialect.name == "sqlite"
        else (f"NEW.{column} IS DISTINCT FROM OLD.{column}")
    )


def _not_a_seal() -> str:
    """SQL that is true for any UPDATE other than sealing an unsealed row."""
    changed = " OR ".join(_same(c) for c in _UNCHANGED)
    return f"OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.hash IS NULL OR NEW.prev_hash IS NULL OR {changed}"


def _create_sealing_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            f"WHEN {_not_a_seal()} BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' OR {_not_a_seal()} THEN RAISE EXCEPTION 'audit_events is append-only'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    drop_audit_triggers()
    if sqlite:
        # The table is rebuilt; audit_event_patients points at it, so check its references at commit.
        op.execute("PRAGMA defer_foreign_keys=ON")
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch.create_index("ix_audit_events_seq", ["seq"], unique=True)
    op.execute("UPDATE audit_events SET seq = id")
    if not sqlite:
        # Ids were given by the old writer (head + 1); from now on the database numbers new rows.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), COALESCE(MAX(id), 0) + 1, false) "
            "FROM audit_events"
        )
    # The sealer locks the head row: make sure it exists, so two sealers never race to create it.
    op.execute(
        "INSERT INTO audit_head (singleton, last_id, last_hash) SELECT 1, 0, '" + "0" * 64 + "' "
        "WHERE NOT EXISTS (SELECT 1 FROM audit_head)"
    )
    _create_sealing_triggers()
    op.create_table(
        "service_heartbeats",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.Column("detail", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("service_heartbeats")
    # The old schema needs every row chained: seal what is waiting, then hand the old writer (which numbers
    # rows head + 1) the highest id. Rows sealed out of id order (PostgreSQL, concurrent commits) would not
    # verify under the old, id-ordered check; on one machine they are sealed in id order.
    from sqlalchemy.orm import Session

    from alscare.actions.audit import seal_pending

    with Session(bind=op.get_bind()) as db:
        seal_pending(db)
        db.flush()
    op.execute("UPDATE audit_head SET last_id = (SELECT COALESCE(MAX(id), 0) FROM audit_events)")
    drop_audit_triggers()
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys=ON")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_seq")
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("seq")
    create_audit_triggers()

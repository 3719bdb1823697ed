"""worker delivery: a queue index for claims, and a reminder time on check-in schedules

Issue 11 part B. ``ix_notifications_queue`` is a partial index on ``(next_attempt_at, id)`` holding only the
rows a worker may still claim (pending or sending): a claim is one ordered range over it, on SQLite and
PostgreSQL alike, however many delivered rows the table holds. ``next_attempt_at`` of a sending row now holds
its claim's expiry, so rows claimed before the upgrade get it from ``claimed_until``.

``check_in_schedules.remind_at`` is when the reminder task next looks at a schedule (indexed). Existing rows
start at the upgrade's moment, and people with no row for a kind get one (default interval) at that moment: the
first worker cycles look at each once, in batches, and move it on.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 01:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE = "status IN ('pending','sending')"  # as models.NOTIFICATION_QUEUE at this revision
DEFAULT_DAYS = {"symptom_check_in": 7, "alsfrs_r": 28}  # as models.DEFAULT_SCHEDULE_DAYS at this revision


def upgrade() -> None:
    op.execute(
        "UPDATE notifications SET next_attempt_at = claimed_until "
        "WHERE status = 'sending' AND claimed_until IS NOT NULL"
    )
    op.create_index(
        "ix_notifications_queue",
        "notifications",
        ["next_attempt_at", "id"],
        unique=False,
        sqlite_where=sa.text(QUEUE),
        postgresql_where=sa.text(QUEUE),
    )
    with op.batch_alter_table("check_in_schedules") as batch_op:
        batch_op.add_column(sa.Column("remind_at", alscare.storage.models.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_check_in_schedules_remind_at", ["remind_at"], unique=False)
    # Every person gets a row per kind (new records get theirs when made), all looked at once soon.
    now = sa.bindparam("now", datetime.now(UTC).replace(tzinfo=None), sa.DateTime())
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE check_in_schedules SET remind_at = :now").bindparams(now))
    for kind, days in DEFAULT_DAYS.items():
        bind.execute(
            sa.text(
                "INSERT INTO check_in_schedules (patient_id, kind, interval_days, remind_at) "
                "SELECT p.id, :kind, :days, :now FROM patients p WHERE NOT EXISTS "
                "(SELECT 1 FROM check_in_schedules s WHERE s.patient_id = p.id AND s.kind = :kind)"
            ).bindparams(now, kind=kind, days=days)
        )


def downgrade() -> None:
    with op.batch_alter_table("check_in_schedules") as batch_op:
        batch_op.drop_index("ix_check_in_schedules_remind_at")
        batch_op.drop_column("remind_at")
    op.drop_index("ix_notifications_queue", table_name="notifications")

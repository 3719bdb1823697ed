"""medicines: the medicine list with its append-only history and liver tests; invitations can be cancelled

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose rows are never changed nor removed once written (refused by the database, like the audit trail).
APPEND_ONLY = ("medicine_changes", "medicine_liver_tests")


def _create_append_only_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )


def _drop_append_only_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def upgrade() -> None:
    op.create_table(
        "medicine_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("catalogue_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dose", sa.String(length=200), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("prescriber", sa.String(length=200), nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["entered_by_id"], ["users.id"], name=op.f("fk_medicine_entries_entered_by_id_users")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_medicine_entries_patient_id_patients")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_medicine_entries_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medicine_entries")),
    )
    with op.batch_alter_table("medicine_entries", schema=None) as batch_op:
        batch_op.create_index("ix_medicine_entries_patient", ["patient_id"], unique=False)

    op.create_table(
        "medicine_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=False),
        sa.Column("changed_as", sa.String(length=20), nullable=False),
        sa.Column("changed_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('added','changed','stopped','liver_test')", name=op.f("ck_medicine_changes_kind")),
        sa.ForeignKeyConstraint(["changed_by_id"], ["users.id"], name=op.f("fk_medicine_changes_changed_by_id_users")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["medicine_entries.id"], name=op.f("fk_medicine_changes_entry_id_medicine_entries")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_medicine_changes_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medicine_changes")),
    )
    with op.batch_alter_table("medicine_changes", schema=None) as batch_op:
        batch_op.create_index("ix_medicine_changes_entry", ["entry_id", "version"], unique=False)

    op.create_table(
        "medicine_liver_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["medicine_entries.id"], name=op.f("fk_medicine_liver_tests_entry_id_medicine_entries")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_medicine_liver_tests_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_medicine_liver_tests_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medicine_liver_tests")),
    )
    with op.batch_alter_table("medicine_liver_tests", schema=None) as batch_op:
        batch_op.create_index("ix_medicine_liver_tests_entry", ["entry_id"], unique=False)

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", alscare.storage.models.UTCDateTime(), nullable=True))

    for table in APPEND_ONLY:
        _create_append_only_triggers(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only_triggers(table)
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("medicine_liver_tests", schema=None) as batch_op:
        batch_op.drop_index("ix_medicine_liver_tests_entry")
    op.drop_table("medicine_liver_tests")
    with op.batch_alter_table("medicine_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_medicine_changes_entry")
    op.drop_table("medicine_changes")
    with op.batch_alter_table("medicine_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_medicine_entries_patient")
    op.drop_table("medicine_entries")

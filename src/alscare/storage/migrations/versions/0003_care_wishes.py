"""care wishes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:00:00

Two append-only tables: ``care_wishes_versions`` (every save a new version) and ``care_wishes_discussions``
(who a version was talked over with). Triggers refuse UPDATE and DELETE on both, on SQLite and PostgreSQL,
as ``audit_events`` is protected (see ``alscare.storage.migrations.triggers``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("care_wishes_versions", "care_wishes_discussions")


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
        "care_wishes_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("author_capacity", sa.String(length=10), nullable=False),
        sa.Column("saved_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("author_capacity IN ('self','proxy')", name=op.f("ck_care_wishes_versions_author_capacity")),
        sa.CheckConstraint("number >= 1", name=op.f("ck_care_wishes_versions_number")),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["users.id"], name=op.f("fk_care_wishes_versions_author_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_care_wishes_versions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_wishes_versions")),
        sa.UniqueConstraint("patient_id", "client_id", name="uq_care_wishes_versions_patient_client"),
        sa.UniqueConstraint("patient_id", "number", name="uq_care_wishes_versions_patient_number"),
    )
    op.create_table(
        "care_wishes_discussions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("discussed_on", sa.Date(), nullable=False),
        sa.Column("with_kind", sa.String(length=20), nullable=False),
        sa.Column("with_name", sa.String(length=200), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("with_kind IN ('family','clinician')", name=op.f("ck_care_wishes_discussions_with_kind")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_care_wishes_discussions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_care_wishes_discussions_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["care_wishes_versions.id"],
            name=op.f("fk_care_wishes_discussions_version_id_care_wishes_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_wishes_discussions")),
    )
    with op.batch_alter_table("care_wishes_discussions", schema=None) as batch_op:
        batch_op.create_index("ix_care_wishes_discussions_patient_on", ["patient_id", "discussed_on"], unique=False)
    for table in APPEND_ONLY:
        _create_append_only_triggers(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only_triggers(table)
    with op.batch_alter_table("care_wishes_discussions", schema=None) as batch_op:
        batch_op.drop_index("ix_care_wishes_discussions_patient_on")
    op.drop_table("care_wishes_discussions")
    op.drop_table("care_wishes_versions")

"""checkin steps: drafts of the stepped check-in, and reading preferences (issue 7, items 1-3)

``check_in_drafts`` keeps a check-in in progress, saved at every step, so it survives a tired hand, an
interruption or an ended session. ``reading_preferences`` keeps each person's text size, high contrast,
switch scanning and read-aloud settings.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_in_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("typed", sa.JSON(), nullable=False),
        sa.Column("started_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("sent_check_in_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_check_in_drafts_patient_id_patients")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_check_in_drafts_author_id_users")),
        sa.ForeignKeyConstraint(
            ["sent_check_in_id"], ["check_ins.id"], name=op.f("fk_check_in_drafts_sent_check_in_id_check_ins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_drafts")),
        sa.UniqueConstraint("patient_id", "client_id", name="uq_check_in_drafts_patient_client"),
    )
    op.create_index("ix_check_in_drafts_author_patient", "check_in_drafts", ["author_id", "patient_id"])
    op.create_table(
        "reading_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text_size", sa.Integer(), nullable=False),
        sa.Column("high_contrast", sa.Boolean(), nullable=False),
        sa.Column("scanning", sa.String(length=10), nullable=False),
        sa.Column("scan_seconds", sa.Double(), nullable=False),
        sa.Column("read_aloud", sa.Boolean(), nullable=False),
        sa.Column("updated_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reading_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reading_preferences")),
    )


def downgrade() -> None:
    op.drop_table("reading_preferences")
    op.drop_index("ix_check_in_drafts_author_patient", table_name="check_in_drafts")
    op.drop_table("check_in_drafts")

"""interop: research subjects (pseudonym and secret date shift per person, issue 13)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:30:00

The research consent scope itself needs no schema change (``consent_grants.scope`` is free text checked by
the actions); this adds the table that keeps each research subject's pseudonym and date offset stable.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "research_subjects",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("created_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name="fk_research_subjects_patient_id_patients"),
        sa.PrimaryKeyConstraint("patient_id", name="pk_research_subjects"),
        sa.UniqueConstraint("code", name="uq_research_subjects_code"),
    )


def downgrade() -> None:
    op.drop_table("research_subjects")

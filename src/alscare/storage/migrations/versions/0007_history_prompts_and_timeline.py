"""history prompts and timeline

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00

One table, ``prompt_refreshes``: when each person's guideline prompts were last worked out from their whole
history, so the worker's daily refresh goes through people in small batches (storage/models/history_prompts.py).
The timeline itself reads existing tables only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prompt_refreshes",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_prompt_refreshes_patient_id_patients")),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_prompt_refreshes")),
    )
    op.create_index("ix_prompt_refreshes_checked_at", "prompt_refreshes", ["checked_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_prompt_refreshes_checked_at", table_name="prompt_refreshes")
    op.drop_table("prompt_refreshes")

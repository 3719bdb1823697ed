"""summary forecast and pending sign-ups

The clinic table's three "expected to cross" ranges are stored in ``patient_summaries``. Self sign-ups wait in
``pending_sign_ups`` until their email is confirmed (issue 14, finding 5).

Computing the forecast for every row of a 10,000-person CSV export took seconds; the ranges are now computed
when a person's data change (and refreshed daily by the worker) like the other summary figures.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CROSSINGS = ("speech_at_most_2", "fvc_below_50", "total_at_most_24")


def upgrade() -> None:
    op.create_table(
        "pending_sign_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("created_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", alscare.storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_sign_ups")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_pending_sign_ups_token_digest")),
    )
    op.create_index("ix_pending_sign_ups_email", "pending_sign_ups", ["email"])
    with op.batch_alter_table("patient_summaries") as batch_op:
        for name in _CROSSINGS:
            batch_op.add_column(sa.Column(f"{name}_from", sa.Date(), nullable=True))
            batch_op.add_column(sa.Column(f"{name}_to", sa.Date(), nullable=True))
            batch_op.add_column(sa.Column(f"{name}_reached", sa.Boolean(), nullable=True))
        batch_op.create_index("ix_patient_summaries_refreshed_at", ["refreshed_at"])
    # Existing rows have no ranges yet: marked stale, so the worker's refresh of stale rows fills them first.
    summaries = sa.table("patient_summaries", sa.column("refreshed_at", sa.DateTime()))
    op.execute(sa.update(summaries).values(refreshed_at=datetime(2000, 1, 1)))


def downgrade() -> None:
    op.drop_index("ix_pending_sign_ups_email", table_name="pending_sign_ups")
    op.drop_table("pending_sign_ups")
    with op.batch_alter_table("patient_summaries") as batch_op:
        batch_op.drop_index("ix_patient_summaries_refreshed_at")
        for name in _CROSSINGS:
            batch_op.drop_column(f"{name}_reached")
            batch_op.drop_column(f"{name}_to")
            batch_op.drop_column(f"{name}_from")

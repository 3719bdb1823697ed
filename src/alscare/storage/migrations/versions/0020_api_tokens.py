"""api tokens

A clinic's own systems (its EHR, a registry) read the API with a bearer token (issue 13). Each token acts
through a service account (``users.is_service``) so that the clinic's consent grants and the audit trail apply
to it exactly as to a clinician. Only the token's digest is stored.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("is_service", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("service_user_id", sa.Integer(), nullable=False),
        sa.Column("responsible_user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", alscare.storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name="fk_api_tokens_clinic_id_clinics"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name="fk_api_tokens_created_by_id_users"),
        sa.ForeignKeyConstraint(["responsible_user_id"], ["users.id"], name="fk_api_tokens_responsible_user_id_users"),
        sa.ForeignKeyConstraint(["service_user_id"], ["users.id"], name="fk_api_tokens_service_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("service_user_id", name="uq_api_tokens_service_user_id"),
        sa.UniqueConstraint("token_digest", name="uq_api_tokens_token_digest"),
    )
    op.create_index("ix_api_tokens_clinic", "api_tokens", ["clinic_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_api_tokens_clinic", table_name="api_tokens")
    op.drop_table("api_tokens")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("is_service")

"""security hardening: shared sign-in throttles, refused-probe counters, room for sealed secrets

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:00:00

Two-step keys and webhook secrets are sealed at rest (alscare.security.secretbox) and need wider columns.
Existing plaintext values stay readable (they carry no ``sealed:`` marker) and are sealed at the next start
by ``alscare.actions.security.seal_legacy_secrets``: the key is not available to a migration by design.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", alscare.storage.models.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", alscare.storage.models.UTCDateTime(), nullable=True),
        sa.Column("alerted_at", alscare.storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_digest", name=op.f("pk_sign_in_throttles")),
    )
    op.create_table(
        "refused_probe_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("resource", sa.String(length=60), nullable=False),
        sa.Column("window_start", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_probe_counts")),
        sa.UniqueConstraint(
            "actor_user_id", "patient_id", "resource", "window_start", name="uq_refused_probe_counts_window"
        ),
    )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=255))
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=128), type_=sa.String(length=255))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=255), type_=sa.String(length=128))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=255), type_=sa.String(length=64))
    op.drop_table("refused_probe_counts")
    op.drop_table("sign_in_throttles")

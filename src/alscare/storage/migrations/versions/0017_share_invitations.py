"""share invitations

Sharing a record with a person is now always an invitation the person accepts (issue 14, finding 5): the sharer
sees the same "waiting for them to accept" answer whether or not the email has an account. ``invitations``
records who accepted (an existing account signs in and accepts, so the acceptor is not always a new user).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.add_column(sa.Column("accepted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_invitations_accepted_by_id_users"), "users", ["accepted_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_constraint(op.f("fk_invitations_accepted_by_id_users"), type_="foreignkey")
        batch_op.drop_column("accepted_by_id")

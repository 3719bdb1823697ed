"""security hardening

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:00:00

Reserved in the chain so that work on several domains can proceed side by side; it changes nothing until
its domain's tables are added here.
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

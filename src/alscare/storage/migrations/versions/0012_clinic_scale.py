"""clinic scale: reserved for the scalepages stream (empty until it needs a schema change)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """No schema change (yet)."""


def downgrade() -> None:
    """No schema change (yet)."""

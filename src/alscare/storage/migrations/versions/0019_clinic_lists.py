"""clinic lists: reserved for issue 11 part B (empty until it needs a schema change)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 01:10:00
"""

from collections.abc import Sequence

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """No schema change (yet)."""


def downgrade() -> None:
    """No schema change (yet)."""

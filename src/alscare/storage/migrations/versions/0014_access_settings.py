"""access settings: emergency text registration, and the carer's weekly check on themselves

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 09:30:00

Two tables (storage/models/access.py): ``emergency_text_registrations``, a person's note that they registered
their phone with their country's emergency text service, and ``carer_checks``, a carer's weekly answers about
how they are coping, with whether (with their consent) the clinic was told.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dt = alscare.storage.models.UTCDateTime
    op.create_table(
        "emergency_text_registrations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.String(length=40), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("updated_at", dt(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_emergency_text_registrations_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_emergency_text_registrations")),
    )
    op.create_table(
        "carer_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carer_user_id", sa.Integer(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("sleep", sa.SmallInteger(), nullable=False),
        sa.Column("strain", sa.SmallInteger(), nullable=False),
        sa.Column("support", sa.SmallInteger(), nullable=False),
        sa.Column("own_time", sa.SmallInteger(), nullable=False),
        sa.Column("coping", sa.SmallInteger(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("clinic_told", sa.Boolean(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", dt(), nullable=False),
        sa.CheckConstraint(
            "sleep BETWEEN 0 AND 3 AND strain BETWEEN 0 AND 3 AND support BETWEEN 0 AND 3 "
            "AND own_time BETWEEN 0 AND 3 AND coping BETWEEN 0 AND 3",
            name=op.f("ck_carer_checks_answers_in_range"),
        ),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_carer_checks_alert_id_alerts")),
        sa.ForeignKeyConstraint(["carer_user_id"], ["users.id"], name=op.f("fk_carer_checks_carer_user_id_users")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_carer_checks_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carer_checks")),
        sa.UniqueConstraint("carer_user_id", "week_of", name=op.f("uq_carer_checks_carer_week")),
    )
    op.create_index("ix_carer_checks_carer_week", "carer_checks", ["carer_user_id", "week_of"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_carer_checks_carer_week", table_name="carer_checks")
    op.drop_table("carer_checks")
    op.drop_table("emergency_text_registrations")

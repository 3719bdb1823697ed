"""clinic dashboard and phone numbers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:00:00

Phone numbers for people with ALS and their carers, the person's choice to see their own outlook page, the
dashboard's per-person summary and the list of people each clinic-wide page view showed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("prognosis_opt_in", sa.Boolean(), server_default=sa.false(), nullable=False))
    dt = alscare.storage.models.UTCDateTime
    op.create_table(
        "patient_summaries",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", dt(), nullable=False),
        sa.Column("last_check_in_at", dt(), nullable=True),
        sa.Column("last_check_in_tier", sa.String(length=20), nullable=True),
        sa.Column("last_alsfrs_on", sa.Date(), nullable=True),
        sa.Column("last_alsfrs_total", sa.Integer(), nullable=True),
        sa.Column("alsfrs_change_3m", sa.Integer(), nullable=True),
        sa.Column("slope_per_month", sa.Float(), nullable=True),
        sa.Column("slope_se", sa.Float(), nullable=True),
        sa.Column("delta_fs", sa.Float(), nullable=True),
        sa.Column("kings_stage", sa.String(length=4), nullable=True),
        sa.Column("kings_rank", sa.Integer(), nullable=True),
        sa.Column("mitos_stage", sa.Integer(), nullable=True),
        sa.Column("latest_fvc_percent", sa.Float(), nullable=True),
        sa.Column("latest_fvc_at", dt(), nullable=True),
        sa.Column("latest_weight_kg", sa.Float(), nullable=True),
        sa.Column("weight_change_percent", sa.Float(), nullable=True),
        sa.Column("symptom_due_at", dt(), nullable=True),
        sa.Column("alsfrs_due_at", dt(), nullable=True),
        sa.Column("next_due_at", dt(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_patient_summaries_patient_id_patients")),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_summaries")),
    )
    op.create_index("ix_patient_summaries_next_due_at", "patient_summaries", ["next_due_at"], unique=False)
    op.create_table(
        "audit_event_patients",
        sa.Column("audit_event_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_event_id"], ["audit_events.id"], name=op.f("fk_audit_event_patients_audit_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("audit_event_id", "patient_id", name=op.f("pk_audit_event_patients")),
    )
    op.create_index("ix_audit_event_patients_patient_id", "audit_event_patients", ["patient_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_event_patients_patient_id", table_name="audit_event_patients")
    op.drop_table("audit_event_patients")
    op.drop_index("ix_patient_summaries_next_due_at", table_name="patient_summaries")
    op.drop_table("patient_summaries")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("prognosis_opt_in")
        batch.drop_column("phone")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone")

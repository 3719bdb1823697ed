"""diagnosis journey

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:00:00

The tests on a person's diagnosis journey (status, dates, notes) and their MRI safety checklist
(alscare.storage.models.diagnosis).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diagnosis_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("discussed_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('planned','done','result_discussed')", name=op.f("ck_diagnosis_tests_status")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_diagnosis_tests_patient_id_patients")),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"], ["users.id"], name=op.f("fk_diagnosis_tests_updated_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnosis_tests")),
        sa.UniqueConstraint("patient_id", "kind", name=op.f("uq_diagnosis_tests_patient_id")),
    )
    with op.batch_alter_table("diagnosis_tests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diagnosis_tests_patient_id"), ["patient_id"], unique=False)
    op.create_table(
        "mri_safety_checklists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_mri_safety_checklists_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"], ["users.id"], name=op.f("fk_mri_safety_checklists_updated_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mri_safety_checklists")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_mri_safety_checklists_patient_id")),
    )


def downgrade() -> None:
    op.drop_table("mri_safety_checklists")
    with op.batch_alter_table("diagnosis_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diagnosis_tests_patient_id"))
    op.drop_table("diagnosis_tests")

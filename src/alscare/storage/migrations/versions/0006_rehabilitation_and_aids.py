"""rehabilitation and aids

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:00:00

Rehabilitation programmes (chosen exercises with sessions per week), exercise logs (done or skipped, how
tiring, stored once per client_id), aid requests and their status history (issue 10 items 3 and 4).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscare.storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aid_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("aid_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested','assessed','ordered','delivered','declined')", name=op.f("ck_aid_requests_status")
        ),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_aid_requests_clinic_id_clinics")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_aid_requests_patient_id_patients")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_aid_requests_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aid_requests")),
    )
    with op.batch_alter_table("aid_requests", schema=None) as batch_op:
        batch_op.create_index("ix_aid_requests_clinic_status", ["clinic_id", "status"], unique=False)
        batch_op.create_index("ix_aid_requests_patient", ["patient_id"], unique=False)

    op.create_table(
        "rehab_programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("stopped_at", alscare.storage.models.UTCDateTime(), nullable=True),
        sa.Column("stopped_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_rehab_programmes_assigned_by_id_users")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_rehab_programmes_patient_id_patients")),
        sa.ForeignKeyConstraint(["stopped_by_id"], ["users.id"], name=op.f("fk_rehab_programmes_stopped_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rehab_programmes")),
    )
    with op.batch_alter_table("rehab_programmes", schema=None) as batch_op:
        batch_op.create_index("ix_rehab_programmes_patient_stopped", ["patient_id", "stopped_at"], unique=False)

    op.create_table(
        "rehab_exercise_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.String(length=40), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("tiring", sa.Integer(), nullable=True),
        sa.Column("logged_by_id", sa.Integer(), nullable=False),
        sa.Column("logged_at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.CheckConstraint("outcome IN ('done','skipped')", name=op.f("ck_rehab_exercise_logs_outcome")),
        sa.CheckConstraint("tiring IS NULL OR tiring BETWEEN 0 AND 10", name=op.f("ck_rehab_exercise_logs_tiring")),
        sa.ForeignKeyConstraint(["logged_by_id"], ["users.id"], name=op.f("fk_rehab_exercise_logs_logged_by_id_users")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_rehab_exercise_logs_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["rehab_programmes.id"], name=op.f("fk_rehab_exercise_logs_programme_id_rehab_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rehab_exercise_logs")),
        sa.UniqueConstraint("patient_id", "client_id", name="uq_rehab_exercise_logs_patient_client"),
    )
    with op.batch_alter_table("rehab_exercise_logs", schema=None) as batch_op:
        batch_op.create_index("ix_rehab_exercise_logs_programme_on", ["programme_id", "done_on"], unique=False)

    op.create_table(
        "rehab_programme_exercises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.String(length=40), nullable=False),
        sa.Column("times_per_week", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("times_per_week BETWEEN 1 AND 14", name=op.f("ck_rehab_programme_exercises_times_per_week")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["rehab_programmes.id"],
            name=op.f("fk_rehab_programme_exercises_programme_id_rehab_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rehab_programme_exercises")),
        sa.UniqueConstraint("programme_id", "exercise_id", name="uq_rehab_programme_exercises_programme_exercise"),
    )
    op.create_table(
        "aid_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", alscare.storage.models.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested','assessed','ordered','delivered','declined')",
            name=op.f("ck_aid_request_events_status"),
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_aid_request_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_aid_request_events_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["aid_requests.id"], name=op.f("fk_aid_request_events_request_id_aid_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aid_request_events")),
    )
    with op.batch_alter_table("aid_request_events", schema=None) as batch_op:
        batch_op.create_index("ix_aid_request_events_request", ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("aid_request_events", schema=None) as batch_op:
        batch_op.drop_index("ix_aid_request_events_request")

    op.drop_table("aid_request_events")
    op.drop_table("rehab_programme_exercises")
    with op.batch_alter_table("rehab_exercise_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_rehab_exercise_logs_programme_on")

    op.drop_table("rehab_exercise_logs")
    with op.batch_alter_table("rehab_programmes", schema=None) as batch_op:
        batch_op.drop_index("ix_rehab_programmes_patient_stopped")

    op.drop_table("rehab_programmes")
    with op.batch_alter_table("aid_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_aid_requests_patient")
        batch_op.drop_index("ix_aid_requests_clinic_status")

    op.drop_table("aid_requests")

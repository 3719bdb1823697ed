"""The diagnosis journey: the tests a person has on the way to (or after) a diagnosis, and their MRI safety
checklist. Part of the check-ins scope of a record (see ``alscare.actions.diagnosis``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime

TEST_STATUSES = ("planned", "done", "result_discussed")


class DiagnosisTest(Base):
    """One kind of test on a person's journey (EMG, MRI, …): where it stands, its dates and notes.

    One row per person and kind: a repeated test updates its row (the notes say when it was repeated).
    """

    __tablename__ = "diagnosis_tests"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind"),
        CheckConstraint("status IN ('planned','done','result_discussed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    planned_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    discussed_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MriSafetyChecklist(Base):
    """A person's answers to the MRI safety questions (item id → no / yes / unsure), one per person."""

    __tablename__ = "mri_safety_checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[str | None] = mapped_column(Text)
    updated_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

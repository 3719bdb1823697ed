"""Tables of the access stream (issue 7): a person's note that they registered with their country's emergency
text service, and a carer's weekly check on how they themselves are coping (migration 0014)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class EmergencyTextRegistration(Base):
    """The person says they registered their phone with the text route (``clinical/emergency_text.py``).

    alscare cannot check this with the service; it is the person's own note, so the emergency screen can say
    "you registered" and the settings stop prompting. Deleting the row takes the note back."""

    __tablename__ = "emergency_text_registrations"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(40))
    registered_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CarerCheck(Base):
    """A carer's answers about themselves for one week (``clinical/carer_check.py``), one row per carer per week.

    Answering again in the same week replaces the answers. ``clinic_told`` is set only when the carer said they
    cannot cope *and* agreed to tell the clinic of the person they care for; ``alert_id`` is that alert."""

    __tablename__ = "carer_checks"
    __table_args__ = (
        UniqueConstraint("carer_user_id", "week_of", name="uq_carer_checks_carer_week"),
        CheckConstraint(
            "sleep BETWEEN 0 AND 3 AND strain BETWEEN 0 AND 3 AND support BETWEEN 0 AND 3 "
            "AND own_time BETWEEN 0 AND 3 AND coping BETWEEN 0 AND 3",
            name="answers_in_range",
        ),
        Index("ix_carer_checks_carer_week", "carer_user_id", "week_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    week_of: Mapped[date] = mapped_column(Date)  # the Monday of the week answered
    sleep: Mapped[int] = mapped_column(SmallInteger)
    strain: Mapped[int] = mapped_column(SmallInteger)
    support: Mapped[int] = mapped_column(SmallInteger)
    own_time: Mapped[int] = mapped_column(SmallInteger)
    coping: Mapped[int] = mapped_column(SmallInteger)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))  # whose clinic was told, if any
    clinic_told: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Tables for rehabilitation programmes and their logs, and for requests for aids (issue 10 items 3 and 4).

A *programme* is what a therapist assigned to a person: chosen exercises from the library
(``clinical/rehabilitation.py``), each with a number of sessions per week. A person has at most one active
programme (``stopped_at`` empty); assigning a new one stops the old one, so the history is kept.
A *log* is one session done or skipped, with how tiring it was (0-10). Retried submissions are stored once
(``client_id``, the form's own id).

An *aid request* is the person's request to discuss an aid: a task for their clinic whose status moves
requested → assessed → ordered → delivered (or declined). Every change is an ``AidRequestEvent`` with who and
when, so the status history is never overwritten.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alscare.storage.models import Base, Patient, User, UTCDateTime

__all__ = ["AidRequest", "AidRequestEvent", "ExerciseLog", "ProgrammeExercise", "RehabProgramme"]

_AID_STATUSES = "'requested','assessed','ordered','delivered','declined'"


class RehabProgramme(Base):
    __tablename__ = "rehab_programmes"
    __table_args__ = (Index("ix_rehab_programmes_patient_stopped", "patient_id", "stopped_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    starts_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    patient: Mapped[Patient] = relationship()
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])
    exercises: Mapped[list[ProgrammeExercise]] = relationship(
        order_by="ProgrammeExercise.position", cascade="all, delete-orphan"
    )


class ProgrammeExercise(Base):
    __tablename__ = "rehab_programme_exercises"
    __table_args__ = (
        UniqueConstraint("programme_id", "exercise_id", name="uq_rehab_programme_exercises_programme_exercise"),
        CheckConstraint("times_per_week BETWEEN 1 AND 14", name="times_per_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("rehab_programmes.id"))
    exercise_id: Mapped[str] = mapped_column(String(40))
    times_per_week: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class ExerciseLog(Base):
    __tablename__ = "rehab_exercise_logs"
    __table_args__ = (
        UniqueConstraint("patient_id", "client_id", name="uq_rehab_exercise_logs_patient_client"),
        CheckConstraint("outcome IN ('done','skipped')", name="outcome"),
        CheckConstraint("tiring IS NULL OR tiring BETWEEN 0 AND 10", name="tiring"),
        Index("ix_rehab_exercise_logs_programme_on", "programme_id", "done_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("rehab_programmes.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    exercise_id: Mapped[str] = mapped_column(String(40))
    done_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(10))
    tiring: Mapped[int | None] = mapped_column(Integer)
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[str] = mapped_column(String(64))

    logged_by: Mapped[User] = relationship()


class AidRequest(Base):
    __tablename__ = "aid_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({_AID_STATUSES})", name="status"),
        Index("ix_aid_requests_clinic_status", "clinic_id", "status"),
        Index("ix_aid_requests_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    aid_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    patient: Mapped[Patient] = relationship()
    requested_by: Mapped[User] = relationship()
    events: Mapped[list[AidRequestEvent]] = relationship(order_by="AidRequestEvent.id")


class AidRequestEvent(Base):
    __tablename__ = "aid_request_events"
    __table_args__ = (
        CheckConstraint(f"status IN ({_AID_STATUSES})", name="status"),
        Index("ix_aid_request_events_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("aid_requests.id"))
    status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))

    actor: Mapped[User] = relationship()

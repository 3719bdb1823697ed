"""A person's medicine list, with its full history.

Decision (docs/decisions/0004-medicines-and-sharing-scopes.md): the list is one row per medicine
(``medicine_entries``, the current state, easy to query), and every change to a row — added, changed,
stopped, a liver test marked done — is also written to ``medicine_changes``, an **append-only** log (UPDATE
and DELETE refused by database triggers, like the audit trail) holding who, when, on whose behalf and a
snapshot of the entry after the change. The history page reads the log; nothing is ever lost.

Liver tests for riluzole are recorded on the entry they monitor (``medicine_liver_tests``: the date the test
was done, who recorded it), also append-only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alscare.storage.models import Base, User, UTCDateTime

CHANGE_KINDS = ("added", "changed", "stopped", "liver_test")


class MedicineEntry(Base):
    """One medicine on a person's list: from the catalogue (``catalogue_id``) or free text (``name`` only)."""

    __tablename__ = "medicine_entries"
    __table_args__ = (Index("ix_medicine_entries_patient", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    catalogue_id: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    dose: Mapped[str | None] = mapped_column(String(200))
    started_on: Mapped[date | None] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    prescriber: Mapped[str | None] = mapped_column(String(200))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])


class MedicineChange(Base):
    """One change to a medicine entry (append-only): the entry as it stood after the change."""

    __tablename__ = "medicine_changes"
    __table_args__ = (
        CheckConstraint("kind IN ('added','changed','stopped','liver_test')", name="kind"),
        Index("ix_medicine_changes_entry", "entry_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("medicine_entries.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    # Who made the change, and as whom: "self", "proxy", "caregiver" or "clinician".
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_as: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    changed_by: Mapped[User] = relationship()


class MedicineLiverTest(Base):
    """A liver test (ALT) done for a medicine that needs one (riluzole): the date it was done."""

    __tablename__ = "medicine_liver_tests"
    __table_args__ = (Index("ix_medicine_liver_tests_entry", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("medicine_entries.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    done_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    recorded_by: Mapped[User] = relationship()

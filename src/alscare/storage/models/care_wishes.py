"""Care wishes: every save a new version that never changes, and notes of who they were discussed with.

Both tables are append-only: database triggers (migration 0003) refuse UPDATE and DELETE on them, on SQLite
and PostgreSQL alike, as for the audit trail. A change of mind is a new version; a talk about a version is
a new discussion row. Nothing is ever edited in place, so the history the person sees is the history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class CareWishesVersion(Base):
    """One saved version of a person's care wishes. ``number`` counts 1, 2, 3 … per person.

    ``author_user_id`` wrote it; ``patient_id`` is whose wishes they are (on whose behalf); ``author_capacity``
    says whether the author was the person (``self``) or their proxy (``proxy``).
    """

    __tablename__ = "care_wishes_versions"
    __table_args__ = (
        UniqueConstraint("patient_id", "number", name="uq_care_wishes_versions_patient_number"),
        UniqueConstraint("patient_id", "client_id", name="uq_care_wishes_versions_patient_client"),
        CheckConstraint("author_capacity IN ('self','proxy')", name="author_capacity"),
        CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    number: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_capacity: Mapped[str] = mapped_column(String(10))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The submitting form's own id: a retried save finds the stored version instead of adding another.
    client_id: Mapped[str | None] = mapped_column(String(64))


class CareWishesDiscussion(Base):
    """The person (or their proxy) notes that a version was talked over with family or a named clinician."""

    __tablename__ = "care_wishes_discussions"
    __table_args__ = (
        CheckConstraint("with_kind IN ('family','clinician')", name="with_kind"),
        Index("ix_care_wishes_discussions_patient_on", "patient_id", "discussed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("care_wishes_versions.id"))
    discussed_on: Mapped[date] = mapped_column(Date)
    with_kind: Mapped[str] = mapped_column(String(20))
    with_name: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

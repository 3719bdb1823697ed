"""The stepped check-in's drafts, and each person's reading and switch settings (issue 7, items 1-3).

A ``CheckInDraft`` holds the answers of a check-in in progress, saved at every step, so that a person who
tires, is interrupted or whose session ends comes back to the step they were on with what they typed. Its
``client_id`` becomes the check-in's own id when it is sent, so sending twice stores one check-in
(decision 0001). A draft is the author's own: it is never shown to anyone else, and it is not part of the
record until it is sent.

``ReadingPreferences`` are per person (per account), not per device, so they follow the person to any
browser: text size, high contrast, switch scanning and its speed, and read-aloud.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class CheckInDraft(Base):
    __tablename__ = "check_in_drafts"
    __table_args__ = (
        UniqueConstraint("patient_id", "client_id", name="uq_check_in_drafts_patient_client"),
        Index("ix_check_in_drafts_author_patient", "author_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(30))
    # The answers so far, in the shape ``actions.checkins.record_check_in`` takes (the API shape).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What was typed on a step but could not be accepted yet (a number out of range), by field name, so it
    # comes back exactly as typed.
    typed: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_check_in_id: Mapped[int | None] = mapped_column(ForeignKey("check_ins.id"))


class ReadingPreferences(Base):
    __tablename__ = "reading_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    text_size: Mapped[int] = mapped_column(Integer, default=100)  # per cent of the normal size
    high_contrast: Mapped[bool] = mapped_column(Boolean, default=False)
    scanning: Mapped[str] = mapped_column(String(10), default="off")  # off, one (switch), two (switches)
    scan_seconds: Mapped[float] = mapped_column(default=1.5)  # how long each answer stays highlighted
    read_aloud: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

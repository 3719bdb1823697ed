"""When a person's guideline prompts were last worked out from their whole history (issue 8).

The worker refreshes prompts on a schedule so that prompts that fire with the passage of time alone (a review
or breathing assessment overdue) are raised even when nothing new is recorded. One row per person says when
that last happened, so the worker picks only those not refreshed today, in small batches, instead of scanning
everyone every cycle. Check-ins and assessments refresh at once and update the row too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class PromptRefresh(Base):
    __tablename__ = "prompt_refreshes"
    __table_args__ = (Index("ix_prompt_refreshes_checked_at", "checked_at"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())

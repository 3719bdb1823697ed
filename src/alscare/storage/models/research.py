"""Research subjects (issue 13, item 4): the pseudonym and secret date shift of each person in a research set.

Made the first time a person appears in a research export and never changed, so every export of the same
clinic gives the same pseudonym and the same shifted dates (a study can join exports over time), and nobody
who sees the data set can recover the true dates. The table is never exported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class ResearchSubject(Base):
    __tablename__ = "research_subjects"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    offset_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Sections of the visit summary PDF that other domains fill: medicines and care wishes.

SEAMS for the lead. Until those domains exist these return nothing, and the PDF says plainly that nothing is
recorded. Point them at:

* ``current_medicines`` → ``alscare.actions.medicines.current_medicines`` (one line of text per medicine);
* ``care_wishes_summary`` → ``alscare.actions.care_wishes.latest_summary`` (a short text, or None).

Each of those should open the record itself under its own scope (``medicines``, ``care_wishes``) so the read is
audited and follows consent; ``actor``, ``now`` and ``source_ip`` are passed for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from alscare.storage.models import User


def current_medicines(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> list[str]:
    """SEAM: the person's current medicines, one line each. Nothing is recorded until medicines exist."""
    return []


def care_wishes_summary(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> str | None:
    """SEAM: a short summary of the person's latest care wishes. None until care wishes exist."""
    return None


@dataclass(frozen=True)
class OtherSections:
    medicines: list[str]
    care_wishes: str | None


def other_sections(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> OtherSections:
    return OtherSections(
        medicines=current_medicines(db, actor=actor, patient_id=patient_id, now=now, source_ip=source_ip),
        care_wishes=care_wishes_summary(db, actor=actor, patient_id=patient_id, now=now, source_ip=source_ip),
    )

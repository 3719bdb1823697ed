"""A demo clinic that looks alive: two years of check-ins, ALSFRS-R, alerts in every state, overdue people and
answered and unanswered messages, beside the hand-made demo people of ``alscare.demo``.

Called once from ``seed_demo`` (first start only). Built with bulk inserts (``alscare.synthetic_clinic``), so
start-up stays at a few seconds; the history is fictional and carries no audit events (nobody read it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.storage.models import User
from alscare.synthetic_clinic import build_synthetic_clinic

DEMO_CLINIC_PEOPLE: Final = 36


def seed_clinic_history(db: Session, *, now: datetime, clinician_email: str) -> int:
    """Add the synthetic people to the demo clinic of ``clinician_email``; returns how many were added."""
    clinician = db.execute(select(User).where(User.email == clinician_email)).scalar_one_or_none()
    if clinician is None or clinician.clinic_id is None:
        return 0
    built = build_synthetic_clinic(
        db,
        people=DEMO_CLINIC_PEOPLE,
        now=now,
        seed=2026,
        clinic_id=clinician.clinic_id,
        clinician_id=clinician.id,
        password_hash="!demo-history-no-sign-in",
    )
    return len(built.patient_ids)

"""Sections of the visit summary PDF that other domains fill: medicines and care wishes.

Each section is read only when the reader may see that part of the record (its own consent scope:
``medicines``, ``care_wishes``), and then through ``open_record`` so the read is audited like any other. A
reader without the scope gets ``None`` for that section and the PDF says it is not shared with them, which is
different from "nothing recorded".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions import care_wishes as care_wishes_actions
from alscare.actions import medicines as medicine_actions
from alscare.actions.records import may, open_record
from alscare.storage.models import Patient, User


def _opened(db: Session, *, actor: User, patient_id: int, scope: Scope, now: datetime, source_ip: str | None) -> bool:
    """Whether ``actor`` may read ``scope``; when so the read is audited (resource named after the scope)."""
    patient = db.get(Patient, patient_id)
    if patient is None or not may(db, user=actor, patient=patient, scope=scope):
        return False
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=scope,
        action=Action.READ,
        now=now,
        resource=f"visit_summary_{scope.value}",
        source_ip=source_ip,
    )
    return True


def current_medicines(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> list[str] | None:
    """The person's current medicines, one line each ("Riluzole, 50 mg twice a day, since 15 Jan 2026");
    ``None`` when the reader may not see the medicine list."""
    if not _opened(db, actor=actor, patient_id=patient_id, scope=Scope.MEDICINES, now=now, source_ip=source_ip):
        return None
    lines = []
    for m in medicine_actions.current_medicines(db, patient_id=patient_id, on=now.date()):
        parts = [m.name]
        if m.dose:
            parts.append(m.dose)
        if m.started_on:
            parts.append(f"since {m.started_on.strftime('%-d %b %Y')}")
        if m.withdrawn:
            parts.append("WITHDRAWN medicine: review")
        lines.append(", ".join(parts))
    return lines


def care_wishes_summary(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> list[str] | None:
    """The latest care wishes as short lines ("Resuscitation: CPR — No"); ``[]`` when none are written and
    ``None`` when the reader may not see them."""
    if not _opened(db, actor=actor, patient_id=patient_id, scope=Scope.CARE_WISHES, now=now, source_ip=source_ip):
        return None
    summary = care_wishes_actions.latest_summary(db, patient_id=patient_id)
    if summary is None:
        return []
    lines = [f"Version {summary.version_number} of {summary.saved_at.strftime('%-d %b %Y')}, by {summary.author_name}."]
    if summary.last_discussed_on:
        lines.append(f"Last discussed on {summary.last_discussed_on.strftime('%-d %b %Y')}.")
    for section in summary.sections:
        lines.extend(f"{section.title}: {question} — {answer}" for question, answer in section.answers)
    return lines


@dataclass(frozen=True)
class OtherSections:
    medicines: list[str] | None
    care_wishes: list[str] | None


def other_sections(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> OtherSections:
    return OtherSections(
        medicines=current_medicines(db, actor=actor, patient_id=patient_id, now=now, source_ip=source_ip),
        care_wishes=care_wishes_summary(db, actor=actor, patient_id=patient_id, now=now, source_ip=source_ip),
    )

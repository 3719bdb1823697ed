"""Phone numbers: the person's own (on their record) and a carer's (on their account), for the care team.

Shown to clinicians of a clinic the person shares check-ins with (the clinician's view of an alert), as tel:
links. Written only by the account's owner; the person's number can also be set by their proxy.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.audit import record_event
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import open_record, own_patient
from alscare.storage.models import User

PHONE_MAX_CHARS: Final = 40
# Digits, spaces and the usual separators; an optional leading + for the international form (E.164 allows at
# most 15 digits; 7 is the shortest subscriber number we accept, so a typo like "123" is caught).
_ALLOWED: Final = re.compile(r"^\+?[0-9 ()\-.]+$")
DIGITS_MIN: Final = 7
DIGITS_MAX: Final = 15


def check_phone(value: str, *, field: str = "phone") -> str | None:
    """The number tidied (spaces collapsed), or None for an empty entry; ``InvalidInput`` naming ``field``."""
    text = " ".join(value.split())
    if not text:
        return None
    if len(text) > PHONE_MAX_CHARS:
        raise InvalidInput(field, f"Use at most {PHONE_MAX_CHARS} characters.")
    if not _ALLOWED.match(text):
        raise InvalidInput(field, "Use only digits, spaces, brackets, dashes and a + at the start.")
    digits = sum(ch.isdigit() for ch in text)
    if not DIGITS_MIN <= digits <= DIGITS_MAX:
        raise InvalidInput(field, f"Enter a phone number with {DIGITS_MIN} to {DIGITS_MAX} digits.")
    return text


def phone_of(db: Session, *, user: User) -> str | None:
    """The number the account page shows: a person's own record's, anyone else's account's."""
    if user.role == "patient":
        patient = own_patient(db, user=user)
        return patient.phone if patient is not None else None
    return user.phone


def set_phone(db: Session, *, actor: User, phone: str, now: datetime, source_ip: str | None = None) -> str | None:
    """Set (or clear, with an empty string) the actor's own number. Returns the stored number."""
    number = check_phone(phone)
    if actor.role == "patient":
        patient = own_patient(db, user=actor)
        if patient is None:
            raise NotFound("No record.")
        open_record(
            db,
            user=actor,
            patient_id=patient.id,
            scope=Scope.PROFILE,
            action=Action.WRITE,
            now=now,
            resource="phone",
            source_ip=source_ip,
        )
        patient.phone = number
    else:
        actor.phone = number
        record_event(
            db, now=now, actor_user_id=actor.id, patient_id=None, action="write", resource="phone", source_ip=source_ip
        )
    db.flush()
    return number

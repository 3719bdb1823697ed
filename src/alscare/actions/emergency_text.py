"""The person's own note that they registered their phone with their country's emergency text service.

One action per change, one transaction each (the caller commits). alscare cannot ask the service whether a
phone is registered, so this is only the person's word, shown back to them on the emergency screen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alscare.actions.errors import InvalidInput
from alscare.clinical.emergency_text import route
from alscare.storage.models import User
from alscare.storage.models.access import EmergencyTextRegistration

__all__ = ["note_registered", "registration_of", "take_back"]


def registration_of(db: Session, *, user: User) -> EmergencyTextRegistration | None:
    return db.get(EmergencyTextRegistration, user.id)


def note_registered(db: Session, *, user: User, route_id: str, now: datetime) -> EmergencyTextRegistration:
    """Note that ``user`` registered with ``route_id`` today (again: the date moves on)."""
    if route(route_id) is None:
        raise InvalidInput("route_id", "Choose the emergency text service you registered with.")
    row = db.get(EmergencyTextRegistration, user.id)
    if row is None:
        row = EmergencyTextRegistration(user_id=user.id, route_id=route_id, registered_on=now.date(), updated_at=now)
        db.add(row)
    else:
        row.route_id, row.registered_on, row.updated_at = route_id, now.date(), now
    db.flush()
    return row


def take_back(db: Session, *, user: User) -> None:
    row = db.get(EmergencyTextRegistration, user.id)
    if row is not None:
        db.delete(row)
        db.flush()

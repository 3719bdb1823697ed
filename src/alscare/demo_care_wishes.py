"""Demo care wishes: Tomás Reyes wrote his own and talked them over with his sister Rosa and Dr Okafor;
Amira Haddad wrote hers, and her son Yusuf (her proxy) later added a change for her.

Called once from ``alscare.demo.seed_demo`` after the rest of the demo is seeded; made through the actions,
so the versions, the audit trail and the "discussed with" notes are as in real use. Everyone is fictional
(see ``alscare.demo``); the phone numbers are from the UK range kept for drama (020 7946 0xxx, 07700 900xxx).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions.care_wishes import mark_discussed, save_care_wishes
from alscare.storage.models import Patient, User

TOMAS = "tomas@demo.alscare.example"
AMIRA = "amira@demo.alscare.example"
YUSUF = "yusuf@demo.alscare.example"

_TOMAS_WISHES: dict[str, Any] = {
    "what_matters": {"text": "Being at home with Rosa and the dogs. Watching football with my friends."},
    "breathing": {
        "niv": "yes",
        "invasive_ventilation": "no",
        "notes": "I would rather be comfortable than kept alive on a machine for a long time.",
    },
    "feeding_tube": {"feeding_tube": "undecided"},
    "resuscitation": {"cpr": "no"},
    "hospital": {"hospital": "only_if", "hospital_condition": "the problem can be fixed and I can come home soon"},
    "place": {"place_of_care": "home", "place_of_death": "home"},
    "proxy": {"name": "Rosa Reyes", "relationship": "my sister", "phone": "07700 900461"},
    "communication": {"methods": ["speech", "writing"], "how": "Give me time to answer. My speech is slow."},
    "donation": {"donation": "brain", "detail": "Ask the clinic about the brain bank."},
}

_AMIRA_FIRST: dict[str, Any] = {
    "what_matters": {"text": "My children and grandchildren. Not being in pain."},
    "breathing": {"niv": "yes", "invasive_ventilation": "undecided"},
    "resuscitation": {"cpr": "undecided"},
    "proxy": {"name": "Yusuf Haddad", "relationship": "my son", "phone": "07700 900318"},
    "communication": {"methods": ["letter_board", "device"], "how": "I use a speech app on my tablet."},
}
_AMIRA_SECOND: dict[str, Any] = {
    **_AMIRA_FIRST,
    "breathing": {"niv": "yes", "invasive_ventilation": "no"},
    "resuscitation": {"cpr": "no"},
    "place": {"place_of_care": "home", "place_of_death": "hospice"},
}


def _person(db: Session, email: str) -> tuple[User, Patient] | None:
    user = db.execute(select(User).where(User.email == email)).scalar_one_or_none()
    patient = db.execute(select(Patient).where(Patient.user_id == user.id)).scalar_one_or_none() if user else None
    return (user, patient) if user and patient else None


def plan_care_wishes(
    add: Callable[[datetime, Callable[[datetime], object]], None], db: Session, *, now: datetime
) -> None:
    """Queue care wishes for two demo people in the last two days before ``now`` (after the newest ALSFRS-R).

    The steps join the demo's one time-ordered plan, so the audit trail reads as a history; each looks its
    people up when it runs and does nothing for a person who is not there.
    """

    def save(email: str, answers: dict[str, Any], *, author_email: str | None = None) -> Callable[[datetime], None]:
        def step(at: datetime) -> None:
            found = _person(db, email)
            if found is None:
                return
            user, patient = found
            author = (
                db.execute(select(User).where(User.email == author_email)).scalar_one_or_none()
                if author_email
                else None
            )
            _save(db, author or user, patient, answers, at)

        return step

    def talked(kind: str, name: str) -> Callable[[datetime], None]:
        def step(at: datetime) -> None:
            found = _person(db, TOMAS)
            if found is not None:
                _talked(db, found[0], found[1], kind, name, at)

        return step

    add(now - timedelta(days=2, hours=3), save(TOMAS, _TOMAS_WISHES))
    for days_ago, kind, name in ((2, "family", "Rosa"), (1, "clinician", "Dr Chidi Okafor")):
        add(now - timedelta(days=days_ago) + timedelta(hours=2), talked(kind, name))
    add(now - timedelta(days=2), save(AMIRA, _AMIRA_FIRST))
    add(now - timedelta(days=1), save(AMIRA, _AMIRA_SECOND, author_email=YUSUF))


def _save(db: Session, user: User, patient: Patient, answers: dict[str, Any], at: datetime) -> None:
    save_care_wishes(db, actor=user, patient_id=patient.id, answers=answers, now=at)


def _talked(db: Session, user: User, patient: Patient, kind: str, name: str, at: datetime) -> None:
    mark_discussed(
        db,
        actor=user,
        patient_id=patient.id,
        number=1,
        discussed_on=at.date(),
        with_kind=kind,
        with_name=name,
        now=at,
    )

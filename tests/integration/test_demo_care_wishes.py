"""The demo gives two people care wishes: Tomás (one version, talked over with Rosa and Dr Okafor) and
Amira (two versions, the second by her proxy Yusuf); Rosa, who holds Tomás's care_wishes scope, can read them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions import care_wishes
from alscare.demo import seed_demo
from alscare.storage.models import Patient, User

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _patient(db: Session, email: str) -> Patient:
    return db.execute(select(Patient).join(User, User.id == Patient.user_id).where(User.email == email)).scalar_one()


def _user(db: Session, email: str) -> User:
    return db.execute(select(User).where(User.email == email)).scalar_one()


def test_demo_people_have_care_wishes(db: Session) -> None:
    seed_demo(db, now=NOW, default_emergency_number="999")
    db.commit()
    tomas = _patient(db, "tomas@demo.alscare.example")
    rosa = _user(db, "rosa@demo.alscare.example")
    seen = care_wishes.care_wishes_of(db, actor=rosa, patient_id=tomas.id, now=NOW)
    assert [v.number for v in seen.versions] == [1]
    assert [(d.with_kind, d.with_name) for d in seen.versions[0].discussions] == [
        ("family", "Rosa"),
        ("clinician", "Dr Chidi Okafor"),
    ]
    assert care_wishes.discussed_on(db, patient_id=tomas.id) == NOW.date().fromordinal(NOW.date().toordinal() - 1)

    amira = _patient(db, "amira@demo.alscare.example")
    own = _user(db, "amira@demo.alscare.example")
    versions = care_wishes.care_wishes_of(db, actor=own, patient_id=amira.id, now=NOW).versions
    assert [(v.number, v.author_name, v.capacity) for v in versions] == [
        (1, "Amira Haddad", "self"),
        (2, "Yusuf Haddad", "proxy"),
    ]
    db.rollback()

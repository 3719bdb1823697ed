"""Old care-wishes versions never change: the database itself refuses UPDATE and DELETE on the versions and
discussions tables (triggers from migration 0003), on SQLite and PostgreSQL, whatever the application does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from alscare.actions import accounts, care_wishes
from alscare.actions.records import own_patient
from alscare.storage.db import make_sessionmaker
from alscare.storage.models import Patient, User

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _person_with_wishes(db: Session) -> int:
    user = accounts.sign_up_patient(
        db,
        email="ada.append@example.org",
        password="violet kettle harbour lantern",
        profile=accounts.PatientProfile(full_name="Ada Append"),
        default_emergency_number="112",
        now=NOW,
    )
    own = own_patient(db, user=user)
    assert own is not None
    patient = own.id
    care_wishes.save_care_wishes(db, actor=user, patient_id=patient, answers={"resuscitation": {"cpr": "no"}}, now=NOW)
    care_wishes.mark_discussed(
        db, actor=user, patient_id=patient, number=1, discussed_on=date(2026, 2, 1), with_kind="family",
        with_name="Sam", now=NOW,
    )  # fmt: skip
    db.commit()
    return patient


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE care_wishes_versions SET answers = '{}'",
        "UPDATE care_wishes_versions SET number = 7",
        "DELETE FROM care_wishes_versions",
        "UPDATE care_wishes_discussions SET discussed_on = '2020-01-01'",
        "DELETE FROM care_wishes_discussions",
    ],
)
def test_the_database_refuses_to_change_or_remove_a_version(engine: Engine, db: Session, statement: str) -> None:
    _person_with_wishes(db)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with make_sessionmaker(engine)() as check:
        assert check.execute(text("SELECT answers, number FROM care_wishes_versions")).one()[1] == 1
        assert check.execute(text("SELECT count(*) FROM care_wishes_discussions")).scalar_one() == 1


def test_a_new_version_is_an_insert(engine: Engine, db: Session) -> None:
    patient = _person_with_wishes(db)
    owner = db.execute(select(User).join(Patient, Patient.user_id == User.id).where(Patient.id == patient)).scalar_one()
    outcome = care_wishes.save_care_wishes(
        db, actor=owner, patient_id=patient, answers={"resuscitation": {"cpr": "yes"}}, now=NOW
    )
    db.commit()
    assert (outcome.created, outcome.version.number) == (True, 2)
    with make_sessionmaker(engine)() as check:
        numbers = check.execute(text("SELECT number FROM care_wishes_versions ORDER BY number")).scalars().all()
        assert numbers == [1, 2]

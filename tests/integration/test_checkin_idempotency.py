"""A check-in is stored exactly once per (person, client_id), on SQLite and PostgreSQL (decision 0001).

A retried submit returns the stored row; two submits racing in separate sessions store one row; and a
duplicate insert that slips past the first look-up turns into a read inside a savepoint, leaving the caller's
transaction usable.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from alscare.actions import accounts, checkins
from alscare.actions.alerts import raise_alert
from alscare.actions.checkins import CheckInOutcome, record_check_in
from alscare.actions.records import own_patient
from alscare.security.passwords import hash_password
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Alert, CheckIn, Clinic, Notification, Patient, User

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PASSWORD = "violet kettle harbour lantern"
# An emergency and three guideline prompts from the whole history (actions.prompts): FVC < 50 % (NIV), no
# ALSFRS-R yet (review overdue) and a key decision with no care-wishes talk recorded (care wishes).
EMERGENCY = {"blue_lips": True, "fvc_percent": 45}
ALERTS_RAISED = 4


@dataclass(frozen=True)
class People:
    patient_user_id: int
    patient_id: int
    other_user_id: int
    other_patient_id: int


def _people(engine: Engine) -> People:
    """A clinic and its clinician; two people with ALS invited by it, both sharing check-ins with it."""
    with transaction(make_sessionmaker(engine)) as db:
        clinic = Clinic(name="Clinic", phone="0113 496 0000", hours="Mon-Fri 9-5", created_at=NOW)
        db.add(clinic)
        db.flush()
        clinician = User(
            email="clinician@example.org",
            display_name="Cleo Clinician",
            role="clinician",
            password_hash=hash_password(PASSWORD),
            clinic_id=clinic.id,
            totp_enabled=False,
            is_active=True,
            created_at=NOW,
        )
        db.add(clinician)
        db.flush()
        ids: list[tuple[int, int]] = []
        for email in ("ann@example.org", "bob@example.org"):
            _, token = accounts.create_invitation(db, inviter=clinician, email=email, now=NOW)
            user = accounts.accept_invitation(
                db,
                token=token,
                display_name=email.split("@")[0],
                password=PASSWORD,
                now=NOW,
                default_emergency_number="999",
                share_with_clinic=["checkins"],
            )
            patient = own_patient(db, user=user)
            assert patient is not None
            ids.append((user.id, patient.id))
        return People(ids[0][0], ids[0][1], ids[1][0], ids[1][1])


def _count(engine: Engine, model: type[Any]) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _submit(engine: Engine, user_id: int, patient_id: int, client_id: str, data: dict[str, Any]) -> CheckInOutcome:
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, user_id)
        assert actor is not None
        return record_check_in(db, actor=actor, patient_id=patient_id, client_id=client_id, data=data, now=NOW)


def test_a_retry_returns_the_stored_check_in_and_creates_nothing(engine: Engine) -> None:
    people = _people(engine)
    client_id = str(uuid.uuid4())
    first = _submit(engine, people.patient_user_id, people.patient_id, client_id, EMERGENCY)
    notifications = _count(engine, Notification)
    second = _submit(engine, people.patient_user_id, people.patient_id, client_id, EMERGENCY)

    assert (first.created, second.created) == (True, False)
    assert first.check_in.id == second.check_in.id
    assert second.triage == first.triage
    assert sorted(a.id for a in second.alerts) == sorted(a.id for a in first.alerts)
    assert sorted(a.severity for a in first.alerts) == ["emergency", "prompt", "prompt", "prompt"]
    assert (_count(engine, CheckIn), _count(engine, Alert)) == (1, ALERTS_RAISED)
    assert _count(engine, Notification) == notifications


def test_the_client_id_is_compared_as_a_uuid(engine: Engine) -> None:
    people = _people(engine)
    client_id = str(uuid.uuid4())
    _submit(engine, people.patient_user_id, people.patient_id, client_id, {"cramps": True})
    again = _submit(engine, people.patient_user_id, people.patient_id, client_id.upper(), {"cramps": True})
    assert not again.created
    assert _count(engine, CheckIn) == 1


def test_client_ids_are_per_person(engine: Engine) -> None:
    people = _people(engine)
    client_id = str(uuid.uuid4())
    a = _submit(engine, people.patient_user_id, people.patient_id, client_id, {"cramps": True})
    b = _submit(engine, people.other_user_id, people.other_patient_id, client_id, {"cramps": True})
    assert a.created and b.created and a.check_in.id != b.check_in.id


@pytest.mark.parametrize("contenders", [2, 5])
def test_concurrent_duplicates_store_one_row(engine: Engine, contenders: int) -> None:
    people = _people(engine)
    client_id = str(uuid.uuid4())
    start = threading.Barrier(contenders)
    outcomes: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            start.wait()
            outcome = _submit(engine, people.patient_user_id, people.patient_id, client_id, EMERGENCY)
            with lock:
                outcomes.append((outcome.check_in.id, outcome.created))
        except BaseException as e:  # surfaced in the main thread below
            errors.append(e)

    threads = [threading.Thread(target=submit) for _ in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(outcomes) == contenders
    assert len({check_in_id for check_in_id, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False] * (contenders - 1) + [True]
    assert (_count(engine, CheckIn), _count(engine, Alert)) == (1, ALERTS_RAISED)


def test_a_duplicate_that_slips_past_the_look_up_becomes_a_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the savepoint is for: another transaction commits the same form between look-up and insert."""
    people = _people(engine)
    client_id = str(uuid.uuid4())
    stored = _submit(engine, people.patient_user_id, people.patient_id, client_id, EMERGENCY)
    real_stored = checkins._stored
    calls: list[int] = []

    def blind_first_time(db: Session, patient_id: int, cid: str) -> CheckIn | None:
        calls.append(1)
        return None if len(calls) == 1 else real_stored(db, patient_id, cid)

    monkeypatch.setattr(checkins, "_stored", blind_first_time)
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, people.patient_user_id)
        assert actor is not None
        outcome = record_check_in(
            db, actor=actor, patient_id=people.patient_id, client_id=client_id, data=EMERGENCY, now=NOW
        )
        # The transaction is still usable after the refused insert.
        assert db.get(Patient, people.patient_id) is not None
    assert len(calls) == 2
    assert (outcome.created, outcome.check_in.id) == (False, stored.check_in.id)
    assert (_count(engine, CheckIn), _count(engine, Alert)) == (1, ALERTS_RAISED)


def test_an_alert_is_raised_once_per_source(engine: Engine) -> None:
    people = _people(engine)
    with transaction(make_sessionmaker(engine)) as db:
        patient = db.get(Patient, people.patient_id)
        assert patient is not None
        first = raise_alert(
            db, patient=patient, source="check_in", source_id="42", severity="contact_team", summary="s", now=NOW
        )
        queued = _count_in(db, Notification)
        second = raise_alert(
            db, patient=patient, source="check_in", source_id="42", severity="contact_team", summary="s", now=NOW
        )
        assert first is not None and second is not None and first.id == second.id
        assert _count_in(db, Notification) == queued > 0
        assert _count_in(db, Alert) == 1


def _count_in(db: Session, model: type[Any]) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())

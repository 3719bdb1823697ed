"""``records.active_grants`` keeps a person's grants for the rest of a transaction, and forgets them the moment
anything could have changed them: a flush touching a grant, a bulk write, a commit or a rollback."""

from __future__ import annotations

from datetime import UTC, datetime

from helpers import counting
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.records import active_grants, may
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import ConsentGrant, Patient, User
from alscare.synthetic_clinic import build_synthetic_clinic

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def _setup(engine: Engine) -> tuple[int, int]:
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=2, now=NOW, seed=31)
    return clinic.clinician_id, clinic.patient_ids[0]


def _may(db: Session, clinician_id: int, patient_id: int) -> bool:
    user, patient = db.get(User, clinician_id), db.get(Patient, patient_id)
    assert user is not None and patient is not None
    return may(db, user=user, patient=patient, scope=Scope.CHECKINS, action=Action.READ)


def test_grants_are_read_once_per_transaction(engine: Engine) -> None:
    clinician, person = _setup(engine)
    with Session(engine) as db, counting(engine) as statements:
        assert _may(db, clinician, person)
        assert _may(db, clinician, person)
    assert sum("FROM consent_grants" in s for s in statements) == 1


def test_a_revoked_grant_counts_at_once_in_the_same_transaction(engine: Engine) -> None:
    clinician, person = _setup(engine)
    with Session(engine) as db:
        assert _may(db, clinician, person)
        for grant in active_grants(db, patient_id=person):
            db.get(ConsentGrant, grant.id).revoked_at = NOW  # type: ignore[union-attr]
        db.flush()
        assert not _may(db, clinician, person)
        db.rollback()
        assert _may(db, clinician, person)  # the rollback undid it, and the list is read again
        db.execute(update(ConsentGrant).where(ConsentGrant.patient_id == person).values(revoked_at=NOW))
        assert not _may(db, clinician, person)  # a bulk write forgets the list too
        db.rollback()


def test_another_transactions_revocation_is_seen_after_commit(engine: Engine) -> None:
    clinician, person = _setup(engine)
    with Session(engine) as reader:
        assert _may(reader, clinician, person)
        reader.commit()
        with Session(engine) as writer:
            writer.execute(update(ConsentGrant).where(ConsentGrant.patient_id == person).values(revoked_at=NOW))
            writer.commit()
        assert not _may(reader, clinician, person)

"""A check-in without FVC or weight updates the person's dashboard row by a short path
(``clinic_summary.note_new_check_ins``); the row must be exactly what a full recompute gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from helpers import counting
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alscare.actions.checkins import record_check_in
from alscare.actions.clinic_summary import refresh_summaries
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import CheckIn, CheckInSchedule, User
from alscare.storage.models.clinic_dashboard import PatientSummary
from alscare.synthetic_clinic import build_synthetic_clinic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _row(db: Session, patient_id: int) -> dict[str, Any]:
    summary = db.get(PatientSummary, patient_id)
    assert summary is not None
    columns = [c.name for c in PatientSummary.__table__.columns if c.name != "refreshed_at"]
    return {c: getattr(summary, c) for c in columns}


def _recomputed(engine: Engine, patient_id: int) -> dict[str, Any]:
    with Session(engine) as db:
        refresh_summaries(db, patient_ids=[patient_id], now=NOW)
        db.flush()
        row = _row(db, patient_id)
        db.rollback()
    return row


def _check_in(engine: Engine, actor_id: int, patient_id: int, at: datetime, **data: object) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, actor_id)
        assert actor is not None
        record_check_in(db, actor=actor, patient_id=patient_id, client_id=str(uuid.uuid4()), data=dict(data), now=at)


def test_a_check_in_without_measurements_gives_the_row_a_full_recompute_gives(engine: Engine) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=3, now=NOW, seed=11)
    person = clinic.patient_ids[0]
    with Session(engine) as db:
        schedule = db.execute(
            select(CheckInSchedule).where(
                CheckInSchedule.patient_id == person, CheckInSchedule.kind == "symptom_check_in"
            )
        ).scalar_one()
        schedule.interval_days = 3  # not the default, so the short path must read it
        db.commit()
        before = _row(db, person)
    with counting(engine) as statements:
        _check_in(engine, clinic.clinician_id, person, NOW + timedelta(hours=1), cramps=True, choking_on_food=True)
    with Session(engine) as db:
        after = _row(db, person)
    assert after == _recomputed(engine, person)
    assert after["last_check_in_at"] == NOW + timedelta(hours=1)
    assert before["last_check_in_at"] < after["last_check_in_at"]
    assert after["symptom_due_at"] == NOW + timedelta(hours=1, days=3)
    # The short path: no statement re-reads the person's assessments or all their check-ins for the summary.
    summary_reads = [
        s for s in statements if "FROM alsfrs_assessments" in s and "ORDER BY alsfrs_assessments.patient_id" in s
    ]
    assert summary_reads == []


def test_a_check_in_with_a_measurement_or_dated_before_the_latest_is_recomputed_in_full(engine: Engine) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=2, now=NOW, seed=12)
    person = clinic.patient_ids[1]
    _check_in(engine, clinic.clinician_id, person, NOW + timedelta(hours=2), weight_kg=61.5, fatigue=True)
    with Session(engine) as db:
        row = _row(db, person)
    assert row == _recomputed(engine, person)
    assert row["latest_weight_kg"] == 61.5
    # Dated before the latest check-in: the latest stays the latest.
    _check_in(engine, clinic.clinician_id, person, NOW - timedelta(days=1), cramps=True)
    with Session(engine) as db:
        again = _row(db, person)
        newest = (
            db.execute(
                select(CheckIn.submitted_at).where(CheckIn.patient_id == person).order_by(CheckIn.submitted_at.desc())
            )
            .scalars()
            .first()
        )
    assert again == _recomputed(engine, person)
    assert again["last_check_in_at"] == newest == NOW + timedelta(hours=2)

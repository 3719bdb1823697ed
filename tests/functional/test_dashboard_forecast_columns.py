"""The clinic table's "expected to cross" columns come from the stored summary row (computed when a person's
data change, refreshed daily by the worker), and say what the forecast says for that person on that day."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session
from world import signed_in_client

from alscare.actions.clinic_summary import STALE_AFTER, refresh_stale_summaries
from alscare.actions.forecast import CROSSING_COLUMNS, crossing_values
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import AlsfrsAssessment, CheckIn, Patient
from alscare.storage.models.clinic_dashboard import PatientSummary
from alscare.synthetic_clinic import build_synthetic_clinic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _expected(s: Session, pid: int, today: datetime) -> dict[str, object]:
    patient = s.get(Patient, pid)
    assert patient is not None
    assessments = [
        (a.assessed_on, a.total, a.answers)
        for a in s.execute(
            select(AlsfrsAssessment).where(AlsfrsAssessment.patient_id == pid).order_by(AlsfrsAssessment.assessed_on)
        ).scalars()
    ]
    fvc = [
        (c.submitted_at.date(), c.fvc_percent)
        for c in s.execute(select(CheckIn).where(CheckIn.patient_id == pid).order_by(CheckIn.submitted_at)).scalars()
        if c.fvc_percent is not None
    ]
    return crossing_values(patient, assessments, fvc, today=today.date())


def test_csv_crossing_columns_match_the_forecast_of_each_person(app: FastAPI, engine: Engine) -> None:
    app.state.ctx.clock = lambda: NOW
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=12, now=NOW, seed=3)
    rows = {
        int(r["patient_id"]): r
        for r in csv.DictReader(io.StringIO(signed_in_client(app, clinic.clinician_id).get("/clinic/export.csv").text))
    }
    assert set(rows) == set(clinic.patient_ids)
    filled = 0
    with Session(engine) as s:
        for pid in clinic.patient_ids:
            expected = _expected(s, pid, NOW)
            for column, _ in CROSSING_COLUMNS:
                cell = rows[pid][column]
                earliest, latest, reached = (expected[f"{column}_{k}"] for k in ("from", "to", "reached"))
                if earliest is None:
                    assert cell == "", (pid, column, cell)
                    continue
                filled += 1
                assert isinstance(earliest, type(NOW.date()))
                if reached:
                    assert cell == f"reached {earliest.isoformat()}"
                elif latest is None:
                    assert cell == f"from {earliest.isoformat()}"
                else:
                    assert cell == f"{earliest.isoformat()} to {latest.isoformat()}"  # type: ignore[attr-defined]
    assert filled >= 12  # the synthetic people decline: most have at least one range


def test_stale_and_missing_summaries_are_refreshed_in_batches(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as db:
        clinic = build_synthetic_clinic(db, people=6, now=NOW, seed=5)
    first, second, third, *_ = clinic.patient_ids
    later = NOW + timedelta(days=40)
    with transaction(sessions) as db:
        db.execute(
            update(PatientSummary)
            .where(PatientSummary.patient_id == second)
            .values(total_at_most_24_from=None, fvc_below_50_from=None, speech_at_most_2_from=None)
        )
        db.execute(delete(PatientSummary).where(PatientSummary.patient_id == third))
        # Everyone but ``first`` was refreshed just now (relative to ``later``): only ``first`` is stale.
        db.execute(
            update(PatientSummary)
            .where(PatientSummary.patient_id != first)
            .values(refreshed_at=later - STALE_AFTER + timedelta(minutes=1))
        )
    with transaction(sessions) as db:
        written = refresh_stale_summaries(db, now=later)
    assert written == 2  # the stale one and the missing one; the fresh (even if blanked) ones are left alone
    with Session(engine) as s:
        rows = {r.patient_id: r for r in s.execute(select(PatientSummary)).scalars()}
        assert rows[first].refreshed_at == later and rows[third].refreshed_at == later
        assert rows[second].total_at_most_24_from is None and rows[second].refreshed_at < later
        expected = _expected(s, first, later)
        for column, _ in CROSSING_COLUMNS:
            assert getattr(rows[first], f"{column}_from") == expected[f"{column}_from"]
            assert getattr(rows[first], f"{column}_to") == expected[f"{column}_to"]
    with transaction(sessions) as db:
        assert refresh_stale_summaries(db, now=later) == 0  # nothing left to do
    with transaction(sessions) as db:
        assert refresh_stale_summaries(db, now=later + STALE_AFTER + timedelta(seconds=1), batch=4) == 4


def test_the_worker_runs_the_stale_refresh() -> None:
    from alscare.delivery import worker

    assert "refresh_stale_summaries" in worker.THROTTLED
    assert worker._optional_action("alscare.actions.clinic_summary", "refresh_stale_summaries") is (
        refresh_stale_summaries
    )

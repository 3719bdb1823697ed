"""``actions.prompts.history_of`` reads only what the prompt rules can see (measurements, usual weights and the
last 30 days' "yes" answers). Checked against the plain reading of every check-in, kept here as the reference:
the same prompts fire and the same answers count as recent, for many people and days, on both databases."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alscare.actions.prompts import NewCheckIn, history_of, with_check_in
from alscare.clinical.history_prompts import (
    RECENT_DAYS,
    RULE_SYMPTOM_FIELDS,
    SYMPTOM_FIELDS,
    History,
    MeasurementEntry,
    SymptomEntry,
    history_prompts,
    within,
)
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import CheckIn, Patient
from alscare.synthetic_clinic import build_synthetic_clinic

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
RULE_FIELDS = (*RULE_SYMPTOM_FIELDS, "cramps", "fatigue")


def _check_in(patient_id: int, by: int, at: datetime, answers: dict[str, object], **measured: float | None) -> CheckIn:
    return CheckIn(
        patient_id=patient_id,
        client_id=str(uuid.uuid4()),
        submitted_by_id=by,
        reporter="clinician",
        submitted_at=at,
        answers=answers,
        body_map={},
        tier="routine",
        reasons=[],
        **measured,
    )


def _reference(db: Session, patient: Patient, today: date, base: History) -> History:
    """Every check-in read in Python, as ``history_of`` did before it read only what the rules see."""
    rows = db.execute(
        select(CheckIn.submitted_at, CheckIn.answers, CheckIn.weight_kg, CheckIn.fvc_percent, CheckIn.snip_cmh2o)
        .where(CheckIn.patient_id == patient.id)
        .order_by(CheckIn.submitted_at, CheckIn.id)
    ).all()
    measurements, symptoms, usual = [], [], None
    for at, answers, weight, fvc, snip in rows:
        on = at.date()
        if on > today:
            continue
        if isinstance(answers.get("usual_weight_kg"), int | float):
            usual = float(answers["usual_weight_kg"])
        if weight is not None or fvc is not None or snip is not None:
            d = lambda v: None if v is None else Decimal(repr(v))  # noqa: E731
            measurements.append(MeasurementEntry(on, fvc_percent=d(fvc), snip_cmh2o=d(snip), weight_kg=d(weight)))
        said = {n: answers[n] for n in SYMPTOM_FIELDS if isinstance(answers.get(n), bool)}
        if said:
            symptoms.append(SymptomEntry(on, said))
    return History(
        today=today,
        diagnosis=base.diagnosis,
        usual_weight_kg=None if usual is None else Decimal(repr(usual)),
        gastrostomy=base.gastrostomy,
        niv=base.niv,
        care_wishes_discussed_on=base.care_wishes_discussed_on,
        assessments=base.assessments,
        measurements=tuple(measurements),
        symptoms=tuple(symptoms),
    )


def _recent(history: History) -> set[str]:
    return {
        name
        for name in RULE_SYMPTOM_FIELDS
        for s in history.symptoms
        if within(s.on, history.today, RECENT_DAYS) and s.answers.get(name) is True
    }


def test_history_of_gives_the_prompts_every_check_in_would(engine: Engine) -> None:
    rng = random.Random(5)
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=6, now=NOW, seed=21)
        for person in clinic.patient_ids:
            for _ in range(40):
                at = NOW - timedelta(days=rng.uniform(-5, 70), minutes=rng.randint(0, 1440))
                answers: dict[str, object] = {n: rng.random() < 0.15 for n in rng.sample(RULE_FIELDS, 3)}
                if rng.random() < 0.2:
                    answers["usual_weight_kg"] = rng.choice([70, 72.5, 80])
                db.add(
                    _check_in(
                        person,
                        clinic.clinician_id,
                        at,
                        answers,
                        weight_kg=rng.choice([None, None, None, 58.0, 63.5]),
                        fvc_percent=rng.choice([None, None, None, None, 45.0, 75.0, 90.0]),
                        snip_cmh2o=rng.choice([None, None, None, None, 35.0, 60.0]),
                    )
                )
    checked = recent_days = 0
    with Session(engine) as db:
        for person in clinic.patient_ids:
            patient = db.get(Patient, person)
            assert patient is not None
            for days_back in (0, 3, 17, 29, 30, 31, 45, 69):
                today = (NOW - timedelta(days=days_back)).date()
                read = history_of(db, patient=patient, today=today)
                reference = _reference(db, patient, today, read)
                assert history_prompts(read) == history_prompts(reference), (person, today)
                assert _recent(read) == _recent(reference), (person, today)
                assert read.usual_weight_kg == reference.usual_weight_kg
                assert read.measurements == reference.measurements
                checked += 1
                recent_days += bool(_recent(read))
    assert checked == 48
    assert recent_days > 10  # the data did put "yes" answers in the window


def test_a_check_in_added_in_memory_gives_the_prompts_of_it_stored(engine: Engine) -> None:
    """``with_check_in``: record_check_in works out prompts before it writes; they must be those the stored
    check-in gives."""
    rng = random.Random(8)
    with transaction(make_sessionmaker(engine)) as db:
        clinic = build_synthetic_clinic(db, people=4, now=NOW, seed=22)
    compared = changed = 0
    for person in clinic.patient_ids:
        for _ in range(12):
            answers: dict[str, object] = {n: rng.random() < 0.5 for n in rng.sample(RULE_FIELDS, 4)}
            if rng.random() < 0.3:
                answers["usual_weight_kg"] = rng.choice([66, 71.5, 90])
            new = NewCheckIn(
                on=NOW.date(),
                answers=answers,
                weight_kg=rng.choice([None, 55.0, 64.5]),
                fvc_percent=rng.choice([None, None, 28.0, 48.0, 79.0]),
                snip_cmh2o=rng.choice([None, None, 38.0]),
            )
            with Session(engine) as db:
                patient = db.get(Patient, person)
                assert patient is not None
                before = history_of(db, patient=patient, today=NOW.date())
                added = with_check_in(before, new)
                db.add(
                    _check_in(
                        person,
                        clinic.clinician_id,
                        NOW,
                        answers,
                        weight_kg=new.weight_kg,
                        fvc_percent=new.fvc_percent,
                        snip_cmh2o=new.snip_cmh2o,
                    )
                )
                db.commit()
                stored = history_of(db, patient=patient, today=NOW.date())
            assert history_prompts(added) == history_prompts(stored)
            assert _recent(added) == _recent(stored)
            assert added.usual_weight_kg == stored.usual_weight_kg
            assert added.measurements == stored.measurements
            compared += 1
            changed += history_prompts(added) != history_prompts(before)
    assert compared == 48
    assert changed > 0  # some check-ins did change the prompts

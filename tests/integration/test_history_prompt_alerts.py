"""Guideline prompts from the stored record become ``prompt`` alerts once, on SQLite and PostgreSQL.

A prompt is raised once per (person, prompt id): not again while its alert is open or acknowledged, again
after it was resolved if the rule still fires. Check-ins and assessments refresh at once; the worker refreshes
everyone with a clinic once a day, in batches.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alscare.actions import accounts, prompts
from alscare.actions.alerts import acknowledge_alert, resolve_alert
from alscare.actions.assessments import record_alsfrs_assessment
from alscare.actions.checkins import record_check_in
from alscare.actions.records import own_patient
from alscare.clinical.prompts import Prompt
from alscare.delivery import worker
from alscare.security.passwords import hash_password
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Alert, Clinic, Patient, User
from alscare.storage.models.history_prompts import PromptRefresh

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PASSWORD = "amber violin meadow tractor"
ITEMS = ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")


def answers(total_lost: int = 0, **items: int) -> dict[str, int]:
    """Twelve ALSFRS-R answers: ``total_lost`` points taken from items 1, 2, 3 … in turn; ``items`` override."""
    out = dict.fromkeys(ITEMS, 4)
    for i in range(total_lost):
        out[ITEMS[i % 9]] -= 1
    return {**out, **items}


def _setup(engine: Engine, *, share: bool = True) -> tuple[int, int, int]:
    """A clinic, its clinician, and one person invited by it (sharing check-ins if ``share``)."""
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
        _, token = accounts.create_invitation(db, inviter=clinician, email="ann@example.org", now=NOW)
        user = accounts.accept_invitation(
            db,
            token=token,
            display_name="Ann",
            password=PASSWORD,
            now=NOW,
            default_emergency_number="999",
            share_with_clinic=["checkins"] if share else [],
        )
        patient = own_patient(db, user=user)
        assert patient is not None
        return clinician.id, user.id, patient.id


def check_in(engine: Engine, user_id: int, patient_id: int, at: datetime, **data: Any) -> list[str]:
    """Store one check-in at ``at``; return the prompt ids raised by it."""
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, user_id)
        assert actor is not None
        outcome = record_check_in(
            db, actor=actor, patient_id=patient_id, client_id=str(uuid.uuid4()), data=data, now=at
        )
        return sorted(a.source_id.split(":")[1] for a in outcome.alerts if a.source == prompts.ALERT_SOURCE)


def assess(engine: Engine, user_id: int, patient_id: int, on: date, at: datetime, **kw: Any) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, user_id)
        assert actor is not None
        record_alsfrs_assessment(
            db,
            actor=actor,
            patient_id=patient_id,
            answers=answers(**kw),
            assessed_on=on,
            administration_mode="self_report",
            now=at,
        )


def prompt_alerts(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        found = s.execute(
            select(Alert.source_id, Alert.status).where(Alert.source == prompts.ALERT_SOURCE).order_by(Alert.id)
        ).all()
    return [(source_id, status) for source_id, status in found]


def handle(engine: Engine, clinician_id: int, source_id: str, how: str, at: datetime) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, clinician_id)
        assert actor is not None
        alert = db.execute(select(Alert).where(Alert.source_id == source_id)).scalar_one()
        if how == "acknowledge":
            acknowledge_alert(db, actor=actor, alert_id=alert.id, now=at)
        else:
            resolve_alert(db, actor=actor, alert_id=alert.id, now=at, note="NIV discussed at the clinic.")


def test_a_prompt_is_raised_once_while_open_and_again_after_it_is_resolved(engine: Engine) -> None:
    clinician, user, patient = _setup(engine)
    assess(engine, user, patient, NOW.date(), NOW)  # reviewed today: no review prompt
    first = check_in(engine, user, patient, NOW, orthopnea=True, fvc_percent=85)
    assert first == ["care_wishes_discussion", "niv_orthopnoea"]
    # The next check-in still reports orthopnoea: the open alerts stand, nothing new is raised.
    assert check_in(engine, user, patient, NOW + timedelta(days=1), orthopnea=True) == []
    niv = f"{patient}:niv_orthopnoea:1"
    handle(engine, clinician, niv, "acknowledge", NOW + timedelta(days=2))
    assert check_in(engine, user, patient, NOW + timedelta(days=3), orthopnea=True) == []  # acknowledged
    handle(engine, clinician, niv, "resolve", NOW + timedelta(days=4))
    # Resolved, and the rule still fires: raised anew.
    assert check_in(engine, user, patient, NOW + timedelta(days=5), orthopnea=True) == ["niv_orthopnoea"]
    assert prompt_alerts(engine) == [
        (f"{patient}:breathing_assessment_overdue:1", "open"),  # raised by the assessment, before any FVC
        (niv, "resolved"),
        (f"{patient}:care_wishes_discussion:1", "open"),
        (f"{patient}:niv_orthopnoea:2", "open"),
    ]


def test_a_resolved_prompt_whose_rule_no_longer_fires_stays_resolved(engine: Engine) -> None:
    clinician, user, patient = _setup(engine)
    assess(engine, user, patient, NOW.date(), NOW)
    assert check_in(engine, user, patient, NOW, fvc_percent=45) == ["care_wishes_discussion", "niv_fvc_below_50"]
    handle(engine, clinician, f"{patient}:niv_fvc_below_50:1", "resolve", NOW + timedelta(hours=1))
    # The FVC measured again is above 50 %: nothing to raise.
    assert check_in(engine, user, patient, NOW + timedelta(days=1), fvc_percent=60) == []


def test_an_assessment_refreshes_the_prompts(engine: Engine) -> None:
    _, user, patient = _setup(engine)
    check_in(engine, user, patient, NOW, fvc_percent=90)  # breathing measured; no ALSFRS-R yet
    assert [s for s, _ in prompt_alerts(engine)] == [f"{patient}:review_overdue:1"]
    assess(engine, user, patient, date(2026, 4, 1), NOW, total_lost=2)
    assess(engine, user, patient, date(2026, 5, 30), NOW, total_lost=6)  # 4 points in 59 days
    assert [s for s, _ in prompt_alerts(engine)][-1] == f"{patient}:alsfrs_fall_4_in_3_months:1"


def test_niv_and_gastrostomy_come_from_the_latest_assessment(engine: Engine) -> None:
    _, user, patient = _setup(engine)
    # Item 12 at 3: intermittent BiPAP, so on NIV. 5b answered: a gastrostomy.
    items = {**answers(), "12": 3, "5b": 4}
    del items["5a"]
    with transaction(make_sessionmaker(engine)) as db:
        actor = db.get(User, user)
        assert actor is not None
        record_alsfrs_assessment(
            db,
            actor=actor,
            patient_id=patient,
            answers=items,
            assessed_on=NOW.date(),
            administration_mode="self_report",
            now=NOW,
        )
    raised = check_in(engine, user, patient, NOW, orthopnea=True, choking_on_food=True, fvc_percent=40)
    assert raised == []  # on NIV and with a gastrostomy: no NIV, gastrostomy or care-wishes prompt


def test_nothing_is_raised_when_the_clinic_may_not_see_check_ins(engine: Engine) -> None:
    _, user, patient = _setup(engine, share=False)
    assert check_in(engine, user, patient, NOW, orthopnea=True) == []
    assert prompt_alerts(engine) == []
    with Session(engine) as s:
        refreshed = s.get(PromptRefresh, patient)
        assert refreshed is not None and refreshed.checked_at == NOW


def test_the_worker_refreshes_each_person_once_a_day(engine: Engine) -> None:
    _setup(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as db:
        assert prompts.refresh_due_prompts(db, now=NOW) == 1  # never refreshed: both reviews are overdue
    assert sorted(s.split(":")[1] for s, _ in prompt_alerts(engine)) == [
        "breathing_assessment_overdue",
        "review_overdue",
    ]
    with transaction(sessions) as db:
        assert prompts.refresh_due_prompts(db, now=NOW + timedelta(hours=23)) == 0
        assert prompts.refresh_due_prompts(db, now=NOW + timedelta(days=1)) == 1
    assert len(prompt_alerts(engine)) == 2  # still open: not raised again
    with transaction(sessions) as db:
        assert prompts.refresh_due_prompts(db, now=NOW + timedelta(days=3), batch=0) == 0


def test_the_worker_runs_the_refresh_at_most_every_few_minutes() -> None:
    worker._last_run.pop("refresh_due_prompts", None)
    assert worker._due_now("refresh_due_prompts", NOW)
    assert not worker._due_now("refresh_due_prompts", NOW + timedelta(minutes=4))
    assert worker._due_now("refresh_due_prompts", NOW + timedelta(minutes=5))
    assert worker._due_now("escalate_unacknowledged", NOW)  # not throttled


def test_the_seams_for_care_wishes_and_other_prompt_sources(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _, user, patient = _setup(engine)
    assess(engine, user, patient, NOW.date(), NOW)

    def discussed(db: Session, *, patient_id: int) -> date | None:
        return NOW.date() - timedelta(days=10)

    def medicine_prompts(db: Session, patient_id: int, today: date) -> list[Prompt]:
        assert db.get(Patient, patient_id) is not None
        return [Prompt("riluzole_liver_tests_due", "Liver tests due for riluzole.", "Rilutek SmPC")]

    monkeypatch.setattr(prompts, "care_wishes_discussed_on", discussed)
    monkeypatch.setattr(prompts, "EXTRA_PROMPT_SOURCES", (medicine_prompts,))
    # Care wishes discussed 10 days ago: no care-wishes prompt; the extra source's prompt is raised like any other.
    assert check_in(engine, user, patient, NOW, orthopnea=True, fvc_percent=85) == [
        "niv_orthopnoea",
        "riluzole_liver_tests_due",
    ]

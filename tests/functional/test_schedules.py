"""Check-in schedules, the clinic's overdue list and reminders, on both databases.

The world (see world.py) is built at NOW: every record is created then, P's one check-in is sent then, and
P's and Q's ALSFRS-R assessments are all recorded then, so with the defaults the next symptom check-in is due
at NOW + 7 days (Q: never checked in, so 7 days after the record was made) and the next ALSFRS-R at NOW + 28.
P shares the full record with clinic A; Q shares nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, count, listed_in, rows
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from world import (
    ADMIN_GRANTED_CLINIC,
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OWN,
    P_MARKERS,
    P_NAME,
    Q_MARKERS,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.actions.errors import InvalidInput
from alscare.actions.schedules import (
    DEFAULT_INTERVAL_DAYS,
    DueItem,
    Kind,
    due_status,
    send_due_reminders,
    set_schedule,
)
from alscare.storage.models import AuditEvent, CheckInSchedule, Notification, Patient, User

DAY = timedelta(days=1)
BASE_URL = "https://alscare.example"


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    return clock


@pytest.fixture
def world(app: FastAPI, db: Session, clock: Clock) -> World:
    return build_world(db)


def _as(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def _by_kind(items: list[DueItem]) -> dict[Kind, DueItem]:
    return {i.kind: i for i in items}


def _changed(engine: Engine) -> list[CheckInSchedule]:
    """Schedule rows whose interval is not the default (every record has a row per kind from the start)."""
    return [r for r in rows(engine, CheckInSchedule) if r.interval_days != DEFAULT_INTERVAL_DAYS[Kind(r.kind)]]


# --- Due and overdue ---------------------------------------------------------------------------------------


def test_defaults_and_when_things_fall_due(db: Session, world: World) -> None:
    p = world.patient_p_id
    due = _by_kind(due_status(db, patient_id=p, now=NOW))
    assert (due[Kind.SYMPTOM_CHECK_IN].interval_days, due[Kind.ALSFRS_R].interval_days) == (7, 28)
    # A week after P's check-in; 28 days after P's newest ALSFRS-R.
    assert due[Kind.SYMPTOM_CHECK_IN].last_done_at == NOW
    assert due[Kind.SYMPTOM_CHECK_IN].due_at == NOW + 7 * DAY
    assert due[Kind.ALSFRS_R].last_done_at == NOW
    assert due[Kind.ALSFRS_R].due_at == NOW + 28 * DAY
    assert not any(i.overdue for i in due.values())
    # Q never checked in: the first one is due a week after the record was made.
    q_due = _by_kind(due_status(db, patient_id=world.patient_q_id, now=NOW))
    assert q_due[Kind.SYMPTOM_CHECK_IN].last_done_at is None
    assert q_due[Kind.SYMPTOM_CHECK_IN].due_at == NOW + 7 * DAY

    later = _by_kind(due_status(db, patient_id=p, now=NOW + 7 * DAY))
    assert later[Kind.SYMPTOM_CHECK_IN].overdue and not later[Kind.ALSFRS_R].overdue
    # Every record has a row per kind from the start, at the defaults; reading changes none of them.
    schedules = db.execute(select(CheckInSchedule)).scalars().all()
    assert {(r.kind, r.interval_days, r.last_reminded_at) for r in schedules} == {
        ("symptom_check_in", 7, None),
        ("alsfrs_r", 28, None),
    }
    assert len(schedules) == 2 * db.execute(select(func.count()).select_from(Patient)).scalar_one()


def test_changing_an_interval_moves_the_due_date(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    p = world.patient_p_id
    page = client.get(f"/patients/{p}/schedule")
    assert page.status_code == 200
    assert "Every 7 days" in page.text and "Every 28 days" in page.text
    assert 'min="1" max="365"' in page.text

    r = client.post(
        f"/patients/{p}/schedule",
        data={"interval_days_symptom_check_in": "7", "interval_days_alsfrs_r": "14", "csrf_token": csrf_of(client)},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/patients/{p}/schedule?done=saved"
    # Only the changed kind changes; the unchanged one keeps following the default.
    [row] = _changed(engine)
    assert (row.patient_id, row.kind, row.interval_days) == (p, "alsfrs_r", 14)
    after = client.get(r.headers["location"])
    assert "Schedule saved." in after.text and "Every 14 days" in after.text
    assert "15 March 2026" in after.text  # 1 March + 14 days


@pytest.mark.parametrize("bad", ["0", "366", "-3", "weekly", "2.5"])
def test_a_bad_interval_on_the_page_is_refused_naming_it(app: FastAPI, engine: Engine, world: World, bad: str) -> None:
    client = _as(app, world, OWN)
    r = client.post(
        f"/patients/{world.patient_p_id}/schedule",
        data={"interval_days_symptom_check_in": "3", "interval_days_alsfrs_r": bad, "csrf_token": csrf_of(client)},
    )
    assert r.status_code == 422
    assert '<a href="#interval_days_alsfrs_r">' in r.text and 'id="interval_days_alsfrs_r-error"' in r.text
    assert f'value="{bad}"' in r.text  # what was typed is kept
    assert _changed(engine) == []  # nor was the good one stored


@pytest.mark.parametrize("bad", [0, 366, "14", 7.5, True, None])
def test_a_bad_interval_in_the_api_is_refused_naming_interval_days(
    app: FastAPI, engine: Engine, world: World, bad: Any
) -> None:
    client = _as(app, world, OWN)
    r = client.put(f"/api/v1/patients/{world.patient_p_id}/schedule/symptom_check_in", json={"interval_days": bad})
    assert r.status_code == 422, r.text
    assert any(e["loc"][-1] == "interval_days" for e in r.json()["detail"]), r.json()
    assert _changed(engine) == []


def test_the_action_refuses_a_bad_interval_and_kind(db: Session, world: World) -> None:
    actor = db.get(User, world.users[OWN])
    assert actor is not None
    for kind, days, field in (("alsfrs_r", 0, "interval_days"), ("alsfrs_r", 400, "interval_days"), ("fvc", 7, "kind")):
        with pytest.raises(InvalidInput) as refused:
            set_schedule(db, actor=actor, patient_id=world.patient_p_id, kind=kind, interval_days=days, now=NOW)
        assert refused.value.field == field
        db.rollback()


def test_schedule_api_reads_and_changes(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, CAREGIVER_GRANTED)  # check-ins are shared with G, so G may change the schedule
    p = world.patient_p_id
    got = client.get(f"/api/v1/patients/{p}/schedule")
    assert got.status_code == 200
    assert [(i["kind"], i["interval_days"], i["overdue"]) for i in got.json()] == [
        ("symptom_check_in", 7, False),
        ("alsfrs_r", 28, False),
    ]
    put = client.put(f"/api/v1/patients/{p}/schedule/symptom_check_in", json={"interval_days": 3})
    assert put.status_code == 200, put.text
    assert put.json()["interval_days"] == 3
    assert put.json()["due_at"].startswith("2026-03-04")
    assert [(r.patient_id, r.kind, r.interval_days) for r in _changed(engine)] == [(p, "symptom_check_in", 3)]
    unknown = client.put(f"/api/v1/patients/{p}/schedule/fvc", json={"interval_days": 3})
    assert unknown.status_code == 422


# --- The clinic's overdue list -----------------------------------------------------------------------------


def test_the_clinic_sees_who_is_overdue_and_by_how_long(
    app: FastAPI, engine: Engine, world: World, clock: Clock
) -> None:
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    assert "Nobody is overdue." in clinician.get("/clinic/overdue").text

    clock.advance(days=10)
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)  # a fresh session at the new time
    page = clinician.get("/clinic/overdue")
    assert page.status_code == 200
    assert P_NAME in page.text
    assert "Symptom check-in" in page.text and "3 days" in page.text  # due on day 7, now day 10
    assert "ALSFRS-R" not in page.text.split("<tbody>")[1]  # not due until day 28
    # Q shares nothing with the clinic: never listed.
    assert not any(m in page.text for m in Q_MARKERS)
    # One event for the page view, naming the people shown (not one per person).
    audited = rows(engine, AuditEvent, AuditEvent.resource == "overdue")
    assert [(e.action, e.patient_id) for e in audited] == [("read", None), ("read", None)]
    assert listed_in(engine, audited[0].id) == set() and listed_in(engine, audited[1].id) == {world.patient_p_id}

    other_clinic = _as(app, world, CLINICIAN_OTHER_CLINIC).get("/clinic/overdue")
    assert "Nobody is overdue." in other_clinic.text
    assert not any(m in other_clinic.text for m in P_MARKERS)


@pytest.mark.parametrize("actor", [ADMIN_GRANTED_CLINIC, OWN, CAREGIVER_GRANTED])
def test_only_clinicians_have_an_overdue_list(app: FastAPI, world: World, actor: str) -> None:
    assert _as(app, world, actor).get("/clinic/overdue").status_code == 404


def test_revoking_the_clinics_access_takes_the_person_off_the_list(
    app: FastAPI, db: Session, world: World, clock: Clock
) -> None:
    from alscare.actions import consent

    clock.advance(days=10)
    owner = db.get(User, world.users[OWN])
    assert owner is not None
    for grant in consent.grants_of(db, patient_id=world.patient_p_id):
        if grant.grantee_clinic_id == world.clinic_a_id and grant.revoked_at is None:
            consent.revoke_access(db, actor=owner, patient_id=world.patient_p_id, grant_id=grant.id, now=clock.now)
    db.commit()
    page = _as(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic/overdue")
    assert "Nobody is overdue." in page.text and P_NAME not in page.text


# --- Reminders ---------------------------------------------------------------------------------------------


def _remind(engine: Engine, at: Any) -> int:
    with Session(engine) as s:
        queued = send_due_reminders(s, now=at, base_url=BASE_URL)
        s.commit()
        return queued


def test_one_reminder_per_due_period(engine: Engine, world: World) -> None:
    p, q = world.patient_p_id, world.patient_q_id
    assert _remind(engine, NOW + 6 * DAY) == 0  # nothing due yet

    # Day 8: the symptom check-in is due for P and for Q (both have their own accounts).
    assert _remind(engine, NOW + 8 * DAY) == 2
    assert _remind(engine, NOW + 8 * DAY) == 0  # calling again queues nothing
    assert _remind(engine, NOW + 16 * DAY) == 0  # still the same overdue period: no second reminder
    sent = rows(engine, Notification)
    assert {(n.kind, n.channel, n.target) for n in sent} == {
        ("reminder", "email", world.emails[OWN]),
        ("reminder", "email", "quentin.zzleakmarker@example.org"),
    }
    assert {n.dedupe_key for n in sent} == {
        f"reminder:{p}:symptom_check_in:2026-03-08",
        f"reminder:{q}:symptom_check_in:2026-03-08",
    }
    reminded = {(r.patient_id, r.kind): r.last_reminded_at for r in rows(engine, CheckInSchedule) if r.last_reminded_at}
    assert reminded == {(p, "symptom_check_in"): NOW + 8 * DAY, (q, "symptom_check_in"): NOW + 8 * DAY}

    # Day 29: the ALSFRS-R falls due; the symptom check-in is still in its first period.
    assert _remind(engine, NOW + 29 * DAY) == 2
    assert count(engine, Notification) == 4
    assert count(engine, Notification, Notification.dedupe_key == f"reminder:{p}:alsfrs_r:2026-03-29") == 1


def test_a_reminder_holds_no_clinical_details(engine: Engine, world: World) -> None:
    _remind(engine, NOW + 29 * DAY)
    mine = rows(engine, Notification, Notification.target == world.emails[OWN])
    assert {n.subject for n in mine} == {"A reminder from alscare"}
    bodies = "\n".join(n.subject + n.body for n in mine)
    for secret in (*P_MARKERS, "ALSFRS", "ALS ", "MND", "score", "symptom", "Paula"):
        assert secret not in bodies, secret
    p = world.patient_p_id
    assert f"{BASE_URL}/patients/{p}/alsfrs-r/new" in bodies
    assert f"{BASE_URL}/patients/{p}/check-in" in bodies
    assert f"{BASE_URL}/patients/{p}/schedule" in bodies


def test_no_reminder_for_an_inactive_account_and_a_new_period_after_doing_it(
    engine: Engine, db: Session, world: World
) -> None:
    q_user = db.get(User, world.users["other_patient_q"])
    assert q_user is not None
    q_user.is_active = False
    db.commit()
    assert _remind(engine, NOW + 8 * DAY) == 1  # P only
    # P sends an ALSFRS-R on day 9: the next one is due 28 days later, and is reminded about then.
    owner = db.get(User, world.users[OWN])
    assert owner is not None
    from alscare.actions.assessments import record_alsfrs_assessment

    record_alsfrs_assessment(
        db,
        actor=owner,
        patient_id=world.patient_p_id,
        answers={"1": 4, "2": 4, "3": 4, "4": 4, "5a": 4, "6": 4, "7": 4, "8": 4, "9": 4, "10": 4, "11": 4, "12": 4},
        assessed_on=(NOW + 9 * DAY).date(),
        administration_mode="self_report",
        now=NOW + 9 * DAY,
    )
    db.commit()
    assert _remind(engine, NOW + 29 * DAY) == 0  # the day-28 due date moved to day 37
    assert _remind(engine, NOW + 37 * DAY) == 1
    assert count(engine, Notification, Notification.dedupe_key.like("%:alsfrs_r:2026-04-07")) == 1


# --- Reminders found by due date, not by reading everyone (issue 11) --------------------------------------


def _add_people(engine: Engine, n: int, *, made: Any, tag: str) -> None:
    with Session(engine) as s:
        for i in range(n):
            user = User(
                email=f"{tag}{i}@example.org",
                display_name=f"{tag} {i}",
                role="patient",
                password_hash="x",
                created_at=made,
            )
            s.add(user)
            s.flush()
            s.add(Patient(full_name=f"{tag} {i}", emergency_number="999", user_id=user.id, created_at=made))
        s.commit()


def _statements_of_a_reminder_run(engine: Engine, at: Any) -> tuple[list[str], int]:
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        queued = _remind(engine, at)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements, queued


def test_a_reminder_run_reads_the_same_statements_for_5_or_50_people(engine: Engine, backend: str) -> None:
    now = NOW + 30 * DAY
    _add_people(engine, 3, made=now - 3 * DAY, tag="fresh-a")  # nothing due for a few days
    _add_people(engine, 2, made=now - 10 * DAY, tag="late-a")  # their first check-in is 3 days late
    few, queued = _statements_of_a_reminder_run(engine, now)
    assert queued == 2
    _add_people(engine, 43, made=now - 3 * DAY, tag="fresh-b")
    _add_people(engine, 2, made=now - 10 * DAY, tag="late-b")
    many, queued = _statements_of_a_reminder_run(engine, now)
    assert queued == 2  # the two new late ones; the first two were reminded already
    assert len(many) == len(few), (few, many)
    nothing, queued = _statements_of_a_reminder_run(engine, now)
    assert queued == 0 and len(nothing) <= 2  # one indexed query finds nothing due (and the commit)

    # The query that finds the rows to look at is a range of the remind_at index, not a scan.
    [finder] = [q for q in few if "remind_at <=" in q]
    if backend == "sqlite":
        with engine.connect() as conn:
            plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {finder}", (now, 100, 0)))
        assert "USING INDEX ix_check_in_schedules_remind_at (remind_at<?)" in plan, plan
        assert "SCAN check_in_schedules" not in plan, plan


def test_people_without_schedule_rows_are_given_them_by_the_safety_net(engine: Engine) -> None:
    from sqlalchemy import delete

    from alscare.actions.schedules import schedule_new_people

    now = NOW + 30 * DAY
    _add_people(engine, 3, made=now - 10 * DAY, tag="bulk")
    with Session(engine) as s:  # as if loaded in bulk, or older than the rows
        s.execute(delete(CheckInSchedule))
        s.commit()
    assert _remind(engine, now) == 0  # nobody to look at
    with Session(engine) as s:
        assert schedule_new_people(s, now=now) == 6
        assert schedule_new_people(s, now=now) == 0
        s.commit()
    assert _remind(engine, now) == 3  # each one's late check-in
    assert _remind(engine, now) == 0

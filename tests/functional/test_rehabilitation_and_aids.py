"""Rehabilitation programmes and aid requests over HTTP, on both databases.

The world (world.py): clinician A (P's own clinic, holding P's full record) has given P a programme of hand
stretches three times a week; caregiver G holds P's check-ins; clinician B is at another clinic; Q shares
nothing. P's latest ALSFRS-R has every item of the first three domains at 3.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, count, rows
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from world import (
    ADMIN_GRANTED_CLINIC,
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OTHER_PATIENT,
    OWN,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.clinical.rehabilitation import STOPPED_AFTER_DAYS
from alscare.storage.models import AuditEvent, ConsentGrant, Message, Patient
from alscare.storage.models.clinic_dashboard import AuditEventPatient
from alscare.storage.models.rehabilitation import (
    AidRequest,
    AidRequestEvent,
    ExerciseLog,
    ProgrammeExercise,
    RehabProgramme,
)

LOG = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


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


def _post(client: TestClient, path: str, data: dict[str, str]) -> object:
    return client.post(path, data={**data, "csrf_token": csrf_of(client)})


def _log(client: TestClient, p: int, **fields: str) -> object:
    data = {"client_id": LOG, "exercise_id": "hand_stretch", "outcome": "done", "tiring": "4", "done_on": "2026-03-01"}
    return _post(client, f"/patients/{p}/programme/log", data | fields)


# --- Programmes ----------------------------------------------------------------------------------------


def test_therapist_assigns_person_and_carer_log_both_see_adherence(
    app: FastAPI, world: World, engine: Engine, clock: Clock
) -> None:
    p = world.patient_p_id
    therapist = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    r = _post(therapist, "/clinic/programmes", {
        "patient_id": str(p), "exercise": "deep_breathing", "times_deep_breathing": "7",
        "times_hand_stretch": "3", "starts_on": "2026-02-23", "note": "Gently does it.",
    })  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/patients/{p}/programme?done=assigned"
    programmes = sorted(rows(engine, RehabProgramme, RehabProgramme.patient_id == p), key=lambda x: x.id)
    # The world's programme is stopped (kept as history) by the new one.
    assert [(x.stopped_at, x.stopped_by_id) for x in programmes] == [
        (NOW, world.users[CLINICIAN_GRANTED_CLINIC]),
        (None, None),
    ]
    active = [x for x in programmes if x.stopped_at is None]
    assert len(active) == 1 and active[0].starts_on == date(2026, 2, 23)
    assert [
        (e.exercise_id, e.times_per_week)
        for e in rows(engine, ProgrammeExercise, ProgrammeExercise.programme_id == active[0].id)
    ] == [("deep_breathing", 7)]

    person = _as(app, world, OWN)
    page = person.get(f"/patients/{p}/programme")
    assert page.status_code == 200
    assert "Deep breaths" in page.text and "7 times a week" in page.text and "Do not wear yourself out" in page.text
    assert "Gently does it." in page.text
    assert "Save the programme" not in page.text  # the person does not assign

    assert _log(person, p, exercise_id="deep_breathing", tiring="8").status_code == 303
    assert _log(person, p, exercise_id="deep_breathing", tiring="8").status_code == 303  # a retry: stored once
    carer = _as(app, world, CAREGIVER_GRANTED)
    assert (
        _log(carer, p, client_id="a" * 36, exercise_id="deep_breathing", outcome="skipped", tiring="").status_code
        == 303
    )
    logs = rows(engine, ExerciseLog, ExerciseLog.patient_id == p)
    assert sorted((x.outcome, x.tiring, x.logged_by_id) for x in logs) == sorted([
        ("done", 8, world.users[OWN]), ("skipped", None, world.users[CAREGIVER_GRANTED]),
    ])  # fmt: skip

    # Week of 23 Feb (Mon) to 1 Mar (Sun): 7 planned, 1 done, 1 skipped; the clock's day, 1 March, ends it.
    for who in (person, therapist, carer):
        html = who.get(f"/patients/{p}/programme").text
        row = re.search(r"23 Feb 2026</th>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", html)
        assert row is not None and row.groups() == ("1", "7", "1"), html
        assert "14%" in html
        assert "too much" in html  # the tiring 8 is flagged to both sides
    assert count(engine, AuditEvent, AuditEvent.resource == "rehabilitation", AuditEvent.action == "read") >= 4


def test_programme_refusals(app: FastAPI, world: World, engine: Engine) -> None:
    p = world.patient_p_id
    form = {"patient_id": str(p), "exercise": "hand_stretch", "times_hand_stretch": "3"}
    before = count(engine, RehabProgramme)
    # A carer with check-ins may log but not assign; another clinic and an admin are refused the record.
    assert _post(_as(app, world, CAREGIVER_GRANTED), "/clinic/programmes", form).status_code == 403
    assert _post(_as(app, world, CLINICIAN_OTHER_CLINIC), "/clinic/programmes", form).status_code == 404
    assert _post(_as(app, world, ADMIN_GRANTED_CLINIC), "/clinic/programmes", form).status_code == 404
    assert _post(_as(app, world, OWN), "/clinic/programmes/stop", {"patient_id": str(p)}).status_code == 403
    assert count(engine, RehabProgramme) == before
    assert count(engine, AuditEvent, AuditEvent.resource == "rehabilitation", AuditEvent.action == "denied") == 2

    therapist = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    bad = _post(therapist, "/clinic/programmes", {**form, "times_hand_stretch": "15"})
    assert bad.status_code == 422 and 'href="#times_hand_stretch"' in bad.text
    none = _post(therapist, "/clinic/programmes", {"patient_id": str(p)})
    assert none.status_code == 422 and "Choose at least one exercise." in none.text
    assert count(engine, RehabProgramme) == before

    person = _as(app, world, OWN)
    for fields, field in (
        ({"tiring": "11"}, "tiring"),
        ({"tiring": ""}, "tiring"),  # done needs a tiring score
        ({"exercise_id": "calf_stretch"}, "exercise_id"),  # not in the programme
        ({"outcome": "maybe"}, "outcome"),
        ({"done_on": "2026-03-02"}, "done_on"),  # tomorrow
        ({"done_on": "2026-02-28"}, "done_on"),  # before the programme began (1 March)
    ):
        r = _log(person, p, **fields)
        assert r.status_code == 422 and f'href="#{field}"' in r.text, (fields, r.text[:500])
    assert count(engine, ExerciseLog) == 0
    assert _log(_as(app, world, CAREGIVER_NOT_GRANTED), p).status_code == 404
    assert _as(app, world, OTHER_PATIENT).get(f"/patients/{p}/programme").status_code == 404
    # Q has no programme: logging is refused with the reason.
    q = world.patient_q_id
    r = _log(_as(app, world, OTHER_PATIENT), q)
    assert r.status_code == 422 and "There is no exercise programme yet" in r.text

    assert _post(therapist, "/clinic/programmes/stop", {"patient_id": str(p)}).status_code == 303
    html = person.get(f"/patients/{p}/programme").text
    assert "This programme was stopped" in html and "Log a session" not in html


def test_stopped_list_after_two_quiet_weeks(app: FastAPI, world: World, clock: Clock) -> None:
    p = world.patient_p_id
    assert _log(_as(app, world, OWN), p, outcome="skipped", tiring="").status_code == 303  # 1 March: a skip counts

    def listed() -> bool:
        # A fresh sign-in each time: sessions expire while the clock jumps by weeks.
        html = _as(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic/programmes/stopped").text
        return f'href="/patients/{p}/programme"' in html

    clock.now = NOW + timedelta(days=STOPPED_AFTER_DAYS - 1)
    assert not listed()
    clock.now = NOW + timedelta(days=STOPPED_AFTER_DAYS)
    assert listed()
    assert _log(_as(app, world, OWN), p, client_id="b" * 36, done_on=clock.now.date().isoformat()).status_code == 303
    assert not listed()
    clock.now += timedelta(days=STOPPED_AFTER_DAYS)
    assert listed()
    assert "Paula" not in _as(app, world, CLINICIAN_OTHER_CLINIC).get("/clinic/programmes/stopped").text
    assert _as(app, world, ADMIN_GRANTED_CLINIC).get("/clinic/programmes/stopped").status_code == 404
    assert _as(app, world, OWN).get("/clinic/programmes/stopped").status_code == 404


# --- Aids ------------------------------------------------------------------------------------------------


def test_person_requests_an_aid_and_the_clinic_moves_it_on(
    app: FastAPI, world: World, engine: Engine, clock: Clock
) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    page = person.get(f"/patients/{p}/aids")
    assert page.status_code == 200
    # Latest ALSFRS-R: items 1-9 at 3 -> voice banking (speech changed, still clear), cutlery, writing, walking.
    for title in ("Voice banking", "Easy-grip cutlery", "Keyboard and writing aids", "Walking aid"):
        assert title in page.text.split("Requests</h2>")[0]
    assert "Communication aid</h3>" not in page.text.split("Requests</h2>")[0]
    assert "Why suggested" not in page.text  # rationale and source are for clinicians

    for _ in range(2):  # a doubled submit makes one request
        r = _post(person, f"/patients/{p}/aids/requests", {"aid_id": "voice_banking"})
        assert r.status_code == 303 and r.headers["location"] == f"/patients/{p}/aids?done=requested#requests"
    (request,) = rows(engine, AidRequest, AidRequest.patient_id == p)
    assert (request.status, request.aid_id, request.requested_by_id) == ("requested", "voice_banking", world.users[OWN])
    thread = rows(engine, Message, Message.patient_id == p)
    assert [m.body for m in thread] == ["Request for an aid: Voice banking."]

    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    listing = clinician.get("/clinic/aid-requests").text
    assert f'href="/patients/{p}/aids#request-{request.id}">Voice banking' in listing
    record_aids = clinician.get(f"/patients/{p}/aids").text
    assert "Why suggested" in record_aids and "ALSFRS-R item 1 below 4" in record_aids

    status = f"/clinic/aid-requests/{request.id}/status"

    def clinic() -> TestClient:  # signed in afresh: the clock moves on by days
        return _as(app, world, CLINICIAN_GRANTED_CLINIC)

    clock.advance(days=2)
    r = _post(clinic(), status, {f"status-{request.id}": "assessed", "note": "Speech therapist will call you."})
    assert r.status_code == 303
    clock.advance(days=5)
    assert _post(clinic(), status, {f"status-{request.id}": "ordered"}).status_code == 303
    events = rows(engine, AidRequestEvent, AidRequestEvent.request_id == request.id)
    assert [(e.status, e.actor_id, e.at, e.note) for e in events] == [
        ("requested", world.users[OWN], NOW, None),
        ("assessed", world.users[CLINICIAN_GRANTED_CLINIC], NOW + timedelta(days=2), "Speech therapist will call you."),
        ("ordered", world.users[CLINICIAN_GRANTED_CLINIC], NOW + timedelta(days=7), None),
    ]
    assert all(e.message_id is not None for e in events)
    bodies = [m.body for m in rows(engine, Message, Message.patient_id == p, Message.from_clinic.is_(True))]
    assert bodies == [
        "Your request for Voice banking: assessed.\n\nSpeech therapist will call you.",
        "Your request for Voice banking: ordered.",
    ]
    seen = _as(app, world, OWN).get(f"/patients/{p}/aids").text
    assert "Ordered</strong>" in seen and "Speech therapist will call you." in seen
    assert "Save status" not in seen

    # Refusals: the same status again, an unknown one; others may not change it; closed stays closed.
    assert _post(clinic(), status, {f"status-{request.id}": "ordered"}).status_code == 422
    assert _post(clinic(), status, {f"status-{request.id}": "lost"}).status_code == 422
    for actor in (OWN, CAREGIVER_GRANTED, CLINICIAN_OTHER_CLINIC, ADMIN_GRANTED_CLINIC):
        assert _post(_as(app, world, actor), status, {f"status-{request.id}": "delivered"}).status_code == 404, actor
    refused = rows(engine, AuditEvent, AuditEvent.actor_user_id == world.users[CLINICIAN_OTHER_CLINIC])
    assert [(e.action, e.patient_id, e.resource) for e in refused] == [("denied", p, "aids")]
    assert _post(clinic(), status, {f"status-{request.id}": "delivered"}).status_code == 303
    assert _post(clinic(), status, {f"status-{request.id}": "declined"}).status_code == 422
    assert f"request-{request.id}" not in clinic().get("/clinic/aid-requests").text
    assert count(engine, AidRequestEvent) == 4

    # Once closed, a new request for the same aid is a new task.
    assert _post(_as(app, world, OWN), f"/patients/{p}/aids/requests", {"aid_id": "voice_banking"}).status_code == 303
    assert count(engine, AidRequest, AidRequest.patient_id == p) == 2


def test_aid_request_refusals(app: FastAPI, world: World, engine: Engine) -> None:
    p = world.patient_p_id
    bad = _post(_as(app, world, OWN), f"/patients/{p}/aids/requests", {"aid_id": "jetpack"})
    assert bad.status_code == 422 and 'href="#request-aid_id"' in bad.text
    for actor in (CAREGIVER_NOT_GRANTED, CLINICIAN_OTHER_CLINIC, ADMIN_GRANTED_CLINIC, OTHER_PATIENT):
        assert (
            _post(_as(app, world, actor), f"/patients/{p}/aids/requests", {"aid_id": "wheelchair"}).status_code == 404
        )
        assert _as(app, world, actor).get(f"/patients/{p}/aids").status_code == 404
    # Q has no clinic: nobody could take the request.
    q = world.patient_q_id
    r = _post(_as(app, world, OTHER_PATIENT), f"/patients/{q}/aids/requests", {"aid_id": "wheelchair"})
    assert r.status_code == 422 and "not connected to a clinic" in r.text
    assert count(engine, AidRequest) == 0 and count(engine, Message) == 0
    # The carer with check-ins may ask for the person.
    assert (
        _post(
            _as(app, world, CAREGIVER_GRANTED),
            f"/patients/{p}/aids/requests",
            {"aid_id": "wheelchair", "note": "Longer walks are hard."},
        ).status_code
        == 303
    )


def test_home_and_record_link_to_programme_and_aids(app: FastAPI, world: World) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    for path in ("/home", f"/patients/{p}"):
        html = person.get(path).text
        assert f'href="/patients/{p}/programme"' in html and f'href="/patients/{p}/aids"' in html, path
    record = _as(app, world, CLINICIAN_GRANTED_CLINIC).get(f"/patients/{p}").text
    assert "Aids worth discussing" in record and "Voice banking" in record
    # A clinician's home is the clinic dashboard, which links the clinic-wide lists.
    assert 'href="/clinic/aid-requests"' in _as(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic").text


# --- Statement counts of the clinic lists do not grow with the number of people ---------------------------


def _people_with_programmes_and_requests(db: Session, world: World, n: int) -> None:
    """n people sharing check-ins with clinic A, each with a programme quiet for a month and an open request.
    Rows are made directly: the lists are what is measured, not how people join."""
    clinician = world.users[CLINICIAN_GRANTED_CLINIC]
    start = NOW.date() - timedelta(days=40)
    for i in range(n):
        patient = Patient(
            full_name=f"Person {i:03d}", emergency_number="112", clinic_id=world.clinic_a_id, created_at=NOW
        )
        db.add(patient)
        db.flush()
        db.add(
            ConsentGrant(
                patient_id=patient.id,
                grantee_clinic_id=world.clinic_a_id,
                scope="checkins",
                granted_by_id=clinician,
                granted_at=NOW,
            )
        )
        programme = RehabProgramme(
            patient_id=patient.id,
            assigned_by_id=clinician,
            assigned_at=NOW,
            starts_on=start,
            exercises=[ProgrammeExercise(exercise_id="hand_stretch", times_per_week=3, position=0)],
        )
        db.add(programme)
        db.flush()
        db.add(
            ExerciseLog(
                programme_id=programme.id,
                patient_id=patient.id,
                exercise_id="hand_stretch",
                done_on=start,
                outcome="done",
                tiring=2,
                logged_by_id=clinician,
                logged_at=NOW,
                client_id=f"seed-{i}",
            )
        )
        db.add(
            AidRequest(
                patient_id=patient.id,
                clinic_id=world.clinic_a_id,
                aid_id="wheelchair",
                status="requested",
                requested_by_id=clinician,
                requested_at=NOW,
                updated_at=NOW,
            )
        )
    db.commit()


def _statements(engine: Engine, client: TestClient, path: str) -> tuple[int, str]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(seen), response.text


@pytest.mark.parametrize("path", ["/clinic/programmes/stopped", "/clinic/aid-requests"])
def test_clinic_lists_use_the_same_statements_for_5_and_50_people(
    app: FastAPI, world: World, db: Session, engine: Engine, path: str
) -> None:
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    _people_with_programmes_and_requests(db, world, 5)
    few, html = _statements(engine, clinician, path)
    assert len(re.findall(r'<th scope="row">(?:<a [^>]*>)?Person ', html)) == 5
    _people_with_programmes_and_requests(db, world, 45)
    many, html = _statements(engine, clinician, path)
    assert len(re.findall(r'<th scope="row">(?:<a [^>]*>)?Person ', html)) == 50
    assert few == many, f"{path}: {few} statements for 5 people, {many} for 50"
    # Each page view is one audit event naming every person it listed (audit_event_patients).
    audited = (
        db.execute(
            select(AuditEventPatient.patient_id)
            .join(AuditEvent, AuditEvent.id == AuditEventPatient.audit_event_id)
            .where(AuditEvent.resource.in_(("rehabilitation_list", "aids_list")), AuditEvent.action == "read")
        )
        .scalars()
        .all()
    )
    assert len(set(audited)) >= 50

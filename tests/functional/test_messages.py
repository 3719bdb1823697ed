"""Secure messages between a person (or their caregiver) and their clinic, over HTTP, on both databases.

The world (see world.py): P's own clinic is clinic A, which holds P's full record; caregiver G holds check-ins,
caregiver R's grant was revoked, proxy X acts for P. Q has no clinic at all.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, count, rows
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from world import (
    ADMIN_GRANTED_CLINIC,
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CAREGIVER_REVOKED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OTHER_PATIENT,
    OWN,
    P_MARKERS,
    PROXY,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.actions import consent
from alscare.actions.messages import NOT_CONNECTED
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Message, Notification, User
from alscare.web.pages.messages import waiting_label


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


def _write(client: TestClient, patient_id: int, body: str) -> None:
    """Send a message through the page form, as a browser would."""
    r = client.post(f"/patients/{patient_id}/messages", data={"body": body, "csrf_token": csrf_of(client)})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/patients/{patient_id}/messages?sent=1"


def _statuses(html: str) -> list[str]:
    return re.findall(r'<p class="message-status">([^<]*)</p>', html)


def _inbox_row(html: str, patient_id: int) -> str | None:
    match = re.search(rf'<tr>\s*<td><a href="/patients/{patient_id}/messages">.*?</tr>', html, re.S)
    return match.group(0) if match else None


def test_person_writes_clinic_reads_and_answers(app: FastAPI, world: World, clock: Clock) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    thread = f"/patients/{p}/messages"

    _write(person, p, "Is it normal to feel more tired since the new tablets?")
    assert _statuses(person.get(thread).text) == ["Sent"]

    # Three hours later the clinician sees the conversation waiting, with its age, and a link to it.
    clock.advance(hours=3)
    inbox = clinician.get("/clinic/messages")
    assert inbox.status_code == 200
    row = _inbox_row(inbox.text, p)
    assert row is not None, inbox.text
    assert "Paula PPLEAKMARKER" in row and "waiting 3 h" in row

    # Opening it changes nothing (a GET; issue 14, finding 11); "Mark as read" marks the person's message
    # read (15:00 on the frozen clock), which the person sees.
    opened = clinician.get(thread)
    assert "Is it normal to feel more tired since the new tablets?" in opened.text
    assert _statuses(person.get(thread).text) == ["Sent"]
    marked = clinician.post(f"{thread}/read", data={"csrf_token": csrf_of(clinician)}, follow_redirects=False)
    assert marked.status_code == 303
    assert _statuses(person.get(thread).text) == ["Read 15:00"]

    # The clinician answers: the person's message shows as answered, and nothing waits any more.
    clock.advance(minutes=20)
    _write(clinician, p, "Yes, that can happen at first. We will talk on Tuesday.")
    page = person.get(thread).text
    assert _statuses(page) == ["Answered"]
    assert "Yes, that can happen at first." in page
    assert "Carl Clinician (Clinic Alpha)" in page
    assert _inbox_row(clinician.get("/clinic/messages").text, p) is None
    # The clinician sees their own answer's status once the person has marked it read.
    assert _statuses(clinician.get(thread).text) == ["Sent"]
    person.post(f"{thread}/read", data={"csrf_token": csrf_of(person)}, follow_redirects=False)
    assert _statuses(clinician.get(thread).text) == ["Read 15:20"]


def test_api_thread_carries_status_and_read_time(app: FastAPI, world: World, clock: Clock) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    url = f"/api/v1/patients/{p}/messages"

    posted = person.post(url, json={"body": "  Can I bring my daughter to the next visit?  "})
    assert posted.status_code == 201, posted.text
    assert posted.json()["body"] == "Can I bring my daughter to the next visit?"
    assert posted.json()["from_clinic"] is False and posted.json()["status"] == "sent"

    clock.advance(minutes=5)
    assert [m["status"] for m in clinician.get(url).json()] == ["sent"]  # a GET changes nothing
    seen = clinician.post(f"{url}/read").json()
    assert [m["status"] for m in seen] == ["read"]
    assert seen[0]["read_at"].startswith("2026-03-01T12:05")

    answer = clinician.post(url, json={"body": "Of course."})
    assert answer.status_code == 201 and answer.json()["from_clinic"] is True
    assert [(m["from_clinic"], m["status"]) for m in person.get(url).json()] == [(False, "answered"), (True, "sent")]
    marked = person.post(f"{url}/read").json()
    assert [(m["from_clinic"], m["status"]) for m in marked] == [(False, "answered"), (True, "read")]


@pytest.mark.parametrize("actor", [CAREGIVER_GRANTED, PROXY])
def test_caregiver_and_proxy_write_for_the_person(app: FastAPI, world: World, engine: Engine, actor: str) -> None:
    p = world.patient_p_id
    _write(_as(app, world, actor), p, "Writing for Paula: the chair cushion is sore.")
    stored = rows(engine, Message)
    assert [(m.author_id, m.from_clinic) for m in stored] == [(world.users[actor], False)]
    assert _inbox_row(_as(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic/messages").text, p) is not None


def test_notifications_say_only_that_a_message_is_waiting(app: FastAPI, world: World, engine: Engine) -> None:
    p = world.patient_p_id
    secret = "SECRETMESSAGETEXT about my breathing at night"
    _write(_as(app, world, CAREGIVER_GRANTED), p, secret)

    to_clinic = rows(engine, Notification)
    # The clinic's clinician, not its administrator; nobody on the person's side.
    assert [(n.kind, n.channel, n.target) for n in to_clinic] == [
        ("message", "email", world.emails[CLINICIAN_GRANTED_CLINIC])
    ]

    _write(_as(app, world, CLINICIAN_GRANTED_CLINIC), p, "ANSWERTEXT: please call us about the breathing.")
    to_person = rows(engine, Notification, Notification.id > to_clinic[-1].id)
    # The person and everyone they let read check-ins; not the revoked caregiver, not a stranger.
    assert sorted(n.target for n in to_person) == sorted(world.emails[a] for a in (OWN, CAREGIVER_GRANTED, PROXY))
    assert world.emails[CAREGIVER_REVOKED] not in {n.target for n in to_person}
    assert world.emails[CAREGIVER_NOT_GRANTED] not in {n.target for n in to_person}

    for n in to_clinic + to_person:
        shown = n.subject + "\n" + n.body
        assert "SECRETMESSAGETEXT" not in shown and "ANSWERTEXT" not in shown and "breathing" not in shown
        assert not [m for m in P_MARKERS if m in shown], shown
        assert n.subject == "You have a new message in alscare"
        assert f"https://testserver/patients/{p}/messages" in n.body


@pytest.mark.parametrize(
    ("body", "why"), [("", "Write your message"), ("   \n ", "Write your message"), ("x" * 4001, "4,000")]
)
def test_empty_or_too_long_body_is_refused_and_nothing_stored(
    app: FastAPI, world: World, engine: Engine, body: str, why: str
) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)

    api = person.post(f"/api/v1/patients/{p}/messages", json={"body": body})
    assert api.status_code == 422, api.text
    [error] = api.json()["detail"]
    assert error["loc"] == ["body", "body"] and why in error["msg"]

    page = person.post(f"/patients/{p}/messages", data={"body": body, "csrf_token": csrf_of(person)})
    assert page.status_code == 422
    assert 'id="body-error"' in page.text and 'aria-invalid="true"' in page.text and why in page.text
    assert count(engine, Message) == 0
    assert count(engine, Notification) == 0


def test_longest_allowed_body_is_kept(app: FastAPI, world: World, engine: Engine) -> None:
    r = _as(app, world, OWN).post(f"/api/v1/patients/{world.patient_p_id}/messages", json={"body": "y" * 4000})
    assert r.status_code == 201, r.text
    assert len(rows(engine, Message)[0].body) == 4000


def test_person_without_a_clinic_is_refused(app: FastAPI, world: World, engine: Engine) -> None:
    q = world.patient_q_id
    person = _as(app, world, OTHER_PATIENT)

    r = person.post(f"/api/v1/patients/{q}/messages", json={"body": "Hello?"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "body"]
    assert r.json()["detail"][0]["msg"] == NOT_CONNECTED

    page = person.get(f"/patients/{q}/messages")
    assert page.status_code == 200 and NOT_CONNECTED in page.text
    assert '<textarea id="body"' not in page.text
    assert count(engine, Message) == 0 and count(engine, Notification) == 0


def test_clinic_that_lost_its_grant_cannot_be_written_to(app: FastAPI, world: World, engine: Engine) -> None:
    """P stops sharing with clinic A: P's own messages are refused too, rather than sent to nobody."""
    with transaction(make_sessionmaker(engine)) as db:
        person = db.get(User, world.users[OWN])
        assert person is not None
        for g in consent.grants_of(db, patient_id=world.patient_p_id):
            if g.grantee_clinic_id == world.clinic_a_id and g.revoked_at is None:
                consent.revoke_access(db, actor=person, patient_id=world.patient_p_id, grant_id=g.id, now=NOW)
    r = _as(app, world, OWN).post(f"/api/v1/patients/{world.patient_p_id}/messages", json={"body": "Hello?"})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == NOT_CONNECTED
    assert count(engine, Message) == 0


def test_another_clinic_with_a_grant_stays_out_of_the_conversation(app: FastAPI, world: World, engine: Engine) -> None:
    """Sharing check-ins with clinic B lets B see the scores, not P's conversation with clinic A."""
    with transaction(make_sessionmaker(engine)) as db:
        person = db.get(User, world.users[OWN])
        assert person is not None
        consent.grant_access(
            db,
            actor=person,
            patient_id=world.patient_p_id,
            scope="checkins",
            now=NOW,
            grantee_clinic_id=world.clinic_b_id,
        )
    _write(_as(app, world, OWN), world.patient_p_id, "A question for clinic A.")
    other = _as(app, world, CLINICIAN_OTHER_CLINIC)
    assert other.get(f"/patients/{world.patient_p_id}/messages").status_code == 403
    assert other.post(f"/api/v1/patients/{world.patient_p_id}/messages", json={"body": "Hi"}).status_code == 403
    assert _inbox_row(other.get("/clinic/messages").text, world.patient_p_id) is None
    assert count(engine, Message) == 1


@pytest.mark.parametrize("actor", [OWN, CAREGIVER_GRANTED, ADMIN_GRANTED_CLINIC])
def test_clinic_inbox_is_for_clinicians_only(app: FastAPI, world: World, actor: str) -> None:
    assert _as(app, world, actor).get("/clinic/messages").status_code == 404


def test_messages_link_leads_to_the_right_place(app: FastAPI, world: World) -> None:
    assert _as(app, world, OWN).get("/messages").headers["location"] == f"/patients/{world.patient_p_id}/messages"
    assert _as(app, world, CAREGIVER_GRANTED).get("/messages").headers["location"] == (
        f"/patients/{world.patient_p_id}/messages"
    )
    assert _as(app, world, CLINICIAN_GRANTED_CLINIC).get("/messages").headers["location"] == "/clinic/messages"
    nobody = _as(app, world, CAREGIVER_NOT_GRANTED).get("/messages")
    assert nobody.status_code == 200 and "PPLEAKMARKER" not in nobody.text


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (timedelta(seconds=30), "waiting under 1 min"),
        (timedelta(minutes=59), "waiting 59 min"),
        (timedelta(hours=3, minutes=59), "waiting 3 h"),
        (timedelta(hours=47), "waiting 47 h"),
        (timedelta(days=3, hours=5), "waiting 3 days"),
    ],
)
def test_waiting_label(age: timedelta, label: str) -> None:
    assert waiting_label(age) == label

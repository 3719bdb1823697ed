"""Symptom check-ins end to end: the form, triage on submit, the result screen per tier, alerts, idempotency,
bad input, and a save that fails (decision 0001). Built on the shared world (see world.py): P shares the full
record with clinic A, so P's check-ins alert clinic A; Q has no clinic."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import count, rows
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    OTHER_PATIENT,
    OWN,
    P_EMERGENCY,
    World,
    build_world,
    csrf_of,
    freeze_clock,
    signed_in_client,
)

from alscare.actions import checkins as checkin_actions
from alscare.actions import consent
from alscare.clinical.triage import CHECK_IN_FIELDS
from alscare.storage.models import Alert, CheckIn, ConsentGrant, Message, Notification, User

CLINIC_A_PHONE = "+44 20 7946 0001"


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def client_for(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def post_check_in(client: TestClient, patient_id: int, client_id: str | None = None, **fields: Any) -> Response:
    form = {"csrf_token": csrf_of(client), "client_id": client_id or str(uuid.uuid4()), **fields}
    return client.post(f"/patients/{patient_id}/check-in", data=form)


def check_in_and_follow(client: TestClient, patient_id: int, **fields: Any) -> Response:
    r = post_check_in(client, patient_id, **fields)
    assert r.status_code == 303, r.text
    assert re.fullmatch(rf"/patients/{patient_id}/check-ins/\d+", r.headers["location"])
    return client.get(r.headers["location"])


def check_ins_of_p(engine: Engine, world: World) -> list[CheckIn]:
    return rows(engine, CheckIn, CheckIn.patient_id == world.patient_p_id)


# --- The form ------------------------------------------------------------------------------------------------


def test_form_asks_emergency_signs_first_and_names_every_box(app: FastAPI, world: World) -> None:
    page = client_for(app, world, OWN).get(f"/patients/{world.patient_p_id}/check-in")
    assert page.status_code == 200
    html = page.text
    first = html.index("Right now: do you have any of these?")
    for later in ("Breathing and sleep", "Eating and swallowing", "Signs of infection", "Mood", "Falls"):
        assert html.index(later) > first, later
    # Every yes/no question of the triage table is on the form once, labelled with its wording.
    for name, spec in CHECK_IN_FIELDS.items():
        if spec.kind == "bool":
            assert html.count(f'id="{name}"') == 1, name
            assert f'<label for="{name}">{spec.label}</label>' in html.replace("&#39;", "'"), name
    # The body map: each box has a full accessible name.
    assert '<label for="body_map-left_arm-weakness" class="visually-hidden">Weakness in the left arm</label>' in html
    assert "Cramps in the right leg" in html
    # A fresh UUID per rendering; the emergency number is on the page; strict CSP: no inline script or style.
    client_id = re.search(r'name="client_id" value="([^"]+)"', html)
    assert client_id and uuid.UUID(client_id.group(1))
    assert f'href="tel:{P_EMERGENCY}"' in html
    assert not re.search(r"<script(?![^>]*\ssrc=\"/static/)", html) and "style=" not in html


def test_nav_check_in_leads_to_the_right_form(app: FastAPI, world: World) -> None:
    own = client_for(app, world, OWN).get("/check-in")
    assert (own.status_code, own.headers["location"]) == (303, f"/patients/{world.patient_p_id}/check-in/steps")
    caregiver = client_for(app, world, CAREGIVER_GRANTED).get("/check-in")
    assert (caregiver.status_code, caregiver.headers["location"]) == (
        303,
        f"/patients/{world.patient_p_id}/check-in/steps",
    )
    nobody = client_for(app, world, CAREGIVER_NOT_GRANTED).get("/check-in")
    assert nobody.status_code == 200 and "No one has shared their check-ins with you yet" in nobody.text
    home = client_for(app, world, OWN).get("/home")
    assert 'href="/check-in"' in home.text


# --- Each tier through the page ---------------------------------------------------------------------------------


def test_emergency_shows_the_call_screen_and_alerts_the_granted_clinic(
    app: FastAPI, world: World, engine: Engine
) -> None:
    page = check_in_and_follow(client_for(app, world, OWN), world.patient_p_id, breathing_sudden_trouble="yes")
    assert page.status_code == 200
    assert f"Call {P_EMERGENCY} now" in page.text
    assert f'class="call-button" href="tel:{P_EMERGENCY}"' in page.text
    assert "motor neurone disease" in page.text
    assert "oxygen" in page.text.lower() and "NIV" in page.text
    assert "Your care team has been alerted" in page.text
    (alert,) = rows(engine, Alert)
    assert (alert.clinic_id, alert.severity, alert.status, alert.source) == (
        world.clinic_a_id,
        "emergency",
        "open",
        "check_in",
    )
    assert "Suddenly having trouble breathing" in alert.summary
    # Notifications are queued with the alert (outbox), and carry no clinical detail.
    notes = rows(engine, Notification, Notification.alert_id == alert.id)
    assert notes and all("breath" not in n.body.lower() and "PPLEAKMARKER" not in n.body for n in notes)
    (row,) = [c for c in check_ins_of_p(engine, world) if c.id == int(page.url.path.rsplit("/", 1)[1])]
    assert (row.tier, row.reporter) == ("emergency", "self")


def test_contact_team_shows_the_clinic_phone_and_hours(app: FastAPI, world: World, engine: Engine) -> None:
    page = check_in_and_follow(client_for(app, world, CAREGIVER_GRANTED), world.patient_p_id, fever="yes")
    assert "Contact your care team today" in page.text
    assert f'href="tel:{CLINIC_A_PHONE}"' in page.text
    assert "Mon-Fri 9-17" in page.text
    assert f'href="tel:{P_EMERGENCY}"' in page.text  # the emergency number is on every result screen
    assert "Your care team has been alerted" in page.text
    (alert,) = rows(engine, Alert)
    assert (alert.severity, alert.clinic_id) == ("contact_team", world.clinic_a_id)
    assert check_ins_of_p(engine, world)[-1].reporter == "caregiver"


def test_routine_thanks_and_says_what_changed(app: FastAPI, world: World, engine: Engine) -> None:
    client = client_for(app, world, OWN)
    # The world's check-in reported cramps and no weight.
    first = check_in_and_follow(
        client, world.patient_p_id, twitching="yes", weight_kg="70", **{"body_map.left_arm": "weakness"}
    )
    assert "Thank you for checking in" in first.text
    assert "New: Twitching" in first.text
    assert "New: Weakness in the left arm" in first.text
    assert "No longer reported: Cramps" in first.text
    assert f'href="tel:{P_EMERGENCY}"' in first.text
    second = check_in_and_follow(
        client, world.patient_p_id, twitching="yes", weight_kg="68.8", **{"body_map.left_arm": "weakness"}
    )
    assert "Weight: down 1.2 kg" in second.text
    assert "New:" not in second.text
    assert count(engine, Alert) == 0


def test_self_harm_gives_crisis_line_guidance(app: FastAPI, world: World) -> None:
    page = check_in_and_follow(client_for(app, world, OWN), world.patient_p_id, self_harm_thoughts="yes")
    assert f"Call {P_EMERGENCY} now" in page.text
    assert "crisis or suicide helpline" in page.text


def test_no_alert_when_the_clinic_has_no_grant(app: FastAPI, world: World, db: Session, engine: Engine) -> None:
    grant = db.execute(
        select(ConsentGrant).where(
            ConsentGrant.patient_id == world.patient_p_id, ConsentGrant.grantee_clinic_id == world.clinic_a_id
        )
    ).scalar_one()
    patient_user = db.get(User, world.users[OWN])
    assert patient_user is not None
    consent.revoke_access(
        db, actor=patient_user, patient_id=world.patient_p_id, grant_id=grant.id, now=app.state.ctx.clock()
    )
    db.commit()
    db.close()
    page = check_in_and_follow(client_for(app, world, OWN), world.patient_p_id, blue_lips="yes")
    assert f"Call {P_EMERGENCY} now" in page.text
    assert "not alerted, because check-ins are not shared with the clinic" in page.text
    assert count(engine, Alert) == 0


def test_no_alert_without_a_clinic(app: FastAPI, world: World, engine: Engine) -> None:
    page = check_in_and_follow(client_for(app, world, OTHER_PATIENT), world.patient_q_id, chest_pain_severe="yes")
    assert "Call 112 now" in page.text
    assert "there is no clinic on this record" in page.text
    assert count(engine, Alert) == 0


def test_clinical_prompts_become_alerts_for_the_clinic(app: FastAPI, world: World, engine: Engine) -> None:
    page = check_in_and_follow(client_for(app, world, OWN), world.patient_p_id, fvc_percent="45", choking_on_food="yes")
    assert "Contact your care team today" in page.text
    by_severity = {(a.severity, a.source) for a in rows(engine, Alert)}
    assert by_severity == {("contact_team", "check_in"), ("prompt", "history_prompt")}
    # The history prompts of issue 8 (actions.prompts; they replaced the check-in-only table): dysphagia prompts
    # gastrostomy at any FVC, FVC < 50 % prompts NIV, and both are key decisions for a care-wishes conversation.
    prompts = sorted(a.source_id.split(":")[1] for a in rows(engine, Alert, Alert.source == "history_prompt"))
    assert prompts == ["care_wishes_discussion", "gastrostomy_dysphagia", "niv_fvc_below_50"]
    assert all(a.clinic_id == world.clinic_a_id for a in rows(engine, Alert))


def test_a_question_goes_to_the_clinic_conversation(app: FastAPI, world: World, engine: Engine) -> None:
    check_in_and_follow(client_for(app, world, OWN), world.patient_p_id, cramps="yes", question="Can I try baclofen?")
    (message,) = rows(engine, Message)
    row = check_ins_of_p(engine, world)[-1]
    assert (message.body, message.check_in_id, message.from_clinic) == ("Can I try baclofen?", row.id, False)
    assert row.question == "Can I try baclofen?"


def test_a_question_without_a_clinic_is_kept_on_the_check_in(app: FastAPI, world: World, engine: Engine) -> None:
    check_in_and_follow(client_for(app, world, OTHER_PATIENT), world.patient_q_id, question="Who do I ask?")
    assert count(engine, Message) == 0
    (row,) = rows(engine, CheckIn, CheckIn.patient_id == world.patient_q_id)
    assert row.question == "Who do I ask?"


# --- Idempotency through the page and the API ----------------------------------------------------------------


def test_the_same_form_posted_twice_is_stored_once(app: FastAPI, world: World, engine: Engine) -> None:
    client = client_for(app, world, OWN)
    before = len(check_ins_of_p(engine, world))
    client_id = str(uuid.uuid4())
    first = post_check_in(client, world.patient_p_id, client_id, fever="yes")
    second = post_check_in(client, world.patient_p_id, client_id, fever="yes")
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(check_ins_of_p(engine, world)) == before + 1
    assert count(engine, Alert) == 1


def test_the_same_api_body_posted_twice_is_stored_once(app: FastAPI, world: World, engine: Engine) -> None:
    client = client_for(app, world, CAREGIVER_GRANTED)
    body = {"client_id": str(uuid.uuid4()), "orthopnea": True, "body_map": {"trunk_breathing": ["weakness"]}}
    url = f"/api/v1/patients/{world.patient_p_id}/check-ins"
    first = client.post(url, json=body)
    second = client.post(url, json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    # The triage alert, and the guideline prompts orthopnoea raises: NIV, and care wishes (actions.prompts).
    assert first.json()["tier"] == "contact_team" and len(first.json()["alert_ids"]) == 3
    assert len(rows(engine, CheckIn, CheckIn.client_id == body["client_id"])) == 1
    listed = client.get(url).json()
    assert listed[0]["id"] == first.json()["id"]
    assert listed[0]["reporter"] == "caregiver"


def test_a_clinician_checking_in_is_recorded_as_the_reporter(app: FastAPI, world: World, engine: Engine) -> None:
    client = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    body = {"client_id": str(uuid.uuid4()), "question": "Asked at the visit: can they drive?"}
    r = client.post(f"/api/v1/patients/{world.patient_p_id}/check-ins", json=body)
    assert r.status_code == 201 and r.json()["reporter"] == "clinician" and r.json()["tier"] == "routine"
    assert r.json()["question"] == body["question"]
    assert count(engine, Message) == 0  # kept on the check-in; the clinic does not message itself


# --- Bad input: 422 naming the field, nothing stored --------------------------------------------------------------

PAGE_CASES = {
    "answer not yes or no": ({"fever": "maybe"}, "fever"),
    "weight -5": ({"weight_kg": "-5"}, "weight_kg"),
    "weight not a number": ({"weight_kg": "heavy"}, "weight_kg"),
    "unknown field": ({"elbow_ache": "yes"}, "elbow_ache"),
    "unknown body region": ({"body_map.elbow": "weakness"}, "body_map.elbow"),
    "unknown symptom": ({"body_map.left_arm": "itching"}, "body_map.left_arm"),
    "FVC 200": ({"fvc_percent": "200"}, "fvc_percent"),
    "question too long": ({"question": "x" * 4001}, "question"),
}


@pytest.mark.parametrize(("fields", "field"), PAGE_CASES.values(), ids=PAGE_CASES.keys())
def test_bad_form_input_names_the_field_and_stores_nothing(
    app: FastAPI, world: World, engine: Engine, fields: dict[str, str], field: str
) -> None:
    before = len(check_ins_of_p(engine, world))
    r = post_check_in(client_for(app, world, OWN), world.patient_p_id, cramps="yes", usual_weight_kg="71", **fields)
    assert r.status_code == 422
    assert f'<a href="#{field}">' in r.text
    assert len(check_ins_of_p(engine, world)) == before
    assert 'value="71"' in r.text  # what was typed is kept
    assert re.search(r'id="cramps" name="cramps" value="yes" checked', r.text)


def test_a_bad_client_id_is_refused(app: FastAPI, world: World, engine: Engine) -> None:
    before = len(check_ins_of_p(engine, world))
    r = post_check_in(client_for(app, world, OWN), world.patient_p_id, "not-a-uuid", cramps="yes")
    assert r.status_code == 422 and '<a href="#client_id">' in r.text
    assert len(check_ins_of_p(engine, world)) == before


API_CASES = {
    "answer of the wrong type": ({"fever": "yes"}, ["body", "fever"]),
    "weight -5": ({"weight_kg": -5}, ["body", "weight_kg"]),
    "weight true": ({"weight_kg": True}, ["body", "weight_kg"]),
    "unknown field": ({"elbow_ache": True}, ["body", "elbow_ache"]),
    "unknown body region": ({"body_map": {"elbow": ["weakness"]}}, ["body", "body_map", "elbow"]),
    "unknown symptom": ({"body_map": {"left_leg": ["itching"]}}, ["body", "body_map", "left_leg"]),
    "SpO2 40": ({"spo2_percent": 40}, ["body", "spo2_percent"]),
    "medicines not a list": ({"medicines": "riluzole"}, ["body", "medicines"]),
    "client_id not a UUID": ({"client_id": "abc"}, ["body", "client_id"]),
}


@pytest.mark.parametrize(("changes", "loc"), API_CASES.values(), ids=API_CASES.keys())
def test_bad_api_input_names_the_field_and_stores_nothing(
    app: FastAPI, world: World, engine: Engine, changes: dict[str, Any], loc: list[str]
) -> None:
    before = len(check_ins_of_p(engine, world))
    body = {"client_id": str(uuid.uuid4()), "cramps": True, **changes}
    r = client_for(app, world, OWN).post(f"/api/v1/patients/{world.patient_p_id}/check-ins", json=body)
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["detail"]], r.json()
    assert len(check_ins_of_p(engine, world)) == before


# --- A save that fails still shows the result -----------------------------------------------------------------


def _failing_save(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("database went away")


def test_emergency_is_shown_even_if_saving_fails(
    app: FastAPI, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkin_actions, "record_check_in", _failing_save)
    before = len(check_ins_of_p(engine, world))
    r = post_check_in(client_for(app, world, OWN), world.patient_p_id, choking_not_clearing="yes")
    assert r.status_code == 503
    assert f"Call {P_EMERGENCY} now" in r.text and f'href="tel:{P_EMERGENCY}"' in r.text
    assert "We could not save this check-in" in r.text
    assert "has not been alerted" in r.text
    assert len(check_ins_of_p(engine, world)) == before


def test_other_tiers_ask_to_try_again_if_saving_fails(
    app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkin_actions, "record_check_in", _failing_save)
    r = post_check_in(client_for(app, world, OWN), world.patient_p_id, cough="yes")
    assert r.status_code == 503
    assert "Contact your care team today" in r.text
    assert "try again" in r.text
    assert f'href="tel:{P_EMERGENCY}"' in r.text


def test_result_of_someone_elses_check_in_is_not_found(app: FastAPI, world: World) -> None:
    r = client_for(app, world, OTHER_PATIENT).get(f"/patients/{world.patient_q_id}/check-ins/{world.check_in_id}")
    assert r.status_code == 404

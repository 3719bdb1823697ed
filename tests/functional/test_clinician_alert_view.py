"""The clinician's view of an alert and a check-in: the report as a clinician reads it, the previous check-in
beside it, the latest scores and trend, phone numbers as tel: links, and the actions; the person still sees
their own result screen. Phone numbers are validated naming the field."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OWN,
    P_NAME,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.actions.errors import InvalidInput
from alscare.actions.phones import check_phone


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    app.state.ctx.clock = Clock(NOW)
    return build_world(db)


def _client(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def _check_in(app: FastAPI, world: World, **answers: Any) -> dict[str, Any]:
    r = _client(app, world, OWN).post(
        f"/api/v1/patients/{world.patient_p_id}/check-ins", json={"client_id": str(uuid.uuid4()), **answers}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _set_phone(client: TestClient, number: str) -> Any:
    return client.post("/account/phone", data={"csrf_token": csrf_of(client), "phone": number})


def test_clinician_reads_the_report_beside_the_previous_check_in_with_phones(app: FastAPI, world: World) -> None:
    patient, carer = _client(app, world, OWN), _client(app, world, CAREGIVER_GRANTED)
    assert _set_phone(patient, "020 7946 0417").status_code == 303
    assert _set_phone(carer, "+44 7700 900123").status_code == 303
    _check_in(app, world, weight_kg=70, cramps=True)
    app.state.ctx.clock.advance(days=3)
    body = _check_in(app, world, weight_kg=68.5, breathing_sudden_trouble=True)
    (alert_id,) = body["alert_ids"]
    page = _client(app, world, CLINICIAN_GRANTED_CLINIC).get(f"/clinic/alerts/{alert_id}")
    assert page.status_code == 200
    html = page.text
    assert "Call the emergency number now" not in html  # not the person's result screen
    assert "What was reported" in html and "Rules that fired" in html
    assert "Suddenly having trouble breathing" in html
    assert "This check-in beside the previous one" in html
    assert "68.5 kg" in html and "70 kg" in html  # weight now and before
    assert 'href="tel:02079460417"' in html and 'href="tel:+447700900123"' in html
    assert "Gina G" in html  # the carer, named beside their number
    assert "Latest ALSFRS-R and trend" in html
    assert f'href="/patients/{world.patient_p_id}/messages"' in html
    assert "Acknowledge" in html and "Resolve with a note" in html
    # P's care wishes (world.py: CPR no; "Ask CWLEAKMARKER yes or no questions") travel with the alert.
    assert "The person's care wishes" in html and "CWLEAKMARKER" in html


def test_the_check_in_page_differs_for_clinician_and_person(app: FastAPI, world: World) -> None:
    body = _check_in(app, world, breathing_sudden_trouble=True)
    path = f"/patients/{world.patient_p_id}/check-ins/{body['id']}"
    mine = _client(app, world, OWN).get(path)
    assert mine.status_code == 200 and "Call the emergency number now" in mine.text
    theirs = _client(app, world, CLINICIAN_GRANTED_CLINIC).get(path)
    assert theirs.status_code == 200
    assert "Call the emergency number now" not in theirs.text
    assert "What was reported" in theirs.text and P_NAME in theirs.text
    assert "Previous check-in" in theirs.text


@pytest.mark.parametrize(
    ("value", "message"),
    [("12345", "7 to 15 digits"), ("call me maybe", "Use only digits"), ("0" * 41, "at most 40"),
     ("+44 (0)20 7946 0000 ext", "Use only digits")],
)  # fmt: skip
def test_phone_numbers_are_checked_naming_the_field(value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check_phone(value)
    assert e.value.field == "phone" and message in e.value.message


def test_a_bad_phone_number_is_refused_on_the_page_and_changes_nothing(app: FastAPI, world: World) -> None:
    carer = _client(app, world, CAREGIVER_GRANTED)
    assert _set_phone(carer, "020 7946 0999").status_code == 303
    r = _set_phone(carer, "not a number")
    assert r.status_code == 422
    assert 'href="#phone"' in r.text and "Use only digits" in r.text
    assert 'value="020 7946 0999"' in carer.get("/account/phone").text

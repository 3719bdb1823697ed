"""Bad input is refused with the field named, and nothing is stored — on forms and in the API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import NOW, api_token, count, days_after, freeze_clock, rows, sign_up, signup_form, submit
from sqlalchemy import Engine

from alscare.storage.models import AlsfrsAssessment, ConsentGrant, Patient, User

TODAY = NOW.date()

# --- Self sign-up form ---------------------------------------------------------------------------------

SIGN_UP_CASES = {
    "missing email": ({"email": ""}, "email"),
    "bad email": ({"email": "ada.example.org"}, "email"),
    "short password": ({"password": "short"}, "password"),
    "future onset date": ({"onset_date": days_after(TODAY, 10)}, "onset_date"),
    "height 9000": ({"height_cm": "9000"}, "height_cm"),
    "diagnosis before onset": ({"onset_date": "2025-01-10", "diagnosis_date": "2024-12-01"}, "diagnosis_date"),
    "not a date": ({"date_of_birth": "14/05/1961"}, "date_of_birth"),
    "not a number": ({"height_cm": "tall"}, "height_cm"),
}


@pytest.mark.parametrize(("overrides", "field"), SIGN_UP_CASES.values(), ids=SIGN_UP_CASES.keys())
def test_sign_up_form_names_the_field_and_stores_nothing(
    client: TestClient, app: FastAPI, engine: Engine, overrides: dict[str, str], field: str
) -> None:
    freeze_clock(app)
    r = submit(client, "/signup", signup_form(**overrides))
    assert r.status_code == 422
    # The error summary links to the field, and the field carries its own message.
    assert f'<a href="#{field}">' in r.text
    assert f'id="{field}"' in r.text
    assert f'id="{field}-error"' in r.text
    assert 'aria-invalid="true"' in r.text
    assert r.text.count('class="error-message"') == 1
    # What was typed is kept (except the password).
    if field != "password":
        assert 'value="Ada Lovelace-Byron"' in r.text
    assert "violet tractor lemonade" not in r.text
    assert count(engine, User) == 0
    assert count(engine, Patient) == 0


# --- API -----------------------------------------------------------------------------------------------

ITEMS = {"1": 4, "2": 4, "3": 3, "4": 4, "5a": 3, "6": 4, "7": 4, "8": 3, "9": 3, "10": 4, "11": 4, "12": 4}


def _alsfrs(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"assessed_on": days_after(TODAY, -1), "administration_mode": "self_report"}
    body["items"] = dict(ITEMS)
    for key, value in changes.items():
        body[key] = value
    return body


def _items(changes: dict[str, Any] | None = None, *, drop: str | None = None) -> dict[str, Any]:
    """The valid answers with some changed, added or one left out."""
    items: dict[str, Any] = {k: v for k, v in ITEMS.items() if k != drop}
    items.update(changes or {})
    return items


ALSFRS_CASES = {
    "item 7 answered 7": (_alsfrs(items=_items({"7": 7})), ["body", "items", "7"]),
    "item 13": (_alsfrs(items=_items({"13": 2})), ["body", "items", "13"]),
    "neither 5a nor 5b": (_alsfrs(items=_items(drop="5a")), ["body", "items", "5a"]),
    "both 5a and 5b": (_alsfrs(items=_items({"5b": 2})), ["body", "items", "5b"]),
    "missing item": (_alsfrs(items=_items(drop="11")), ["body", "items", "11"]),
    "answer not a number": (_alsfrs(items=_items({"4": "four"})), ["body", "items", "4"]),
    "answer a fraction": (_alsfrs(items=_items({"4": 2.5})), ["body", "items", "4"]),
    "answer 3.0": (_alsfrs(items=_items({"4": 3.0})), ["body", "items", "4"]),
    "answer true": (_alsfrs(items=_items({"4": True})), ["body", "items", "4"]),
    "answer a numeric string": (_alsfrs(items=_items({"4": "3"})), ["body", "items", "4"]),
    "unknown top-level field": (_alsfrs(mood="fine"), ["body", "mood"]),
    "future date": (_alsfrs(assessed_on=days_after(TODAY, 1)), ["body", "assessed_on"]),
    "date before onset": (_alsfrs(assessed_on="2024-12-31"), ["body", "assessed_on"]),
    "unknown mode": (_alsfrs(administration_mode="telepathy"), ["body", "administration_mode"]),
    "missing items": ({"assessed_on": days_after(TODAY, -1), "administration_mode": "self_report"}, ["body", "items"]),
}


@pytest.fixture
def signed_in(client: TestClient, app: FastAPI, engine: Engine) -> int:
    """A person with ALS signed in through the pages; returns their record's id."""
    freeze_clock(app)
    sign_up(client)
    (patient,) = rows(engine, Patient)
    return int(patient.id)


@pytest.mark.parametrize(("body", "loc"), ALSFRS_CASES.values(), ids=ALSFRS_CASES.keys())
def test_alsfrs_api_names_the_field_and_stores_nothing(
    client: TestClient, engine: Engine, signed_in: int, body: dict[str, Any], loc: list[str]
) -> None:
    r = client.post(f"/api/v1/patients/{signed_in}/alsfrs-r", json=body, headers={"X-CSRF-Token": api_token(client)})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"] == loc
    assert detail[0]["msg"]
    assert count(engine, AlsfrsAssessment) == 0


def test_alsfrs_api_accepts_the_valid_example(client: TestClient, engine: Engine, signed_in: int) -> None:
    r = client.post(
        f"/api/v1/patients/{signed_in}/alsfrs-r", json=_alsfrs(), headers={"X-CSRF-Token": api_token(client)}
    )
    assert r.status_code == 201, r.text
    assert r.json()["total"] == 44
    assert count(engine, AlsfrsAssessment) == 1


PATCH_CASES = {
    "height 9000": ({"height_cm": 9000}, ["body", "height_cm"]),
    "unknown field": ({"eye_colour": "green"}, ["body", "eye_colour"]),
    "future onset": ({"onset_date": days_after(TODAY, 3)}, ["body", "onset_date"]),
    "diagnosis before onset": ({"diagnosis_date": "2024-12-01"}, ["body", "diagnosis_date"]),
    "unknown region": ({"onset_region": "elbow"}, ["body", "onset_region"]),
}


@pytest.mark.parametrize(("body", "loc"), PATCH_CASES.values(), ids=PATCH_CASES.keys())
def test_profile_patch_names_the_field_and_changes_nothing(
    client: TestClient, signed_in: int, body: dict[str, Any], loc: list[str]
) -> None:
    url = f"/api/v1/patients/{signed_in}"
    before = client.get(url).json()
    r = client.patch(url, json=body, headers={"X-CSRF-Token": api_token(client)})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc
    assert client.get(url).json() == before


def test_profile_patch_changes_the_profile(client: TestClient, signed_in: int) -> None:
    url = f"/api/v1/patients/{signed_in}"
    r = client.patch(url, json={"height_cm": 171}, headers={"X-CSRF-Token": api_token(client)})
    assert r.status_code == 200, r.text
    assert client.get(url).json()["height_cm"] == 171


GRANT_CASES = {
    "unknown scope": ({"scope": "everything", "grantee_email": "bea@example.org"}, ["body", "scope"]),
    "both email and clinic": (
        {"scope": "checkins", "grantee_email": "bea@example.org", "grantee_clinic_id": 1},
        ["body", "grantee_email"],
    ),
    "neither email nor clinic": ({"scope": "checkins"}, ["body", "grantee_email"]),
    "not an email": ({"scope": "checkins", "grantee_email": "nobody-at-example"}, ["body", "grantee_email"]),
    "unknown field": ({"scope": "checkins", "grantee_email": "bea@example.org", "forever": True}, ["body", "forever"]),
}


@pytest.mark.parametrize(("body", "loc"), GRANT_CASES.values(), ids=GRANT_CASES.keys())
def test_grant_api_names_the_field_and_grants_nothing(
    client: TestClient, engine: Engine, signed_in: int, body: dict[str, Any], loc: list[str]
) -> None:
    r = client.post(f"/api/v1/patients/{signed_in}/grants", json=body, headers={"X-CSRF-Token": api_token(client)})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc
    assert count(engine, ConsentGrant) == 0


def test_alsfrs_api_retry_with_the_same_client_id_is_stored_once(
    client: TestClient, engine: Engine, signed_in: int
) -> None:
    """A client that retries after a lost response must not create a second assessment (issue 4, nothing lost)."""
    body = _alsfrs(client_id="0b9f6a3c-8a39-4d77-9a57-0d7b8f1c2e33")
    headers = {"X-CSRF-Token": api_token(client)}
    first = client.post(f"/api/v1/patients/{signed_in}/alsfrs-r", json=body, headers=headers)
    second = client.post(f"/api/v1/patients/{signed_in}/alsfrs-r", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["id"] == second.json()["id"]
    assert count(engine, AlsfrsAssessment) == 1

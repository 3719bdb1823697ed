"""Accounts through the real pages: sign-up, sign-in and out, throttling, invitations with two-step
sign-in, password reset and CSRF. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import (
    PASSWORD,
    SESSION_COOKIE,
    Clock,
    browser,
    count,
    csrf_from,
    freeze_clock,
    hidden,
    invite,
    link_in,
    mails_to,
    open_clinic,
    rows,
    sign_in,
    sign_in_with_code,
    sign_out,
    sign_up,
    signup_form,
    submit,
)
from sqlalchemy import Engine

from alscare.mail import OutboxMailer
from alscare.security.totp import current_code
from alscare.storage.models import AlsfrsAssessment, ConsentGrant, Invitation, Patient, User
from alscare.web.pages.auth import SIGN_IN_FAILED


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return freeze_clock(app)


# --- Self sign-up, sign-in, sign-out ------------------------------------------------------------------


def test_self_sign_up_lands_home_with_an_unshared_record(client: TestClient, engine: Engine, clock: Clock) -> None:
    r = sign_up(client)
    assert r.headers["location"].startswith("/home")
    home = client.get("/home")
    assert home.status_code == 200
    assert "Hello, Ada Lovelace-Byron" in home.text

    (user,) = rows(engine, User)
    assert (user.email, user.role) == ("ada@example.org", "patient")
    (patient,) = rows(engine, Patient)
    assert patient.user_id == user.id
    assert patient.full_name == "Ada Lovelace-Byron"
    assert str(patient.onset_date) == "2025-01-10"
    assert patient.clinic_id is None
    assert count(engine, ConsentGrant) == 0


def test_wrong_password_and_unknown_email_get_the_same_answer(client: TestClient, app: FastAPI, clock: Clock) -> None:
    sign_up(client)
    sign_out(client)
    wrong = sign_in(client, "ada@example.org", "not the right password")
    unknown = sign_in(client, "nobody@example.org", PASSWORD)
    assert wrong.status_code == unknown.status_code == 422
    for r in (wrong, unknown):
        assert SIGN_IN_FAILED in r.text
    # Apart from the email echoed back into the form, the pages are the same.
    assert wrong.text.replace("ada@example.org", "X") == unknown.text.replace("nobody@example.org", "X")


def test_sign_in_rotates_the_cookie_and_sign_out_ends_the_session(client: TestClient, clock: Clock) -> None:
    sign_up(client)
    sign_out(client)
    client.get("/signin")
    before = client.cookies[SESSION_COOKIE]
    r = sign_in(client, "ada@example.org")
    assert r.status_code == 303 and r.headers["location"] == "/home"
    signed_in = client.cookies[SESSION_COOKIE]
    assert signed_in != before
    assert client.get("/home", follow_redirects=False).status_code == 200

    sign_out(client)
    assert client.cookies[SESSION_COOKIE] != signed_in
    assert client.get("/home", follow_redirects=False).headers["location"] == "/signin"
    # The old cookie value, replayed, no longer signs anyone in.
    replayed = client.get("/home", headers={"Cookie": f"{SESSION_COOKIE}={signed_in}"}, follow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"] == "/signin"
    api = client.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={signed_in}"})
    assert api.status_code == 401


def test_sign_in_backs_off_after_the_free_attempts(client: TestClient, engine: Engine, clock: Clock) -> None:
    sign_up(client)
    sign_out(client)
    (user,) = rows(engine, User)
    assert user.password_hash.startswith("$argon2id$")

    for _ in range(6):  # five free failures, and a sixth that starts the lock
        assert sign_in(client, "ada@example.org", "guessing wrongly again").status_code == 422
    locked = sign_in(client, "ada@example.org", PASSWORD)
    assert locked.status_code == 429
    assert re.search(r"Too many attempts\. Wait \d+ minute", locked.text)
    assert client.get("/home", follow_redirects=False).status_code == 303

    clock.advance(seconds=31)
    r = sign_in(client, "ada@example.org", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/home"


# --- Invitations and two-step sign-in ----------------------------------------------------------------


def test_admin_invites_clinician_who_must_enrol_two_step_sign_in(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    clinic = open_clinic(engine, now=clock.now)
    sign_in_with_code(client, clinic.admin_email, clinic.admin_secret, clock.now)
    link = invite(client, "dr.okafor@northgate.example")
    (mail,) = mails_to(outbox, "dr.okafor@northgate.example")
    assert f"https://testserver{link}" in mail

    with browser(app) as doctor:
        page = doctor.get(link)
        assert page.status_code == 200 and "as a clinician at Northgate MND Clinic" in page.text
        r = submit(doctor, link, {"display_name": "Dr Chidi Okafor", "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/account/two-factor"
        # Not signed in until the second factor is set up.
        assert doctor.get("/home", follow_redirects=False).headers["location"] == "/signin"

        enrol = doctor.get("/account/two-factor")
        secret = re.search(r'<span class="secret">([A-Z2-7]+)</span>', enrol.text)
        assert secret and hidden(enrol.text, "secret") == secret.group(1)
        r = doctor.post(
            "/account/two-factor",
            data={
                "csrf_token": csrf_from(enrol.text),
                "secret": secret.group(1),
                "signed_secret": hidden(enrol.text, "signed_secret"),
                "code": current_code(secret.group(1), clock.now),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/account")
        # A clinician's home is the clinic dashboard.
        assert doctor.get("/home", follow_redirects=False).headers["location"] == "/clinic"
        assert doctor.get("/clinic", follow_redirects=False).status_code == 200
        (user,) = rows(engine, User, User.email == "dr.okafor@northgate.example")
        assert (user.role, user.clinic_id, user.totp_enabled) == ("clinician", clinic.clinic_id, True)

        # Signing in again asks for the code; each code works once.
        sign_out(doctor)
        clock.advance(seconds=60)
        sign_in_with_code(doctor, "dr.okafor@northgate.example", secret.group(1), clock.now)
        sign_out(doctor)
        r = sign_in(doctor, "dr.okafor@northgate.example")
        assert r.headers["location"] == "/signin/code"
        replay = submit(doctor, "/signin/code", {"code": current_code(secret.group(1), clock.now)})
        assert replay.status_code == 422
        assert "That code is not right" in replay.text
        assert doctor.get("/home", follow_redirects=False).headers["location"] == "/signin"

        # The link worked once.
        assert doctor.get(link).status_code == 404


def _clinician(app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock, client: TestClient) -> str:
    """Sign ``client`` in as a clinician at a new clinic (admin invites, clinician enrols TOTP)."""
    clinic = open_clinic(engine, now=clock.now)
    with browser(app) as admin:
        sign_in_with_code(admin, clinic.admin_email, clinic.admin_secret, clock.now)
        link = invite(admin, "dr.okafor@northgate.example")
    submit(client, link, {"display_name": "Dr Chidi Okafor", "password": PASSWORD})
    enrol = client.get("/account/two-factor")
    secret = hidden(enrol.text, "secret")
    r = client.post(
        "/account/two-factor",
        data={
            "csrf_token": csrf_from(enrol.text),
            "secret": secret,
            "signed_secret": hidden(enrol.text, "signed_secret"),
            "code": current_code(secret, clock.now),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    return str(clinic.clinic_id)


@pytest.mark.parametrize(("shared", "expected"), [(["checkins"], {"checkins"}), ([], set())])
def test_clinician_invites_a_person_who_chooses_what_the_clinic_sees(
    client: TestClient,
    app: FastAPI,
    engine: Engine,
    outbox: OutboxMailer,
    clock: Clock,
    shared: list[str],
    expected: set[str],
) -> None:
    clinic_id = int(_clinician(app, engine, outbox, clock, client))
    link = invite(client, "sam@example.org")
    (mail,) = mails_to(outbox, "sam@example.org")
    assert f"https://testserver{link}" in mail

    with browser(app) as sam:
        page = sam.get(link)
        assert "through Northgate MND Clinic" in page.text
        form = {
            "display_name": "Sam Reid",
            "password": PASSWORD,
            "onset_date": "2025-02-01",
            "share_with_clinic": shared,
        }
        r = submit(sam, link, form)
        assert r.status_code == 303 and r.headers["location"].startswith("/home")
        (patient,) = rows(engine, Patient)
        assert (patient.full_name, patient.clinic_id) == ("Sam Reid", clinic_id)
        grants = rows(engine, ConsentGrant, ConsentGrant.patient_id == patient.id)
        assert {g.scope for g in grants} == expected
        assert all(g.grantee_clinic_id == clinic_id and g.grantee_user_id is None for g in grants)

    # The clinician sees the record only when something was shared.
    record = client.get(f"/patients/{patient.id}")
    assert record.status_code == (200 if expected else 404)


def test_person_invites_family_member_with_chosen_scopes(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    sign_up(client)
    link = invite(client, "jo@example.org", scopes=["checkins", "care_wishes"])
    (mail,) = mails_to(outbox, "jo@example.org")
    assert f"https://testserver{link}" in mail
    # The email carries the link, never clinical details.
    form = signup_form()
    for clinical in (form["date_of_birth"], form["onset_date"], form["diagnosis_date"], "ALSFRS", "diagnos"):
        assert clinical not in mail
    assert "checkins" not in mail and "care_wishes" not in mail

    (patient,) = rows(engine, Patient)
    assert count(engine, ConsentGrant) == 0  # nothing is shared until the invitation is accepted
    with browser(app) as jo:
        r = submit(jo, link, {"display_name": "Jo Lovelace", "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"].startswith("/home")
        (family,) = rows(engine, User, User.email == "jo@example.org")
        assert family.role == "caregiver"
        grants = rows(engine, ConsentGrant)
        assert {g.scope for g in grants} == {"checkins", "care_wishes"}
        assert {(g.patient_id, g.grantee_user_id, g.grantee_clinic_id) for g in grants} == {
            (patient.id, family.id, None)
        }
        assert jo.get(f"/patients/{patient.id}").status_code == 200
        # The link worked once.
        assert jo.get(link).status_code == 404
        assert submit(jo, link, {"display_name": "Jo Again", "password": PASSWORD}, page="/signin").status_code == 404
    assert count(engine, User, User.role == "caregiver") == 1


def test_expired_invitation_is_refused(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    sign_up(client)
    link = invite(client, "jo@example.org", scopes=["checkins"])
    clock.advance(days=7, seconds=1)
    with browser(app) as jo:
        assert jo.get(link).status_code == 404
        r = submit(jo, link, {"display_name": "Jo Lovelace", "password": PASSWORD}, page="/signin")
        assert r.status_code == 404
    assert count(engine, User) == 1
    assert count(engine, ConsentGrant) == 0
    (invitation,) = rows(engine, Invitation)
    assert invitation.accepted_at is None


# --- Password reset ------------------------------------------------------------------------------------


def test_password_reset_link_works_once(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    sign_up(client)
    sign_out(client)

    known = submit(client, "/password/forgot", {"email": "ada@example.org"})
    assert known.status_code == 200 and "Check your email" in known.text
    confirm, mail = mails_to(outbox, "ada@example.org")  # the sign-up's confirmation, then the reset
    assert "/signup/confirm/" in confirm
    link = link_in(mail)
    assert link.startswith("/password/reset/")

    unknown = submit(client, "/password/forgot", {"email": "nobody@example.org"})
    assert unknown.status_code == 200
    assert unknown.text == known.text
    # Both branches send one email (issue 14, finding 5): the unknown address is told it has no account,
    # with no link in it.
    (notice,) = mails_to(outbox, "nobody@example.org")
    assert "/password/reset/" not in notice and len(outbox.messages()) == 3

    r = submit(client, link, {"password": "a brand new sentence"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?reset=1"
    again = submit(client, link, {"password": "yet another new sentence"}, page="/signin")
    assert again.status_code == 404

    assert sign_in(client, "ada@example.org", PASSWORD).status_code == 422
    r = sign_in(client, "ada@example.org", "a brand new sentence")
    assert r.status_code == 303 and r.headers["location"] == "/home"


# --- CSRF ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "0" * 64, ""])
def test_form_post_without_the_right_csrf_token_is_refused(
    client: TestClient, engine: Engine, clock: Clock, token: str | None
) -> None:
    client.get("/signup")
    form = signup_form()
    if token is not None:
        form["csrf_token"] = token
    r = client.post("/signup", data=form, follow_redirects=False)
    assert r.status_code == 403
    assert count(engine, User) == 0 and count(engine, Patient) == 0


def test_signed_in_form_post_with_a_wrong_csrf_token_changes_nothing(
    client: TestClient, app: FastAPI, engine: Engine, clock: Clock
) -> None:
    sign_up(client)
    with browser(app) as other:
        sign_up(other, email="bea@example.org", full_name="Bea Other")
    (patient,) = rows(engine, Patient, Patient.full_name == "Ada Lovelace-Byron")
    r = client.post(
        f"/patients/{patient.id}/sharing",
        data={"csrf_token": "f" * 64, "grantee": "person", "grantee_email": "bea@example.org", "scope": "checkins"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert count(engine, ConsentGrant) == 0
    # A forged sign-out cannot end the session either.
    r = client.post("/signout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/home", follow_redirects=False).status_code == 200


def test_api_post_without_csrf_header_is_refused(client: TestClient, engine: Engine, clock: Clock) -> None:
    sign_up(client)
    (patient,) = rows(engine, Patient)
    body = {
        "assessed_on": "2026-03-01",
        "administration_mode": "self_report",
        "items": {"1": 4, "2": 4, "3": 3, "4": 4, "5a": 3, "6": 4, "7": 4, "8": 3, "9": 3, "10": 4, "11": 4, "12": 4},
    }
    url = f"/api/v1/patients/{patient.id}/alsfrs-r"
    assert client.post(url, json=body).status_code == 403
    assert client.post(url, json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert client.patch(f"/api/v1/patients/{patient.id}", json={"height_cm": 170}).status_code == 403
    assert count(engine, AlsfrsAssessment) == 0
    ok = client.post(url, json=body, headers={"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]})
    assert ok.status_code == 201 and ok.json()["total"] == 44
    assert count(engine, AlsfrsAssessment) == 1

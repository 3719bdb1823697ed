"""Running a clinic's accounts over HTTP (issue 14, item 4), on SQLite and PostgreSQL: a deactivated
clinician's open session is refused on the next request; a reset two-step sign-in forces enrolment; an email
change happens only after the link sent to the new address; non-administrators are refused; the people list
shows no clinical data, is paged, and its statement count does not grow with the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import (
    NOW,
    PASSWORD,
    browser,
    count,
    csrf_from,
    freeze_clock,
    mails_to,
    open_clinic,
    rows,
    sign_in,
    sign_in_with_code,
    submit,
)
from sqlalchemy import Engine, event

from alscare.actions.accounts import enable_second_factor
from alscare.mail import OutboxMailer
from alscare.security.passwords import hash_password
from alscare.security.totp import current_code
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import AuditEvent, Clinic, Patient, User, WebSession

CLINICIAN_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
CLINICIAN = "dr.khan@northgate.example"


def _add_clinician(engine: Engine, clinic_id: int, email: str = CLINICIAN) -> int:
    earlier = NOW - timedelta(hours=1)
    with transaction(make_sessionmaker(engine)) as db:
        user = User(
            email=email, display_name="Dr Khan", role="clinician", password_hash=hash_password(PASSWORD),
            clinic_id=clinic_id, totp_enabled=False, is_active=True, created_at=earlier,
        )  # fmt: skip
        db.add(user)
        db.flush()
        enable_second_factor(
            db, user=user, secret=CLINICIAN_SECRET, code=current_code(CLINICIAN_SECRET, earlier), now=earlier
        )
        return user.id


@pytest.fixture
def world(app: FastAPI, engine: Engine) -> dict[str, int]:
    freeze_clock(app)
    setup = open_clinic(engine)
    return {"clinic": setup.clinic_id, "clinician": _add_clinician(engine, setup.clinic_id)}


def _admin(app: FastAPI) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    sign_in_with_code(c, "admin@northgate.example", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", NOW)
    return c


def test_deactivated_clinicians_open_session_is_refused_on_the_next_request(
    app: FastAPI, engine: Engine, world: dict[str, int]
) -> None:
    with browser(app) as clinician:
        sign_in_with_code(clinician, CLINICIAN, CLINICIAN_SECRET, NOW)
        assert clinician.get("/clinic/alerts", follow_redirects=False).status_code == 200
        with _admin(app) as admin:
            r = submit(admin, f"/clinic/staff/{world['clinician']}/deactivate", {}, page="/clinic/staff")
            assert r.status_code == 303, r.text
            assert "Deactivated" in admin.get("/clinic/staff").text
        # The very next request with the clinician's session is refused.
        r = clinician.get("/clinic/alerts", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin"
        assert clinician.get("/api/v1/me").status_code == 401
        assert count(engine, WebSession, WebSession.user_id == world["clinician"]) == 0
        # And they cannot sign in again.
        r = sign_in(clinician, CLINICIAN)
        assert r.status_code != 303 or r.headers["location"] not in ("/signin/code", "/home")
    events = rows(engine, AuditEvent, AuditEvent.resource == "staff_account")
    assert [e.detail for e in events] == [f"deactivated user {world['clinician']}; 1 session(s) ended"]


def test_reset_two_step_forces_enrolment_at_next_sign_in(app: FastAPI, engine: Engine, world: dict[str, int]) -> None:
    with _admin(app) as admin:
        r = submit(admin, f"/clinic/staff/{world['clinician']}/reset-two-step", {}, page="/clinic/staff")
        assert r.status_code == 303, r.text
    with browser(app) as clinician:
        r = sign_in(clinician, CLINICIAN)
        assert r.status_code == 303 and r.headers["location"] == "/account/two-factor", r.headers
        # Not signed in until a new authenticator is set up: the old code no longer works anywhere.
        assert clinician.get("/clinic/alerts", follow_redirects=False).status_code == 303
        assert "Set up two-step sign-in" in clinician.get("/account/two-factor").text
    assert rows(engine, User, User.id == world["clinician"])[0].totp_secret is None
    assert count(engine, AuditEvent, AuditEvent.resource == "staff_two_step") == 1


def test_email_changes_only_after_the_link(
    app: FastAPI, engine: Engine, world: dict[str, int], outbox: OutboxMailer
) -> None:
    with browser(app) as c:
        sign_in_with_code(c, CLINICIAN, CLINICIAN_SECRET, NOW)
        r = submit(c, "/account/email", {"new_email": "khan@new.example", "email_password": "wrong password"},
                   page="/account")  # fmt: skip
        assert r.status_code == 422 and "not your current password" in r.text
        r = submit(c, "/account/email", {"new_email": "khan@new.example", "email_password": PASSWORD}, page="/account")
        assert r.status_code == 303
        page = c.get(r.headers["location"]).text
        assert "sent a link to the new address" in page and "/account/email/confirm/" not in page
        assert rows(engine, User, User.id == world["clinician"])[0].email == CLINICIAN  # not yet
        [mail] = mails_to(outbox, "khan@new.example")
        path = mail[mail.index("/account/email/confirm/") :].split()[0]
        # Opening the link (a GET: a preview, a prefetch) changes nothing.
        confirm = c.get(path)
        assert confirm.status_code == 200
        assert rows(engine, User, User.id == world["clinician"])[0].email == CLINICIAN
        r = c.post(path, data={"csrf_token": csrf_from(confirm.text)})
        assert r.status_code == 200 and "khan@new.example" in r.text
        assert rows(engine, User, User.id == world["clinician"])[0].email == "khan@new.example"
        # The old address is told, without a link; the link works only once.
        assert any("was just changed" in m for m in mails_to(outbox, CLINICIAN))
        assert c.post(path, data={"csrf_token": csrf_from(confirm.text)}).status_code == 404
    app.state.ctx.clock.advance(minutes=1)
    with browser(app) as c:
        sign_in_with_code(c, "khan@new.example", CLINICIAN_SECRET, NOW + timedelta(minutes=1))
    assert count(engine, AuditEvent, AuditEvent.resource == "own_email") == 2


def test_an_address_in_use_gets_the_same_answer_and_no_link(
    app: FastAPI, engine: Engine, world: dict[str, int], outbox: OutboxMailer
) -> None:
    with browser(app) as c:
        sign_in_with_code(c, CLINICIAN, CLINICIAN_SECRET, NOW)
        r = submit(c, "/account/email", {"new_email": "admin@northgate.example", "email_password": PASSWORD},
                   page="/account")  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/account?changed=email_sent"
    assert not any("/account/email/confirm/" in m for m in mails_to(outbox, "admin@northgate.example"))


def test_changing_the_password_ends_other_sessions(app: FastAPI, engine: Engine, world: dict[str, int]) -> None:
    with browser(app) as first, browser(app) as second:
        sign_in_with_code(first, CLINICIAN, CLINICIAN_SECRET, NOW)
        app.state.ctx.clock.advance(seconds=31)
        sign_in_with_code(second, CLINICIAN, CLINICIAN_SECRET, NOW + timedelta(seconds=31))
        r = submit(first, "/account/password", {"current_password": PASSWORD, "new_password": "short"},
                   page="/account")  # fmt: skip
        assert r.status_code == 422 and 'id="new_password-error"' in r.text
        new = "amber kettle orchestra"
        r = submit(first, "/account/password", {"current_password": PASSWORD, "new_password": new}, page="/account")
        assert r.status_code == 303
        assert first.get("/account", follow_redirects=False).status_code == 200  # this browser stays signed in
        assert second.get("/account", follow_redirects=False).status_code == 303  # the other one is signed out
    assert count(engine, AuditEvent, AuditEvent.resource == "own_password") == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/clinic/details"),
        ("POST", "/clinic/details"),
        ("GET", "/clinic/staff"),
        ("GET", "/clinic/people"),
        ("POST", "/clinic/staff/1/deactivate"),
        ("POST", "/clinic/staff/1/reset-two-step"),
    ],
)
def test_non_admins_are_refused(app: FastAPI, engine: Engine, world: dict[str, int], method: str, path: str) -> None:
    with browser(app) as c:
        sign_in_with_code(c, CLINICIAN, CLINICIAN_SECRET, NOW)
        token = csrf_from(c.get("/account").text)
        r = c.request(method, path, data={"csrf_token": token} if method == "POST" else None, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
    # Nothing changed: the admin still has two-step sign-in and is active.
    admin = rows(engine, User, User.role == "admin")[0]
    assert admin.is_active and admin.totp_enabled


def test_admin_cannot_touch_another_clinics_staff(app: FastAPI, engine: Engine, world: dict[str, int]) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        other = Clinic(name="Southside", phone="0113 000 0000", hours="Mon", created_at=NOW)
        db.add(other)
        db.flush()
        other_id = other.id
    stranger = _add_clinician(engine, other_id, email="stranger@southside.example")
    with _admin(app) as admin:
        r = submit(admin, f"/clinic/staff/{stranger}/deactivate", {}, page="/clinic/staff")
        assert r.status_code == 404
    assert rows(engine, User, User.id == stranger)[0].is_active


def test_clinic_details_are_edited_and_used_for_new_people(app: FastAPI, engine: Engine, world: dict[str, int]) -> None:
    with _admin(app) as admin:
        form = {"name": "Northgate MND Service", "phone": "0113 496 0001", "hours": "Mon-Thu 9-4",
                "address": "1 Infirmary Street, Leeds", "email": "", "emergency_number": "abc"}  # fmt: skip
        r = submit(admin, "/clinic/details", form)
        assert r.status_code == 422 and 'id="emergency_number-error"' in r.text
        assert rows(engine, Clinic, Clinic.id == world["clinic"])[0].name == "Northgate MND Clinic"  # unchanged
        r = submit(admin, "/clinic/details", {**form, "emergency_number": "999"})
        assert r.status_code == 303
    clinic = rows(engine, Clinic, Clinic.id == world["clinic"])[0]
    assert (clinic.name, clinic.hours, clinic.address, clinic.emergency_number) == (
        "Northgate MND Service",
        "Mon-Thu 9-4",
        "1 Infirmary Street, Leeds",
        "999",
    )
    [event] = rows(engine, AuditEvent, AuditEvent.resource == "clinic_details")
    assert event.detail == "changed name, phone, hours, address, emergency_number"


def _add_people(engine: Engine, clinic_id: int, n: int) -> None:
    with transaction(make_sessionmaker(engine)) as db:
        for i in range(n):
            person = Patient(
                full_name=f"Person {i:03d}", emergency_number="999", clinic_id=clinic_id, created_at=NOW,
                onset_region="bulbar",
            )  # fmt: skip
            db.add(person)


def _statements(engine: Engine, c: TestClient, path: str) -> tuple[int, str]:
    seen: list[str] = []

    def _count(*args: object) -> None:
        seen.append("x")

    event.listen(engine, "before_cursor_execute", _count)
    try:
        r = c.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert r.status_code == 200, r.text
    return len(seen), r.text


def test_people_list_is_paged_without_clinical_data_and_flat_in_statements(
    app: FastAPI, engine: Engine, world: dict[str, int]
) -> None:
    _add_people(engine, world["clinic"], 3)
    with _admin(app) as admin:
        _statements(engine, admin, "/clinic/people")  # warm-up: the first audit row creates the chain's head
        few, _ = _statements(engine, admin, "/clinic/people")
        _add_people(engine, world["clinic"], 40)
        many, page1 = _statements(engine, admin, "/clinic/people")
        assert many == few, (few, many)
        assert "43 people" in page1 and "Page 1 of 2" in page1
        assert page1.count("<tr><td>Person") == 25
        assert "bulbar" not in page1.lower() and "onset" not in page1.lower()
        _, page2 = _statements(engine, admin, "/clinic/people?page=2")
        assert page2.count("<tr><td>Person") == 18
    assert count(engine, AuditEvent, AuditEvent.resource == "clinic_people_list") == 4

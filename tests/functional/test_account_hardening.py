"""Account hardening found in review: names without control characters, invitation emails without names,
and a password reset that signs out every other session."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import (
    browser,
    count,
    freeze_clock,
    invite,
    link_in,
    sign_up,
    signup_form,
    submit,
)
from sqlalchemy import Engine

from alscare.mail import OutboxMailer
from alscare.storage.models import Patient, User


def test_a_name_with_a_line_break_is_refused_naming_the_field(client: TestClient, app: FastAPI, engine: Engine) -> None:
    freeze_clock(app)
    r = submit(client, "/signup", signup_form(full_name="Ada\r\nBcc: someone@example.org"))
    assert r.status_code == 422
    assert 'href="#full_name"' in r.text
    assert count(engine, User) == 0 and count(engine, Patient) == 0


def test_invitation_email_does_not_name_the_person_who_invited(
    client: TestClient, app: FastAPI, outbox: OutboxMailer
) -> None:
    """Saying who uses an ALS app, to whoever reads the invitee's mailbox, would reveal health information."""
    freeze_clock(app)
    sign_up(client)  # "Ada Lovelace-Byron", a person with ALS
    link = invite(client, "family@example.org", ["checkins"])
    (message,) = [m for m in outbox.messages() if m["To"] == "family@example.org"]
    text = f"{message['Subject']}\n{message.get_content()}"
    assert link_in(text) == link
    for revealing in ("Ada", "Lovelace", "ALS", "motor neurone"):
        assert revealing not in text
    # The page behind the link says who invited them.
    with browser(app) as family:
        assert "Ada Lovelace-Byron" in family.get(link).text


def test_password_reset_signs_out_every_other_session(client: TestClient, app: FastAPI, outbox: OutboxMailer) -> None:
    freeze_clock(app)
    sign_up(client)
    assert client.get("/home", follow_redirects=False).status_code == 200
    with browser(app) as other:
        submit(other, "/password/forgot", {"email": "ada@example.org"})
        mail = [m for m in outbox.messages() if m["To"] == "ada@example.org"][-1]  # after the sign-up's
        reset = submit(other, link_in(str(mail.get_content())), {"password": "a brand new sentence"})
        assert reset.status_code == 303
    # The session opened with the old password is gone.
    r = client.get("/home", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"

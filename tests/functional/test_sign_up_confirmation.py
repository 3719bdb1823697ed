"""Self sign-up confirmed by email (issue 14, finding 5): the page gives the same answer, after the same
work, whether or not the email already has an account; the account is made only when the emailed link's
button is pressed, once."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, browser, count, freeze_clock, link_in, mails_to, sign_in, sign_up, signup_form, submit
from sqlalchemy import Engine

from alscare.actions.sign_up import SIGN_UP_LINK_LIFETIME
from alscare.mail import OutboxMailer
from alscare.storage.models import Patient, User
from alscare.storage.models.sign_ups import PendingSignUp
from alscare.web.pages.auth import FORGOT_MIN_SECONDS


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return freeze_clock(app)


def _answer_text(html: str, email: str) -> str:
    return html.replace(email, "EMAIL")


def test_known_and_new_emails_get_the_same_answer_and_one_email_each(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    sign_up(client)  # ada@example.org has an account now
    users_before = count(engine, User)
    with browser(app) as stranger:
        started = time.monotonic()
        known = submit(stranger, "/signup", signup_form(full_name="Someone Else"))
        known_seconds = time.monotonic() - started
        started = time.monotonic()
        new = submit(stranger, "/signup", signup_form(email="bea@example.org", full_name="Bea New"))
        new_seconds = time.monotonic() - started
    assert known.status_code == new.status_code == 200
    assert _answer_text(known.text, "ada@example.org") == _answer_text(new.text, "bea@example.org")
    assert "already" not in known.text.lower().replace("if you already have an account", "")
    assert min(known_seconds, new_seconds) >= FORGOT_MIN_SECONDS
    # Nothing was made yet; the known address is told in its own mailbox, with no link to a new account.
    assert count(engine, User) == users_before
    notice = mails_to(outbox, "ada@example.org")[-1]
    assert "already has one" in notice and "/signup/confirm/" not in notice
    (confirm,) = mails_to(outbox, "bea@example.org")
    assert "/signup/confirm/" in confirm and "Bea" not in confirm  # no name in the email
    # Waiting sign-ups: only the new address's (ada's own, from before, was used).
    assert count(engine, PendingSignUp, PendingSignUp.used_at.is_(None)) == 1
    assert count(engine, PendingSignUp, PendingSignUp.email == "bea@example.org") == 1


def test_the_link_makes_the_account_once_and_a_get_changes_nothing(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    r = submit(client, "/signup", signup_form())
    assert "Check your email" in r.text
    link = link_in(mails_to(outbox, "ada@example.org")[-1])
    page = client.get(link)
    assert page.status_code == 200 and "Create my account" in page.text
    assert count(engine, User) == 0  # opening the link is not enough
    done = submit(client, link, {})
    assert done.status_code == 303 and done.headers["location"] == "/home?welcome=1"
    assert count(engine, User) == 1 and count(engine, Patient) == 1
    assert client.get("/home", follow_redirects=False).status_code == 200
    with browser(app) as other:
        again = submit(other, link, {}, page="/signin")
        assert again.status_code == 404 and "not valid" in again.text
        assert sign_in(other, "ada@example.org").status_code == 303  # the password typed at sign-up works
    assert count(engine, User) == 1


def test_an_expired_link_and_a_second_link_after_the_first_are_refused(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    submit(client, "/signup", signup_form())
    first = link_in(mails_to(outbox, "ada@example.org")[-1])
    submit(client, "/signup", signup_form())
    second = link_in(mails_to(outbox, "ada@example.org")[-1])
    assert first != second
    assert submit(client, second, {}).status_code == 303
    with browser(app) as other:
        assert submit(other, first, {}, page="/signin").status_code == 404  # used up with the second
        submit(other, "/signup", signup_form(email="cy@example.org"))
        late = link_in(mails_to(outbox, "cy@example.org")[-1])
        clock.advance(seconds=SIGN_UP_LINK_LIFETIME.total_seconds())
        assert other.get(late).status_code == 404
        assert submit(other, late, {}, page="/signin").status_code == 404
    assert count(engine, User) == 1


def test_bad_input_names_the_field_and_sends_nothing(
    client: TestClient, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    r = submit(client, "/signup", signup_form(password="short"))
    assert r.status_code == 422 and "Check your email" not in r.text and 'id="password-error"' in r.text
    assert outbox.messages() == [] and count(engine, PendingSignUp) == 0

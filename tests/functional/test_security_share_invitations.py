"""Issue 14, finding 5 (second half): sharing never tells the sharer whether an email has an account.

Written as the attack: someone who can share a record (the person, a proxy — or anyone who made an account
of their own to probe with) types an email and reads the answer. Before this change, an unknown email got
"No account uses this email" and a known one became a grant at once, so the answer said who uses an ALS app.
Now every share with a person is an invitation the invitee accepts from their mailbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import (
    PASSWORD,
    Clock,
    api_token,
    browser,
    count,
    freeze_clock,
    invite,
    mails_to,
    newest_link_to,
    open_clinic,
    rows,
    sign_in,
    sign_in_with_code,
    sign_up,
    submit,
)
from sqlalchemy import Engine, event

from alscare.mail import OutboxMailer
from alscare.storage.models import AuditEvent, ConsentGrant, Invitation, Patient, User

KNOWN = "bea@example.org"
UNKNOWN = "nobody.here@example.org"


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return freeze_clock(app)


def _people(client: TestClient, app: FastAPI, engine: Engine) -> int:
    """Ada signs up in ``client``; Bea has an account of her own. Returns Ada's record id."""
    with browser(app) as bea:
        sign_up(bea, email=KNOWN, full_name="Bea Byron")
    sign_up(client)
    return int(rows(engine, Patient, Patient.full_name == "Ada Lovelace-Byron")[0].id)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run inside the block: the same work for two requests is the same list."""
    seen: list[str] = []

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(re.sub(r"\s+", " ", statement))

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _share(client: TestClient, patient_id: int, email: str, scope: str = "checkins") -> httpx.Response:
    return submit(
        client,
        f"/patients/{patient_id}/sharing",
        {"grantee": "person", "grantee_email": email, "scope": scope},
    )


def test_sharing_page_answers_a_known_and_an_unknown_email_alike(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    _share(client, patient_id, "warm.up@example.org")  # the first request of a kind warms caches
    with _statements(engine) as known_work:
        known = _share(client, patient_id, KNOWN)
    with _statements(engine) as unknown_work:
        unknown = _share(client, patient_id, UNKNOWN)

    assert (known.status_code, known.headers["location"]) == (303, f"/patients/{patient_id}/sharing?done=invited")
    assert (unknown.status_code, unknown.headers["location"]) == (known.status_code, known.headers["location"])
    # The same work for both: no account is looked up (the answer's timing cannot differ by a query).
    assert len(known_work) == len(unknown_work)
    assert not any("FROM users WHERE users.email" in s for s in known_work + unknown_work)

    page = client.get(f"/patients/{patient_id}/sharing?done=invited").text
    assert "No account" not in page and "/invite/" not in page
    assert "Waiting for them to accept" in page and KNOWN in page and UNKNOWN in page
    assert count(engine, ConsentGrant) == 0  # nothing is shared before they accept
    # One email each, with the same words; only the link differs.
    (to_known,) = mails_to(outbox, KNOWN)[-1:]
    (to_unknown,) = mails_to(outbox, UNKNOWN)
    assert re.sub(r"/invite/\S+", "", to_known) == re.sub(r"/invite/\S+", "", to_unknown)
    for mail in (to_known, to_unknown):
        assert "Ada" not in mail and "checkins" not in mail


def test_api_answers_a_known_and_an_unknown_email_alike(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    headers = {"X-CSRF-Token": api_token(client)}
    url = f"/api/v1/patients/{patient_id}/grants"
    answers = [
        client.post(url, json={"scope": "checkins", "grantee_email": e}, headers=headers) for e in (KNOWN, UNKNOWN)
    ]
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    shapes = [{k: v for k, v in a.json().items() if k not in ("invitation_id", "email")} for a in answers]
    assert (
        shapes[0] == shapes[1] == {"scopes": ["checkins"], "status": "waiting", "expires_at": shapes[0]["expires_at"]}
    )
    assert all("/invite/" not in a.text for a in answers)
    assert count(engine, ConsentGrant) == 0
    assert client.get(url).json() == []


def test_known_account_accepts_after_signing_in(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    _share(client, patient_id, KNOWN)
    link = newest_link_to(client, KNOWN)
    with browser(app) as bea:
        # Signed out, the link asks her to sign in and brings her back.
        r = bea.get(link, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/signin?next={link}"
        assert "Sign in to see it and accept." in bea.get(r.headers["location"]).text
        r = submit(bea, "/signin", {"email": KNOWN, "password": PASSWORD, "next": link}, page=r.headers["location"])
        assert r.headers["location"] == link
        page = bea.get(link)
        assert "Ada Lovelace-Byron" in page.text and "Check-ins and scores" in page.text
        assert count(engine, ConsentGrant) == 0  # opening the page changes nothing
        assert bea.get(f"/patients/{patient_id}").status_code == 404
        r = submit(bea, f"{link}/accept", {}, page=link)
        assert (r.status_code, r.headers["location"]) == (303, "/home?accepted=1")
        assert bea.get(f"/patients/{patient_id}").status_code == 200
        # Single use.
        assert bea.get(link).status_code == 404
        assert submit(bea, f"{link}/accept", {}, page="/home").status_code == 404
    (grant,) = rows(engine, ConsentGrant)
    (bea_user,) = rows(engine, User, User.email == KNOWN)
    assert (grant.patient_id, grant.grantee_user_id, grant.scope) == (patient_id, bea_user.id, "checkins")
    (inv,) = rows(engine, Invitation)
    assert inv.accepted_by_id == bea_user.id
    details = [e.detail for e in rows(engine, AuditEvent, AuditEvent.resource == "sharing")]
    assert any(d and d.startswith("invited a person to see checkins") for d in details)
    assert f"granted checkins by invitation {inv.id}" in details
    assert f"accepted invitation {inv.id}" in details
    # The sharer now sees her as sharing; the invitation is no longer waiting.
    page = client.get(f"/patients/{patient_id}/sharing").text
    assert "Bea Byron" in page and "Waiting for them to accept" not in page


def test_unknown_person_makes_an_account_from_the_link(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    _share(client, patient_id, UNKNOWN, scope="care_wishes")
    link = newest_link_to(client, UNKNOWN)
    with browser(app) as newcomer:
        r = submit(newcomer, link, {"display_name": "Noa Here", "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"].startswith("/home")
    (user,) = rows(engine, User, User.email == UNKNOWN)
    (grant,) = rows(engine, ConsentGrant)
    assert (user.role, grant.grantee_user_id, grant.scope) == ("caregiver", user.id, "care_wishes")
    assert rows(engine, Invitation)[0].accepted_by_id == user.id


def test_someone_else_with_the_link_cannot_accept_it(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    """A forwarded link, opened by another signed-in account (here: the sharer herself)."""
    patient_id = _people(client, app, engine)
    _share(client, patient_id, KNOWN)
    link = newest_link_to(client, KNOWN)
    page = client.get(link)
    assert page.status_code == 200 and "sent to another email address" in page.text
    assert 'action="' + link not in page.text
    r = client.post(f"{link}/accept", data={"csrf_token": _csrf(client)}, follow_redirects=False)
    assert r.status_code == 403
    assert count(engine, ConsentGrant) == 0
    assert rows(engine, Invitation)[0].accepted_at is None


def _csrf(client: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/home").text)
    assert match
    return match.group(1)


def test_sharer_withdraws_a_pending_invitation(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    _share(client, patient_id, KNOWN)
    link = newest_link_to(client, KNOWN)
    (inv,) = rows(engine, Invitation)
    r = submit(client, f"/invitations/{inv.id}/cancel", {"back": "sharing"}, page=f"/patients/{patient_id}/sharing")
    assert r.headers["location"] == f"/patients/{patient_id}/sharing?done=cancelled"
    with browser(app) as bea:
        sign_in(bea, KNOWN)
        assert bea.get(link).status_code == 404
        assert submit(bea, f"{link}/accept", {}, page="/home").status_code == 404
    assert count(engine, ConsentGrant) == 0
    assert f"cancelled invitation {inv.id}" in [e.detail for e in rows(engine, AuditEvent)]


def test_invitation_lapses_when_the_sharer_loses_the_right_to_share(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    """A proxy invites someone, then the person takes the proxy's grant back: the invitation no longer works."""
    patient_id = _people(client, app, engine)
    _share(client, patient_id, KNOWN, scope="proxy")
    with browser(app) as bea:
        sign_in(bea, KNOWN)
        submit(bea, f"{newest_link_to(client, KNOWN)}/accept", {}, page="/home")
        assert _share(bea, patient_id, UNKNOWN).status_code == 303  # Bea, as proxy, invites someone
    link = newest_link_to(client, UNKNOWN)
    (proxy_grant,) = rows(engine, ConsentGrant)
    submit(client, f"/patients/{patient_id}/sharing/{proxy_grant.id}/revoke", {}, page="/home")
    with browser(app) as newcomer:
        assert newcomer.get(link).status_code == 404
        r = submit(newcomer, link, {"display_name": "Noa Here", "password": PASSWORD}, page="/signin")
        assert r.status_code == 404
    assert count(engine, User, User.email == UNKNOWN) == 0
    assert count(engine, ConsentGrant, ConsentGrant.revoked_at.is_(None)) == 0


def test_family_invitation_to_a_known_email_is_a_share_the_account_accepts(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    """The invitations page's family invitation: the same answer and email for a known and an unknown address,
    and the known account accepts it signed in (before, its email said to ask for sharing instead)."""
    patient_id = _people(client, app, engine)
    pages = [invite(client, e, scopes=["checkins"]) for e in (KNOWN, UNKNOWN)]
    assert all(p.startswith("/invite/") for p in pages)
    mails = [re.sub(r"/invite/\S+", "", mails_to(outbox, e)[-1]) for e in (KNOWN, UNKNOWN)]
    assert mails[0] == mails[1]
    with browser(app) as bea:
        sign_in(bea, KNOWN)
        assert submit(bea, f"{pages[0]}/accept", {}, page="/home").status_code == 303
    (grant,) = rows(engine, ConsentGrant)
    assert grant.patient_id == patient_id


def test_staff_invitations_answer_a_known_and_an_unknown_email_alike(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    clinic = open_clinic(engine, now=clock.now)
    sign_in_with_code(client, clinic.admin_email, clinic.admin_secret, clock.now)
    answers = []
    for email in (clinic.admin_email, "new.doctor@northgate.example"):
        r = submit(client, "/invitations", {"email": email})
        answers.append(re.sub(r"\s+", " ", re.sub(r"<tr>.*?</tr>", "", r.text.replace(email, "EMAIL"), flags=re.S)))
    assert answers[0] == answers[1]
    headers = {"X-CSRF-Token": api_token(client)}
    api = [client.post("/api/v1/invitations", json={"email": e}, headers=headers) for e in (KNOWN, "x@y.example")]
    assert [a.status_code for a in api] == [201, 201]
    assert [sorted(a.json()) for a in api] == [["email", "expires_at", "id", "role"]] * 2
    assert all("/invite/" not in a.text for a in api)


def test_sharer_withdraws_a_pending_invitation_through_the_api(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    headers = {"X-CSRF-Token": api_token(client)}
    sent = client.post(
        f"/api/v1/patients/{patient_id}/grants", json={"scope": "checkins", "grantee_email": KNOWN}, headers=headers
    )
    invitation_id = sent.json()["invitation_id"]
    link = newest_link_to(client, KNOWN)
    with browser(app) as bea:
        sign_in(bea, KNOWN)
        # A stranger to the invitation (the invitee herself, here) cannot withdraw it: it does not exist for her.
        bea_headers = {"X-CSRF-Token": api_token(bea)}
        assert bea.delete(f"/api/v1/invitations/{invitation_id}", headers=bea_headers).status_code == 404
        assert client.delete(f"/api/v1/invitations/{invitation_id}", headers=headers).status_code == 204
        assert bea.get(link).status_code == 404
    assert count(engine, ConsentGrant) == 0
    assert rows(engine, Invitation)[0].cancelled_at is not None


def test_api_lists_the_invitations_that_wait_and_only_to_the_sharer(
    client: TestClient, app: FastAPI, engine: Engine, outbox: OutboxMailer, clock: Clock
) -> None:
    patient_id = _people(client, app, engine)
    headers = {"X-CSRF-Token": api_token(client)}
    assert client.get(f"/api/v1/patients/{patient_id}/invitations").json() == []
    sent = client.post(
        f"/api/v1/patients/{patient_id}/grants", json={"scope": "checkins", "grantee_email": KNOWN}, headers=headers
    )
    listed = client.get(f"/api/v1/patients/{patient_id}/invitations")
    assert listed.status_code == 200
    [waiting] = listed.json()
    assert waiting["invitation_id"] == sent.json()["invitation_id"]
    assert (waiting["email"], waiting["scopes"], waiting["status"]) == (KNOWN, ["checkins"], "waiting")
    assert "token" not in listed.text and "/invite/" not in listed.text  # the link never comes back
    with browser(app) as bea:
        sign_in(bea, KNOWN)
        assert bea.get(f"/api/v1/patients/{patient_id}/invitations").status_code == 404
    assert client.delete(f"/api/v1/invitations/{waiting['invitation_id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/patients/{patient_id}/invitations").json() == []

"""The clinic's webhook page: administrators add (secret shown once) and deactivate; nobody else sees it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from alscare.security.tokens import csrf_token, new_token, token_digest
from alscare.storage.db import transaction
from alscare.storage.models import Clinic, User, WebhookEndpoint, WebSession
from alscare.web.middleware import SESSION_COOKIE

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _people(app: FastAPI) -> dict[str, int]:
    app.state.ctx.clock = lambda: NOW
    ids: dict[str, int] = {}
    with transaction(app.state.ctx.sessions) as db:
        clinic = Clinic(name="Northgate", phone="1", hours="9-5", created_at=NOW)
        other = Clinic(name="Southport", phone="2", hours="9-5", created_at=NOW)
        db.add_all([clinic, other])
        db.flush()
        for key, role, clinic_id in [
            ("admin", "admin", clinic.id),
            ("other_admin", "admin", other.id),
            ("clinician", "clinician", clinic.id),
            ("patient", "patient", None),
        ]:
            user = User(
                email=f"{key}@example.org",
                display_name=key,
                role=role,
                password_hash="x",
                clinic_id=clinic_id,
                is_active=True,
                created_at=NOW,
            )
            db.add(user)
            db.flush()
            ids[key] = user.id
    return ids


def _client(app: FastAPI, user_id: int) -> TestClient:
    ctx = app.state.ctx
    token = new_token()
    with transaction(ctx.sessions) as db:
        db.add(
            WebSession(
                token_digest=token_digest(token), user_id=user_id, created_at=NOW, expires_at=NOW + timedelta(hours=1)
            )
        )
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    client.headers["X-CSRF-Token"] = csrf_token(ctx.settings.secret_key, token)
    return client


def _csrf(client: TestClient) -> str:
    return str(client.headers["X-CSRF-Token"])


def _endpoints(app: FastAPI) -> list[WebhookEndpoint]:
    with app.state.ctx.sessions() as db:
        rows = list(db.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).scalars())
        db.commit()
        return rows


def test_admin_adds_an_endpoint_sees_the_secret_once_and_deactivates_it(app: FastAPI) -> None:
    ids = _people(app)
    admin = _client(app, ids["admin"])

    page = admin.get("/clinic/webhooks")
    assert page.status_code == 200 and "no webhook endpoints" in page.text
    assert '<label for="url">' in page.text

    r = admin.post("/clinic/webhooks", data={"url": "https://ehr.example.org/alscare", "csrf_token": _csrf(admin)})
    assert r.status_code == 200, r.text
    [endpoint] = _endpoints(app)
    assert (endpoint.url, endpoint.active) == ("https://ehr.example.org/alscare", True)
    assert len(endpoint.secret) >= 43  # read through the ORM: unsealed
    assert endpoint.secret in r.text  # shown once...
    assert endpoint.secret not in admin.get("/clinic/webhooks").text  # ...and never again

    r = admin.post(f"/clinic/webhooks/{endpoint.id}/deactivate", data={"csrf_token": _csrf(admin)})
    assert r.status_code == 303 and r.headers["location"] == "/clinic/webhooks?done=deactivated"
    assert _endpoints(app)[0].active is False
    assert "Deactivated" in admin.get("/clinic/webhooks?done=deactivated").text


def test_http_is_accepted_only_to_this_machine(app: FastAPI) -> None:
    # Loopback is a private target: only with ALSCARE_WEBHOOK_ALLOW_PRIVATE (issue 14, finding 8).
    app.state.ctx.settings = replace(app.state.ctx.settings, webhook_allow_private=True)
    ids = _people(app)
    admin = _client(app, ids["admin"])
    for good in ("http://127.0.0.1:9000/hook", "http://localhost/hook"):
        r = admin.post("/clinic/webhooks", data={"url": good, "csrf_token": _csrf(admin)})
        assert r.status_code == 200, good
    assert [e.url for e in _endpoints(app)] == ["http://127.0.0.1:9000/hook", "http://localhost/hook"]


@pytest.mark.parametrize(
    "url",
    [
        "http://ehr.example.org/hook",
        "ftp://ehr.example.org/hook",
        "ehr.example.org/hook",
        "https://user:pw@ehr.example.org/hook",
        "https://",
        "",
        "https://ehr.example.org/" + "x" * 600,
    ],
)
def test_bad_addresses_are_refused_with_a_message_by_the_field(app: FastAPI, url: str) -> None:
    ids = _people(app)
    admin = _client(app, ids["admin"])
    r = admin.post("/clinic/webhooks", data={"url": url, "csrf_token": _csrf(admin)})
    assert r.status_code == 422
    assert 'id="url-error"' in r.text and 'aria-invalid="true"' in r.text
    assert re.search(r'<a href="#url">', r.text)
    assert _endpoints(app) == []


def test_forms_need_the_csrf_token(app: FastAPI) -> None:
    ids = _people(app)
    admin = _client(app, ids["admin"])
    r = admin.post("/clinic/webhooks", data={"url": "https://ehr.example.org/hook", "csrf_token": "forged"})
    assert r.status_code == 403
    assert _endpoints(app) == []


@pytest.mark.parametrize("who", ["clinician", "patient", "other_admin"])
def test_everyone_but_the_clinics_admins_gets_404(app: FastAPI, who: str) -> None:
    ids = _people(app)
    admin = _client(app, ids["admin"])
    admin.post("/clinic/webhooks", data={"url": "https://ehr.example.org/hook", "csrf_token": _csrf(admin)})
    [endpoint] = _endpoints(app)

    someone = _client(app, ids[who])
    assert someone.get("/clinic/webhooks").status_code == (200 if who == "other_admin" else 404)
    if who == "other_admin":
        assert "ehr.example.org" not in someone.get("/clinic/webhooks").text
    else:
        add = someone.post("/clinic/webhooks", data={"url": "https://x.example.org/", "csrf_token": _csrf(someone)})
        assert add.status_code == 404
    r = someone.post(f"/clinic/webhooks/{endpoint.id}/deactivate", data={"csrf_token": _csrf(someone)})
    assert r.status_code == 404
    assert [e.active for e in _endpoints(app)] == [True]


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    r = client.get("/clinic/webhooks", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"

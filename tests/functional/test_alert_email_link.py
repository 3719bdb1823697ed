"""An alert email names its tier and clinic and nothing clinical, and its link lands on that alert after
sign-in and two-step sign-in; ``next`` never leaves the site (no open redirect)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock
from sqlalchemy.orm import Session
from world import BASE_URL, CLINICIAN_GRANTED_CLINIC, NOW, OWN, P_NAME, PASSWORD, World, build_world, signed_in_client

from alscare.actions.accounts import enable_second_factor
from alscare.delivery.transports import EmailTransport, WebhookTransport
from alscare.delivery.worker import Transports, deliver_due
from alscare.mail import OutboxMailer
from alscare.security.totp import current_code
from alscare.storage.db import make_sessionmaker
from alscare.storage.models import User
from alscare.web.next_path import safe_next

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    app.state.ctx.clock = Clock(NOW)
    built = build_world(db)
    clinician = db.get(User, built.users[CLINICIAN_GRANTED_CLINIC])
    assert clinician is not None
    earlier = NOW - timedelta(hours=1)
    enable_second_factor(db, user=clinician, secret=SECRET, code=current_code(SECRET, earlier), now=earlier)
    db.commit()
    return built


def _emergency_alert_email(app: FastAPI, world: World, tmp_path: Path) -> tuple[int, str, str]:
    r = signed_in_client(app, world.users[OWN]).post(
        f"/api/v1/patients/{world.patient_p_id}/check-ins",
        json={"client_id": str(uuid.uuid4()), "breathing_sudden_trouble": True, "question": "Zebedee wheezes"},
    )
    assert r.status_code == 201, r.text
    (alert_id,) = r.json()["alert_ids"]
    outbox = tmp_path / "alert-mail"
    transports = Transports(email=EmailTransport(None, outbox), webhook=WebhookTransport(timeout=2))
    deliver_due(make_sessionmaker(app.state.ctx.engine), worker_id="t", transports=transports, clock=lambda: NOW)
    mails = [m for m in OutboxMailer(outbox).messages() if m["To"] == "clinician.a@example.org"]
    # The question also went to the clinic as a message (its own email, which says nothing either).
    (mail,) = [m for m in mails if " alert at " in str(m["Subject"])]
    for other in mails:
        assert "Zebedee" not in str(other.get_content())
    return int(alert_id), str(mail["Subject"]), str(mail.get_content())


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match
    return match.group(1)


def test_alert_email_names_the_tier_and_clinic_and_its_link_lands_on_the_alert(
    app: FastAPI, world: World, tmp_path: Path
) -> None:
    alert_id, subject, body = _emergency_alert_email(app, world, tmp_path)
    text = f"{subject}\n{body}"
    assert subject == "alscare: emergency alert at Clinic Alpha"
    assert "Tier: emergency." in body and "Clinic Alpha" in body
    for clinical in (P_NAME, "Paula", "Zebedee", "wheez", "breath", "trouble"):
        assert clinical.lower() not in text.lower(), clinical
    (link,) = re.findall(r"https://testserver/\S+", body)
    assert link == f"{BASE_URL}/clinic/alerts/{alert_id}"

    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as visitor:
        r = visitor.get(link)
        assert (r.status_code, r.headers["location"]) == (303, f"/signin?next=/clinic/alerts/{alert_id}")
        signin_page = r.headers["location"]
        r = visitor.post(
            "/signin",
            data={
                "csrf_token": _csrf(visitor, signin_page),
                "email": "clinician.a@example.org",
                "password": PASSWORD,
                "next": f"/clinic/alerts/{alert_id}",
            },
        )
        assert (r.status_code, r.headers["location"]) == (303, f"/signin/code?next=/clinic/alerts/{alert_id}")
        code_page = r.headers["location"]
        assert f'name="next" value="/clinic/alerts/{alert_id}"' in visitor.get(code_page).text
        r = visitor.post(
            "/signin/code",
            data={"csrf_token": _csrf(visitor, code_page), "code": current_code(SECRET, NOW),
                  "next": f"/clinic/alerts/{alert_id}"},
        )  # fmt: skip
        assert (r.status_code, r.headers["location"]) == (303, f"/clinic/alerts/{alert_id}")
        landed = visitor.get(r.headers["location"])
        assert landed.status_code == 200 and "What was reported" in landed.text and P_NAME in landed.text


@pytest.mark.parametrize(
    "evil",
    ["https://evil.example/x", "//evil.example", "/\\evil.example", "\\\\evil", "http:/x",
     "/ok\r\nLocation: https://evil.example", "javascript:alert(1)", "/signin?next=/x", "", "relative/path",
     "/" + "a" * 600],
)  # fmt: skip
def test_next_is_a_path_on_this_site_only(evil: str) -> None:
    assert safe_next(evil) is None


def test_a_path_with_its_query_is_kept() -> None:
    assert safe_next("/clinic?filter=overdue&page=2") == "/clinic?filter=overdue&page=2"


def test_an_outside_next_is_dropped_at_sign_in(app: FastAPI, world: World) -> None:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as visitor:
        r = visitor.post(
            "/signin",
            data={
                "csrf_token": _csrf(visitor, "/signin?next=//evil.example"),
                "email": world.emails[OWN],
                "password": PASSWORD,
                "next": "https://evil.example/",
            },
        )
        assert (r.status_code, r.headers["location"]) == (303, "/home")

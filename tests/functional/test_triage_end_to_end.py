"""Each triage tier end to end (decision 0001): a check-in submitted through the real page, its result screen,
then the delivery worker sending the alert over real SMTP (aiosmtpd on 127.0.0.1) and to a local webhook
receiver that checks each call's signature. Also: two workers racing deliver every notification exactly once,
and acknowledging an alert in the inbox stops its escalation.

Built on the shared world (see world.py): P shares the full record with clinic A, so P's check-ins alert
clinic A. Here clinic A also has a second clinician and a webhook endpoint pointing at the local receiver.
The app's clock is fixed and moved by hand; the worker runs on the same clock.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, count, csrf_from, hidden, rows
from httpx import Response
from loopback import Receiver, SmtpSink, smtp_sink, webhook_receiver
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from world import (
    ADMIN_GRANTED_CLINIC,
    BASE_URL,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OWN,
    P_EMERGENCY,
    P_MARKERS,
    P_NAME,
    World,
    build_world,
    signed_in_client,
)

from alscare.delivery.endpoints import add_webhook_endpoint
from alscare.delivery.outbox import ALERT_SUBJECT, ESCALATION_SUBJECT, TIER_WORDS
from alscare.delivery.transports import verify_webhook_signature
from alscare.delivery.worker import deliver_due, run_once, transports_for
from alscare.mail import OutboxMailer
from alscare.settings import Settings, SmtpSettings
from alscare.storage.models import Alert, Notification, User
from alscare.web.app import create_app

ESCALATE_MINUTES = 10
CLINIC_A_PHONE = "+44 20 7946 0001"
CLINIC_A_HOURS = "Mon-Fri 9-17"
SECOND_CLINICIAN = "second.clinician.a@example.org"
# Words from the answers and the record that must never leave the machine in a notification. The tier is named
# on purpose ("emergency", "contact today", "guideline prompt", "escalated": issue 8), so it is not listed.
CLINICAL_WORDS = ("breath", "fever", "twitch", "contact_team", "routine", "choking", "paula")


# --- Real servers on 127.0.0.1 (see loopback.py) ----------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def receiver(clock: Clock) -> Iterator[Receiver]:
    """Checks signatures on the app's clock; its secret is known once the clinic has registered the endpoint."""
    with webhook_receiver(now=clock) as state:
        yield state


# --- The app and the world ---------------------------------------------------------------------------------


@pytest.fixture
def app(settings: Settings, engine: Engine, outbox: OutboxMailer, smtp: SmtpSink, clock: Clock) -> FastAPI:
    smtp_settings = SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="alscare@test.example")
    app = create_app(
        replace(
            settings,
            smtp=smtp_settings,
            alert_escalate_minutes=ESCALATE_MINUTES,
            webhook_allow_private=True,  # the test receiver listens on loopback
        ),
        engine=engine,
        mailer=outbox,
    )
    app.state.ctx.clock = clock
    return app


@pytest.fixture
def world(app: FastAPI, db: Session, receiver: Receiver) -> World:
    built = build_world(db)
    admin = db.get(User, built.users[ADMIN_GRANTED_CLINIC])
    assert admin is not None
    db.add(
        User(
            email=SECOND_CLINICIAN,
            display_name="Second Clinician",
            role="clinician",
            password_hash="x",
            clinic_id=built.clinic_a_id,
            is_active=True,
            created_at=NOW,
        )
    )
    _, receiver.secret = add_webhook_endpoint(db, user=admin, url=receiver.url, now=NOW, allow_private=True)
    db.commit()
    db.close()  # on SQLite an open transaction would hold the write lock
    return built


def clinicians(world: World) -> list[str]:
    return [world.emails[CLINICIAN_GRANTED_CLINIC], SECOND_CLINICIAN]


def check_in_through_the_page(client: TestClient, patient_id: int, answers: dict[str, str]) -> Response:
    """Open the form (for its CSRF token and a fresh client_id), submit it, follow the redirect."""
    form = client.get(f"/patients/{patient_id}/check-in")
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_from(form.text), "client_id": hidden(form.text, "client_id"), **answers}
    r = client.post(f"/patients/{patient_id}/check-in", data=data)
    assert r.status_code == 303, r.text
    assert re.fullmatch(rf"/patients/{patient_id}/check-ins/\d+", r.headers["location"])
    page: Response = client.get(r.headers["location"])
    assert page.status_code == 200, page.text
    return page


def work(app: FastAPI, clock: Clock, worker_id: str = "w1") -> int:
    """One cycle of the real worker (escalation, then delivery) with the real transports for the settings."""
    ctx = app.state.ctx
    return run_once(ctx.sessions, settings=ctx.settings, worker_id=worker_id, clock=clock)


def link(alert_id: int) -> str:
    return f"{BASE_URL}/clinic/alerts/{alert_id}"


def assert_no_clinical_details(text: str) -> None:
    for marker in (P_NAME, *P_MARKERS):
        assert marker not in text, marker
    for word in CLINICAL_WORDS:
        assert word not in text.lower(), word


def tampered(body: bytes) -> bytes:
    payload = json.loads(body)
    payload["severity"] = "routine" if payload["severity"] != "routine" else "emergency"
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


# --- Each tier ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    answers: dict[str, str]
    on_screen: tuple[str, ...]


TIERS = {
    "emergency": Tier(
        {"breathing_sudden_trouble": "yes"},
        (f"Call {P_EMERGENCY} now", f'href="tel:{P_EMERGENCY}"', "Your care team has been alerted"),
    ),
    "contact_team": Tier(
        {"fever": "yes"},
        ("Contact your care team today", f'href="tel:{CLINIC_A_PHONE}"', CLINIC_A_HOURS, "has been alerted"),
    ),
    "routine": Tier({"twitching": "yes"}, ("Thank you for checking in",)),
}


@pytest.mark.parametrize("tier", list(TIERS))
def test_each_tier_from_the_page_to_the_clinics_inboxes(
    app: FastAPI, world: World, engine: Engine, clock: Clock, smtp: SmtpSink, receiver: Receiver, tier: str
) -> None:
    page = check_in_through_the_page(signed_in_client(app, world.users[OWN]), world.patient_p_id, TIERS[tier].answers)
    for text in TIERS[tier].on_screen:
        assert text in page.text, text

    handled = work(app, clock)

    if tier == "routine":
        assert (handled, count(engine, Alert), count(engine, Notification)) == (0, 0, 0)
        assert smtp.messages == [] and receiver.calls == []
        return
    (alert,) = rows(engine, Alert)
    assert (alert.severity, alert.clinic_id, alert.status) == (tier, world.clinic_a_id, "open")
    assert handled == 3  # two clinicians by email, one webhook
    assert {n.status for n in rows(engine, Notification)} == {"sent"}

    # Each clinician: one email, over real SMTP, with the link and nothing clinical. Nobody else gets one.
    assert sorted(m["To"] for m in smtp.messages) == sorted(clinicians(world))
    for msg in smtp.messages:
        assert msg["Subject"] == ALERT_SUBJECT.format(tier=TIER_WORDS[tier], clinic="Clinic Alpha")
        body = str(msg.get_content())
        assert link(alert.id) in body
        assert_no_clinical_details(f"{msg['Subject']}\n{body}")
    assert smtp.to(world.emails[ADMIN_GRANTED_CLINIC]) == []
    assert smtp.to(world.emails[CLINICIAN_OTHER_CLINIC]) == []

    # The clinic's system: one signed call; a tampered copy does not verify.
    (call,) = receiver.calls
    assert call.signature_ok
    signature = call.headers["X-Alscare-Signature"]
    assert verify_webhook_signature(receiver.secret, signature, call.body, now=clock())
    assert not verify_webhook_signature(receiver.secret, signature, tampered(call.body), now=clock())
    assert not verify_webhook_signature("not-the-secret", signature, call.body, now=clock())
    assert call.headers["X-Alscare-Event"] == "alert.raised"
    assert call.payload == {
        "event": "alert.raised",
        "alert_id": alert.id,
        "severity": tier,
        "clinic_id": world.clinic_a_id,
        "created_at": NOW.isoformat(),
        "url": link(alert.id),
        "tier": TIER_WORDS[tier],
        "clinic": "Clinic Alpha",
    }
    assert P_NAME.encode() not in call.body

    # Running the worker again sends nothing more.
    assert work(app, clock) == 0
    assert len(smtp.messages) == 2 and len(receiver.calls) == 1


# --- Two workers racing -------------------------------------------------------------------------------------


def test_two_workers_racing_deliver_each_alert_exactly_once(
    app: FastAPI, world: World, engine: Engine, clock: Clock, smtp: SmtpSink, receiver: Receiver
) -> None:
    client = signed_in_client(app, world.users[OWN])
    for _ in range(10):
        check_in_through_the_page(client, world.patient_p_id, {"blue_lips": "yes"})
    alert_ids = [a.id for a in rows(engine, Alert)]
    assert len(alert_ids) == 10 and count(engine, Notification, Notification.status == "pending") == 30

    ctx = app.state.ctx
    start = threading.Barrier(2)

    def worker(worker_id: str) -> int:
        transports = transports_for(ctx.settings)  # each worker its own transports, sessions and connections
        try:
            start.wait(timeout=10)
            return deliver_due(ctx.sessions, worker_id=worker_id, transports=transports, clock=clock)
        finally:
            transports.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        handled = list(pool.map(worker, ["racer-1", "racer-2"]))

    assert sum(handled) == 30 and min(handled) > 0, handled  # both took part, and nothing was handled twice
    assert {n.status for n in rows(engine, Notification)} == {"sent"}
    emails = Counter((m["To"], link_id) for m in smtp.messages for link_id in _alert_links(str(m.get_content())))
    assert emails == Counter({(to, alert_id): 1 for to in clinicians(world) for alert_id in alert_ids})
    assert len(smtp.messages) == 20
    assert all(call.signature_ok for call in receiver.calls)
    hooks = Counter(call.payload["alert_id"] for call in receiver.calls)
    assert hooks == Counter({alert_id: 1 for alert_id in alert_ids})
    assert len({call.headers["X-Alscare-Delivery"] for call in receiver.calls}) == 10


def _alert_links(body: str) -> list[int]:
    return [int(i) for i in re.findall(rf"{re.escape(BASE_URL)}/clinic/alerts/(\d+)", body)]


# --- Acknowledging stops escalation -------------------------------------------------------------------------


def test_acknowledging_in_the_inbox_stops_escalation(
    app: FastAPI, world: World, engine: Engine, clock: Clock, smtp: SmtpSink, receiver: Receiver
) -> None:
    patient = signed_in_client(app, world.users[OWN])
    check_in_through_the_page(patient, world.patient_p_id, {"chest_pain_severe": "yes"})
    check_in_through_the_page(patient, world.patient_p_id, {"fever": "yes"})
    by_severity = {a.severity: a.id for a in rows(engine, Alert)}
    waiting, seen = by_severity["emergency"], by_severity["contact_team"]
    assert work(app, clock) == 6  # the alerts themselves
    smtp.messages.clear()
    receiver.calls.clear()

    clinician = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
    detail = clinician.get(f"/clinic/alerts/{seen}")
    assert detail.status_code == 200
    r = clinician.post(f"/clinic/alerts/{seen}/acknowledge", data={"csrf_token": csrf_from(detail.text)})
    assert (r.status_code, r.headers["location"]) == (303, f"/clinic/alerts/{seen}?done=acknowledged")

    clock.advance(minutes=ESCALATE_MINUTES - 1)
    assert work(app, clock) == 0
    assert smtp.messages == [] and receiver.calls == []

    clock.advance(minutes=1)
    assert work(app, clock) == 4  # two clinicians and the administrator by email, one webhook
    staff = [*clinicians(world), world.emails[ADMIN_GRANTED_CLINIC]]
    assert sorted(m["To"] for m in smtp.messages) == sorted(staff)
    for msg in smtp.messages:
        body = str(msg.get_content())
        assert msg["Subject"] == ESCALATION_SUBJECT.format(clinic="Clinic Alpha")
        assert _alert_links(body) == [waiting]
        assert_no_clinical_details(f"{msg['Subject']}\n{body}")
    (call,) = receiver.calls
    assert call.signature_ok
    assert call.headers["X-Alscare-Event"] == "alert.escalated"
    assert (call.payload["alert_id"], call.payload["escalation_level"]) == (waiting, 1)
    levels = {a.id: (a.status, a.escalation_level) for a in rows(engine, Alert)}
    assert levels == {waiting: ("open", 1), seen: ("acknowledged", 0)}

    # Once escalated, nothing more until the next level is due; the acknowledged alert never escalates.
    assert work(app, clock) == 0
    assert len(smtp.messages) == 3 and len(receiver.calls) == 1

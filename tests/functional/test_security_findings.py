"""Issue 14: each finding of the security review, replayed as the request a stranger would send.

Every test here failed on the code before the fix (the finding's number is in its name) and runs on SQLite and
PostgreSQL. Who is who: see world.py (P shares everything with clinic A; caregiver G sees check-ins only).
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, count, mails_to, rows
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from world import (
    ADMIN_GRANTED_CLINIC,
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OTHER_PATIENT,
    OWN,
    P_EMAIL,
    PASSWORD,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.delivery.transports import Envelope, PermanentError, WebhookTransport
from alscare.mail import OutboxMailer
from alscare.security.secretbox import MARKER
from alscare.security.tokens import token_digest
from alscare.storage.models import (
    Alert,
    AlsfrsAssessment,
    AuditEvent,
    CheckIn,
    Message,
    Notification,
    PasswordReset,
    User,
    WebhookEndpoint,
)
from alscare.storage.models.clinic_dashboard import AuditEventPatient
from alscare.storage.models.security import RefusedProbeCount

ATTACKER_IP = "203.0.113.9"
OWNER_IP = "198.51.100.7"


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    return clock


@pytest.fixture
def world(app: FastAPI, db: Session, clock: Clock) -> World:
    built = build_world(db)
    db.close()
    return built


def _as(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def _from(app: FastAPI, ip: str, **headers: str) -> TestClient:
    """An anonymous browser whose TCP peer is ``ip``."""
    return TestClient(app, base_url="https://testserver", client=(ip, 40000), follow_redirects=False, headers=headers)


def _csrf(c: TestClient, page: str = "/signin") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get(page).text)
    assert m
    return m.group(1)


def _sign_in(c: TestClient, email: str, password: str) -> int:
    return c.post("/signin", data={"email": email, "password": password, "csrf_token": _csrf(c)}).status_code


def _outbox(app: FastAPI) -> OutboxMailer:
    mailer = app.state.ctx.mailer
    assert isinstance(mailer, OutboxMailer)
    return mailer


def _links(body: str) -> list[str]:
    return re.findall(r"/(?:invite|password/reset)/([A-Za-z0-9_\-]+)", body)


# --- 1. Invitation links travel only by email -------------------------------------------------------------


def test_1_admin_never_receives_the_clinician_invitation_link(app: FastAPI, world: World) -> None:
    admin = _as(app, world, ADMIN_GRANTED_CLINIC)
    reply = admin.post("/api/v1/invitations", json={"email": "new.clinician@example.org"})
    assert reply.status_code == 201, reply.text
    (mail,) = mails_to(_outbox(app), "new.clinician@example.org")
    (token,) = _links(mail)
    assert token not in reply.text and "link" not in reply.json()
    page = admin.post("/invitations", data={"email": "second.clinician@example.org", "csrf_token": csrf_of(admin)})
    assert page.status_code == 200
    (mail2,) = mails_to(_outbox(app), "second.clinician@example.org")
    assert _links(mail2)[0] not in page.text and "/invite/" not in page.text
    assert "/invite/" not in admin.get("/invitations").text


def test_1_clinician_never_receives_the_patient_invitation_link(app: FastAPI, world: World) -> None:
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    reply = clinician.post("/api/v1/invitations", json={"email": "new.patient@example.org"})
    assert reply.status_code == 201
    (mail,) = mails_to(_outbox(app), "new.patient@example.org")
    assert _links(mail)[0] not in reply.text


# --- 2. The ALSFRS-R mode is checked against who enters it -----------------------------------------------


ITEMS = {"1": 4, "2": 4, "3": 3, "4": 4, "5a": 3, "6": 4, "7": 4, "8": 3, "9": 3, "10": 4, "11": 4, "12": 4}


def test_2_caregiver_cannot_store_a_clinician_in_person_score(app: FastAPI, world: World, engine: Engine) -> None:
    before = count(engine, AlsfrsAssessment)
    carer = _as(app, world, CAREGIVER_GRANTED)
    r = carer.post(
        f"/api/v1/patients/{world.patient_p_id}/alsfrs-r",
        json={"assessed_on": "2026-02-20", "administration_mode": "clinician_in_person", "items": ITEMS},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "administration_mode"
    assert count(engine, AlsfrsAssessment) == before
    assert carer.get(f"/patients/{world.patient_p_id}/alsfrs-r/clinic").status_code == 404
    assert _as(app, world, OWN).get(f"/patients/{world.patient_p_id}/alsfrs-r/clinic").status_code == 404


def test_2_the_record_shows_who_entered_each_score(app: FastAPI, world: World) -> None:
    carer = _as(app, world, CAREGIVER_GRANTED)
    r = carer.post(
        f"/api/v1/patients/{world.patient_p_id}/alsfrs-r",
        json={"assessed_on": "2026-02-20", "administration_mode": "caregiver", "items": ITEMS},
    )
    assert r.status_code == 201 and r.json()["recorded_by_id"] == world.users[CAREGIVER_GRANTED]
    page = _as(app, world, CLINICIAN_GRANTED_CLINIC).get(f"/patients/{world.patient_p_id}").text
    assert "Entered by" in page and "(family or carer)" in page


# --- 3 and 4. Nobody can lock the owner out; the throttle cannot be reset or dodged ----------------------------


def test_3_owner_signs_in_from_their_own_device_during_an_attack(app: FastAPI, world: World, engine: Engine) -> None:
    attacker = _from(app, ATTACKER_IP)
    codes = [_sign_in(attacker, P_EMAIL, f"guess number {i}") for i in range(25)]
    assert codes[:5] == [422] * 5 and 429 in codes  # the attacker's address slows down...
    for i in range(20):  # and from many addresses: every one is slowed on its own
        assert _sign_in(_from(app, f"192.0.2.{i}"), P_EMAIL, "spray guess") == 422
    owner = _from(app, OWNER_IP)
    assert _sign_in(owner, P_EMAIL, PASSWORD) == 303  # ...the owner on their own device is never locked out
    # Past the ceiling the clinic's administrators are told, without the person's name or email.
    (notice,) = rows(engine, Notification, Notification.kind == "security")
    assert notice.target == world.emails[ADMIN_GRANTED_CLINIC]
    assert P_EMAIL not in notice.body and "Paula" not in notice.body


def test_4_signing_in_to_ones_own_account_does_not_reset_the_address_budget(app: FastAPI, world: World) -> None:
    attacker = _from(app, ATTACKER_IP)
    for i in range(20):  # one guess each at twenty accounts: the address's free budget
        assert _sign_in(attacker, f"person{i}@example.org", "Password1234!") == 422
    assert _sign_in(attacker, world.emails[OTHER_PATIENT], PASSWORD) == 303  # the attacker's own account
    attacker = _from(app, ATTACKER_IP)
    codes = [_sign_in(attacker, f"more{i}@example.org", "Password1234!") for i in range(3)]
    assert 429 in codes


def test_4_forwarded_for_is_ignored_unless_from_a_trusted_proxy(app: FastAPI, world: World, engine: Engine) -> None:
    codes = [
        _sign_in(_from(app, ATTACKER_IP, **{"X-Forwarded-For": f"192.0.2.{i}"}), P_EMAIL, "wrong guess")
        for i in range(8)
    ]
    assert 429 in codes  # a new forged address each time does not escape the throttle
    events = rows(engine, AuditEvent, AuditEvent.resource == "sign_in")
    assert events and {e.source_ip for e in events} == {ATTACKER_IP}


def test_4_a_trusted_proxy_passes_on_the_client_address(app: FastAPI, world: World, engine: Engine) -> None:
    import ipaddress

    app.state.ctx.settings = replace(app.state.ctx.settings, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    proxy = _from(app, "10.1.2.3", **{"X-Forwarded-For": f"1.1.1.1, {OWNER_IP}"})
    assert _sign_in(proxy, P_EMAIL, PASSWORD) == 303
    (event,) = rows(engine, AuditEvent, AuditEvent.resource == "sign_in")
    assert (event.action, event.source_ip) == ("signin", OWNER_IP)


# --- 5. Known and unknown emails: the same answer, the same work, the same time ------------------------------


def _forgot(c: TestClient, email: str) -> tuple[int, str, float]:
    token = _csrf(c, "/password/forgot")
    started = time.perf_counter()
    r = c.post("/password/forgot", data={"email": email, "csrf_token": token})
    return r.status_code, r.text, time.perf_counter() - started


def test_5_password_forgot_answers_known_and_unknown_alike(app: FastAPI, world: World) -> None:
    known, unknown = [], []
    for i in range(4):
        _, known_text, t1 = _forgot(_from(app, f"192.0.2.{i}"), P_EMAIL)
        _, unknown_text, t2 = _forgot(_from(app, f"192.0.2.{100 + i}"), f"nobody{i}@example.org")
        known.append(t1)
        unknown.append(t2)
        assert known_text == unknown_text
    # Structurally the same: each branch sends one email to the address given.
    assert mails_to(_outbox(app), P_EMAIL) and mails_to(_outbox(app), "nobody0@example.org")
    assert abs(statistics.median(known) - statistics.median(unknown)) < 0.05


def test_5_password_forgot_is_rate_limited_per_address_and_per_email(app: FastAPI, world: World) -> None:
    c = _from(app, ATTACKER_IP)
    codes = [_forgot(c, f"someone{i}@example.org")[0] for i in range(14)]
    assert codes[:10] == [200] * 10 and 429 in codes
    for i in range(8):
        _forgot(_from(app, f"192.0.2.{i}"), P_EMAIL)
    assert len(mails_to(_outbox(app), P_EMAIL)) <= 4  # the victim's inbox is not flooded


def test_5_inviting_an_existing_account_says_the_same_as_a_new_one(app: FastAPI, world: World) -> None:
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    existing = clinician.post("/api/v1/invitations", json={"email": world.emails[OTHER_PATIENT]})
    new = clinician.post("/api/v1/invitations", json={"email": "brand.new@example.org"})
    assert existing.status_code == new.status_code == 201
    assert set(existing.json()) == set(new.json())
    (mail,) = mails_to(_outbox(app), world.emails[OTHER_PATIENT])
    assert "/invite/" not in mail  # the existing account is told to sign in instead


# --- 6. Every read of patient data and every security event is audited ------------------------------------------


def _audit(engine: Engine, resource: str) -> list[AuditEvent]:
    return rows(engine, AuditEvent, AuditEvent.resource == resource)


def test_6_listing_patients_is_audited_once_naming_the_records(app: FastAPI, world: World, engine: Engine) -> None:
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    assert clinician.get("/api/v1/patients").status_code == 200
    (event,) = _audit(engine, "patient_list")
    assert event.actor_user_id == world.users[CLINICIAN_GRANTED_CLINIC]
    with engine.connect() as conn:
        listed = conn.execute(
            select(AuditEventPatient.patient_id).where(AuditEventPatient.audit_event_id == event.id)
        ).scalars()
        assert world.patient_p_id in set(listed)
    assert clinician.get("/clinic/messages").status_code == 200
    assert len(_audit(engine, "messages_inbox")) == 1
    # A clinician's home is the clinic dashboard (issue 8): one audit row per page view.
    assert clinician.get("/home", follow_redirects=True).status_code == 200
    assert len(_audit(engine, "clinic_dashboard")) == 1


def test_6_security_events_are_audited(app: FastAPI, world: World, engine: Engine) -> None:
    stranger = _from(app, ATTACKER_IP)
    _sign_in(stranger, P_EMAIL, "wrong password")
    _sign_in(stranger, P_EMAIL, PASSWORD)
    assert [e.action for e in _audit(engine, "sign_in")] == ["denied", "signin"]
    _forgot(_from(app, OWNER_IP), P_EMAIL)
    assert _audit(engine, "password_reset")
    _as(app, world, ADMIN_GRANTED_CLINIC).post("/api/v1/invitations", json={"email": "x1@example.org"})
    assert _audit(engine, "invitation")
    admin = _as(app, world, ADMIN_GRANTED_CLINIC)
    admin.post("/clinic/webhooks", data={"url": "https://ehr.example.org/hook", "csrf_token": csrf_of(admin)})
    assert _audit(engine, "webhook")


# --- 7. Private files; secrets sealed at rest ----------------------------------------------------------------


def test_7_outbox_mail_is_private(app: FastAPI, world: World) -> None:
    _forgot(_from(app, OWNER_IP), P_EMAIL)
    folder = _outbox(app).folder
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in folder.glob("*.eml")} == {0o600}


def test_7_sqlite_database_is_private(backend: str, engine: Engine) -> None:
    if backend != "sqlite":
        pytest.skip("a PostgreSQL server keeps its own files")
    from pathlib import Path

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert engine.url.database
    assert Path(engine.url.database).stat().st_mode & 0o777 == 0o600


def test_7_two_step_and_webhook_secrets_are_sealed_at_rest(
    app: FastAPI, world: World, engine: Engine, db: Session
) -> None:
    from alscare.actions.accounts import enable_second_factor
    from alscare.security.totp import current_code

    totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    clinician = db.get(User, world.users[CLINICIAN_GRANTED_CLINIC])
    assert clinician is not None
    enable_second_factor(db, user=clinician, secret=totp, code=current_code(totp, NOW), now=NOW)
    db.commit()
    db.close()
    admin = _as(app, world, ADMIN_GRANTED_CLINIC)
    r = admin.post("/clinic/webhooks", data={"url": "https://ehr.example.org/hook", "csrf_token": csrf_of(admin)})
    assert r.status_code == 200
    with engine.connect() as conn:
        raw_secrets = list(conn.execute(text("SELECT secret FROM webhook_endpoints")).scalars())
        raw_totp = list(conn.execute(text("SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL")).scalars())
    (endpoint,) = rows(engine, WebhookEndpoint)
    assert raw_secrets == [raw_secrets[0]] and raw_secrets[0].startswith(MARKER)
    assert endpoint.secret in r.text and endpoint.secret not in raw_secrets[0]  # shown once, stored sealed
    assert raw_totp and all(v.startswith(MARKER) and totp not in v for v in raw_totp)
    assert rows(engine, User, User.id == world.users[CLINICIAN_GRANTED_CLINIC])[0].totp_secret == totp


# --- 8. Webhooks cannot reach the server's own network --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/hook",
        "https://[::1]/hook",
        "https://[::ffff:192.168.1.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "http://127.0.0.1:5432/",
    ],
)
def test_8_webhook_to_a_private_address_is_refused(app: FastAPI, world: World, engine: Engine, url: str) -> None:
    admin = _as(app, world, ADMIN_GRANTED_CLINIC)
    r = admin.post("/clinic/webhooks", data={"url": url, "csrf_token": csrf_of(admin)})
    assert r.status_code == 422 and "This address points to" in r.text
    assert count(engine, WebhookEndpoint) == 0


def test_8_private_receivers_need_the_explicit_setting(app: FastAPI, world: World, engine: Engine) -> None:
    app.state.ctx.settings = replace(app.state.ctx.settings, webhook_allow_private=True)
    admin = _as(app, world, ADMIN_GRANTED_CLINIC)
    admin.post("/clinic/webhooks", data={"url": "https://10.0.0.5/hook", "csrf_token": csrf_of(admin)})
    assert count(engine, WebhookEndpoint) == 1


def test_8_the_target_is_checked_again_before_each_call() -> None:
    # A name saved while public may later point inside (DNS rebinding): the transport refuses at send time.
    envelope = Envelope(notification_id=1, channel="webhook", to="https://localhost/hook", subject="alert", body="{}")
    with pytest.raises(PermanentError, match="loopback"):
        WebhookTransport().send(replace(envelope, secret="s" * 43), now=NOW)


# --- 9. Older reset links stop working ---------------------------------------------------------------------


def test_9_an_older_reset_link_is_revoked_by_a_newer_one(app: FastAPI, world: World, engine: Engine) -> None:
    for ip in ("192.0.2.1", "192.0.2.2"):
        _forgot(_from(app, ip), P_EMAIL)
    first, second = (_links(m)[0] for m in mails_to(_outbox(app), P_EMAIL))
    c = _from(app, OWNER_IP)
    token = _csrf(c, f"/password/reset/{first}")
    old = c.post(f"/password/reset/{first}", data={"password": "a brand new passphrase", "csrf_token": token})
    assert old.status_code == 404
    new = c.post(f"/password/reset/{second}", data={"password": "a brand new passphrase", "csrf_token": token})
    assert new.status_code == 303
    (reset,) = rows(engine, PasswordReset, PasswordReset.token_digest == token_digest(first))
    assert reset.used_at is not None


# --- 10. Bad input is a 4xx with a clear message; the emergency always gets through -----------------------------


@pytest.mark.parametrize("big", [str(2**31), str(2**63), "9" * 30])
def test_10_out_of_range_ids_are_not_found(app: FastAPI, world: World, big: str) -> None:
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    for path in (f"/patients/{big}", f"/patients/{big}/messages", f"/api/v1/patients/{big}", f"/clinic/alerts/{big}"):
        r = clinician.get(path)
        assert 400 <= r.status_code < 500, (path, r.status_code)
    assert "too large" in clinician.get(f"/patients/{big}").text


def test_10_nul_in_a_text_field_is_refused_naming_the_field(app: FastAPI, world: World, engine: Engine) -> None:
    person = _as(app, world, OWN)
    r = person.post(f"/api/v1/patients/{world.patient_p_id}/messages", json={"body": "hello\x00there"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "body"]
    page = person.post(
        f"/patients/{world.patient_p_id}/messages", data={"body": "a\x00b", "csrf_token": csrf_of(person)}
    )
    assert page.status_code == 422 and "NUL" in page.text
    assert count(engine, Message) == 0
    assert _from(app, OWNER_IP).get("/signin?next=%00").status_code == 400


def test_10_an_emergency_check_in_with_a_nul_is_stored_and_alerted(app: FastAPI, world: World, engine: Engine) -> None:
    person = _as(app, world, OWN)
    r = person.post(
        f"/api/v1/patients/{world.patient_p_id}/check-ins",
        json={
            "client_id": "3f0c8f1e-5d0a-4a8e-9d8e-2b7c4e1a9f11",
            "choking_not_clearing": True,
            "question": "I cannot\x00 breathe lying down",
        },
    )
    assert r.status_code == 201, r.text
    (row,) = rows(engine, CheckIn, CheckIn.client_id == "3f0c8f1e-5d0a-4a8e-9d8e-2b7c4e1a9f11")
    assert row.tier == "emergency" and row.question == "I cannot breathe lying down"
    assert count(engine, Alert, Alert.source_id == str(row.id), Alert.severity == "emergency") == 1


def test_10_an_email_with_a_colon_can_enrol_two_step_sign_in(app: FastAPI, world: World, db: Session) -> None:
    user = User(
        email="carl:ops@example.org",
        display_name="Carl Ops",
        role="clinician",
        password_hash="x",
        clinic_id=world.clinic_a_id,
        is_active=True,
        created_at=NOW,
    )
    db.add(user)
    db.commit()
    r = signed_in_client(app, user.id).get("/account/two-factor")
    assert r.status_code == 200 and "<svg" in r.text


def test_10_error_pages_carry_the_security_headers(app: FastAPI, world: World) -> None:
    @app.get("/__boom")
    def boom() -> None:
        raise RuntimeError("boom")

    c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    for path, status in (("/no-such-page", 404), ("/api/v1/no-such", 404), ("/__boom", 500)):
        r = c.get(path)
        assert r.status_code == status
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), path
        assert r.headers.get("x-content-type-options") == "nosniff", path


# --- 11. GETs change nothing; refused probes are counted, not each written ---------------------------------------


def test_11_opening_a_conversation_does_not_mark_it_read(app: FastAPI, world: World, engine: Engine) -> None:
    person = _as(app, world, OWN)
    person.post(f"/api/v1/patients/{world.patient_p_id}/messages", json={"body": "A question that can wait."})
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    assert clinician.get(f"/patients/{world.patient_p_id}/messages").status_code == 200
    assert clinician.get(f"/api/v1/patients/{world.patient_p_id}/messages").status_code == 200
    (message,) = rows(engine, Message)
    assert message.read_at is None


def test_11_a_flood_of_refused_probes_adds_one_audit_row(app: FastAPI, world: World, engine: Engine) -> None:
    prober = _as(app, world, CLINICIAN_OTHER_CLINIC)
    before = count(engine, AuditEvent)
    for _ in range(30):
        assert prober.get(f"/api/v1/patients/{world.patient_p_id}").status_code == 404
    assert count(engine, AuditEvent) - before == 1
    with Session(engine) as s:
        total = s.execute(
            select(func.sum(RefusedProbeCount.count)).where(
                RefusedProbeCount.actor_user_id == world.users[CLINICIAN_OTHER_CLINIC]
            )
        ).scalar_one()
    assert total == 30


def test_11_the_next_hour_audits_again(app: FastAPI, world: World, engine: Engine, clock: Clock) -> None:
    prober = _as(app, world, CLINICIAN_OTHER_CLINIC)
    prober.get(f"/api/v1/patients/{world.patient_p_id}")
    clock.advance(hours=1)
    prober = _as(app, world, CLINICIAN_OTHER_CLINIC)
    prober.get(f"/api/v1/patients/{world.patient_p_id}")
    assert count(engine, AuditEvent, AuditEvent.action == "denied") == 2
    assert timedelta(hours=1)

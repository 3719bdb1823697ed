"""API tokens for a clinic's systems (issue 13): made by the clinic administrator, emailed to a clinician, never
shown to the administrator; a token reads what the clinic may read, never writes, and is audited by name."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from world import (
    ACTORS,
    ADMIN_GRANTED_CLINIC,
    ANONYMOUS,
    BASE_URL,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    World,
    csrf_of,
    signed_in_client,
    world_once_per_database,
)

from alscare.access import Action, ActiveGrant, Actor, RecordOwner, Scope, decide
from alscare.actions import api_tokens
from alscare.storage.models import AuditEvent, PasswordReset, User, WebSession
from alscare.storage.models.api_tokens import ApiToken

_world_database, _world, _module_app, conn, app, world = world_once_per_database("api_tokens")

TOKEN = re.compile(r"alscare_api_[A-Za-z0-9_-]{43}")


def _session(app: FastAPI) -> Session:
    return app.state.ctx.sessions()  # type: ignore[no-any-return]


def _make(app: FastAPI, world: World, name: str = "Ward EHR") -> tuple[TestClient, str, str]:
    """The administrator makes a token for clinician A; returns their client, the page, and the emailed token."""
    admin = signed_in_client(app, world.users[ADMIN_GRANTED_CLINIC])
    outbox = app.state.ctx.mailer
    before = len(outbox.messages())
    page = admin.post(
        "/clinic/api-tokens",
        data={"name": name, "responsible": str(world.users[CLINICIAN_GRANTED_CLINIC]), "csrf_token": csrf_of(admin)},
    )
    assert page.status_code == 200, page.text
    mails = outbox.messages()[before:]
    assert len(mails) == 1
    [token] = TOKEN.findall(str(mails[0].get_content()))
    return admin, page.text, token


def _bearer(app: FastAPI, token: str) -> TestClient:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_token_goes_by_email_to_the_clinician_and_never_to_the_administrator(app: FastAPI, world: World) -> None:
    admin, page, token = _make(app, world)
    mail = app.state.ctx.mailer.messages()[-1]
    assert mail["To"] == world.emails[CLINICIAN_GRANTED_CLINIC]
    assert token not in page and "alscare_api_" not in page
    assert "emailed to Carl Clinician" in page and "Ward EHR" in page
    assert token not in admin.get("/clinic/api-tokens").text
    with _session(app) as db:
        [row] = db.execute(select(ApiToken)).scalars().all()
        assert row.token_digest != token and token not in row.token_digest  # only the digest is kept
        service = db.get(User, row.service_user_id)
        assert service is not None and service.is_service and service.role == "clinician"
        assert service.email.endswith(".invalid")


def test_a_token_reads_what_the_clinic_may_read_and_is_audited_by_name(app: FastAPI, world: World) -> None:
    _, _, token = _make(app, world)
    system = _bearer(app, token)
    listed = system.get("/api/v1/patients")
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()] == [world.patient_p_id]  # P shares with clinic A; Q shares nothing
    assert system.get(f"/api/v1/patients/{world.patient_p_id}/fhir").status_code == 200
    assert system.get(f"/api/v1/patients/{world.patient_q_id}/fhir").status_code == 404
    with _session(app) as db:
        service_id = db.execute(select(ApiToken.service_user_id)).scalar_one()
        reads = db.execute(
            select(AuditEvent).where(
                AuditEvent.actor_user_id == service_id, AuditEvent.patient_id == world.patient_p_id
            )
        ).scalars()
        assert any(e.action == "read" for e in reads)
    log = signed_in_client(app, world.users["own_patient_p"]).get(f"/patients/{world.patient_p_id}/access-log")
    assert "Ward EHR (clinic system)" in log.text


def test_a_token_never_writes_and_needs_no_csrf_token(app: FastAPI, world: World) -> None:
    _, _, token = _make(app, world)
    system = _bearer(app, token)
    with _session(app) as db:
        before = db.execute(select(AuditEvent.id)).scalars().all()
    for method, path, body in [
        ("POST", f"/api/v1/patients/{world.patient_p_id}/check-ins", {"breathing_worse": False}),
        ("DELETE", f"/api/v1/patients/{world.patient_p_id}/grants/{world.spare_grant_id}", None),
    ]:
        r = system.request(method, path, json=body)
        assert r.status_code == 403, (path, r.text)
        assert "can only read" in r.json()["detail"]
    with _session(app) as db:
        assert db.execute(select(AuditEvent.id)).scalars().all() == before


@pytest.mark.parametrize("how", ["revoked", "clinician_left", "expired", "unknown", "not_bearer"])
def test_a_token_that_stopped_is_refused_even_beside_a_session(app: FastAPI, world: World, how: str) -> None:
    admin, _, token = _make(app, world)
    if how == "revoked":
        with _session(app) as db:
            token_id = db.execute(select(ApiToken.id)).scalar_one()
        r = admin.post(f"/clinic/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_of(admin)})
        assert r.status_code == 303
        assert "Revoked" in admin.get("/clinic/api-tokens").text
    elif how == "clinician_left":
        with _session(app) as db:
            clinician = db.get(User, world.users[CLINICIAN_GRANTED_CLINIC])
            assert clinician is not None
            clinician.is_active = False
            db.commit()
    elif how == "expired":
        app.state.ctx.clock = lambda: NOW + api_tokens.TOKEN_LIFETIME
    elif how == "unknown":
        token = token[:-4] + "AAAA"
    # A signed-in clinician's cookie does not rescue a bad token: the token is refused outright.
    client = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC] if how != "clinician_left" else None)
    client.headers["Authorization"] = f"Bearer {token}" if how != "not_bearer" else f"Basic {token}"
    r = client.get("/api/v1/patients")
    if how == "not_bearer":
        assert r.status_code == 200  # not a bearer token: the session decides, as before
        return
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_the_service_account_is_not_staff_gets_no_email_and_cannot_sign_in(app: FastAPI, world: World) -> None:
    admin, _, _ = _make(app, world)
    with _session(app) as db:
        service = db.execute(select(User).where(User.is_service.is_(True))).scalar_one()
        email = service.email
    assert "Ward EHR" not in admin.get("/clinic/staff").text
    anonymous = signed_in_client(app, None)
    r = anonymous.post(
        "/signin", data={"email": email, "password": "!service-account", "csrf_token": csrf_of(anonymous)}
    )
    assert r.status_code != 303, r.headers.get("location")  # no way on, not even to a second step
    with _session(app) as db:
        signed = select(WebSession).where(
            or_(WebSession.user_id == service.id, WebSession.pending_user_id == service.id)
        )
        assert db.execute(signed).first() is None
    # An alert for P reaches clinic A's people, never the system's address.
    from alscare.delivery.outbox import _staff_emails

    with _session(app) as db:
        assert email not in _staff_emails(db, clinic_id=world.clinic_a_id, roles=("clinician", "admin"))


def test_bad_input_names_the_field_and_stores_nothing(app: FastAPI, world: World) -> None:
    admin = signed_in_client(app, world.users[ADMIN_GRANTED_CLINIC])
    for data, field in [
        ({"name": "", "responsible": str(world.users[CLINICIAN_GRANTED_CLINIC])}, "name"),
        ({"name": "x" * 101, "responsible": str(world.users[CLINICIAN_GRANTED_CLINIC])}, "name"),
        ({"name": "EHR", "responsible": str(world.users[CLINICIAN_OTHER_CLINIC])}, "responsible"),
        ({"name": "EHR", "responsible": str(world.users[ADMIN_GRANTED_CLINIC])}, "responsible"),
        ({"name": "EHR", "responsible": "abc"}, "responsible"),
    ]:
        r = admin.post("/clinic/api-tokens", data={**data, "csrf_token": csrf_of(admin)})
        assert r.status_code == 422
        assert f'id="{field}-error"' in r.text, (data, r.text[:500])
    with _session(app) as db:
        assert db.execute(select(ApiToken)).first() is None
        assert db.execute(select(User).where(User.is_service.is_(True))).first() is None


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_clinic_administrator_manages_tokens(app: FastAPI, world: World, actor: str) -> None:
    _make(app, world)
    with _session(app) as db:
        token_id = db.execute(select(ApiToken.id)).scalar_one()
    client = signed_in_client(app, None if actor == ANONYMOUS else world.users[actor])
    page = client.get("/clinic/api-tokens")
    made = client.post(
        "/clinic/api-tokens",
        data={"name": "Mine", "responsible": str(world.users[CLINICIAN_GRANTED_CLINIC]), "csrf_token": csrf_of(client)},
    )
    revoked = client.post(f"/clinic/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_of(client)})
    if actor == ADMIN_GRANTED_CLINIC:
        assert page.status_code == 200 and made.status_code == 200 and revoked.status_code == 303
        return
    for r in (page, made, revoked):
        assert r.status_code == (303 if actor == ANONYMOUS else 404), (actor, r.status_code)
    with _session(app) as db:
        assert db.execute(select(ApiToken.revoked_at)).scalar_one() is None
        assert len(db.execute(select(ApiToken)).all()) == 1


# --- Found by an attacker's review of the first version ---------------------------------------------------


def _service(app: FastAPI) -> User:
    with _session(app) as db:
        service = db.execute(select(User).where(User.is_service.is_(True))).scalar_one()
        db.expunge(service)
        return service


def test_reactivating_the_clinician_does_not_bring_a_stopped_token_back(app: FastAPI, world: World) -> None:
    admin, _, token = _make(app, world)
    clinician = world.users[CLINICIAN_GRANTED_CLINIC]
    form = {"csrf_token": csrf_of(admin)}
    assert admin.post(f"/clinic/staff/{clinician}/deactivate", data=form).status_code == 303
    assert _bearer(app, token).get("/api/v1/patients").status_code == 401
    assert admin.post(f"/clinic/staff/{clinician}/reactivate", data=form).status_code == 303
    assert _bearer(app, token).get("/api/v1/patients").status_code == 401
    with _session(app) as db:
        assert db.execute(select(ApiToken.revoked_at)).scalar_one() is not None


def test_the_service_account_is_no_colleague_and_has_no_way_in_but_its_token(app: FastAPI, world: World) -> None:
    admin, _, token = _make(app, world)
    service = _service(app)
    form = {"csrf_token": csrf_of(admin)}
    for action in ("deactivate", "reactivate", "reset-two-step"):
        assert admin.post(f"/clinic/staff/{service.id}/{action}", data=form).status_code == 404, action
    assert "Ward EHR" not in admin.get("/home").text
    # No reset link is made for its address, and a session bound to it is worth nothing.
    outbox = app.state.ctx.mailer
    before = len(outbox.messages())
    anonymous = signed_in_client(app, None)
    anonymous.post("/password/forgot", data={"email": service.email, "csrf_token": csrf_of(anonymous)})
    # (It gets the "no account uses this address" answer that every unknown address gets: the same for all.)
    sent = [str(m.get_content()) for m in outbox.messages()[before:] if m["To"] == service.email]
    assert sent and not any("/password/reset/" in body for body in sent)
    with _session(app) as db:
        assert db.execute(select(PasswordReset).where(PasswordReset.user_id == service.id)).first() is None
    assert signed_in_client(app, service.id).get("/api/v1/me").status_code == 401
    assert _bearer(app, token).get("/api/v1/me").status_code == 200


def test_a_system_never_reads_who_else_sees_a_record() -> None:
    """Even under a clinic's proxy grant (which opens everything to the clinic's people), a clinic system's
    account may not read the record's sharing: the grants, the access log, the invitees' addresses."""
    record = RecordOwner(patient_id=1, user_id=10)
    proxy = [ActiveGrant(scope=Scope.PROXY.value, grantee_user_id=None, grantee_clinic_id=7)]
    person = Actor(user_id=20, role="clinician", clinic_id=7)
    system = Actor(user_id=21, role="clinician", clinic_id=7, service=True)
    assert decide(person, record, proxy, Scope.SHARING, Action.READ)
    assert not decide(system, record, proxy, Scope.SHARING, Action.READ)
    assert decide(system, record, proxy, Scope.CHECKINS, Action.READ)


@pytest.mark.parametrize("name", ["Ward\u202eRHE", "Ward\u200bEHR", "Ward\x7fEHR", "Ward\u200eEHR"])
def test_a_name_that_would_read_differently_is_refused(app: FastAPI, world: World, name: str) -> None:
    admin = signed_in_client(app, world.users[ADMIN_GRANTED_CLINIC])
    r = admin.post(
        "/clinic/api-tokens",
        data={"name": name, "responsible": str(world.users[CLINICIAN_GRANTED_CLINIC]), "csrf_token": csrf_of(admin)},
    )
    assert r.status_code == 422 and 'id="name-error"' in r.text

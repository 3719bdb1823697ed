"""Authorization outside the ``{patient_id}`` routes, and CSRF on every state-changing route.

``test_authorization_matrix.py`` covers every route that names a patient. This module covers what it cannot:
routes that name some *other* record (an alert, a webhook endpoint, an invitation token, a draft or a
check-in that may belong to someone else), the clinic's lists, invitations and roles, two-step sign-in, and
CSRF over every unsafe route the app answers (enumerated from the app itself, so new routes are covered).

Like the matrix, the world (see ``world.py``) is built once per database for this module and each test runs
inside one transaction that is rolled back afterwards; tests here use this module's ``app``, ``conn`` and
``world`` fixtures, and add what they need through ``_session`` (joined to that transaction).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session
from world import (
    ACTORS,
    ADMIN_GRANTED_CLINIC,
    ANONYMOUS,
    BASE_URL,
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CAREGIVER_REVOKED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OTHER_PATIENT,
    OWN,
    P_MARKERS,
    PASSWORD,
    PROXY,
    Q_MARKERS,
    World,
    app_for_collection,
    csrf_of,
    freeze_clock,
    http_routes,
    signed_in_client,
    world_once_per_database,
)

from alscare.actions import accounts, consent
from alscare.actions import alsfrs_drafts as drafts
from alscare.actions import messages as message_actions
from alscare.actions.checkins import record_check_in
from alscare.security.tokens import csrf_token, sign, token_digest
from alscare.security.totp import current_code, new_secret
from alscare.storage.models import (
    Alert,
    AlsfrsAssessment,
    AlsfrsDraft,
    Base,
    ConsentGrant,
    Invitation,
    User,
    WebhookEndpoint,
)
from alscare.web.middleware import SESSION_COOKIE

# --- Fixtures: the world once per database, each test in a transaction rolled back afterwards ------------


_world_database, _world, _module_app, conn, app, world = world_once_per_database("other-routes")


# --- Helpers ---------------------------------------------------------------------------------------------

SIGNED_IN = tuple(a for a in ACTORS if a != ANONYMOUS)
MISSING_ID = 999_999


def _session(app: FastAPI) -> Session:
    """A session inside the test's transaction (its commits are savepoints, undone after the test)."""
    session: Session = app.state.ctx.sessions()
    return session


def _client(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, None if actor == ANONYMOUS else world.users[actor])


def _form_post(client: TestClient, url: str, form: dict[str, Any] | None = None) -> Response:
    response: Response = client.post(url, data={**(form or {}), "csrf_token": csrf_of(client)})
    return response


def _shown(response: Response) -> str:
    return response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def _assert_hidden(response: Response, markers: tuple[str, ...]) -> None:
    leaked = [m for m in markers if m in _shown(response)]
    assert not leaked, f"{leaked} leaked in {response.request.method} {response.request.url}"


def _assert_refused(response: Response, actor: str, *, api: bool) -> None:
    """Refused: 404 for anyone signed in (never 200 or 403, which would confirm the thing exists)."""
    if actor == ANONYMOUS:
        if api:
            assert response.status_code == 401, response.text
        else:
            # An alert page sends a signed-out visitor to sign in and back to that page (the path they asked
            # for, whether or not the alert exists: nothing is revealed).
            back = f"/signin?next={response.request.url.path}" if response.request.method == "GET" else None
            assert response.status_code == 303, response.text
            assert response.headers.get("location") in ("/signin", back), response.text
    else:
        assert response.status_code == 404, f"{actor}: {response.status_code} {response.text[:300]}"


def _user(db: Session, world: World, actor: str) -> User:
    user = db.get(User, world.users[actor])
    assert user is not None
    return user


def _emergency_alert(app: FastAPI, world: World) -> int:
    """P reports emergency signs; P shares the full record with clinic A, so clinic A gets an alert."""
    with _session(app) as db:
        outcome = record_check_in(
            db,
            actor=_user(db, world, OWN),
            patient_id=world.patient_p_id,
            client_id=str(uuid.uuid4()),
            data={"breathless_at_rest": True, "blue_lips": True},
            now=NOW,
            base_url=BASE_URL,
        )
        db.commit()
        (alert,) = [a for a in outcome.alerts if a.source == "check_in"]
        assert alert.clinic_id == world.clinic_a_id
        return alert.id


def _alert(app: FastAPI, alert_id: int) -> tuple[str, str | None]:
    with _session(app) as db:
        alert = db.get(Alert, alert_id)
        assert alert is not None
        return alert.status, alert.note


def _clinic_a_grant_id(app: FastAPI, world: World) -> int:
    with _session(app) as db:
        return db.execute(
            select(ConsentGrant.id).where(
                ConsentGrant.patient_id == world.patient_p_id,
                ConsentGrant.grantee_clinic_id == world.clinic_a_id,
                ConsentGrant.revoked_at.is_(None),
            )
        ).scalar_one()


# --- Alerts: only clinicians of the alert's clinic who may see the person's check-ins ------------------


@pytest.mark.parametrize("actor", [a for a in ACTORS if a != CLINICIAN_GRANTED_CLINIC])
def test_alert_is_invisible_and_unchangeable_outside_its_clinic(app: FastAPI, world: World, actor: str) -> None:
    alert_id = _emergency_alert(app, world)
    client = _client(app, world, actor)

    for alert in (alert_id, MISSING_ID):
        page = client.get(f"/clinic/alerts/{alert}")
        _assert_refused(page, actor, api=False)
        _assert_hidden(page, P_MARKERS)
        for step, form in (("acknowledge", {"ack_note": "seen"}), ("resolve", {"note": "done"})):
            _assert_refused(_form_post(client, f"/clinic/alerts/{alert}/{step}", form), actor, api=False)
            _assert_refused(client.post(f"/api/v1/alerts/{alert}/{step}", json={"note": "x"}), actor, api=True)
    # A refused alert looks exactly like one that does not exist, so alert ids cannot be probed.
    if actor != ANONYMOUS:
        for path in ("/clinic/alerts/{}", "/api/v1/alerts/{}/acknowledge"):
            real = (
                client.get(path.format(alert_id))
                if path.startswith("/clinic")
                else client.post(path.format(alert_id), json={})
            )
            missing = (
                client.get(path.format(MISSING_ID))
                if path.startswith("/clinic")
                else client.post(path.format(MISSING_ID), json={})
            )
            assert (real.status_code, real.content) == (missing.status_code, missing.content)

    inbox = client.get("/clinic/alerts")
    api_inbox = client.get("/api/v1/alerts", params={"include_resolved": "true"})
    if actor == CLINICIAN_OTHER_CLINIC:
        assert inbox.status_code == 200 and api_inbox.status_code == 200
        assert api_inbox.json() == []
    else:
        _assert_refused(inbox, actor, api=False)
        _assert_refused(api_inbox, actor, api=True)
    _assert_hidden(inbox, P_MARKERS)
    _assert_hidden(api_inbox, P_MARKERS)
    assert _alert(app, alert_id) == ("open", None)


def test_the_clinics_clinician_sees_and_handles_the_alert(app: FastAPI, world: World) -> None:
    alert_id = _emergency_alert(app, world)
    clinician = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    assert [a["id"] for a in clinician.get("/api/v1/alerts").json()] == [alert_id]
    assert clinician.get(f"/clinic/alerts/{alert_id}").status_code == 200
    assert _form_post(clinician, f"/clinic/alerts/{alert_id}/acknowledge", {"ack_note": "Calling"}).status_code == 303
    resolved = clinician.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "Ambulance sent"})
    assert resolved.status_code == 200, resolved.text
    assert _alert(app, alert_id)[0] == "resolved"


def test_alert_closes_to_the_clinic_once_the_person_stops_sharing(app: FastAPI, world: World) -> None:
    alert_id = _emergency_alert(app, world)
    patient = _client(app, world, OWN)
    revoked = patient.delete(f"/api/v1/patients/{world.patient_p_id}/grants/{_clinic_a_grant_id(app, world)}")
    assert revoked.status_code == 204

    clinician = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    assert clinician.get(f"/clinic/alerts/{alert_id}").status_code == 404
    assert clinician.get("/api/v1/alerts").json() == []
    assert clinician.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={}).status_code == 404
    assert _form_post(clinician, f"/clinic/alerts/{alert_id}/resolve", {"note": "x"}).status_code == 404
    _assert_hidden(clinician.get("/clinic/alerts"), P_MARKERS)
    assert _alert(app, alert_id) == ("open", None)


# --- A check-in, draft or grant of one person named under another person's record ----------------------

Q_QUESTION = "Private question ZZLEAKMARKER"


def _q_check_in(app: FastAPI, world: World) -> int:
    with _session(app) as db:
        outcome = record_check_in(
            db,
            actor=_user(db, world, OTHER_PATIENT),
            patient_id=world.patient_q_id,
            client_id=str(uuid.uuid4()),
            data={"cramps": True, "question": Q_QUESTION},
            now=NOW,
        )
        db.commit()
        return outcome.check_in.id


@pytest.mark.parametrize("actor", [OWN, PROXY, CAREGIVER_GRANTED, CLINICIAN_GRANTED_CLINIC])
def test_another_persons_check_in_under_a_permitted_record_is_not_found(app: FastAPI, world: World, actor: str) -> None:
    q_check_in = _q_check_in(app, world)
    client = _client(app, world, actor)
    own_one = client.get(f"/patients/{world.patient_p_id}/check-ins/{world.check_in_id}")
    assert own_one.status_code == 200
    real = client.get(f"/patients/{world.patient_p_id}/check-ins/{q_check_in}")
    missing = client.get(f"/patients/{world.patient_p_id}/check-ins/{MISSING_ID}")
    assert real.status_code == 404
    assert (real.status_code, real.content) == (missing.status_code, missing.content)
    _assert_hidden(real, (*Q_MARKERS, Q_QUESTION))


def test_a_person_cannot_open_someone_elses_check_in_under_their_own_record(app: FastAPI, world: World) -> None:
    q = _client(app, world, OTHER_PATIENT)
    answer = q.get(f"/patients/{world.patient_q_id}/check-ins/{world.check_in_id}")
    assert answer.status_code == 404
    _assert_hidden(answer, P_MARKERS)


def _draft(app: FastAPI, world: World, actor: str, patient_id: int, answers: dict[str, int]) -> int:
    with _session(app) as db:
        user = _user(db, world, actor)
        draft = drafts.start_draft(
            db,
            actor=user,
            patient_id=patient_id,
            administration_mode="caregiver" if actor != OTHER_PATIENT else "self_report",
            gastrostomy=False,
            now=NOW,
        )
        db.flush()
        for item_id, score in answers.items():
            drafts.save_answer(
                db, actor=user, patient_id=patient_id, draft_id=draft.id, item_id=item_id, score=score, now=NOW
            )
        db.commit()
        return draft.id


def _draft_state(app: FastAPI, draft_id: int) -> tuple[Any, ...]:
    with _session(app) as db:
        d = db.get(AlsfrsDraft, draft_id)
        assert d is not None
        return (dict(d.answers), d.administration_mode, d.gastrostomy, d.submitted_assessment_id)


def _assessment_count(app: FastAPI) -> int:
    with _session(app) as db:
        return db.execute(select(func.count()).select_from(AlsfrsAssessment)).scalar_one()


ALL_ANSWERS = {i: 2 for i in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}


@pytest.mark.parametrize("actor", [OWN, PROXY, CLINICIAN_GRANTED_CLINIC])
def test_a_draft_is_its_starters_alone_even_for_those_who_may_write_the_record(
    app: FastAPI, world: World, actor: str
) -> None:
    """G's complete draft for P: others who may write P's check-ins can neither see nor change nor send it."""
    draft_id = _draft(app, world, CAREGIVER_GRANTED, world.patient_p_id, ALL_ANSWERS)
    before, assessments = _draft_state(app, draft_id), _assessment_count(app)
    client = _client(app, world, actor)
    base = f"/patients/{world.patient_p_id}/alsfrs-r"
    here = f"{base}/drafts/{draft_id}"
    for path in ("setup", "items/1", "review", "done"):
        r = client.get(f"{here}/{path}")
        assert (r.status_code, r.headers.get("location")) == (303, f"{base}/new"), path
    for path, form in (
        ("setup", {"administration_mode": "self_report", "gastrostomy": "yes"}),
        ("items/1", {"answer": "0", "go": "next"}),
        ("submit", {}),
    ):
        r = _form_post(client, f"{here}/{path}", form)
        assert (r.status_code, r.headers.get("location")) == (303, f"{base}/new"), path
    assert _draft_state(app, draft_id) == before
    assert _assessment_count(app) == assessments


def test_a_draft_of_another_record_is_not_reachable_under_a_permitted_one(app: FastAPI, world: World) -> None:
    """Q's own draft named under P's record, by G (who may write P's check-ins) and by Q's record id."""
    q_draft = _draft(app, world, OTHER_PATIENT, world.patient_q_id, ALL_ANSWERS)
    before, assessments = _draft_state(app, q_draft), _assessment_count(app)
    g = _client(app, world, CAREGIVER_GRANTED)
    base = f"/patients/{world.patient_p_id}/alsfrs-r"
    for path in ("items/1", "review", "done"):
        r = g.get(f"{base}/drafts/{q_draft}/{path}")
        assert (r.status_code, r.headers.get("location")) == (303, f"{base}/new")
    r = _form_post(g, f"{base}/drafts/{q_draft}/submit")
    assert (r.status_code, r.headers.get("location")) == (303, f"{base}/new")
    # Under Q's own record, G is refused outright.
    r = g.get(f"/patients/{world.patient_q_id}/alsfrs-r/drafts/{q_draft}/review")
    assert r.status_code == 404
    _assert_hidden(r, Q_MARKERS)
    assert _draft_state(app, q_draft) == before
    assert _assessment_count(app) == assessments


def test_a_grant_of_another_record_cannot_be_revoked_through_ones_own(app: FastAPI, world: World) -> None:
    with _session(app) as db:
        q_user = _user(db, world, OTHER_PATIENT)
        q_grant = consent.grant_access(
            db,
            actor=q_user,
            patient_id=world.patient_q_id,
            scope="checkins",
            now=NOW,
            grantee_user_id=world.users[CAREGIVER_NOT_GRANTED],
        )
        db.commit()
        q_grant_id = q_grant.id
    p = _client(app, world, OWN)
    assert p.delete(f"/api/v1/patients/{world.patient_p_id}/grants/{q_grant_id}").status_code == 404
    assert _form_post(p, f"/patients/{world.patient_p_id}/sharing/{q_grant_id}/revoke").status_code == 404
    with _session(app) as db:
        grant = db.get(ConsentGrant, q_grant_id)
        assert grant is not None and grant.revoked_at is None


# --- The clinic's lists: messages waiting, overdue check-ins ---------------------------------------------

P_MESSAGE = "Question about my tablets MSGLEAKMARKER"


def _p_writes_to_the_clinic(app: FastAPI, world: World) -> None:
    with _session(app) as db:
        message_actions.post_message(
            db, actor=_user(db, world, OWN), patient_id=world.patient_p_id, body=P_MESSAGE, now=NOW
        )
        db.commit()


@pytest.mark.parametrize("actor", ACTORS)
def test_messages_waiting_are_listed_only_to_the_persons_own_clinic(app: FastAPI, world: World, actor: str) -> None:
    _p_writes_to_the_clinic(app, world)
    client = _client(app, world, actor)
    inbox = client.get("/clinic/messages")
    if actor == CLINICIAN_GRANTED_CLINIC:
        assert inbox.status_code == 200 and "PPLEAKMARKER" in inbox.text
        return
    if actor == CLINICIAN_OTHER_CLINIC:
        assert inbox.status_code == 200
    else:
        _assert_refused(inbox, actor, api=False)
    _assert_hidden(inbox, (*P_MARKERS, P_MESSAGE))
    home = client.get("/messages")
    assert home.status_code in (200, 303, 404)
    if actor not in (OWN, PROXY, CAREGIVER_GRANTED):
        _assert_hidden(home, (*P_MARKERS, P_MESSAGE))


def test_another_clinic_holding_a_grant_cannot_read_or_write_the_persons_messages(app: FastAPI, world: World) -> None:
    """P also shares check-ins with clinic B: B's clinician may read them, but the conversation is clinic A's."""
    _p_writes_to_the_clinic(app, world)
    patient = _client(app, world, OWN)
    granted = patient.post(
        f"/api/v1/patients/{world.patient_p_id}/grants",
        json={"scope": "checkins", "grantee_clinic_id": world.clinic_b_id},
    )
    assert granted.status_code == 201, granted.text
    b = _client(app, world, CLINICIAN_OTHER_CLINIC)
    assert b.get(f"/api/v1/patients/{world.patient_p_id}/check-ins").status_code == 200
    for r in (
        b.get(f"/api/v1/patients/{world.patient_p_id}/messages"),
        b.get(f"/patients/{world.patient_p_id}/messages"),
        b.post(f"/api/v1/patients/{world.patient_p_id}/messages", json={"body": "From clinic B"}),
        _form_post(b, f"/patients/{world.patient_p_id}/messages", {"body": "From clinic B"}),
    ):
        assert r.status_code == 403, r.text
        assert P_MESSAGE not in r.text
    assert P_MESSAGE not in b.get("/clinic/messages").text
    with _session(app) as db:
        thread = message_actions.thread(db, actor=_user(db, world, OWN), patient_id=world.patient_p_id, now=NOW)
        assert [m.body for m in thread] == [P_MESSAGE]


@pytest.mark.parametrize("actor", ACTORS)
def test_overdue_list_is_for_clinicians_and_names_only_people_sharing_check_ins(
    app: FastAPI, world: World, actor: str
) -> None:
    freeze_clock(app, NOW + timedelta(days=60))  # everyone is overdue by now (restored by the conn fixture)
    client = _client(app, world, actor)
    overdue = client.get("/clinic/overdue")
    _assert_hidden(overdue, Q_MARKERS)
    if actor == CLINICIAN_GRANTED_CLINIC:
        assert overdue.status_code == 200 and "PPLEAKMARKER" in overdue.text
        return
    if actor == CLINICIAN_OTHER_CLINIC:
        assert overdue.status_code == 200
    else:
        _assert_refused(overdue, actor, api=False)
    _assert_hidden(overdue, P_MARKERS)


# --- Webhooks: the clinic administrator's own clinic only -------------------------------------------------


def _endpoint(app: FastAPI, clinic_id: int, url: str) -> int:
    with _session(app) as db:
        endpoint = WebhookEndpoint(clinic_id=clinic_id, url=url, secret="s" * 43, active=True, created_at=NOW)
        db.add(endpoint)
        db.commit()
        return endpoint.id


def _endpoint_active(app: FastAPI, endpoint_id: int) -> bool:
    with _session(app) as db:
        endpoint = db.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        return endpoint.active


def _endpoint_count(app: FastAPI) -> int:
    with _session(app) as db:
        return db.execute(select(func.count()).select_from(WebhookEndpoint)).scalar_one()


@pytest.mark.parametrize("actor", ACTORS)
def test_webhooks_belong_to_their_clinics_administrators(app: FastAPI, world: World, actor: str) -> None:
    a_id = _endpoint(app, world.clinic_a_id, "https://ehr-a.example.org/ALPHAHOOK")
    b_id = _endpoint(app, world.clinic_b_id, "https://ehr-b.example.org/BRAVOHOOK")
    count = _endpoint_count(app)
    client = _client(app, world, actor)

    page = client.get("/clinic/webhooks")
    assert "BRAVOHOOK" not in page.text
    added = _form_post(client, "/clinic/webhooks", {"url": "https://attacker.example.org/hook"})
    other = _form_post(client, f"/clinic/webhooks/{b_id}/deactivate")
    missing = _form_post(client, f"/clinic/webhooks/{MISSING_ID}/deactivate")
    assert _endpoint_active(app, b_id)
    if actor != ANONYMOUS:
        assert (other.status_code, other.content) == (missing.status_code, missing.content)
    if actor == ADMIN_GRANTED_CLINIC:
        assert page.status_code == 200 and "ALPHAHOOK" in page.text
        assert added.status_code == 200 and _endpoint_count(app) == count + 1
        assert other.status_code == 404
        assert _form_post(client, f"/clinic/webhooks/{a_id}/deactivate").status_code == 303
        assert not _endpoint_active(app, a_id)
        return
    for r in (page, added, other):
        _assert_refused(r, actor, api=False)
    assert "ALPHAHOOK" not in page.text
    assert _endpoint_count(app) == count
    assert _endpoint_active(app, a_id)


# --- Invitations and roles -------------------------------------------------------------------------------


def _invitation_count(app: FastAPI) -> int:
    with _session(app) as db:
        return db.execute(select(func.count()).select_from(Invitation)).scalar_one()


@pytest.mark.parametrize("actor", [PROXY, CAREGIVER_GRANTED, CAREGIVER_REVOKED, CAREGIVER_NOT_GRANTED])
def test_caregivers_and_proxies_cannot_invite(app: FastAPI, world: World, actor: str) -> None:
    client = _client(app, world, actor)
    before = _invitation_count(app)
    api = client.post("/api/v1/invitations", json={"email": "someone.new@example.org", "scopes": ["full_record"]})
    assert api.status_code == 403, api.text
    page = _form_post(client, "/invitations", {"email": "someone.new@example.org", "scopes": "full_record"})
    assert page.status_code == 403, page.text
    assert _invitation_count(app) == before


@pytest.mark.parametrize(
    ("actor", "role"),
    [(OWN, "caregiver"), (CLINICIAN_GRANTED_CLINIC, "patient"), (ADMIN_GRANTED_CLINIC, "clinician")],
)
def test_each_role_invites_only_the_role_below_it(app: FastAPI, world: World, actor: str, role: str) -> None:
    client = _client(app, world, actor)
    # No way to name a role: the API refuses the field, the page ignores it.
    refused = client.post(
        "/api/v1/invitations", json={"email": "new.one@example.org", "scopes": ["checkins"], "role": "admin"}
    )
    assert refused.status_code == 422
    made = client.post("/api/v1/invitations", json={"email": "new.one@example.org", "scopes": ["checkins"]})
    assert made.status_code == 201, made.text
    assert made.json()["role"] == role
    page = _form_post(client, "/invitations", {"email": "new.two@example.org", "scopes": "checkins", "role": "admin"})
    assert page.status_code == 200, page.text
    with _session(app) as db:
        invitations = db.execute(
            select(Invitation).where(Invitation.email.in_(["new.one@example.org", "new.two@example.org"]))
        ).scalars()
        for inv in invitations:
            assert inv.role == role
            if role == "caregiver":
                assert (inv.patient_id, inv.clinic_id) == (world.patient_p_id, None)
            else:
                assert (inv.patient_id, inv.clinic_id) == (None, world.clinic_a_id)


def _invitation(app: FastAPI, world: World, inviter: str, *, now: Any = NOW, scopes: list[str] | None = None) -> str:
    with _session(app) as db:
        _, token = accounts.create_invitation(
            db, inviter=_user(db, world, inviter), email="invited.person@example.org", now=now, scopes=scopes
        )
        db.commit()
        return token


def test_invitation_token_is_stored_only_as_its_digest(app: FastAPI, world: World, conn: Connection) -> None:
    token = _invitation(app, world, OWN, scopes=["checkins"])
    with _session(app) as db:
        inv = db.execute(select(Invitation).where(Invitation.email == "invited.person@example.org")).scalar_one()
        assert inv.token_digest == token_digest(token)
    dump = "\n".join(str(row) for table in Base.metadata.sorted_tables for row in conn.execute(select(table)).all())
    assert token not in dump


def test_an_invitation_link_works_once_and_keeps_its_role(app: FastAPI, world: World) -> None:
    token = _invitation(app, world, OWN, scopes=["checkins"])
    link = f"/invite/{token}"
    newcomer = _client(app, world, ANONYMOUS)
    assert newcomer.get(link).status_code == 200
    form = {
        "display_name": "New Carer",
        "password": PASSWORD,
        # Tampered fields: an invitation to a caregiver cannot make a clinician, nor share with a clinic.
        "role": "clinician",
        "clinic_id": str(world.clinic_a_id),
        "share_with_clinic": "full_record",
    }
    accepted = _form_post(newcomer, link, form)
    assert accepted.status_code == 303, accepted.text
    with _session(app) as db:
        user = db.execute(select(User).where(User.email == "invited.person@example.org")).scalar_one()
        assert (user.role, user.clinic_id) == ("caregiver", None)
        grants = db.execute(select(ConsentGrant).where(ConsentGrant.grantee_user_id == user.id)).scalars().all()
        assert [(g.patient_id, g.scope) for g in grants] == [(world.patient_p_id, "checkins")]
        assert (
            db.execute(
                select(func.count()).select_from(ConsentGrant).where(ConsentGrant.granted_by_id == user.id)
            ).scalar_one()
            == 0
        )

    again = _client(app, world, ANONYMOUS)
    assert again.get(link).status_code == 404
    assert _form_post(again, link, {"display_name": "Someone Else", "password": PASSWORD}).status_code == 404


def test_an_expired_invitation_link_cannot_be_used(app: FastAPI, world: World) -> None:
    token = _invitation(app, world, CLINICIAN_GRANTED_CLINIC, now=NOW - timedelta(days=8))
    link = f"/invite/{token}"
    newcomer = _client(app, world, ANONYMOUS)
    assert newcomer.get(link).status_code == 404
    assert _form_post(newcomer, link, {"display_name": "Late Comer", "password": PASSWORD}).status_code == 404
    with _session(app) as db:
        assert db.execute(select(User).where(User.email == "invited.person@example.org")).scalar_one_or_none() is None


def test_a_wrong_token_finds_no_invitation(app: FastAPI, world: World) -> None:
    token = _invitation(app, world, OWN, scopes=["checkins"])
    client = _client(app, world, ANONYMOUS)
    assert client.get(f"/invite/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}").status_code == 404
    assert client.get(f"/invite/{token_digest(token)}").status_code == 404


# --- Two-step sign-in cannot be skipped by enrolling a new authenticator -------------------------------------


def test_password_alone_cannot_replace_an_enrolled_second_factor(app: FastAPI, world: World) -> None:
    secret = new_secret()
    with _session(app) as db:
        clinician = _user(db, world, CLINICIAN_GRANTED_CLINIC)
        accounts.enable_second_factor(db, user=clinician, secret=secret, code=current_code(secret, NOW), now=NOW)
        db.commit()
        email, user_id = clinician.email, clinician.id

    attacker = _client(app, world, ANONYMOUS)  # knows the password, not the authenticator
    r = _form_post(attacker, "/signin", {"email": email, "password": PASSWORD})
    assert (r.status_code, r.headers["location"]) == (303, "/signin/code")
    session = r.cookies[SESSION_COOKIE]  # rotated at sign-in
    attacker.cookies.clear()
    attacker.cookies.set(SESSION_COOKIE, session)
    attacker.headers["X-CSRF-Token"] = csrf_token(app.state.ctx.settings.secret_key, session)

    enrol = attacker.get("/account/two-factor")
    assert enrol.status_code == 303 and enrol.headers["location"] == "/signin/code", enrol.text[:300]
    own_secret = new_secret()
    forged = _form_post(
        attacker,
        "/account/two-factor",
        {
            "secret": own_secret,
            "signed_secret": sign(app.state.ctx.settings.secret_key, f"{user_id}:{own_secret}".encode()),
            "code": current_code(own_secret, NOW),
        },
    )
    assert forged.status_code == 303 and forged.headers["location"] == "/signin/code"
    assert attacker.get("/home").headers.get("location") == "/signin"
    assert attacker.get("/api/v1/me").status_code == 401
    with _session(app) as db:
        assert _user(db, world, CLINICIAN_GRANTED_CLINIC).totp_secret == secret


# --- CSRF: every state-changing route refuses a request without the session's token -----------------------

_COLLECTION_APP = app_for_collection()
UNSAFE_ROUTES = [(m, p) for m, p in http_routes(_COLLECTION_APP) if m in ("POST", "PUT", "PATCH", "DELETE")]


def _fill(path: str, world: World) -> str:
    values = {
        "patient_id": world.patient_p_id,
        "grant_id": world.spare_grant_id,
        "check_in_id": world.check_in_id,
        "draft_id": 1,
        "n": 1,
        "step_id": "breathing",
        "kind": "alsfrs_r",
        "alert_id": 1,
        "endpoint_id": 1,
        "request_id": 1,
        "token": "t" * 43,
        "test_kind": "emg",
        "entry_id": world.medicine_entry_id,
        "invitation_id": 1,
        "user_id": 1,
        "token_id": 1,
    }
    names = [part.split("}")[0] for part in path.split("{")[1:]]
    missing = [n for n in names if n not in values]
    if missing:
        pytest.fail(f"{path}: say how to fill {missing} in _fill")
    return path.format(**{n: values[n] for n in names})


def _snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    skip = {"audit_events", "audit_head", "web_sessions"}
    return {
        t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
        for t in Base.metadata.sorted_tables
        if t.name not in skip
    }


def test_unsafe_routes_are_enumerated() -> None:
    assert len(UNSAFE_ROUTES) >= 30, UNSAFE_ROUTES
    assert ("POST", "/api/v1/patients/{patient_id}/check-ins") in UNSAFE_ROUTES
    assert ("DELETE", "/api/v1/patients/{patient_id}/grants/{grant_id}") in UNSAFE_ROUTES


@pytest.mark.parametrize("token", ["missing", "wrong", "another_sessions"])
@pytest.mark.parametrize(("method", "path"), UNSAFE_ROUTES, ids=[f"{m} {p}" for m, p in UNSAFE_ROUTES])
def test_every_unsafe_route_refuses_a_request_without_the_csrf_token(
    method: str, path: str, token: str, app: FastAPI, world: World, conn: Connection
) -> None:
    client = _client(app, world, OWN)
    if token == "missing":
        del client.headers["X-CSRF-Token"]
        sent: str | None = None
    elif token == "wrong":
        sent = "0" * 64
    else:  # a real token, but of someone else's session
        sent = csrf_of(_client(app, world, CAREGIVER_GRANTED))
    if sent is not None:
        client.headers["X-CSRF-Token"] = sent
    url = _fill(path, world)
    before = _snapshot(conn)
    if path.startswith("/api/"):
        response = client.request(method, url, json={"note": "x", "body": "x", "email": "a@example.org"})
    else:
        form = {"body": "x", "email": "a@example.org", "note": "x", "cramps": "yes"}
        if sent is not None:
            form["csrf_token"] = sent
        response = client.request(method, url, data=form)
    assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text[:300]}"
    assert _snapshot(conn) == before, f"{method} {path} changed the database without a CSRF token"

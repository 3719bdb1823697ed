"""The clinic's alert inbox: who sees it, its order, acknowledging and resolving with who and when, and
escalation of alerts nobody acknowledged (run by the delivery worker with ALSCARE_ALERT_ESCALATE_MINUTES)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, listed_in, rows
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from world import (
    ADMIN_GRANTED_CLINIC,
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OWN,
    P_NAME,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.actions import consent
from alscare.delivery.worker import run_periodic
from alscare.mail import OutboxMailer
from alscare.settings import Settings
from alscare.storage.models import Alert, AuditEvent, ConsentGrant, Notification, User
from alscare.web.app import create_app
from alscare.web.pages.alerts import format_age


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    return clock


@pytest.fixture
def world(app: FastAPI, db: Session, clock: Clock) -> World:
    return build_world(db)


def client_for(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def check_in(app: FastAPI, world: World, **answers: Any) -> dict[str, Any]:
    """P checks in through the API; returns the answer (with the ids of the alerts raised)."""
    r = client_for(app, world, OWN).post(
        f"/api/v1/patients/{world.patient_p_id}/check-ins", json={"client_id": str(uuid.uuid4()), **answers}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def one_alert(app: FastAPI, world: World, **answers: Any) -> int:
    """The triage alert of one check-in. It is raised first; guideline prompts may follow it (orthopnoea, say,
    also raises the NIV and care-wishes prompts of actions.prompts), which these tests do not look at."""
    alert_ids = check_in(app, world, **answers)["alert_ids"]
    return int(alert_ids[0])


def form(client: TestClient, path: str, **fields: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_of(client), **fields})


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (0, "less than 1 min"),
        (5, "5 min"),
        (60, "1 h"),
        (135, "2 h 15 min"),
        (24 * 60, "1 d"),
        (3 * 1440 + 250, "3 d 4 h"),
    ],
)
def test_format_age(minutes: int, shown: str) -> None:
    assert format_age(timedelta(minutes=minutes, seconds=30)) == shown


# --- Who sees the inbox -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [OWN, CAREGIVER_GRANTED, ADMIN_GRANTED_CLINIC])
def test_only_clinicians_have_an_inbox(app: FastAPI, world: World, actor: str) -> None:
    alert_id = one_alert(app, world, blue_lips=True)
    client = client_for(app, world, actor)
    assert client.get("/clinic/alerts").status_code == 404
    assert client.get(f"/clinic/alerts/{alert_id}").status_code == 404
    assert client.get("/api/v1/alerts").status_code == 404
    assert form(client, f"/clinic/alerts/{alert_id}/acknowledge").status_code == 404


def test_another_clinic_sees_nothing_and_cannot_acknowledge(app: FastAPI, world: World, engine: Engine) -> None:
    alert_id = one_alert(app, world, blue_lips=True)
    other = client_for(app, world, CLINICIAN_OTHER_CLINIC)
    inbox = other.get("/clinic/alerts")
    assert inbox.status_code == 200 and P_NAME not in inbox.text
    assert other.get("/api/v1/alerts").json() == []
    refused = other.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={})
    assert refused.status_code == 404
    with Session(engine) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (last.action, last.actor_user_id, last.patient_id) == (
        "denied",
        world.users[CLINICIAN_OTHER_CLINIC],
        world.patient_p_id,
    )
    assert rows(engine, Alert)[0].status == "open"


def test_inbox_is_sorted_by_severity_then_oldest_first(app: FastAPI, world: World, clock: Clock) -> None:
    # Prompts only: SNIP < 40 (NIV), and care wishes (a key decision point, nothing discussed yet).
    prompts_old = check_in(app, world, snip_cmh2o=30)["alert_ids"]
    assert len(prompts_old) == 2
    clock.advance(minutes=10)
    emergency_old = one_alert(app, world, blue_lips=True)
    clock.advance(minutes=10)
    team = one_alert(app, world, fall=True)
    clock.advance(minutes=10)
    emergency_new = one_alert(app, world, chest_pain_severe=True)
    clock.advance(hours=2, minutes=5)

    expected = [emergency_old, emergency_new, team, *prompts_old]
    api = client_for(app, world, CLINICIAN_GRANTED_CLINIC).get("/api/v1/alerts").json()
    assert [a["id"] for a in api] == expected
    assert [a["severity"] for a in api] == ["emergency", "emergency", "contact_team", "prompt", "prompt"]
    assert api[0]["age_seconds"] == (2 * 60 + 25) * 60

    page = client_for(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic/alerts")
    assert page.status_code == 200
    shown = [int(i) for i in re.findall(r'href="/clinic/alerts/(\d+)"', page.text)]
    assert shown == expected
    assert "2 h 25 min" in page.text and "2 h 15 min" in page.text
    assert f'href="/patients/{world.patient_p_id}"' in page.text and P_NAME in page.text


def test_reading_the_inbox_is_audited(app: FastAPI, world: World, engine: Engine) -> None:
    one_alert(app, world, blue_lips=True)
    client_for(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic/alerts")
    # One event for the page view, naming the people shown (not one per person).
    events = rows(engine, AuditEvent, AuditEvent.resource == "alerts")
    assert [(e.action, e.actor_user_id, e.patient_id) for e in events] == [
        ("read", world.users[CLINICIAN_GRANTED_CLINIC], None)
    ]
    assert listed_in(engine, events[0].id) == {world.patient_p_id}


def test_alerts_of_a_person_who_stopped_sharing_leave_the_inbox(app: FastAPI, world: World, db: Session) -> None:
    one_alert(app, world, blue_lips=True)
    clinician = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    assert len(clinician.get("/api/v1/alerts").json()) == 1
    grant = db.execute(
        select(ConsentGrant).where(
            ConsentGrant.grantee_clinic_id == world.clinic_a_id, ConsentGrant.revoked_at.is_(None)
        )
    ).scalar_one()
    patient_user = db.get(User, world.users[OWN])
    assert patient_user is not None
    consent.revoke_access(db, actor=patient_user, patient_id=world.patient_p_id, grant_id=grant.id, now=NOW)
    db.commit()
    db.close()
    assert clinician.get("/api/v1/alerts").json() == []
    assert P_NAME not in clinician.get("/clinic/alerts").text


# --- Acknowledge and resolve ------------------------------------------------------------------------------------


def test_acknowledge_then_resolve_through_the_pages(app: FastAPI, world: World, clock: Clock, engine: Engine) -> None:
    alert_id = one_alert(app, world, orthopnea=True)
    clinician = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    detail = f"/clinic/alerts/{alert_id}"
    page = clinician.get(detail)
    assert page.status_code == 200 and "Acknowledge" in page.text and P_NAME in page.text
    assert f'href="/patients/{world.patient_p_id}/check-ins/' in page.text

    clock.advance(minutes=12)
    r = form(clinician, f"{detail}/acknowledge", ack_note="Phoning now.")
    assert (r.status_code, r.headers["location"]) == (303, f"{detail}?done=acknowledged")
    page = clinician.get(r.headers["location"])
    assert "Alert acknowledged" in page.text
    assert "by Carl Clinician, 1 Mar 2026, 12:12 UTC" in page.text
    assert "Phoning now." in page.text

    again = form(clinician, f"{detail}/acknowledge")
    assert again.status_code == 422 and '<a href="#status">' in again.text

    empty = form(clinician, f"{detail}/resolve", note="   ")
    assert empty.status_code == 422 and '<a href="#note">' in empty.text
    assert rows(engine, Alert)[0].status == "acknowledged"

    clock.advance(minutes=30)
    done = form(clinician, f"{detail}/resolve", note="Respiratory review booked.")
    assert done.status_code == 303
    page = clinician.get(done.headers["location"])
    assert "Alert resolved" in page.text and "by Carl Clinician, 1 Mar 2026, 12:42 UTC" in page.text
    (alert,) = rows(engine, Alert, Alert.id == alert_id)
    assert (alert.status, alert.acknowledged_by_id, alert.resolved_by_id) == (
        "resolved",
        world.users[CLINICIAN_GRANTED_CLINIC],
        world.users[CLINICIAN_GRANTED_CLINIC],
    )
    assert alert.note == "Phoning now.\n\nRespiratory review booked."
    assert form(clinician, f"{detail}/resolve", note="Twice").status_code == 422
    # Resolved alerts leave the inbox, and come back when asked for.
    assert f"/clinic/alerts/{alert_id}" not in clinician.get("/clinic/alerts").text
    assert f"/clinic/alerts/{alert_id}" in clinician.get("/clinic/alerts?show=all").text


def test_forms_need_the_csrf_token(app: FastAPI, world: World) -> None:
    alert_id = one_alert(app, world, orthopnea=True)
    clinician = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    r = clinician.post(f"/clinic/alerts/{alert_id}/acknowledge", data={})
    assert r.status_code == 403


def test_acknowledge_and_resolve_through_the_api(app: FastAPI, world: World, clock: Clock) -> None:
    alert_id = one_alert(app, world, fall=True)
    api = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    clock.advance(minutes=5)
    ack = api.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "On it."})
    assert ack.status_code == 200
    body = ack.json()
    assert (body["status"], body["acknowledged_by_id"]) == ("acknowledged", world.users[CLINICIAN_GRANTED_CLINIC])
    assert body["acknowledged_at"].startswith("2026-03-01T12:05:00")
    again = api.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={})
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "status"]
    no_note = api.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": ""})
    assert no_note.status_code == 422 and no_note.json()["detail"][0]["loc"] == ["body", "note"]
    resolved = api.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "Checked; no injury."})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert api.get("/api/v1/alerts").json() == []
    assert [a["id"] for a in api.get("/api/v1/alerts?include_resolved=true").json()] == [alert_id]


def test_an_open_alert_can_be_resolved_directly(app: FastAPI, world: World) -> None:
    alert_id = one_alert(app, world, fall=True)
    api = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    r = api.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "Spoke on the phone."})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["acknowledged_at"]) == ("resolved", None)


# --- Escalation ---------------------------------------------------------------------------------------------------


def test_unacknowledged_alerts_escalate_after_the_configured_time(
    settings: Settings, engine: Engine, outbox: OutboxMailer, db: Session
) -> None:
    app = create_app(replace(settings, alert_escalate_minutes=10), engine=engine, mailer=outbox)
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    world = build_world(db)
    db.close()
    waiting = one_alert(app, world, blue_lips=True)
    seen = one_alert(app, world, fall=True)
    r = client_for(app, world, CLINICIAN_GRANTED_CLINIC).post(f"/api/v1/alerts/{seen}/acknowledge", json={})
    assert r.status_code == 200

    def tick(minutes: int) -> dict[int, int]:
        clock.now = NOW + timedelta(minutes=minutes)
        run_periodic(app.state.ctx.sessions, settings=app.state.ctx.settings, now=clock.now)
        return {a.id: a.escalation_level for a in rows(engine, Alert)}

    assert tick(9) == {waiting: 0, seen: 0}
    assert tick(10) == {waiting: 1, seen: 0}
    assert tick(10) == {waiting: 1, seen: 0}  # running again at the same moment changes nothing
    assert tick(19) == {waiting: 1, seen: 0}
    assert tick(20) == {waiting: 2, seen: 0}
    (alert,) = rows(engine, Alert, Alert.id == waiting)
    assert alert.escalated_at == NOW + timedelta(minutes=20)
    escalations = rows(engine, Notification, Notification.kind == "escalation")
    assert escalations and {n.alert_id for n in escalations} == {waiting}
    # One set of notifications per level reached (keys "escalation:<alert>:<level>:<channel>:<target>").
    assert {n.dedupe_key.split(":")[2] for n in escalations} == {"1", "2"}
    page = client_for(app, world, CLINICIAN_GRANTED_CLINIC).get("/clinic/alerts")
    assert "Escalated ×2" in page.text


def test_an_alert_escalates_exactly_once_per_level_over_a_simulated_day(
    settings: Settings, engine: Engine, outbox: OutboxMailer, db: Session
) -> None:
    """Issue 11: a worker cycle every 5 minutes for 24 hours, escalation after 30 minutes, 3 levels: the
    alert reaches levels 1, 2 and 3 at 30, 60 and 90 minutes and then stays; one notification set per level."""
    app = create_app(
        replace(settings, alert_escalate_minutes=30, alert_escalation_levels=3), engine=engine, mailer=outbox
    )
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    world = build_world(db)
    db.close()
    waiting = one_alert(app, world, blue_lips=True)
    reached: dict[int, int] = {}
    for minutes in range(0, 24 * 60 + 1, 5):
        clock.now = NOW + timedelta(minutes=minutes)
        run_periodic(app.state.ctx.sessions, settings=app.state.ctx.settings, now=clock.now)
        (alert,) = rows(engine, Alert, Alert.id == waiting)
        reached.setdefault(alert.escalation_level, minutes)
    assert reached == {0: 0, 1: 30, 2: 60, 3: 90}
    escalations = rows(engine, Notification, Notification.kind == "escalation")
    per_level = Counter(n.dedupe_key.split(":")[2] for n in escalations)
    assert set(per_level) == {"1", "2", "3"}
    assert len(set(per_level.values())) == 1  # the same recipients at each level, each once


def test_an_alert_found_late_jumps_to_its_level_with_one_notification_set(
    settings: Settings, engine: Engine, outbox: OutboxMailer, db: Session
) -> None:
    """A worker that was down for ten hours does not climb one level per cycle when it comes back."""
    app = create_app(
        replace(settings, alert_escalate_minutes=30, alert_escalation_levels=3), engine=engine, mailer=outbox
    )
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    world = build_world(db)
    db.close()
    waiting = one_alert(app, world, blue_lips=True)
    for seconds in (0, 2, 4):  # three worker cycles right after the outage
        clock.now = NOW + timedelta(hours=10, seconds=seconds)
        run_periodic(app.state.ctx.sessions, settings=app.state.ctx.settings, now=clock.now)
    (alert,) = rows(engine, Alert, Alert.id == waiting)
    assert alert.escalation_level == 3
    escalations = rows(engine, Notification, Notification.kind == "escalation")
    assert escalations and {n.dedupe_key.split(":")[2] for n in escalations} == {"3"}


def test_the_escalation_setting_is_read_from_the_environment(tmp_path: Any) -> None:
    from alscare.settings import SettingsError, load_settings

    env = {"ALSCARE_DATA_DIR": str(tmp_path), "ALSCARE_SECRET_KEY": "x" * 48}
    assert load_settings(env).alert_escalate_minutes == 30
    assert load_settings({**env, "ALSCARE_ALERT_ESCALATE_MINUTES": "15"}).alert_escalate_minutes == 15
    with pytest.raises(SettingsError, match="ALSCARE_ALERT_ESCALATE_MINUTES"):
        load_settings({**env, "ALSCARE_ALERT_ESCALATE_MINUTES": "soon"})

"""The audit trail: every read of a record is written down, the person can see it, rows cannot be changed,
tampering is detected (in code and by ``alscare audit verify``), and no patient data reaches the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import (
    NOW,
    PASSWORD,
    Clock,
    api_token,
    browser,
    days_after,
    freeze_clock,
    invite,
    newest_link_to,
    rows,
    sign_in,
    sign_out,
    sign_up,
    signup_form,
    submit,
)
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alscare.actions import audit
from alscare.cli import app as cli
from alscare.security.hashchain import ChainProblem
from alscare.storage.models import AuditEvent, ConsentGrant, Patient, User

ITEMS = {"1": 4, "2": 4, "3": 3, "4": 4, "5a": 3, "6": 4, "7": 4, "8": 3, "9": 3, "10": 4, "11": 4, "12": 4}


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return freeze_clock(app)


def _verify(engine: Engine) -> list[ChainProblem]:
    with Session(engine) as db:
        return audit.verify(db)


def _person_and_family(client: TestClient, app: FastAPI, engine: Engine) -> tuple[int, int]:
    """Ada signs up (in ``client``) and invites Jo to see her check-ins; returns (patient id, Jo's user id)."""
    sign_up(client)
    link = invite(client, "jo@example.org", scopes=["checkins"])
    with browser(app) as jo:
        submit(jo, link, {"display_name": "Jo Family", "password": PASSWORD})
    (patient,) = rows(engine, Patient)
    (family,) = rows(engine, User, User.email == "jo@example.org")
    return int(patient.id), int(family.id)


# --- Every read is written down --------------------------------------------------------------------------


def test_reading_a_record_is_audited_and_shown_to_the_person(
    client: TestClient, app: FastAPI, engine: Engine, clock: Clock
) -> None:
    patient_id, jo_id = _person_and_family(client, app, engine)
    with browser(app) as jo:
        sign_in(jo, "jo@example.org")
        clock.advance(minutes=5)
        assert jo.get(f"/patients/{patient_id}").status_code == 200
        # Record reads only: sign-in and list views are on the trail too now, without a patient (issue 14).
        page_reads = rows(engine, AuditEvent, AuditEvent.actor_user_id == jo_id, AuditEvent.patient_id.is_not(None))
        assert {(e.patient_id, e.action, e.resource) for e in page_reads} == {
            (patient_id, "write", "sharing"),  # Jo accepted the invitation (issue 14: every security event)
            (patient_id, "read", "profile"),
            (patient_id, "read", "alsfrs_r"),
        }
        page_reads = [e for e in page_reads if e.action == "read"]
        assert all(e.at == clock.now and e.source_ip == "testclient" for e in page_reads)

        clock.advance(minutes=5)
        assert jo.get(f"/api/v1/patients/{patient_id}").status_code == 200
        (api_read,) = rows(engine, AuditEvent, AuditEvent.actor_user_id == jo_id, AuditEvent.at == clock.now)
        assert (api_read.patient_id, api_read.action, api_read.resource) == (patient_id, "read", "profile")
        assert api_read.source_ip == "testclient"

        # Jo may not see the access log; the refusal is written down too.
        assert jo.get(f"/patients/{patient_id}/access-log").status_code == 404
        (denied,) = rows(engine, AuditEvent, AuditEvent.action == "denied")
        assert (denied.actor_user_id, denied.patient_id, denied.resource) == (jo_id, patient_id, "access_log")

    page = client.get(f"/patients/{patient_id}/access-log")
    assert page.status_code == 200
    assert "Jo Family (a carer or family member)" in page.text
    assert "Looked at the profile" in page.text and "Was refused access to this list" in page.text

    log = client.get(f"/api/v1/patients/{patient_id}/access-log").json()
    jo_entries = [e for e in log if e["who"] == "Jo Family"]
    assert {(e["action"], e["resource"]) for e in jo_entries} == {
        ("write", "sharing"),
        ("read", "profile"),
        ("read", "alsfrs_r"),
        ("denied", "access_log"),
    }
    assert log == sorted(log, key=lambda e: e["at"], reverse=True)
    assert _verify(engine) == []


def test_chain_is_intact_after_a_realistic_sequence(
    client: TestClient, app: FastAPI, engine: Engine, clock: Clock
) -> None:
    patient_id, _ = _person_and_family(client, app, engine)
    headers = {"X-CSRF-Token": api_token(client)}
    url = f"/api/v1/patients/{patient_id}"
    for days in (-60, -30, -1):
        body = {"assessed_on": days_after(NOW.date(), days), "administration_mode": "self_report", "items": ITEMS}
        assert client.post(f"{url}/alsfrs-r", json=body, headers=headers).status_code == 201
        clock.advance(minutes=1)
    assert client.patch(url, json={"height_cm": 170}, headers=headers).status_code == 200
    invited = client.post(
        f"{url}/grants", json={"scope": "care_wishes", "grantee_email": "jo@example.org"}, headers=headers
    )
    assert invited.status_code == 202, invited.text
    with browser(app) as jo:
        sign_in(jo, "jo@example.org")
        assert submit(jo, f"{newest_link_to(client, 'jo@example.org')}/accept", {}, page="/home").status_code == 303
    (grant,) = rows(engine, ConsentGrant, ConsentGrant.scope == "care_wishes")
    assert client.delete(f"{url}/grants/{grant.id}", headers=headers).status_code == 204
    assert client.get(f"{url}/progression").json()["assessments"] == 3
    with browser(app) as jo:
        sign_in(jo, "jo@example.org")
        jo.get(f"/patients/{patient_id}")
        jo.get(f"/api/v1/patients/{patient_id}/alsfrs-r")
        jo.get(f"/patients/{patient_id + 1}")  # no such record: refused and audited
    assert len(rows(engine, AuditEvent)) >= 15  # every step above wrote at least one event
    assert _verify(engine) == []


# --- Append-only, in the database itself ------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET detail = 'edited'", "DELETE FROM audit_events"])
def test_audit_rows_cannot_be_updated_or_deleted(
    client: TestClient, engine: Engine, clock: Clock, statement: str
) -> None:
    sign_up(client)
    before = [e.hash for e in rows(engine, AuditEvent)]
    assert before
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert [e.hash for e in rows(engine, AuditEvent)] == before
    assert _verify(engine) == []


# --- Tamper detection (SQLite, where the test may drop the triggers) ----------------------------------------

TAMPERING = {
    "edited detail": "UPDATE audit_events SET detail = 'nothing to see' WHERE id = 2",
    "edited time": "UPDATE audit_events SET at = '2020-01-01 00:00:00.000000' WHERE id = 3",
    "deleted middle row": "DELETE FROM audit_events WHERE id = 2",
    "deleted newest row": "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)",
}


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "ALSCARE_DATABASE_URL": database_url,
        "ALSCARE_DATA_DIR": str(tmp_path / "cli-data"),
        "ALSCARE_SECRET_KEY": "y" * 48,
    }


def _drop_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))


@pytest.fixture
def audited(client: TestClient, app: FastAPI, engine: Engine, clock: Clock) -> int:
    """A few audit events: a sign-up, reads of the record, an invitation accepted."""
    patient_id, _ = _person_and_family(client, app, engine)
    client.get(f"/patients/{patient_id}")
    client.get(f"/api/v1/patients/{patient_id}")
    assert len(rows(engine, AuditEvent)) >= 5
    return patient_id


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("tampering", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampering_is_detected(engine: Engine, audited: int, cli_env: dict[str, str], tampering: str) -> None:
    runner = CliRunner()
    intact = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert intact.exit_code == 0, intact.output
    assert "audit chain intact" in intact.stdout

    _drop_triggers(engine)
    with engine.begin() as conn:
        assert conn.execute(text(tampering)).rowcount == 1
    assert _verify(engine) != []

    broken = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert broken.exit_code == 1
    assert "audit chain BROKEN" in broken.stderr


def test_cli_verify_passes_on_an_intact_chain(audited: int, cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["audit", "verify"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.stdout


# --- No patient data in the application's logs --------------------------------------------------------------


def test_no_patient_data_in_logs(
    client: TestClient, app: FastAPI, engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    # Even SQL statement echo is on (INFO): the engine hides bound values. Only its DEBUG level, a dump of
    # every result row that an operator would switch on deliberately to debug the database, stays off.
    for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine"):
        caplog.set_level(logging.INFO, logger=name)
    form = signup_form(full_name="Zebediah Quarrington", email="zeb.q@example.org", date_of_birth="1957-11-23")
    patient_id, _ = _person_and_family(client, app, engine)
    sign_out(client)
    sign_up(client, **form)
    (patient,) = rows(engine, Patient, Patient.full_name == "Zebediah Quarrington")
    token = api_token(client)
    client.get(f"/patients/{patient.id}")
    client.get(f"/api/v1/patients/{patient.id}")
    client.patch(f"/api/v1/patients/{patient.id}", json={"height_cm": 9000}, headers={"X-CSRF-Token": token})
    client.post(
        f"/api/v1/patients/{patient.id}/alsfrs-r",
        json={"assessed_on": "2026-03-01", "administration_mode": "self_report", "items": ITEMS},
        headers={"X-CSRF-Token": token},
    )
    client.get(f"/patients/{patient.id}/access-log")
    client.get(f"/patients/{patient_id}")  # someone else's record: refused
    sign_out(client)
    sign_in(client, "zeb.q@example.org", "the wrong password")
    submit(client, "/password/forgot", {"email": "zeb.q@example.org"})
    submit(client, "/signup", {**form, "height_cm": "9000"})

    assert caplog.records, "nothing was logged at all: the capture is not working"
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in ("Zebediah", "Quarrington", "zeb.q@example.org", "1957-11-23", "23/11/1957", "1957, 11, 23"):
        assert secret not in logged

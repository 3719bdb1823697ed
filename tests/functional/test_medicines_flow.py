"""The medicine list over HTTP (issue 9), on both databases, on the shared world (world.py): P has riluzole on
their list, started 15 Jan 2026; the world's clock reads 1 Mar 2026.

- a check-in of P with fever reaches the riluzole rule with no medicine ticked (the triage reads the list);
- the check-in form shows the list read-only and no longer offers riluzole to tick;
- adding, changing and stopping a medicine keeps every change in an append-only history;
- the riluzole liver-test prompt, and the withdrawn-medicine prompt, at the action level;
- stopping sharing with the clinic asks first (no JavaScript needed) and says what stops;
- a pending invitation can be cancelled, and its link then no longer works.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from helpers import newest_link_to
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from world import (
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OWN,
    World,
    csrf_of,
    freeze_clock,
    signed_in_client,
    world_once_per_database,
)

from alscare.actions import medicines
from alscare.storage.models import CheckIn, ConsentGrant, Invitation, User
from alscare.storage.models.medicines import MedicineChange

_world_database, _world, _module_app, conn, app, world = world_once_per_database("medicines")


def _client(app: FastAPI, world: World, actor: str = OWN):  # type: ignore[no-untyped-def]
    return signed_in_client(app, world.users[actor])


# --- The check-in reads the list --------------------------------------------------------------------------


def test_check_in_with_fever_reaches_the_riluzole_rule_without_re_ticking(app: FastAPI, world: World) -> None:
    client = _client(app, world)
    form = {"csrf_token": csrf_of(client), "client_id": "6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "fever": "yes"}
    posted = client.post(f"/patients/{world.patient_p_id}/check-in", data=form)
    assert posted.status_code == 303
    result = client.get(posted.headers["location"])
    with app.state.ctx.sessions() as db:
        row = db.execute(select(CheckIn).where(CheckIn.client_id == form["client_id"])).scalar_one()
        rules = [r["rule"] for r in row.reasons]
        assert "riluzole_fever" in rules
        assert row.tier == "contact_team"
        # Only what was reported is stored with the check-in: the list stays under the medicines scope.
        assert "medicines" not in row.answers
    assert "riluzole" in result.text.lower()


def test_api_check_in_reads_the_list_too(app: FastAPI, world: World) -> None:
    client = _client(app, world)
    body = {"client_id": "7a1b2c3d-4e5f-4a6b-9c8d-1e2f3a4b5c6d", "cough": True}
    made = client.post(f"/api/v1/patients/{world.patient_p_id}/check-ins", json=body)
    assert made.status_code == 201, made.text
    assert "riluzole_cough_or_breathless" in [r["rule"] for r in made.json()["reasons"]]


def test_check_in_form_shows_the_list_and_does_not_ask_to_tick_it(app: FastAPI, world: World) -> None:
    page = _client(app, world).get(f"/patients/{world.patient_p_id}/check-in")
    assert page.status_code == 200
    assert 'value="riluzole"' not in page.text  # no riluzole box to tick
    assert 'value="tofersen"' in page.text  # medicines not on the list can still be ticked
    assert "On your medicine list now" in page.text and "50 mg twice a day" in page.text
    assert f'href="/patients/{world.patient_p_id}/medicines"' in page.text


def test_check_in_form_for_a_check_ins_only_carer_does_not_show_the_list(app: FastAPI, world: World) -> None:
    page = _client(app, world, CAREGIVER_GRANTED).get(f"/patients/{world.patient_p_id}/check-in")
    assert page.status_code == 200
    assert "50 mg twice a day" not in page.text and "On the medicine list" not in page.text


# --- The list and its history -----------------------------------------------------------------------------


def test_add_change_stop_keeps_every_change(app: FastAPI, world: World, conn: Connection) -> None:
    client = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    base = f"/patients/{world.patient_p_id}/medicines"
    added = client.post(
        base,
        data={
            "csrf_token": csrf_of(client),
            "catalogue_id": "baclofen",
            "dose": "10 mg three times a day",
            "started_on": "2026-02-01",
            "prescriber": "Dr Okafor",
        },
    )
    assert added.status_code == 303
    entry_id = int(re.search(r"#medicine-(\d+)", added.headers["location"]).group(1))  # type: ignore[union-attr]
    listing = client.get(base)
    assert "Baclofen" in listing.text and "10 mg three times a day" in listing.text

    changed = client.post(
        f"{base}/{entry_id}", data={"csrf_token": csrf_of(client), "dose": "5 mg", "started_on": "2026-02-01"}
    )
    assert changed.status_code == 303
    stopped = client.post(
        f"{base}/{entry_id}",
        data={"csrf_token": csrf_of(client), "dose": "5 mg", "started_on": "2026-02-01", "stopped_on": "2026-02-20"},
    )
    assert stopped.status_code == 303

    page = client.get(f"{base}/{entry_id}")
    assert "Dose: 10 mg three times a day → 5 mg" in page.text
    assert "Stopped: (none) → 2026-02-20" in page.text
    assert "Carl Clinician (clinic)" in page.text
    history = client.get(f"/api/v1/patients/{world.patient_p_id}/medicines/{entry_id}/history").json()
    assert [(h["version"], h["kind"]) for h in history] == [(1, "added"), (2, "changed"), (3, "stopped")]
    assert history[0]["snapshot"]["dose"] == "10 mg three times a day"  # the old value is still there
    listed = client.get(base).text
    link = f'/medicines/{entry_id}">Baclofen</a>'
    assert listed.index("<h2>Stopped</h2>") < listed.index(link)  # under "Stopped", not "Taking now"

    # The log is append-only in the database itself, like the audit trail.
    for statement in ("UPDATE medicine_changes SET kind = 'changed'", "DELETE FROM medicine_changes"):
        with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
            conn.execute(text(statement))


def test_bad_input_names_the_field_and_changes_nothing(app: FastAPI, world: World) -> None:
    client = _client(app, world)
    base = f"/patients/{world.patient_p_id}/medicines"
    with app.state.ctx.sessions() as db:
        before = db.execute(select(MedicineChange.id)).all()
    nothing = client.post(base, data={"csrf_token": csrf_of(client)})
    assert nothing.status_code == 422 and 'href="#catalogue_id"' in nothing.text
    bad_date = client.post(base, data={"csrf_token": csrf_of(client), "name": "Zopiclone", "started_on": "31/02/2026"})
    assert bad_date.status_code == 422 and 'href="#started_on"' in bad_date.text
    backwards = client.post(
        f"{base}/{world.medicine_entry_id}",
        data={"csrf_token": csrf_of(client), "started_on": "2026-01-15", "stopped_on": "2026-01-01"},
    )
    assert backwards.status_code == 422 and "cannot be before the start date" in backwards.text
    api = client.post(f"/api/v1/patients/{world.patient_p_id}/medicines", json={"catalogue_id": "no_such_medicine"})
    assert api.status_code == 422 and "catalogue_id" in api.text
    with app.state.ctx.sessions() as db:
        assert db.execute(select(MedicineChange.id)).all() == before


# --- Prompts: riluzole liver tests and withdrawn medicines --------------------------------------------------


def test_liver_test_prompt_follows_the_tests_marked_done(app: FastAPI, world: World) -> None:
    # Started 15 Jan, last liver test 27 Feb: on 1 Mar nothing is due; the month-2 test (15 Mar) is due from
    # 8 Mar and overdue a week after it.
    with app.state.ctx.sessions() as db:
        assert medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=NOW.date()) == []
        soon = medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=date(2026, 3, 10))
        late = medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=date(2026, 3, 23))
    assert [p.id for p in soon] == ["riluzole_liver_test_due_2026-03-15"]
    assert [p.id for p in late] == ["riluzole_liver_test_overdue_2026-03-15"]

    freeze_clock(app, datetime(2026, 3, 23, 12, 0, tzinfo=UTC))
    try:
        _mark_on_23_march(app, world)
    finally:
        freeze_clock(app, NOW)  # the module's app is shared by the tests after this one


def _mark_on_23_march(app: FastAPI, world: World) -> None:
    client = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    assert "Overdue" in client.get(f"/patients/{world.patient_p_id}/medicines").text
    marked = client.post(
        f"/patients/{world.patient_p_id}/medicines/{world.medicine_entry_id}/liver-tests",
        data={"csrf_token": csrf_of(client), "done_on": "2026-03-20"},
    )
    assert marked.status_code == 303
    with app.state.ctx.sessions() as db:
        assert medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=date(2026, 3, 23)) == []
        # Next: the month-3 test on 15 Apr, due from 8 Apr.
        later = medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=date(2026, 4, 10))
    assert [p.id for p in later] == ["riluzole_liver_test_due_2026-04-15"]
    future = client.post(
        f"/patients/{world.patient_p_id}/medicines/{world.medicine_entry_id}/liver-tests",
        data={"csrf_token": csrf_of(client), "done_on": "2026-03-25"},
    )
    assert future.status_code == 422 and "cannot be in the future" in future.text


def test_withdrawn_medicine_on_the_list_raises_a_prompt(app: FastAPI, world: World) -> None:
    client = _client(app, world)
    made = client.post(
        f"/api/v1/patients/{world.patient_p_id}/medicines",
        json={"catalogue_id": "pb_taurursodiol", "started_on": "2023-06-01", "dose": "1 sachet twice a day"},
    )
    assert made.status_code == 201 and made.json()["withdrawn"] is True
    with app.state.ctx.sessions() as db:
        ids = [p.id for p in medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=NOW.date())]
    assert "withdrawn_medicine_pb_taurursodiol" in ids
    page = client.get(f"/patients/{world.patient_p_id}/medicines/{made.json()['id']}")
    assert "Withdrawn in 2024" in page.text and "Do not stop it on your own" in page.text

    stop = client.patch(
        f"/api/v1/patients/{world.patient_p_id}/medicines/{made.json()['id']}", json={"stopped_on": "2026-02-28"}
    )
    assert stop.status_code == 200
    with app.state.ctx.sessions() as db:
        ids = [p.id for p in medicines.medicine_prompts(db, patient_id=world.patient_p_id, today=NOW.date())]
        assert "withdrawn_medicine_pb_taurursodiol" not in ids
        taken = medicines.current_medicines(db, patient_id=world.patient_p_id, on=date(2026, 2, 27))
    assert {m.catalogue_id for m in taken} == {"riluzole", "pb_taurursodiol"}


# --- Stopping sharing with the clinic asks first; invitations can be cancelled -----------------------------


def _clinic_grant(app: FastAPI, world: World) -> int:
    with app.state.ctx.sessions() as db:
        return db.execute(
            select(ConsentGrant.id).where(
                ConsentGrant.patient_id == world.patient_p_id,
                ConsentGrant.grantee_clinic_id == world.clinic_a_id,
                ConsentGrant.revoked_at.is_(None),
            )
        ).scalar_one()


def test_stopping_sharing_with_the_clinic_asks_first(app: FastAPI, world: World) -> None:
    client = _client(app, world)
    grant_id = _clinic_grant(app, world)
    sharing = client.get(f"/patients/{world.patient_p_id}/sharing")
    assert f'href="/patients/{world.patient_p_id}/sharing/{grant_id}/revoke"' in sharing.text
    # A POST without the confirmation (a stale form, say) leads to the question, and stops nothing.
    unconfirmed = client.post(
        f"/patients/{world.patient_p_id}/sharing/{grant_id}/revoke", data={"csrf_token": csrf_of(client)}
    )
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/patients/{world.patient_p_id}/sharing/{grant_id}/revoke"
    assert _clinic_grant(app, world) == grant_id

    confirm = client.get(unconfirmed.headers["location"])
    assert "Stop sharing with Clinic Alpha?" in confirm.text
    assert "stop getting alerts" in confirm.text and "messages" in confirm.text
    assert 'name="confirm" value="yes"' in confirm.text and not re.search(
        r"<script(?![^>]*\ssrc=\"/static/)", confirm.text
    )
    done = client.post(
        f"/patients/{world.patient_p_id}/sharing/{grant_id}/revoke",
        data={"csrf_token": csrf_of(client), "confirm": "yes"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=revoked")
    with app.state.ctx.sessions() as db:
        assert db.get(ConsentGrant, grant_id).revoked_at is not None  # type: ignore[union-attr]


def test_a_pending_invitation_can_be_cancelled(app: FastAPI, world: World) -> None:
    client = _client(app, world)
    sent = client.post(
        "/invitations", data={"csrf_token": csrf_of(client), "email": "new.carer@example.org", "scopes": "medicines"}
    )
    assert sent.status_code == 200
    assert "/invite/" not in sent.text, "the invitation link travels only by email (issue 14, finding 1)"
    token = newest_link_to(client, "new.carer@example.org").rsplit("/", 1)[-1]
    with app.state.ctx.sessions() as db:
        invitation_id = db.execute(
            select(Invitation.id).where(Invitation.email == "new.carer@example.org")
        ).scalar_one()
    sharing = client.get(f"/patients/{world.patient_p_id}/sharing")
    assert "new.carer@example.org" in sharing.text and "Cancel invitation" in sharing.text

    # Someone else cannot cancel it, and is not told it exists.
    other = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    refused = other.post(f"/invitations/{invitation_id}/cancel", data={"csrf_token": csrf_of(other)})
    assert refused.status_code == 404

    cancelled = client.post(
        f"/invitations/{invitation_id}/cancel", data={"csrf_token": csrf_of(client), "back": "sharing"}
    )
    assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("done=cancelled")
    assert "new.carer@example.org" not in client.get(f"/patients/{world.patient_p_id}/sharing").text
    assert "Cancelled" in client.get("/invitations").text
    anonymous = signed_in_client(app, None)
    link = anonymous.get(f"/invite/{token}")
    assert "not valid any more" in link.text
    with app.state.ctx.sessions() as db:
        assert db.execute(select(User).where(User.email == "new.carer@example.org")).first() is None

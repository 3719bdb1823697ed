"""The stepped check-in (issue 7, item 1): emergency signs first and sent at once; short steps saved as a draft;
"nothing has changed" per step and for the whole check-in; numbers with ranges and examples; a step posted
after the session ended keeps what was typed for the same person. Built on the shared world (world.py): P
shares the full record with clinic A, so P's emergency check-ins alert clinic A."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import csrf_from, hidden, rows
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from world import CAREGIVER_GRANTED, OWN, World, build_world, freeze_clock, signed_in_client

from alscare.actions.checkin_steps import STEP_IDS
from alscare.storage.models import Alert, CheckIn, WebSession
from alscare.storage.models.checkin_steps import CheckInDraft


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def base(world: World) -> str:
    return f"/patients/{world.patient_p_id}/check-in/steps"


def open_steps(client: TestClient, world: World) -> tuple[str, str, str]:
    """The first page of a check-in: (html, csrf, client_id)."""
    page = client.get(base(world), follow_redirects=True)
    assert page.status_code == 200, page.text
    return page.text, csrf_from(page.text), hidden(page.text, "client_id")


def sent_with(engine: Engine, cid: str) -> list[CheckIn]:
    """The check-ins stored for this form (the shared world already holds one of P's)."""
    return rows(engine, CheckIn, CheckIn.client_id == cid)


def post(client: TestClient, world: World, step: str, csrf: str, cid: str, **fields: Any) -> Any:
    return client.post(f"{base(world)}/{step}", data={"csrf_token": csrf, "client_id": cid, **fields})


def test_nav_check_in_leads_to_the_steps_with_emergency_signs_alone_first(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    assert client.get("/check-in").headers["location"] == base(world)
    html, _csrf, cid = open_steps(client, world)
    assert "Right now, do you have any of these?" in html
    # Only the seven emergency signs are asked here, each a labelled box, then the Send button.
    boxes = re.findall(r'type="checkbox" id="([a-z_]+)"', html)
    assert boxes == [
        "breathing_sudden_trouble",
        "choking_not_clearing",
        "blue_lips",
        "confused_or_drowsy",
        "ventilator_problem",
        "chest_pain_severe",
        "breathless_at_rest",
    ]
    assert html.index('value="next">Send</button>') > html.index('id="breathless_at_rest"')
    assert 'href="#answers">Skip to the answers</a>' in html
    assert 'src="/static/alscare.js"' in html and "style=" not in html
    assert f'href="/patients/{world.patient_p_id}/check-in"' in html  # the one-page form is still there
    assert cid


def test_an_emergency_sign_is_sent_at_once_stored_once_and_alerted(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    first = post(client, world, "now", csrf, cid, breathing_sudden_trouble="yes", go="next")
    assert first.status_code == 303 and re.fullmatch(r"/patients/\d+/check-ins/\d+", first.headers["location"])
    screen = client.get(first.headers["location"])
    assert "Call the emergency number now" in screen.text
    again = post(client, world, "now", csrf, cid, breathing_sudden_trouble="yes", go="next")  # a retry
    assert again.headers["location"] == first.headers["location"]
    (row,) = sent_with(engine, cid)
    assert (row.tier, row.answers["breathing_sudden_trouble"]) == ("emergency", True)
    assert [
        a.severity
        for a in rows(engine, Alert, Alert.source == "check_in", Alert.source_id == str(row.id))
        if a.severity == "emergency"
    ] == ["emergency"]
    (draft,) = rows(engine, CheckInDraft)
    assert draft.sent_check_in_id == row.id


def test_each_step_is_saved_and_resumed_then_sent_once(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    r = post(client, world, "now", csrf, cid, go="next")
    assert r.headers["location"] == f"{base(world)}/breathing"
    post(client, world, "breathing", csrf, cid, orthopnea="yes", go="next")
    post(client, world, "eating", csrf, cid, weight_kg="71,5", go="next")
    # Leaving and coming back: straight to the step reached, with the answers kept.
    assert client.get(base(world)).headers["location"] == f"{base(world)}/infection"
    back = client.get(f"{base(world)}/eating")
    assert 'value="71.5"' in back.text
    for step in STEP_IDS[3:-1]:
        assert post(client, world, step, csrf, cid, go="skip").status_code == 303
    sent = post(client, world, "question", csrf, cid, question="Can I drive?", go="next")
    assert re.fullmatch(r"/patients/\d+/check-ins/\d+", sent.headers["location"])
    (row,) = sent_with(engine, cid)
    assert (row.answers["orthopnea"], row.answers["morning_headache"], row.weight_kg) == (True, False, 71.5)
    assert row.question == "Can I drive?" and "fever" not in row.answers  # a skipped step stays unanswered
    post(client, world, "question", csrf, cid, question="Can I drive?", go="next")
    assert len(sent_with(engine, cid)) == 1


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("weight_kg", "abc", "Weight today (kg): enter a number from 20 to 300 kg, for example 68.5."),
        ("weight_kg", "0.5", "Weight today (kg): enter a number from 20 to 300 kg, for example 68.5."),
        ("usual_weight_kg", "301", "Usual weight (kg): enter a number from 20 to 300 kg, for example 72."),
    ],
)
def test_a_weight_out_of_range_names_the_field_gives_an_example_and_changes_nothing(
    app: FastAPI, world: World, engine: Engine, field: str, typed: str, message: str
) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    post(client, world, "now", csrf, cid, go="next")
    refused = post(client, world, "eating", csrf, cid, drooling="yes", go="next", **{field: typed})
    assert refused.status_code == 422
    assert message in refused.text and f'value="{typed}"' in refused.text
    (draft,) = rows(engine, CheckInDraft)
    assert (draft.step, "drooling" in draft.answers) == ("breathing", False)


def test_a_breathing_measurement_out_of_range_names_the_field(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    post(client, world, "now", csrf, cid, go="next")
    refused = post(client, world, "measurements", csrf, cid, spo2_percent="120", go="next")
    assert "Oxygen level: SpO₂ (%): enter a number from 50 to 100 %, for example 96." in refused.text


def test_nothing_has_changed_copies_last_time_but_never_emergency_signs_or_numbers(
    app: FastAPI, world: World, engine: Engine
) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    post(client, world, "now", csrf, cid, go="next")
    post(client, world, "breathing", csrf, cid, daytime_sleepiness="yes", go="next")
    post(client, world, "eating", csrf, cid, weight_kg="70", go="next")
    post(client, world, "infection", csrf, cid, go="next")
    post(client, world, "mood", csrf, cid, go="next")
    post(client, world, "other", csrf, cid, cramps="yes", go="same_rest")
    first = sent_with(engine, cid)
    assert len(first) == 1 and first[0].answers["cramps"] is True
    # The next check-in: one press on the first step for "none of these, and nothing else has changed".
    _html, csrf, cid2 = open_steps(client, world)
    assert "None of these, and nothing else has changed: send" in _html
    sent = post(client, world, "now", csrf, cid2, go="same_rest")
    assert sent.status_code == 303
    (second,) = sent_with(engine, cid2)
    assert second.answers["daytime_sleepiness"] is True and second.answers["cramps"] is True
    assert second.answers["breathing_sudden_trouble"] is False  # answered afresh: "none of these"
    assert second.weight_kg is None  # a number is never copied
    # Per step: "nothing has changed" copies that step and keeps anything newly ticked.
    _html, csrf, cid3 = open_steps(client, world)
    post(client, world, "now", csrf, cid3, go="next")
    post(client, world, "breathing", csrf, cid3, orthopnea="yes", go="same")
    (draft,) = [d for d in rows(engine, CheckInDraft) if d.client_id == cid3]
    assert (draft.answers["daytime_sleepiness"], draft.answers["orthopnea"]) == (True, True)


def test_breathless_at_rest_on_the_first_screen_is_sent_at_once(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    r = post(client, world, "now", csrf, cid, breathless_at_rest="yes", go="next")
    assert re.fullmatch(r"/patients/\d+/check-ins/\d+", r.headers["location"])
    (row,) = sent_with(engine, cid)
    assert row.tier == "contact_team"
    assert "Contact your care team today" in client.get(r.headers["location"]).text


def test_an_emergency_sign_on_a_later_step_is_sent_at_once(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    post(client, world, "now", csrf, cid, go="next")
    r = post(client, world, "mood", csrf, cid, self_harm_thoughts="yes", go="next")
    assert re.fullmatch(r"/patients/\d+/check-ins/\d+", r.headers["location"])
    (row,) = sent_with(engine, cid)
    assert row.tier == "emergency"


def test_a_step_sent_after_the_session_ended_is_kept_for_the_same_person(
    app: FastAPI, world: World, engine: Engine, db: Session
) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    post(client, world, "now", csrf, cid, go="next")
    post(client, world, "breathing", csrf, cid, orthopnea="yes", go="next")
    with Session(engine) as s:
        s.execute(update(WebSession).values(expires_at=app.state.ctx.clock() - timedelta(minutes=1)))
        s.commit()
    late = post(client, world, "eating", csrf, cid, drooling="yes", weight_kg="69", go="next")
    assert late.status_code == 303 and late.headers["location"] == f"/signin?next={base(world)}"
    assert sent_with(engine, cid) == []
    # Signing in again: back on the step, with what was typed.
    again = signed_in_client(app, world.users[OWN])
    assert again.get(base(world)).headers["location"] == f"{base(world)}/eating"
    page = again.get(f"{base(world)}/eating")
    assert 'value="69"' in page.text and re.search(r'id="drooling" name="drooling" value="yes" checked', page.text)
    assert re.search(r'id="orthopnea"', page.text) is None  # another step's box is not on this step


def test_an_emergency_sign_sent_after_the_session_ended_still_shows_what_to_do(
    app: FastAPI, world: World, engine: Engine
) -> None:
    client = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(client, world)
    with Session(engine) as s:
        s.execute(update(WebSession).values(expires_at=app.state.ctx.clock() - timedelta(minutes=1)))
        s.commit()
    late = post(client, world, "now", csrf, cid, blue_lips="yes", go="next")
    assert late.status_code == 200
    assert "Call the emergency number now (not saved)" in late.text
    assert "not been alerted" in late.text


def test_a_draft_is_its_authors_own(app: FastAPI, world: World, engine: Engine) -> None:
    person = signed_in_client(app, world.users[OWN])
    _html, csrf, cid = open_steps(person, world)
    post(person, world, "now", csrf, cid, go="next")
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED])
    page = carer.get(base(world))
    assert page.status_code == 200 and hidden(page.text, "client_id") != cid  # a fresh check-in of their own
    taken = post(carer, world, "breathing", csrf_from(page.text), cid, orthopnea="yes", go="next")
    assert taken.status_code == 422 and "This form has expired" in taken.text
    (draft,) = rows(engine, CheckInDraft)
    assert "orthopnea" not in draft.answers

"""ALSFRS-R over HTTP, on both databases: the self-report one question per screen, and the clinician's form.

The world (see world.py): P has three assessments, the newest on 2 February 2026 with total 39 (bulbar 9,
fine motor 9, gross motor 9, breathing 12). Caregiver G holds P's check-ins; clinician A's clinic holds P's
full record.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, count, rows
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from world import CAREGIVER_GRANTED, CLINICIAN_GRANTED_CLINIC, NOW, OWN, World, build_world, csrf_of, signed_in_client

from alscare.actions import assessments
from alscare.actions.assessments import record_alsfrs_assessment
from alscare.clinical.alsfrs_r import item
from alscare.storage.models import AlsfrsAssessment, AlsfrsDraft, User

# Question number -> answer, one per screen. Total 4+3+2+4+3+4+2+3+3+4+4+4 = 40.
ANSWERS = {1: 4, 2: 3, 3: 2, 4: 4, 5: 3, 6: 4, 7: 2, 8: 3, 9: 3, 10: 4, 11: 4, 12: 4}


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    return clock


@pytest.fixture
def world(app: FastAPI, db: Session, clock: Clock) -> World:
    return build_world(db)


def _as(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def _post(client: TestClient, url: str, **data: Any) -> httpx.Response:
    return client.post(url, data={**data, "csrf_token": csrf_of(client)})


def _start(client: TestClient, patient_id: int, *, mode: str, tube: str) -> str:
    """Fill in the start screen; return the draft's base URL."""
    page = client.get(f"/patients/{patient_id}/alsfrs-r/new")
    assert page.status_code == 200, page.text
    client_id = re.search(r'name="client_id" value="([^"]+)"', page.text)
    assert client_id
    r = _post(
        client,
        f"/patients/{patient_id}/alsfrs-r/new",
        administration_mode=mode,
        gastrostomy=tube,
        client_id=client_id.group(1),
    )
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.endswith("/items/1"), location
    return location.removesuffix("/items/1")


def _answer(client: TestClient, draft: str, n: int, answer: int | str | None, go: str = "next", **extra: str) -> str:
    data: dict[str, Any] = {"go": go, **extra}
    if answer is not None:
        data["answer"] = str(answer)
    r = _post(client, f"{draft}/items/{n}", **data)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def _checked(html: str) -> str | None:
    """The answer that is checked on a question screen, if any."""
    found = re.findall(r'name="answer" value="(\d)" checked', html)
    assert len(found) <= 1
    return found[0] if found else None


def _draft_row(engine: Engine) -> AlsfrsDraft:
    [draft] = rows(engine, AlsfrsDraft)
    return draft


def test_full_wizard_back_and_forward_keeps_answers_and_stores_once(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    p = world.patient_p_id
    start = client.get(f"/patients/{p}/alsfrs-r/new")
    # The person themself: self-report is the default.
    assert 'value="self_report" checked' in start.text
    draft = _start(client, p, mode="self_report", tube="no")

    # One question per screen: the question as the legend's heading, five large options, progress shown.
    first = client.get(f"{draft}/items/1")
    assert first.status_code == 200
    assert f'<legend><h1 id="question" tabindex="-1" data-focus-first>{item("1").question}</h1></legend>' in first.text
    assert first.text.count('class="answer-option"') == 5
    assert '<label for="alsfrs-progress">Question 1 of 12</label>' in first.text
    assert '<progress id="alsfrs-progress" max="12" value="1">' in first.text
    assert _checked(first.text) is None

    assert _answer(client, draft, 1, ANSWERS[1]).endswith("/items/2")
    assert _answer(client, draft, 2, ANSWERS[2]).endswith("/items/3")
    # Back from question 3 with an answer given: it is saved, and going back loses nothing.
    assert _answer(client, draft, 3, ANSWERS[3], go="back").endswith("/items/2")
    assert _checked(client.get(f"{draft}/items/2").text) == str(ANSWERS[2])
    assert _answer(client, draft, 2, None, go="back").endswith("/items/1")
    assert _checked(client.get(f"{draft}/items/1").text) == str(ANSWERS[1])
    # Back from question 1 leads to the start questions, with the answers already given kept.
    assert _answer(client, draft, 1, None, go="back").endswith("/setup")
    setup = client.get(f"{draft}/setup")
    assert 'value="no" checked' in setup.text
    assert _checked(client.get(f"{draft}/items/3").text) == str(ANSWERS[3])
    assert _draft_row(engine).answers == {"1": 4, "2": 3, "3": 2}

    # Forward again, each answer saved at once. Without a feeding tube, question 5 is 5a.
    assert item("5a").question in client.get(f"{draft}/items/5").text
    for n in range(3, 12):
        assert _answer(client, draft, n, ANSWERS[n]).endswith(f"/items/{n + 1}")
    assert _answer(client, draft, 12, ANSWERS[12]).endswith("/review")
    assert set(_draft_row(engine).answers) == {"1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12"}

    review = client.get(f"{draft}/review")
    assert review.status_code == 200
    assert item("7").options[2].label in review.text  # question 7 answered 2
    assert f'href="{draft}/items/7?return=review"' in review.text
    # Change one answer from the review, and come straight back to it.
    change = client.get(f"{draft}/items/7?return=review")
    assert 'name="return" value="review"' in change.text
    assert _answer(client, draft, 7, 1, **{"return": "review"}).endswith("/review")
    assert item("7").options[3].label in client.get(f"{draft}/review").text

    before = count(engine, AlsfrsAssessment, AlsfrsAssessment.patient_id == p)
    first_submit = _post(client, f"{draft}/submit")
    assert first_submit.status_code == 303 and first_submit.headers["location"] == f"{draft}/done"
    # A double submit (or a retry after a lost answer) stores nothing more.
    again = _post(client, f"{draft}/submit")
    assert again.status_code == 303 and again.headers["location"] == f"{draft}/done"
    assert count(engine, AlsfrsAssessment, AlsfrsAssessment.patient_id == p) == before + 1
    stored = rows(engine, AlsfrsAssessment, AlsfrsAssessment.client_id == _draft_row(engine).client_id)
    assert len(stored) == 1
    assert stored[0].total == 39  # 40, with question 7 changed from 2 to 1
    assert stored[0].administration_mode == "self_report"
    assert stored[0].assessed_on == NOW.date()
    assert _draft_row(engine).submitted_assessment_id == stored[0].id

    done = client.get(f"{draft}/done")
    assert done.status_code == 200
    assert "<strong>39</strong> out of 48" in done.text
    assert "Speech, saliva and swallowing" in done.text and "Breathing" in done.text
    assert "Last time, on 2 February 2026, the total was 39." in done.text
    assert "Today is the same." in done.text
    # The sent draft cannot be answered again: its screens lead to the result.
    assert client.get(f"{draft}/items/1").headers["location"] == f"{draft}/done"
    assert _answer(client, draft, 1, 0).endswith("/done")
    assert rows(engine, AlsfrsAssessment, AlsfrsAssessment.id == stored[0].id)[0].answers["1"] == 4


def test_leaving_and_coming_back_offers_to_continue(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    p = world.patient_p_id
    draft = _start(client, p, mode="self_report", tube="no")
    for n in (1, 2, 3):
        _answer(client, draft, n, ANSWERS[n])

    back = client.get(f"/patients/{p}/alsfrs-r/new")
    assert "Continue where you left off" in back.text
    assert "3 of 12 questions answered" in back.text
    assert f'href="{draft}/items/4"' in back.text
    assert client.get(f"{draft}/items/4").status_code == 200
    # Someone else with access to P's check-ins is not offered P's draft, and cannot open it.
    caregiver = _as(app, world, CAREGIVER_GRANTED)
    assert "Continue where you left off" not in caregiver.get(f"/patients/{p}/alsfrs-r/new").text
    assert caregiver.get(f"{draft}/items/4").headers["location"] == f"/patients/{p}/alsfrs-r/new"
    assert _answer(caregiver, draft, 4, 0) == f"/patients/{p}/alsfrs-r/new"
    assert "4" not in _draft_row(engine).answers


def test_posting_the_start_screen_twice_makes_one_draft(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    p = world.patient_p_id
    form = {
        "administration_mode": "self_report",
        "gastrostomy": "no",
        "client_id": "5d0c9b2e-8f1a-4c1e-9a53-0e7d7f3b2a11",
    }
    first = _post(client, f"/patients/{p}/alsfrs-r/new", **form)
    second = _post(client, f"/patients/{p}/alsfrs-r/new", **form)
    assert first.headers["location"] == second.headers["location"]
    assert count(engine, AlsfrsDraft) == 1


def test_feeding_tube_asks_5b_and_a_caregiver_answers_as_caregiver(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, CAREGIVER_GRANTED)
    p = world.patient_p_id
    start = client.get(f"/patients/{p}/alsfrs-r/new")
    assert 'value="caregiver" checked' in start.text  # someone answering for the person
    assert "Does Paula PPLEAKMARKER have a feeding tube (gastrostomy)?" in start.text
    draft = _start(client, p, mode="caregiver", tube="yes")
    fifth = client.get(f"{draft}/items/5")
    assert item("5b").question in fifth.text
    assert item("5a").question not in fifth.text
    for n in range(1, 13):
        _answer(client, draft, n, ANSWERS[n])
    assert _post(client, f"{draft}/submit").status_code == 303
    [stored] = rows(engine, AlsfrsAssessment, AlsfrsAssessment.client_id == _draft_row(engine).client_id)
    assert "5b" in stored.answers and "5a" not in stored.answers
    assert stored.answers["5b"] == ANSWERS[5]
    assert stored.administration_mode == "caregiver"
    assert stored.recorded_by_id == world.users[CAREGIVER_GRANTED]


def test_changing_the_feeding_tube_answer_drops_only_question_5(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    draft = _start(client, world.patient_p_id, mode="self_report", tube="no")
    for n in range(1, 7):
        _answer(client, draft, n, ANSWERS[n])
    r = _post(client, f"{draft}/setup", administration_mode="self_report", gastrostomy="yes", **{"return": "review"})
    assert r.headers["location"] == f"{draft}/review"
    assert set(_draft_row(engine).answers) == {"1", "2", "3", "4", "6"}
    assert item("5b").question in client.get(f"{draft}/items/5").text


@pytest.mark.parametrize("crafted", ["7", "-1", "abc", "3.0"])
def test_an_answer_out_of_range_is_refused_naming_the_item(
    app: FastAPI, engine: Engine, world: World, crafted: str
) -> None:
    client = _as(app, world, OWN)
    draft = _start(client, world.patient_p_id, mode="self_report", tube="no")
    r = _post(client, f"{draft}/items/7", answer=crafted, go="next")
    assert r.status_code == 422
    assert "Question 7 (Turning in bed)" in r.text
    assert '<a href="#answer">' in r.text and 'id="answer-error"' in r.text
    assert _draft_row(engine).answers == {}
    # Nothing is stored on submit either: the draft is not complete.
    refused = _post(client, f"{draft}/submit")
    assert refused.status_code == 422
    assert "Question 1 (Speech) has no answer yet." in refused.text
    assert count(engine, AlsfrsAssessment, AlsfrsAssessment.client_id.is_not(None)) == 0


def test_next_without_an_answer_asks_for_one(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    draft = _start(client, world.patient_p_id, mode="self_report", tube="no")
    r = _post(client, f"{draft}/items/1", go="next")
    assert r.status_code == 422
    assert "Question 1 (Speech): choose the answer that fits best" in r.text
    # Back without an answer is fine.
    assert _answer(client, draft, 2, None, go="back").endswith("/items/1")


def test_start_screen_names_what_is_missing(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, OWN)
    r = _post(client, f"/patients/{world.patient_p_id}/alsfrs-r/new", administration_mode="clinician_phone")
    assert r.status_code == 422
    assert '<a href="#administration_mode">' in r.text and '<a href="#gastrostomy">' in r.text
    assert count(engine, AlsfrsDraft) == 0


# --- Clinician-scored --------------------------------------------------------------------------------------

CLINIC_ITEMS = {"1": 3, "2": 3, "3": 3, "4": 2, "5a": 2, "6": 2, "7": 3, "8": 2, "9": 1, "10": 4, "11": 3, "12": 4}


def _clinic_form(**changes: str) -> dict[str, str]:
    form = {
        "client_id": "a3c2f7d0-1b9e-4c55-8e0f-2d6b7a9c4e13",
        "assessed_on": "2026-02-27",
        "administration_mode": "clinician_phone",
        **{f"item_{k}": str(v) for k, v in CLINIC_ITEMS.items()},
    }
    form.update(changes)
    return form


def test_clinician_scores_all_items_on_one_page_stored_once(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    p = world.patient_p_id
    page = client.get(f"/patients/{p}/alsfrs-r/clinic")
    assert page.status_code == 200
    assert re.search(r'name="client_id" value="[0-9a-f-]{36}"', page.text)
    for item_id in ("1", "5a", "5b", "12"):
        assert f'name="item_{item_id}"' in page.text
    before = count(engine, AlsfrsAssessment, AlsfrsAssessment.patient_id == p)

    first = _post(client, f"/patients/{p}/alsfrs-r/clinic", **_clinic_form())
    assert first.status_code == 303, first.text
    retry = _post(client, f"/patients/{p}/alsfrs-r/clinic", **_clinic_form())
    assert retry.headers["location"] == first.headers["location"]
    assert count(engine, AlsfrsAssessment, AlsfrsAssessment.patient_id == p) == before + 1
    [stored] = rows(engine, AlsfrsAssessment, AlsfrsAssessment.client_id == _clinic_form()["client_id"])
    assert stored.total == 32
    assert stored.administration_mode == "clinician_phone"
    assert stored.recorded_by_id == world.users[CLINICIAN_GRANTED_CLINIC]

    saved = client.get(first.headers["location"])
    assert "Saved: total 32 of 48 on 27 February 2026 (before: 39 on 2 February 2026)" in saved.text


def test_clinician_form_errors_name_every_item_and_store_nothing(app: FastAPI, engine: Engine, world: World) -> None:
    client = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    p = world.patient_p_id
    before = count(engine, AlsfrsAssessment)
    form = _clinic_form(item_7="7", item_3="", item_5b="2", administration_mode="self_report")
    r = _post(client, f"/patients/{p}/alsfrs-r/clinic", **form)
    assert r.status_code == 422
    for field in ("item_7", "item_3", "item_5b", "administration_mode"):
        assert f'<a href="#{field}">' in r.text, field
    assert "Question 7 (Turning in bed)" in r.text
    assert "Question 3 (Swallowing): choose an answer." in r.text
    assert "answer 5a or 5b, not both" in r.text
    # What was chosen is kept, with the same form id so a corrected submit is still stored once.
    assert 'value="a3c2f7d0-1b9e-4c55-8e0f-2d6b7a9c4e13"' in r.text
    future = _post(client, f"/patients/{p}/alsfrs-r/clinic", **_clinic_form(assessed_on="2026-03-05"))
    assert future.status_code == 422 and '<a href="#assessed_on">' in future.text
    assert count(engine, AlsfrsAssessment) == before


def test_a_concurrent_duplicate_turns_into_a_read(
    engine: Engine, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert runs in a savepoint: when another submit of the same form stored its row first (here: the
    look-up before the insert is made to miss it), the unique constraint turns the insert into a read."""
    patient = db.get(User, world.users[OWN])
    assert patient is not None
    kwargs: dict[str, Any] = {
        "actor": patient,
        "patient_id": world.patient_p_id,
        "answers": CLINIC_ITEMS,
        "assessed_on": NOW.date(),
        "administration_mode": "self_report",
        "now": NOW,
        "client_id": "c0ffee00-0000-4000-8000-000000000001",
    }
    first = record_alsfrs_assessment(db, **kwargs)
    db.commit()
    real = assessments._by_client_id
    calls: list[str] = []

    def miss_the_first_time(db: Session, **kw: Any) -> AlsfrsAssessment | None:
        calls.append(kw["client_id"])
        return None if len(calls) == 1 else real(db, **kw)

    monkeypatch.setattr(assessments, "_by_client_id", miss_the_first_time)
    second = record_alsfrs_assessment(db, **kwargs)
    db.commit()
    assert second.id == first.id
    assert len(calls) == 2  # the missed look-up, then the read after the refused insert
    assert count(engine, AlsfrsAssessment, AlsfrsAssessment.client_id == kwargs["client_id"]) == 1

"""Issue 7, item 6: the carer as a user. A weekly check on how the carer is coping (our own questions), which
suggests support; when the carer says they cannot cope, the care team is told only if the carer says yes."""

from __future__ import annotations

import html

import pytest
import textstat
from fastapi import FastAPI
from sqlalchemy import select
from world import (
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    OWN,
    World,
    csrf_of,
    signed_in_client,
    world_once_per_database,
)

from alscare.clinical import carer_check as core
from alscare.storage.models import Alert, Patient
from alscare.storage.models.access import CarerCheck

_world_database, _world, _module_app, conn, app, world = world_once_per_database("carer-check")

STRUGGLING = {"sleep": "3", "strain": "3", "support": "2", "own_time": "3", "coping": "3"}
FINE = {"sleep": "0", "strain": "1", "support": "0", "own_time": "1", "coping": "0"}


def _send(client: object, answers: dict[str, str]) -> object:
    return client.post("/carer-check", data={"csrf_token": csrf_of(client), **answers})  # type: ignore[attr-defined]


def _alerts(app: FastAPI) -> list[Alert]:
    with app.state.ctx.sessions() as db:
        return list(db.execute(select(Alert).where(Alert.source == "carer_check")).scalars())


def test_a_carer_who_is_managing_gets_no_alarm_and_nothing_is_sent(app: FastAPI, world: World) -> None:
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED])
    assert 'href="/carer-check"' in carer.get("/home").text
    form = carer.get("/carer-check").text
    for q in core.QUESTIONS:
        assert html.escape(core.wording()["questions"][q]["text"], quote=False) in form
    r = _send(carer, FINE)
    assert (r.status_code, r.headers["location"]) == (303, "/carer-check/result")  # type: ignore[attr-defined]
    page = html.unescape(carer.get("/carer-check/result").text)
    assert "It sounds like you are managing." in page
    assert "Do you want the care team to know?" not in page
    assert _alerts(app) == []


def test_struggling_suggests_support_and_tells_the_team_only_after_a_yes(app: FastAPI, world: World) -> None:
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED])
    _send(carer, STRUGGLING)
    page = html.unescape(carer.get("/carer-check/result").text)
    assert "carer's assessment" in page and "respite care" in page and "/learn/where-to-find-help" in page
    assert "If you feel you might harm yourself or someone else, call" in page
    assert "Do you want the care team to know?" in page and "Yes, tell the care team" in page
    assert _alerts(app) == [], "nothing is sent before the carer says yes"

    with app.state.ctx.sessions() as db:
        check = db.execute(select(CarerCheck)).scalar_one()
    # "No, not now": still nothing sent.
    declined = carer.post("/carer-check/tell", data={"csrf_token": csrf_of(carer), "tell": "no", "check_id": check.id,
                                                       "patient_id": world.patient_p_id})  # fmt: skip
    assert declined.headers["location"] == "/carer-check/result?declined=1"
    assert _alerts(app) == []

    told = carer.post("/carer-check/tell", data={"csrf_token": csrf_of(carer), "tell": "yes", "check_id": check.id,
                                                   "patient_id": world.patient_p_id})  # fmt: skip
    assert told.status_code == 303
    (alert,) = _alerts(app)
    assert (alert.severity, alert.patient_id, alert.clinic_id) == (
        "contact_team",
        world.patient_p_id,
        world.clinic_a_id,
    )
    assert alert.summary == "A carer says they cannot cope and has asked the care team to contact them."
    assert "3" not in alert.summary  # never the answers
    page = html.unescape(carer.get("/carer-check/result").text)
    assert "We have told the care team at" in page
    # The clinic sees the alert in its inbox and on its own page, with the plain summary and no answers.
    clinician = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
    assert alert.summary in html.unescape(clinician.get("/clinic/alerts").text)
    detail = clinician.get(f"/clinic/alerts/{alert.id}")
    assert detail.status_code == 200 and alert.summary in html.unescape(detail.text)
    # Telling again (a double press) raises nothing more.
    carer.post("/carer-check/tell", data={"csrf_token": csrf_of(carer), "tell": "yes", "check_id": check.id,
                                           "patient_id": world.patient_p_id})  # fmt: skip
    assert len(_alerts(app)) == 1


def test_one_check_per_week_and_answering_again_replaces_it(app: FastAPI, world: World) -> None:
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED])
    _send(carer, STRUGGLING)
    _send(carer, FINE)
    with app.state.ctx.sessions() as db:
        (row,) = db.execute(select(CarerCheck)).scalars()
        assert (row.coping, row.sleep, row.week_of.weekday()) == (0, 0, 0)
    assert 'value="0" checked' in carer.get("/carer-check").text  # the week's answers are kept on the form


def test_a_missing_answer_names_the_question_and_stores_nothing(app: FastAPI, world: World) -> None:
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED])
    r = _send(carer, {**FINE, "own_time": ""})
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "Did you get any time for yourself this week? Choose one answer." in html.unescape(r.text)  # type: ignore[attr-defined]
    assert 'href="#own_time"' in r.text  # type: ignore[attr-defined]
    with app.state.ctx.sessions() as db:
        assert db.execute(select(CarerCheck)).first() is None


def test_the_team_cannot_be_told_for_someone_else_or_without_cannot_cope(app: FastAPI, world: World) -> None:
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED])
    _send(carer, STRUGGLING)
    with app.state.ctx.sessions() as db:
        check = db.execute(select(CarerCheck)).scalar_one()
        q = db.get(Patient, world.patient_q_id)
        assert q is not None
    r = carer.post("/carer-check/tell", data={"csrf_token": csrf_of(carer), "tell": "yes", "check_id": check.id,
                                               "patient_id": world.patient_q_id})  # fmt: skip
    assert r.status_code == 404 and "ZZLEAKMARKER" not in r.text
    _send(carer, FINE)
    r = carer.post("/carer-check/tell", data={"csrf_token": csrf_of(carer), "tell": "yes", "check_id": check.id,
                                               "patient_id": world.patient_p_id})  # fmt: skip
    assert r.status_code == 422
    assert _alerts(app) == []


@pytest.mark.parametrize("who", [OWN])
def test_the_check_is_for_carers_only(app: FastAPI, world: World, who: str) -> None:
    assert signed_in_client(app, world.users[who]).get("/carer-check").status_code == 404


def test_the_questions_and_suggestions_are_plain() -> None:
    words = core.wording()
    texts = [words["questions"][q]["text"] for q in core.QUESTIONS]
    texts += [words["suggestions"][q]["text"] for q in core.QUESTIONS]
    texts += [v for v in words["page"].values()]
    for t in texts:
        assert textstat.flesch_kincaid_grade(t) <= 8.0, t
    for q in core.QUESTIONS:
        assert len(words["questions"][q]["options"]) == core.ANSWER_MAX + 1, q

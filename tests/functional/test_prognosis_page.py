"""The outlook (ENCALS) page and API: hidden from the person until they turn it on (page and API), shown to the
clinic under the prognosis scope with every input, its source and what is missing."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OWN,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.actions import consent
from alscare.clinical.prognosis import EncalsPredictors, linear_predictor, survival_probability
from alscare.storage.models import User


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    app.state.ctx.clock = Clock(NOW)
    built = build_world(db)
    r = signed_in_client(app, built.users[OWN]).post(
        f"/api/v1/patients/{built.patient_p_id}/check-ins", json={"client_id": str(uuid.uuid4()), "fvc_percent": 84}
    )
    assert r.status_code == 201, r.text
    return built


def _client(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def test_hidden_from_the_person_until_they_turn_it_on_on_page_and_api(app: FastAPI, world: World) -> None:
    me = _client(app, world, OWN)
    page = me.get(f"/patients/{world.patient_p_id}/prognosis")
    assert page.status_code == 200
    assert "Show me my outlook" in page.text and "Send your team a message" in page.text
    for hidden in ("ENCALS inputs", "FVC (% of predicted)", "Months from today", "in 100"):
        assert hidden not in page.text
    api = me.get(f"/api/v1/patients/{world.patient_p_id}/prognosis").json()
    assert api["shown"] is False and api["inputs"] == [] and api["conditional_survival"] == []
    assert api["median_months_from_onset"] is None

    r = me.post(f"/patients/{world.patient_p_id}/prognosis/choice", data={"csrf_token": csrf_of(me), "choice": "on"})
    assert r.status_code == 303
    page = me.get(f"/patients/{world.patient_p_id}/prognosis")
    assert "ENCALS inputs" in page.text and "in 100" in page.text and "not a promise" in page.text
    assert "Hide my outlook again" in page.text
    api = me.get(f"/api/v1/patients/{world.patient_p_id}/prognosis").json()
    assert api["shown"] is True and api["conditional_survival"]


def test_clinician_sees_inputs_sources_missing_and_the_conditional_curve(app: FastAPI, world: World) -> None:
    doctor = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    page = doctor.get(f"/patients/{world.patient_p_id}/prognosis")
    assert page.status_code == 200
    html = page.text
    assert "Inputs used and missing" in html and "<svg" in html and "S(t)/S(now)" in html
    assert "Made for use at diagnosis" in html and "not a promise" in html
    assert "Check-in of" in html and "92 %" in html  # FVC (the world's check-in) and where it came from
    assert "Profile: symptom onset and diagnosis" in html
    assert "Definite ALS by the El Escorial criteria" in html and "Not recorded in alscare yet" in html
    api = doctor.get(f"/api/v1/patients/{world.patient_p_id}/prognosis").json()
    assert api["shown"] is True
    assert set(api["missing"]) == {"definite_el_escorial", "ftd", "c9orf72"}
    by_name = {i["name"]: i for i in api["inputs"]}
    assert by_name["fvc_percent"]["value"] == "92 %" and by_name["bulbar_onset"]["value"] == "Yes"
    first = api["conditional_survival"][0]
    assert first["months_ahead"] == 6 and 0 < first["lower"] <= first["higher"] < 1


def test_conditional_curve_is_s_t_over_s_now(app: FastAPI, world: World) -> None:
    doctor = _client(app, world, CLINICIAN_GRANTED_CLINIC)
    api = doctor.get(f"/api/v1/patients/{world.patient_p_id}/prognosis").json()
    values = {i["name"]: i for i in api["inputs"]}
    assert values["age_at_onset"]["value"] is not None
    months_now = api["months_since_onset"]
    # Recompute the higher estimate (unrecorded flags absent) from the core, from the same inputs.
    from alscare.actions.prognosis_view import gather_inputs
    from alscare.storage.models import Patient

    with app.state.ctx.sessions() as db:
        patient = db.get(Patient, world.patient_p_id)
        assert patient is not None
        _, found = gather_inputs(db, patient)
    lp = linear_predictor(
        EncalsPredictors.from_mapping({**found, "definite_el_escorial": False, "ftd": False, "c9orf72": False})
    )
    twelve = next(p for p in api["conditional_survival"] if p["months_ahead"] == 12)
    expected = survival_probability(lp, months_now + 12) / survival_probability(lp, months_now)
    assert twelve["higher"] == pytest.approx(expected)


def test_family_without_the_prognosis_scope_cannot_see_it(app: FastAPI, world: World, db: Session) -> None:
    # Caregiver N holds check-ins only (caregiver G of the world also holds the spare prognosis grant).
    owner = db.get(User, world.users[OWN])
    assert owner is not None
    consent.grant_access(
        db,
        actor=owner,
        patient_id=world.patient_p_id,
        scope="checkins",
        now=NOW,
        grantee_user_id=world.users[CAREGIVER_NOT_GRANTED],
    )
    db.commit()
    carer = _client(app, world, CAREGIVER_NOT_GRANTED)
    assert carer.get(f"/patients/{world.patient_p_id}/timeline").status_code == 200
    assert carer.get(f"/patients/{world.patient_p_id}/prognosis").status_code == 404
    assert carer.get(f"/api/v1/patients/{world.patient_p_id}/prognosis").status_code == 404

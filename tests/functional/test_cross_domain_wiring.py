"""Where the domains meet: prompts read the care-wishes discussion and the medicine list, the visit summary
shows medicines and care wishes to those who may see them, the timeline draws the forecast band for the clinic
(and for the person only once they chose to see their outlook), the clinic table has the forecast's "expected to
cross" columns, and a prompt alert links the clinic to the article to share.

Built on the shared world (world.py): P (riluzole since 15 Jan 2026, care wishes version 1, three ALSFRS-R
scores) shares the full record with clinic A; caregiver G has only check-ins.
"""

from __future__ import annotations

import csv
import html
import io
import subprocess
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OWN,
    World,
    build_world,
    freeze_clock,
    signed_in_client,
)

from alscare.actions import care_wishes as care_wishes_actions
from alscare.actions.checkins import record_check_in
from alscare.actions.forecast import CROSSING_COLUMNS
from alscare.actions.medicines import add_medicine
from alscare.actions.prompts import ALERT_SOURCE, current_prompts, refresh_prompts
from alscare.storage.models import Alert, Patient, User


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def _prompt_ids(db: Session, world: World) -> set[str]:
    patient = db.get(Patient, world.patient_p_id)
    assert patient is not None
    return {p.id for p in current_prompts(db, patient=patient, today=NOW.date())}


def test_a_care_wishes_discussion_silences_the_discussion_prompt(db: Session, world: World) -> None:
    p_user = db.get(User, world.users[OWN])
    assert p_user is not None
    # Orthopnoea makes the NIV prompt fire, and with it the care-wishes discussion (never marked discussed).
    record_check_in(
        db,
        actor=p_user,
        patient_id=world.patient_p_id,
        client_id="0b7e2c1d-4f5a-4b6c-9d8e-7f6a5b4c3d2e",
        data={"orthopnea": True},
        now=NOW,
    )
    db.commit()
    assert {"niv_orthopnoea", "care_wishes_discussion"} <= _prompt_ids(db, world)
    care_wishes_actions.mark_discussed(
        db,
        actor=p_user,
        patient_id=world.patient_p_id,
        number=1,
        discussed_on=NOW.date() - timedelta(days=3),
        with_kind="family",
        with_name=None,
        now=NOW,
    )
    db.commit()
    assert care_wishes_actions.discussed_on(db, patient_id=world.patient_p_id) == NOW.date() - timedelta(days=3)
    found = _prompt_ids(db, world)
    assert "niv_orthopnoea" in found and "care_wishes_discussion" not in found


def test_the_medicine_list_raises_its_prompts_once(db: Session, world: World) -> None:
    p_user = db.get(User, world.users[OWN])
    assert p_user is not None
    add_medicine(
        db,
        actor=p_user,
        patient_id=world.patient_p_id,
        now=NOW,
        catalogue_id="pb_taurursodiol",
        started_on=date(2025, 6, 1),
    )
    db.commit()
    assert "withdrawn_medicine_pb_taurursodiol" in _prompt_ids(db, world)
    first = refresh_prompts(db, patient_id=world.patient_p_id, now=NOW)
    db.commit()
    assert "withdrawn_medicine_pb_taurursodiol" in {a.source_id.split(":")[1] for a in first}
    again = refresh_prompts(db, patient_id=world.patient_p_id, now=NOW + timedelta(hours=1))
    db.commit()
    assert not [a for a in again if "withdrawn_medicine" in a.source_id]
    stored = db.execute(
        select(Alert).where(Alert.source == ALERT_SOURCE, Alert.source_id.like("%withdrawn_medicine%"))
    ).scalars()
    assert len(list(stored)) == 1


def test_a_prompt_alert_links_the_article_to_share(app: FastAPI, db: Session, world: World) -> None:
    p_user = db.get(User, world.users[OWN])
    assert p_user is not None
    add_medicine(db, actor=p_user, patient_id=world.patient_p_id, now=NOW, catalogue_id="pb_taurursodiol")
    db.commit()
    (alert,) = [a for a in refresh_prompts(db, patient_id=world.patient_p_id, now=NOW) if "withdrawn" in a.source_id]
    db.commit()
    page = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC]).get(f"/clinic/alerts/{alert.id}")
    assert page.status_code == 200
    assert 'href="/learn/slowing-als"' in page.text and "Article to share" in page.text
    assert f'href="/patients/{world.patient_p_id}/timeline"' in page.text


def _pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def test_the_visit_summary_shows_medicines_and_care_wishes_by_scope(app: FastAPI, world: World) -> None:
    url = f"/patients/{world.patient_p_id}/visit-summary.pdf"
    clinic = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC]).get(url)
    assert clinic.status_code == 200
    text = _pdf_text(clinic.content)
    assert "Riluzole" in text and "50 mg twice a day" in text
    assert "CWLEAKMARKER" in text  # P's care wishes: "Ask CWLEAKMARKER yes or no questions."
    # Caregiver G has check-ins only: the summary opens, but neither the list nor the wishes are in it.
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED]).get(url)
    assert carer.status_code == 200
    carer_text = _pdf_text(carer.content)
    assert "Riluzole" not in carer_text and "CWLEAKMARKER" not in carer_text
    assert "not shared with you" in carer_text


def test_the_forecast_band_is_for_the_clinic_and_for_the_person_only_after_opting_in(
    app: FastAPI, db: Session, world: World
) -> None:
    url = f"/patients/{world.patient_p_id}/timeline"
    assert "Forecast range" in signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC]).get(url).text
    own = signed_in_client(app, world.users[OWN])
    assert "Forecast range" not in own.get(url).text
    patient = db.get(Patient, world.patient_p_id)
    assert patient is not None
    patient.prognosis_opt_in = True
    db.commit()
    assert "Forecast range" in own.get(url).text


def test_the_clinic_table_has_expected_to_cross_columns(app: FastAPI, world: World) -> None:
    clinic = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
    page = clinic.get("/clinic")
    assert page.status_code == 200
    for _column, header in CROSSING_COLUMNS:
        assert html.escape(header, quote=False) in page.text
    exported = clinic.get("/clinic/export.csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    header = table[0]
    for column, _header in CROSSING_COLUMNS:
        assert column in header
    p_row = next(r for r in table[1:] if r[header.index("patient_id")] == str(world.patient_p_id))
    # P's ALSFRS-R falls in the world: the total ≤ 24 column holds a date range (or "reached …").
    cell = p_row[header.index("total_at_most_24")]
    assert cell == "" or cell[:4].isdigit() or cell.startswith(("from ", "reached "))

"""Spreadsheet exports (issue 13, item 3): a person's record as XLSX and CSV following consent scopes, in the
columns the CSV import reads; the clinic table as XLSX; formula-injection safe; audited."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OWN,
    World,
    build_world,
    freeze_clock,
    signed_in_client,
)

from alscare.actions import csv_import
from alscare.storage.models import AlsfrsAssessment, AuditEvent
from alscare.storage.models.medicines import MedicineEntry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def _book(content: bytes) -> dict[str, list[list[object]]]:
    book = load_workbook(io.BytesIO(content))
    return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets}


def test_workbook_follows_scopes_and_neutralises_formulas(app: FastAPI, world: World, db: Session) -> None:
    entry = db.execute(select(MedicineEntry).where(MedicineEntry.patient_id == world.patient_p_id)).scalars().first()
    assert entry is not None
    entry.name = '=HYPERLINK("https://evil.example","click")'
    db.commit()
    path = f"/patients/{world.patient_p_id}/record.xlsx"
    r = signed_in_client(app, world.users[OWN]).get(path)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    sheets = _book(r.content)
    assert set(sheets) == {"person", "alsfrs_r", "measurements", "medicines"}
    assessments = db.execute(
        select(func.count()).select_from(AlsfrsAssessment).where(AlsfrsAssessment.patient_id == world.patient_p_id)
    ).scalar_one()
    db.rollback()  # end the read before the next request writes its audit row (SQLite)
    assert tuple(sheets["alsfrs_r"][0]) == csv_import.ASSESSMENT_COLUMNS and len(sheets["alsfrs_r"]) == 1 + assessments
    names = [row[1] for row in sheets["medicines"][1:]]
    assert '\'=HYPERLINK("https://evil.example","click")' in names
    raw = load_workbook(io.BytesIO(r.content))["medicines"]
    assert all(cell.data_type != "f" for row in raw.iter_rows() for cell in row)
    caregiver = _book(signed_in_client(app, world.users[CAREGIVER_GRANTED]).get(path).content)
    assert set(caregiver) == {"person", "alsfrs_r", "measurements"}
    assert signed_in_client(app, world.users[CAREGIVER_NOT_GRANTED]).get(path).status_code == 404
    audited = db.execute(
        select(AuditEvent.actor_user_id, AuditEvent.action).where(AuditEvent.resource == "record_sheets")
    ).all()
    assert [(a, b) for a, b in audited] == [
        (world.users[OWN], "read"),
        (world.users[CAREGIVER_GRANTED], "read"),
        (world.users[CAREGIVER_NOT_GRANTED], "denied"),
    ]


def test_alsfrs_csv_is_in_the_import_format(app: FastAPI, world: World, db: Session) -> None:
    client = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
    r = client.get(f"/patients/{world.patient_p_id}/alsfrs-r.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert tuple(rows[0]) == csv_import.ASSESSMENT_COLUMNS and len(rows) > 1
    checked = csv_import.check_assessments(db, r.text, now=NOW)
    assert checked.ok and len(checked.rows) == len(rows) - 1
    db.rollback()
    m = client.get(f"/patients/{world.patient_p_id}/measurements.csv")
    assert m.status_code == 200
    assert tuple(next(csv.reader(io.StringIO(m.text)))) == csv_import.MEASUREMENT_COLUMNS
    assert csv_import.check_measurements(db, m.text, now=NOW).ok


def test_clinic_table_as_xlsx(app: FastAPI, world: World) -> None:
    r = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC]).get("/clinic/export.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    (table,) = _book(r.content).values()
    csv_rows = list(csv.reader(io.StringIO(signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
                                          .get("/clinic/export.csv").text)))  # fmt: skip
    assert [str(c) for c in table[0]] == csv_rows[0]
    assert len(table) == len(csv_rows)
    assert isinstance(table[1][0], int)  # the patient id is a number, so the sheet sorts it
    assert signed_in_client(app, world.users[OWN]).get("/clinic/export.xlsx").status_code in (403, 404)

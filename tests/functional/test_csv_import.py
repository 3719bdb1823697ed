"""CSV import of ALSFRS-R assessments and measurements (issue 13, item 3): the dry run lists every problem by
row and column and writes nothing; the commit is all or nothing, idempotent, audited; the CLI reports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alscare.actions import csv_import
from alscare.clinical.errors import InvalidInput
from alscare.storage.models import AlsfrsAssessment, AuditEvent, CheckIn, Clinic, Patient, User

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEADER = ",".join(csv_import.ASSESSMENT_COLUMNS)


def _setup(db: Session) -> tuple[User, list[int]]:
    clinic = Clinic(name="Test clinic", phone="020 7946 0000", hours="9-5", created_at=NOW)
    db.add(clinic)
    db.flush()
    staff = User(email="nurse@csv.example", display_name="Nurse", role="clinician", password_hash="!x",
                 clinic_id=clinic.id, created_at=NOW)  # fmt: skip
    db.add(staff)
    people = [Patient(full_name=f"Person {n}", emergency_number="112", clinic_id=clinic.id, created_at=NOW)
              for n in range(2)]  # fmt: skip
    db.add_all(people)
    db.commit()
    return staff, [p.id for p in people]


def _row(pid: int | str, day: str, mode: str = "self_report", items: dict[str, str] | None = None) -> str:
    cells = {f"item_{i}": "4" for i in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}
    cells.update(items or {})
    return ",".join([str(pid), day, mode, *(cells.get(c, "") for c in csv_import.ITEM_COLUMNS)])


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_good_file_is_checked_then_stored_once(db: Session) -> None:
    staff, (p1, p2) = _setup(db)
    text = "\n".join([HEADER, _row(p1, "2026-01-10", items={"item_3": "2"}), _row(p2, "2026-02-10",
                      "caregiver", {"item_5a": "", "item_5b": "1"})]) + "\n"  # fmt: skip
    checked = csv_import.check_assessments(db, text, now=NOW)
    assert checked.ok and len(checked.rows) == 2
    assert _count(db, AlsfrsAssessment) == 0  # the dry run writes nothing
    assert csv_import.commit_assessments(db, checked, by=staff, now=NOW) == 2
    db.commit()
    stored = db.execute(select(AlsfrsAssessment).order_by(AlsfrsAssessment.patient_id)).scalars().all()
    assert [(a.patient_id, a.assessed_on, a.total, a.administration_mode) for a in stored] == [
        (p1, date(2026, 1, 10), 46, "self_report"),
        (p2, date(2026, 2, 10), 45, "caregiver"),
    ]
    assert stored[1].answers["5b"] == 1 and "5a" not in stored[1].answers
    again = csv_import.check_assessments(db, text, now=NOW)
    assert again.ok and again.rows == [] and again.already_stored == 2
    assert csv_import.commit_assessments(db, again, by=staff, now=NOW) == 0
    event = db.execute(select(AuditEvent).where(AuditEvent.resource == "csv_import_alsfrs_r")).scalars().first()
    assert event is not None and event.actor_user_id == staff.id and event.action == "write"


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_stored(db: Session) -> None:
    staff, (p1, p2) = _setup(db)
    text = "\n".join(
        [
            HEADER,
            _row(p1, "2026-01-10"),  # row 2: fine
            _row(p1, "10/01/2026"),  # row 3: date format
            _row(p2, "2026-02-10", "by_phone"),  # row 4: mode
            _row(p2, "2026-02-11", items={"item_7": "5"}),  # row 5: out of range
            _row(p2, "2026-02-12", items={"item_5b": "3"}),  # row 6: both 5a and 5b
            _row(99999, "2026-02-13"),  # row 7: no such person
            _row(p1, "2026-01-10"),  # row 8: same as row 2
            _row(p1, "2027-01-01"),  # row 9: in the future
        ]
    )
    checked = csv_import.check_assessments(db, text, now=NOW)
    assert [(p.row, p.column) for p in checked.problems] == [
        (3, "assessed_on"),
        (4, "administration_mode"),
        (5, "item_7"),
        (6, "item_5b"),
        (7, "patient_id"),
        (8, ""),
        (9, "assessed_on"),
    ]
    assert "row 2" in checked.problems[5].message
    with pytest.raises(InvalidInput):
        csv_import.commit_assessments(db, checked, by=staff, now=NOW)
    db.rollback()
    assert _count(db, AlsfrsAssessment) == 0


def test_unknown_and_missing_columns_are_named(db: Session) -> None:
    _setup(db)
    checked = csv_import.check_assessments(db, "patient_id,assessed_on,score\n1,2026-01-01,40\n", now=NOW)
    assert [(p.row, p.column, p.message) for p in checked.problems] == [
        (1, "score", "unknown column"),
        (1, "administration_mode", "column is missing"),
    ]


def test_measurements(db: Session) -> None:
    staff, (p1, p2) = _setup(db)
    text = (
        "patient_id,measured_at,weight_kg,fvc_percent,snip_cmh2o,spo2_percent\n"
        f"{p1},2026-03-01,71.5,82,,97\n"
        f"{p2},2026-03-02T09:30:00+01:00,,55,40,\n"
        f"{p2},2026-03-03,,,,\n"
        f"{p2},2026-03-04,-3,abc,,101\n"
    )
    checked = csv_import.check_measurements(db, text, now=NOW)
    assert [(p.row, p.column) for p in checked.problems] == [
        (4, "weight_kg"),
        (5, "weight_kg"),
        (5, "fvc_percent"),
        (5, "spo2_percent"),
    ]
    fine = "\n".join(text.splitlines()[:3]) + "\n"
    checked = csv_import.check_measurements(db, fine, now=NOW)
    assert csv_import.commit_measurements(db, checked, by=staff, now=NOW) == 2
    db.commit()
    rows = db.execute(select(CheckIn).order_by(CheckIn.submitted_at)).scalars().all()
    assert [(c.patient_id, c.weight_kg, c.fvc_percent, c.snip_cmh2o, c.spo2_percent, c.tier) for c in rows] == [
        (p1, 71.5, 82.0, None, 97.0, "routine"),
        (p2, None, 55.0, 40.0, None, "routine"),
    ]
    assert rows[1].submitted_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def test_cli_dry_run_problems_and_commit(db: Session, database_url: str, tmp_path: Path) -> None:
    _staff, (p1, p2) = _setup(db)
    env = {"ALSCARE_DATABASE_URL": database_url, "ALSCARE_DATA_DIR": str(tmp_path), "ALSCARE_SECRET_KEY": "x" * 48}
    from alscare.cli import app as cli

    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([HEADER, _row(p1, "2026-01-10"), _row(p2, "2026-01-11", items={"item_9": "x"})]))
    result = CliRunner().invoke(cli, ["csv", "import-assessments", str(bad), "--by", "nurse@csv.example"], env=env)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["problems"] == [
        {"row": 3, "column": "item_9", "message": "must be a whole number from 0 to 4"}
    ]
    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, _row(p1, "2026-01-10"), _row(p2, "2026-01-11")]) + "\n")
    args = ["csv", "import-assessments", str(good), "--by", "nurse@csv.example"]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0 and json.loads(dry.stdout)["ready"] == 2
    assert "checking" in dry.stderr  # the progress bar
    db.rollback()
    assert _count(db, AlsfrsAssessment) == 0
    db.rollback()  # end the read, so SQLite lets the CLI write
    done = CliRunner().invoke(cli, args, env=env)
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 2
    db.rollback()
    assert _count(db, AlsfrsAssessment) == 2
    db.rollback()
    nobody = CliRunner().invoke(cli, ["csv", "import-assessments", str(good), "--by", "who@x.example"], env=env)
    assert nobody.exit_code == 2 and json.loads(nobody.stderr)["error"]["field"] == "by"

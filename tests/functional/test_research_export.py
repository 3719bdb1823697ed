"""Research export (issue 13, item 4): only people who consented to research use; no name, email, phone, free
text or true date in any file; ages over 89 grouped; small cells suppressed; a dictionary for every column."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alscare.access import Action, ActiveGrant, Actor, RecordOwner, Scope, decide
from alscare.actions.consent import grant_access
from alscare.actions.research_export import DICTIONARY, age_group, research_data_set, suppressed
from alscare.actions.share_invitations import invite_to_share
from alscare.demo import demo_people, seed_demo
from alscare.storage.models import (
    Alert,
    AlsfrsAssessment,
    CheckIn,
    Clinic,
    ConsentGrant,
    Invitation,
    Message,
    Patient,
    User,
)
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.medicines import MedicineEntry
from alscare.storage.models.rehabilitation import RehabProgramme
from alscare.storage.models.research import ResearchSubject

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _consent_research(db: Session) -> tuple[int, list[int]]:
    seed_demo(db, now=NOW, default_emergency_number="999")
    db.commit()
    clinic = db.execute(select(Clinic)).scalars().first()
    assert clinic is not None
    consented: list[int] = []
    for email, pid in demo_people(db).items():
        patient = db.get(Patient, pid)
        assert patient is not None
        if patient.clinic_id != clinic.id or email.startswith("tomas"):  # Tomás says no; Sione has no clinic
            continue
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        grant_access(db, actor=user, patient_id=pid, scope="research", grantee_clinic_id=clinic.id, now=NOW)
        consented.append(pid)
    # Three of the demo clinic's other people consent too (entered by the clinic, as on a paper form); the oldest
    # is 96 at their first assessment.
    others = list(db.execute(select(Patient).where(Patient.user_id.is_(None)).order_by(Patient.id).limit(3)).scalars())
    clinician = db.execute(select(User).where(User.role == "clinician")).scalars().first()
    assert clinician is not None
    for p in others:
        db.add(ConsentGrant(patient_id=p.id, grantee_clinic_id=clinic.id, scope="research", granted_by_id=clinician.id,
                            granted_at=NOW))  # fmt: skip
        consented.append(p.id)
    first = db.execute(select(AlsfrsAssessment.assessed_on).where(AlsfrsAssessment.patient_id == others[0].id)
                       .order_by(AlsfrsAssessment.assessed_on).limit(1)).scalar_one()  # fmt: skip
    others[0].date_of_birth = date(first.year - 96, 1, 1)
    db.commit()
    return clinic.id, consented


def test_research_data_set_is_de_identified(db: Session) -> None:
    clinic_id, consented = _consent_research(db)
    files = research_data_set(db, clinic_id=clinic_id, now=NOW)
    db.commit()
    everything = "\n".join(files.values())
    subjects = {s.code: s for s in db.execute(select(ResearchSubject)).scalars()}
    assert sorted(s.patient_id for s in subjects.values()) == sorted(consented)
    # No identifier of anyone: names, emails, phone numbers (people, family, staff, clinics), record ids.
    for p in db.execute(select(Patient)).scalars():
        assert p.full_name not in everything
        assert p.emergency_number not in everything or len(p.emergency_number) <= 3
        if p.phone:
            assert p.phone not in everything
        if p.date_of_birth:
            assert p.date_of_birth.isoformat() not in everything
    for u in db.execute(select(User)).scalars():
        assert u.email not in everything and u.display_name not in everything
        if u.phone:
            assert u.phone not in everything
    for c in db.execute(select(Clinic)).scalars():
        assert c.name not in everything and c.phone not in everything
    # No free text: questions, notes, messages, care wishes, free-text medicine names.
    free_text = [q for q in db.execute(select(CheckIn.question)).scalars() if q]
    free_text += [n for n in db.execute(select(Alert.note)).scalars() if n]
    free_text += list(db.execute(select(Message.body)).scalars())
    free_text += [n for n in db.execute(select(RehabProgramme.note)).scalars() if n]
    free_text += [
        s for a in db.execute(select(CareWishesVersion.answers)).scalars() for s in _strings(a) if len(s) > 12
    ]
    free_text += list(db.execute(select(MedicineEntry.name).where(MedicineEntry.catalogue_id.is_(None))).scalars())
    assert free_text and not [t for t in free_text if t in everything]
    # Dates: every row's date is its true date moved by the person's own secret offset, never the true date.
    by_patient = {s.patient_id: s for s in subjects.values()}
    rows = _table(files["alsfrs_r.csv"])
    true = list(db.execute(select(AlsfrsAssessment).where(AlsfrsAssessment.patient_id.in_(consented))
                           .order_by(AlsfrsAssessment.patient_id, AlsfrsAssessment.assessed_on, AlsfrsAssessment.id))
                .scalars())  # fmt: skip
    assert len(rows) == len(true)
    for row, a in zip(rows, true, strict=True):
        subject = by_patient[a.patient_id]
        assert row["subject"] == subject.code and int(row["total"]) == a.total
        assert 180 <= abs(subject.offset_days) <= 730
        assert row["assessed_on_shifted"] == (a.assessed_on + timedelta(days=subject.offset_days)).isoformat()
        assert row["assessed_on_shifted"] != a.assessed_on.isoformat()
    for row in _table(files["subjects.csv"]):
        subject = subjects[row["subject"]]
        patient = db.get(Patient, subject.patient_id)
        assert patient is not None
        offset = timedelta(days=subject.offset_days)
        # Each shifted date is its own true date moved, never the true date itself. (Comparing against every true
        # date of the person failed by chance: a shift equal to the onset-to-diagnosis gap maps the diagnosis onto
        # the true onset, which reveals nothing.)
        for column, true_day in (("onset_date_shifted", patient.onset_date),
                                 ("diagnosis_date_shifted", patient.diagnosis_date)):  # fmt: skip
            assert row[column] == ("" if true_day is None else (true_day + offset).isoformat())
            assert true_day is None or row[column] != true_day.isoformat()
    measured = _table(files["measurements.csv"])
    assert measured and all(r["measured_on_shifted"] for r in measured)
    # Ages over 89 grouped; small cells suppressed; every column in the dictionary.
    assert "90+" in {r["age_at_first_assessment"] for r in _table(files["subjects.csv"])}
    counts = [r["people"] for r in _table(files["summary.csv"])]
    assert counts and all(c == "<5" or int(c) >= 5 for c in counts)
    for name, columns in DICTIONARY.items():
        assert next(csv.reader(io.StringIO(files[name]))) == [c for c, _ in columns]
    dictionary = _table(files["data_dictionary.csv"])
    assert {(d["file"], d["column"]) for d in dictionary} == {(f, c) for f, cols in DICTIONARY.items() for c, _ in cols}
    # The same pseudonyms and shifted dates next time.
    again = research_data_set(db, clinic_id=clinic_id, now=NOW)
    assert again["alsfrs_r.csv"] == files["alsfrs_r.csv"]


def test_research_needs_its_own_consent() -> None:
    clinic_grant = [ActiveGrant("full_record", None, 7)]
    clinician = Actor(user_id=2, role="clinician", clinic_id=7)
    record = RecordOwner(patient_id=1, user_id=1)
    assert decide(clinician, record, clinic_grant, Scope.CHECKINS, Action.READ)
    assert not decide(clinician, record, clinic_grant, Scope.RESEARCH, Action.READ)
    assert not decide(clinician, record, [ActiveGrant("proxy", None, 7)], Scope.RESEARCH, Action.READ)
    assert decide(clinician, record, [ActiveGrant("research", None, 7)], Scope.RESEARCH, Action.READ)
    # A research grant shows nothing of the record itself beyond the header.
    assert not decide(clinician, record, [ActiveGrant("research", None, 7)], Scope.CHECKINS, Action.READ)
    assert age_group(89) == "89" and age_group(90) == "90+"
    assert suppressed(4) == "<5" and suppressed(5) == "5"


def test_cli_writes_the_files(db: Session, database_url: str, tmp_path: Path) -> None:
    clinic_id, consented = _consent_research(db)
    db.rollback()
    env = {"ALSCARE_DATABASE_URL": database_url, "ALSCARE_DATA_DIR": str(tmp_path), "ALSCARE_SECRET_KEY": "x" * 48}
    from alscare.cli import app as cli

    out = tmp_path / "set"
    result = CliRunner().invoke(cli, ["research", "export", "--clinic", str(clinic_id), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["people"] == len(consented)
    assert sorted(p.name for p in out.iterdir()) == sorted([*DICTIONARY, "data_dictionary.csv"])
    again = CliRunner().invoke(cli, ["research", "export", "--clinic", str(clinic_id), "--out", str(out)], env=env)
    assert again.exit_code == 2


def test_research_is_shared_with_a_clinic_not_a_person(db: Session) -> None:
    import pytest

    from alscare.clinical.errors import InvalidInput

    seed_demo(db, now=NOW, default_emergency_number="999")
    mei = db.execute(select(User).where(User.email == "mei@demo.alscare.example")).scalar_one()
    pid = demo_people(db)["mei@demo.alscare.example"]
    tomas = db.execute(select(User).where(User.email == "tomas@demo.alscare.example")).scalar_one()
    with pytest.raises(InvalidInput) as refused:
        grant_access(db, actor=mei, patient_id=pid, scope="research", grantee_user_id=tomas.id, now=NOW)
    assert refused.value.field == "grantee_user_id"
    with pytest.raises(InvalidInput) as invited:
        invite_to_share(db, actor=mei, patient_id=pid, email="tomas@demo.alscare.example", scopes=["research"], now=NOW)
    assert invited.value.field == "scopes"
    assert (
        db.execute(
            select(Invitation).where(Invitation.patient_id == pid, Invitation.email == "tomas@demo.alscare.example")
        ).first()
        is None
    )

"""Demo medicine lists, added after the rest of the demo (called from ``alscare.demo.seed_demo``).

- Mei Chen: riluzole started a little over two months ago, baseline and month-1 liver tests done, so the
  month-2 test is due within days (the clinic sees a prompt); baclofen for stiffness.
- Tomás Reyes: riluzole for over a year, every liver test done; still on sodium phenylbutyrate–taurursodiol,
  which was withdrawn in 2024 (the clinic sees a prompt; his page says not to stop it alone).
- Amira Haddad: riluzole and glycopyrronium for saliva; Kwame Mensah: riluzole and quinine for cramps.
- Sione Taufa (no clinic) typed his own entry in free text ("Rilutek 50mg"), as people do.

Everything goes through the actions, so the history and the audit trail read as in real use. Fictional.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions.medicines import add_medicine, record_liver_test
from alscare.clinical.medicines import add_months, liver_test_dates
from alscare.storage.models import Patient, User

NEUROLOGIST = "dr.okafor@demo.alscare.example"
NURSE = "nurse.lindqvist@demo.alscare.example"
RILUZOLE_DOSE = "50 mg twice a day"


def _user(db: Session, email: str) -> User:
    return db.execute(select(User).where(User.email == email)).scalar_one()


def _patient_of(db: Session, email: str) -> Patient:
    return db.execute(select(Patient).where(Patient.user_id == _user(db, email).id)).scalar_one()


def _riluzole(db: Session, *, by: User, patient: Patient, started: date, now: datetime, skip_last: bool) -> None:
    """Riluzole from ``started``, with a liver test on each scheduled date so far (the latest left out if
    ``skip_last``, so one falls due)."""
    entry = add_medicine(
        db,
        actor=by,
        patient_id=patient.id,
        now=now,
        catalogue_id="riluzole",
        dose=RILUZOLE_DOSE,
        started_on=started,
        prescriber="Dr Chidi Okafor",
    )
    done = [d for d in liver_test_dates(started, until=now.date()) if d <= now.date()]
    for day in done[:-1] if skip_last and done else done:
        record_liver_test(db, actor=by, patient_id=patient.id, entry_id=entry.id, done_on=day, now=now)


def seed_demo_medicines(db: Session, *, now: datetime) -> None:
    """Give the demo people their medicine lists (see the module docstring)."""
    today = now.date()
    doctor = _user(db, NEUROLOGIST)
    nurse = _user(db, NURSE)

    mei = _patient_of(db, "mei@demo.alscare.example")
    # Month-2 test due 4 days from today: baseline and month-1 done, month 2 not yet.
    mei_start = add_months(today + timedelta(days=4), -2)
    entry = add_medicine(
        db,
        actor=doctor,
        patient_id=mei.id,
        now=now,
        catalogue_id="riluzole",
        dose=RILUZOLE_DOSE,
        started_on=mei_start,
        prescriber="Dr Chidi Okafor",
    )
    for day in (mei_start - timedelta(days=2), add_months(mei_start, 1)):
        record_liver_test(db, actor=nurse, patient_id=mei.id, entry_id=entry.id, done_on=day, now=now)
    add_medicine(
        db, actor=_user(db, "mei@demo.alscare.example"), patient_id=mei.id, now=now, catalogue_id="baclofen",
        dose="10 mg three times a day", started_on=today - timedelta(days=120), prescriber="My GP",
    )  # fmt: skip

    tomas = _patient_of(db, "tomas@demo.alscare.example")
    _riluzole(db, by=doctor, patient=tomas, started=add_months(today, -14), now=now, skip_last=False)
    add_medicine(
        db, actor=_user(db, "tomas@demo.alscare.example"), patient_id=tomas.id, now=now,
        catalogue_id="pb_taurursodiol", dose="1 sachet twice a day", started_on=date(2023, 9, 1),
        prescriber="Trial clinic, Boston",
    )  # fmt: skip

    amira = _patient_of(db, "amira@demo.alscare.example")
    _riluzole(db, by=doctor, patient=amira, started=add_months(today, -10), now=now, skip_last=False)
    add_medicine(
        db, actor=nurse, patient_id=amira.id, now=now, catalogue_id="glycopyrronium", dose="1 mg three times a day",
        started_on=add_months(today, -4), prescriber="Elin Lindqvist",
    )  # fmt: skip

    kwame = _patient_of(db, "kwame@demo.alscare.example")
    _riluzole(db, by=doctor, patient=kwame, started=add_months(today, -7), now=now, skip_last=False)
    add_medicine(
        db, actor=doctor, patient_id=kwame.id, now=now, catalogue_id="quinine", dose="200 mg at night",
        started_on=add_months(today, -3),
    )  # fmt: skip

    sione_user = _user(db, "sione@demo.alscare.example")
    sione = _patient_of(db, sione_user.email)
    add_medicine(
        db, actor=sione_user, patient_id=sione.id, now=now, name="Rilutek 50mg", dose="one tablet morning and night",
        started_on=add_months(today, -6),
    )  # fmt: skip

"""A de-identified research data set of one clinic (issue 13, item 4), for the people who consented to research.

Who is in it: people with an active ``research`` grant to the clinic (``alscare.access.Scope.RESEARCH``; never
implied by a full-record grant). What is taken out, and how (rules as data below, applied to every file):

- identifiers: names, emails, phone numbers, addresses, account and record ids are never written; each person
  is a random pseudonym (``research_subjects.code``), stable across exports;
- free text: check-in questions, notes, care wishes, messages and free-text medicine names are never written
  (only catalogue medicines, by catalogue id);
- dates: every date is shifted by the person's secret random offset (180 to 730 days, earlier or later, drawn
  once with ``secrets`` and kept in ``research_subjects``), so intervals within a person hold but no true date
  appears; dates of birth are not written at all, only the age;
- ages over 89 are written as "90+" (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C));
- in the summary table any count below 5 is written as "<5" (small-cell suppression).

A data dictionary describes every column of every file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from alscare.access import Scope
from alscare.actions.audit import record_event
from alscare.clinical import alsfrs_r
from alscare.storage.models import AlsfrsAssessment, CheckIn, ConsentGrant, Patient
from alscare.storage.models.medicines import MedicineEntry
from alscare.storage.models.research import ResearchSubject

OFFSET_MIN_DAYS: Final = 180
OFFSET_MAX_DAYS: Final = 730
AGE_TOP: Final = 89  # ages above are grouped as "90+"
SMALL_CELL: Final = 5  # counts below are suppressed in summaries
RESOURCE: Final = "research_export"

Cell = str | int | float | None

# Every file and column, with what it means: written out as data_dictionary.csv.
DICTIONARY: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "subjects.csv": (
        ("subject", "Pseudonym of the person (random; the same in every export of this clinic)"),
        ("sex", "female, male, other or unspecified, as the person gave it"),
        ("age_at_first_assessment", "Whole years at the first ALSFRS-R in the set; 90+ for ages over 89"),
        ("onset_region", "Where symptoms began: bulbar, upper_limb, lower_limb, respiratory or trunk"),
        ("onset_date_shifted", "Date symptoms began, shifted by the person's offset (YYYY-MM-DD)"),
        ("diagnosis_date_shifted", "Date of diagnosis, shifted by the person's offset"),
        ("height_cm", "Height in centimetres"),
    ),
    "alsfrs_r.csv": (
        ("subject", "Pseudonym of the person"),
        ("assessed_on_shifted", "Date of the ALSFRS-R, shifted by the person's offset"),
        ("administration_mode", "clinician_in_person, clinician_phone, self_report or caregiver"),
        *((f"item_{i}", f"ALSFRS-R item {i}, 0 (no function) to 4 (normal); empty if not the form answered")
          for i in alsfrs_r.ITEM_IDS),
        ("total", "ALSFRS-R total, 0 to 48"),
    ),
    "measurements.csv": (
        ("subject", "Pseudonym of the person"),
        ("measured_on_shifted", "Date of the check-in, shifted by the person's offset"),
        ("weight_kg", "Body weight, kg"),
        ("fvc_percent", "Forced vital capacity, % of predicted"),
        ("snip_cmh2o", "Sniff nasal inspiratory pressure, cmH2O"),
        ("spo2_percent", "Oxygen saturation by pulse oximetry, %"),
    ),
    "medicines.csv": (
        ("subject", "Pseudonym of the person"),
        ("catalogue_id", "alscare medicine catalogue id (free-text medicines are left out)"),
        ("started_on_shifted", "Start date, shifted by the person's offset"),
        ("stopped_on_shifted", "Stop date, shifted by the person's offset; empty if still taken"),
    ),
    "summary.csv": (
        ("onset_region", "Where symptoms began"),
        ("sex", "Sex as given"),
        ("people", f"Number of people; counts below {SMALL_CELL} are shown as <{SMALL_CELL}"),
    ),
}  # fmt: skip


def age_group(years: int) -> str:
    """An age as written in the data set: whole years, or "90+" above 89."""
    return f"{AGE_TOP + 1}+" if years > AGE_TOP else str(years)


def suppressed(count: int) -> str:
    """A summary count as written: "<5" below the small-cell threshold."""
    return f"<{SMALL_CELL}" if count < SMALL_CELL else str(count)


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def new_offset() -> int:
    """A secret random shift in days: 180 to 730, earlier or later."""
    days = OFFSET_MIN_DAYS + secrets.randbelow(OFFSET_MAX_DAYS - OFFSET_MIN_DAYS + 1)
    return days if secrets.randbelow(2) else -days


def _csv(rows: Sequence[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue()


def consented_patients(db: Session, *, clinic_id: int) -> list[Patient]:
    """People with an active research grant to this clinic."""
    granted = select(ConsentGrant.patient_id).where(
        ConsentGrant.grantee_clinic_id == clinic_id,
        ConsentGrant.scope == Scope.RESEARCH.value,
        ConsentGrant.revoked_at.is_(None),
    )
    return list(db.execute(select(Patient).where(Patient.id.in_(granted)).order_by(Patient.id)).scalars())


def _subjects(db: Session, patients: list[Patient], now: datetime) -> dict[int, ResearchSubject]:
    ids = [p.id for p in patients]
    found = {s.patient_id: s for s in db.execute(select(ResearchSubject).where(ResearchSubject.patient_id.in_(ids)))
             .scalars()}  # fmt: skip
    for pid in ids:
        if pid not in found:
            subject = ResearchSubject(patient_id=pid, code="S" + secrets.token_hex(6).upper(), offset_days=new_offset(),
                                      created_at=now)  # fmt: skip
            db.add(subject)
            found[pid] = subject
    db.flush()
    return found


def research_data_set(db: Session, *, clinic_id: int, now: datetime) -> dict[str, str]:
    """The data set's files (name → CSV text). Audited as one read by the system naming every person in it."""
    from alscare.storage.models.clinic_dashboard import AuditEventPatient

    patients = consented_patients(db, clinic_id=clinic_id)
    subjects = _subjects(db, patients, now)
    ids = [p.id for p in patients]

    def shift(pid: int, day: date | None) -> str | None:
        return None if day is None else (day + timedelta(days=subjects[pid].offset_days)).isoformat()

    assessments = list(db.execute(select(AlsfrsAssessment).where(AlsfrsAssessment.patient_id.in_(ids)).order_by(
        AlsfrsAssessment.patient_id, AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)).scalars())  # fmt: skip
    first_assessed: dict[int, date] = {}
    for a in assessments:
        first_assessed.setdefault(a.patient_id, a.assessed_on)
    files: dict[str, list[list[Cell]]] = {name: [[c for c, _ in columns]] for name, columns in DICTIONARY.items()}
    for p in patients:
        code = subjects[p.id].code
        first = first_assessed.get(p.id)
        age = age_group(_years(p.date_of_birth, first)) if p.date_of_birth and first else None
        files["subjects.csv"].append([code, p.sex, age, p.onset_region, shift(p.id, p.onset_date),
                                      shift(p.id, p.diagnosis_date), p.height_cm])  # fmt: skip
    for a in assessments:
        files["alsfrs_r.csv"].append([subjects[a.patient_id].code, shift(a.patient_id, a.assessed_on),
                                      a.administration_mode, *(a.answers.get(i) for i in alsfrs_r.ITEM_IDS),
                                      a.total])  # fmt: skip
    measured = db.execute(
        select(CheckIn.patient_id, CheckIn.submitted_at, CheckIn.weight_kg, CheckIn.fvc_percent, CheckIn.snip_cmh2o,
               CheckIn.spo2_percent)
        .where(CheckIn.patient_id.in_(ids))
        .order_by(CheckIn.patient_id, CheckIn.submitted_at, CheckIn.id)
    ).all()  # fmt: skip
    for pid, at, *values in measured:
        if any(v is not None for v in values):
            files["measurements.csv"].append([subjects[pid].code, shift(pid, at.date()), *values])
    medicines = db.execute(
        select(MedicineEntry).where(MedicineEntry.patient_id.in_(ids), MedicineEntry.catalogue_id.is_not(None))
        .order_by(MedicineEntry.patient_id, MedicineEntry.id)
    ).scalars()  # fmt: skip
    for m in medicines:
        files["medicines.csv"].append([subjects[m.patient_id].code, m.catalogue_id, shift(m.patient_id, m.started_on),
                                       shift(m.patient_id, m.stopped_on)])  # fmt: skip
    counts = Counter((p.onset_region or "unknown", p.sex or "unspecified") for p in patients)
    for (region, sex), n in sorted(counts.items()):
        files["summary.csv"].append([region, sex, suppressed(n)])
    dictionary: list[list[Cell]] = [["file", "column", "meaning"]]
    for name, columns in DICTIONARY.items():
        dictionary.extend([name, column, meaning] for column, meaning in columns)
    digest = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()
    event = record_event(db, now=now, actor_user_id=None, patient_id=None, action="read", resource=RESOURCE,
                         detail=f"operator=cli clinic={clinic_id} people={len(ids)} sha256={digest}")  # fmt: skip
    if ids:
        from sqlalchemy import insert

        db.execute(insert(cast(Table, AuditEventPatient.__table__)),
                   [{"audit_event_id": event.id, "patient_id": i} for i in ids])  # fmt: skip
    out = {name: _csv(rows) for name, rows in files.items()}
    out["data_dictionary.csv"] = _csv(dictionary)
    return out

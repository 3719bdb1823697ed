"""A person's medicine list: add, change, stop, mark a liver test done; read it, with its history.

Who: the person, their proxy, or anyone holding the ``medicines`` scope (a clinic with that grant, a carer).
Every change goes through ``open_record`` (audited) and writes one row to the append-only
``medicine_changes`` log with a snapshot of the entry after the change (decision 0004), so the history of
every entry is complete and nothing is ever overwritten without a trace.

``current_medicines`` and ``medicine_prompts`` take no actor: they are for code that has already opened the
record (the visit-summary PDF) or that runs for the clinic (prompt refresh), and they do not audit.
``listed_medicine_names`` feeds the check-in's triage (the triage's medicine rules read the list, so the
person no longer re-ticks their medicines at every check-in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import may, open_record
from alscare.clinical import medicines as core
from alscare.clinical.prompts import Prompt
from alscare.storage.memo import remembered
from alscare.storage.models import Patient, User
from alscare.storage.models.medicines import MedicineChange, MedicineEntry, MedicineLiverTest

NAME_MAX: Final = 200
DOSE_MAX: Final = 200
PRESCRIBER_MAX: Final = 200
EARLIEST: Final = date(1990, 1, 1)  # riluzole was licensed in the mid-1990s; older dates are typing slips
# A start date may be planned ahead, not years ahead (input hygiene).
LATEST_AHEAD: Final = timedelta(days=366)
RESOURCE: Final = "medicines"


@dataclass(frozen=True)
class CurrentMedicine:
    """A medicine taken on a given day, as the visit summary and other readers want it."""

    entry_id: int
    name: str
    catalogue_id: str | None
    dose: str | None
    started_on: date | None
    prescriber: str | None
    withdrawn: bool


@dataclass(frozen=True)
class EntryView:
    """One entry with what its page shows: the catalogue medicine (if known), liver tests and their status."""

    entry: MedicineEntry
    medicine: core.Medicine | None
    liver_tests: tuple[date, ...]
    liver_status: core.LiverTestStatus | None

    @property
    def current(self) -> bool:
        return self.entry.stopped_on is None

    def listed(self) -> core.ListedMedicine:
        return _listed(self.entry, self.liver_tests)


@dataclass(frozen=True)
class MedicineList:
    patient: Patient
    current: list[EntryView]
    stopped: list[EntryView]
    can_change: bool


@dataclass(frozen=True)
class EntryHistory:
    patient: Patient
    view: EntryView
    changes: list[MedicineChange]
    can_change: bool


# --- Reading ---------------------------------------------------------------------------------------


def _listed(entry: MedicineEntry, tests: tuple[date, ...]) -> core.ListedMedicine:
    return core.ListedMedicine(entry.name, entry.catalogue_id, entry.started_on, entry.stopped_on, tests)


# Built once, so SQLAlchemy works out its cache key once: every check-in runs it.
_ENTRIES = (
    select(MedicineEntry)
    .where(MedicineEntry.patient_id == bindparam("patient_id"))
    .order_by(MedicineEntry.started_on.desc().nulls_last(), MedicineEntry.id.desc())
)


def _entries(db: Session, patient_id: int) -> list[MedicineEntry]:
    """The person's list, newest first; read once per transaction (``storage.memo``): a check-in reads it for
    its triage and again for the medicine prompts."""

    def load() -> list[MedicineEntry]:
        return list(db.execute(_ENTRIES, {"patient_id": patient_id}).scalars())

    return list(remembered(db, "medicine_entries", patient_id, (MedicineEntry,), load))


def _tests_by_entry(db: Session, patient_id: int) -> dict[int, tuple[date, ...]]:
    found: dict[int, list[date]] = {}
    rows = db.execute(
        select(MedicineLiverTest.entry_id, MedicineLiverTest.done_on)
        .where(MedicineLiverTest.patient_id == patient_id)
        .order_by(MedicineLiverTest.done_on)
    )
    for entry_id, done_on in rows:
        found.setdefault(entry_id, []).append(done_on)
    return {k: tuple(v) for k, v in found.items()}


def _view(entry: MedicineEntry, tests: tuple[date, ...], today: date) -> EntryView:
    listed = _listed(entry, tests)
    medicine = listed.medicine()
    status = None
    if (
        medicine is not None
        and medicine.monitoring == "riluzole_liver_tests"
        and entry.started_on is not None
        and listed.taken_on(today)
    ):
        status = core.liver_test_status(entry.started_on, tests, today=today)
    return EntryView(entry, medicine, tests, status)


def _views(db: Session, patient_id: int, today: date) -> list[EntryView]:
    tests = _tests_by_entry(db, patient_id)
    return [_view(e, tests.get(e.id, ()), today) for e in _entries(db, patient_id)]


def _open(db: Session, actor: User, patient_id: int, action: Action, now: datetime, source_ip: str | None) -> Patient:
    return open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.MEDICINES,
        action=action,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )


def medicine_list(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> MedicineList:
    """The person's medicines, current first, then stopped ones (audited as a read of ``medicines``)."""
    patient = _open(db, actor, patient_id, Action.READ, now, source_ip)
    today = now.date()
    views = _views(db, patient.id, today)
    return MedicineList(
        patient,
        [v for v in views if v.entry.stopped_on is None or v.entry.stopped_on > today],
        [v for v in views if v.entry.stopped_on is not None and v.entry.stopped_on <= today],
        may(db, user=actor, patient=patient, scope=Scope.MEDICINES, action=Action.WRITE),
    )


def _entry_of(db: Session, patient: Patient, entry_id: int) -> MedicineEntry:
    entry = db.get(MedicineEntry, entry_id)
    if entry is None or entry.patient_id != patient.id:
        raise NotFound("No such medicine on this list.")
    return entry


def medicine_history(
    db: Session, *, actor: User, patient_id: int, entry_id: int, now: datetime, source_ip: str | None = None
) -> EntryHistory:
    """One entry and every change made to it, oldest first."""
    patient = _open(db, actor, patient_id, Action.READ, now, source_ip)
    entry = _entry_of(db, patient, entry_id)
    tests = _tests_by_entry(db, patient.id).get(entry.id, ())
    changes = list(
        db.execute(
            select(MedicineChange).where(MedicineChange.entry_id == entry.id).order_by(MedicineChange.version)
        ).scalars()
    )
    return EntryHistory(
        patient,
        _view(entry, tests, now.date()),
        changes,
        may(db, user=actor, patient=patient, scope=Scope.MEDICINES, action=Action.WRITE),
    )


def current_medicines(db: Session, *, patient_id: int, on: date) -> list[CurrentMedicine]:
    """Medicines taken on ``on`` (started on or before, not stopped by then). Not audited: callers have opened
    the record already (the visit summary)."""
    found: list[CurrentMedicine] = []
    for entry in _entries(db, patient_id):
        listed = _listed(entry, ())
        if not listed.taken_on(on):
            continue
        medicine = listed.medicine()
        found.append(
            CurrentMedicine(
                entry.id,
                entry.name,
                medicine.id if medicine else None,
                entry.dose,
                entry.started_on,
                entry.prescriber,
                bool(medicine and medicine.withdrawn),
            )
        )
    return found


def listed_medicine_names(db: Session, *, patient_id: int, on: date) -> tuple[str, ...]:
    """Names of the medicines on the list on ``on``, as the triage reads them (catalogue id first, so a
    catalogue entry is recognised whatever its display name)."""
    names: list[str] = []
    for m in current_medicines(db, patient_id=patient_id, on=on):
        names.extend([m.catalogue_id, m.name] if m.catalogue_id else [m.name])
    return tuple(dict.fromkeys(names))


def medicine_prompts(db: Session, *, patient_id: int, today: date) -> list[Prompt]:
    """Care-team prompts from the medicine list: riluzole liver tests due or overdue, withdrawn medicines."""
    entries = _entries(db, patient_id)
    if not entries:  # nothing listed, nothing to prompt (and no liver tests to read)
        return core.medicine_prompts_for([], today=today)
    tests = _tests_by_entry(db, patient_id)
    listed = [_listed(e, tests.get(e.id, ())) for e in entries]
    return core.medicine_prompts_for(listed, today=today)


# --- Changing --------------------------------------------------------------------------------------


def _changed_as(db: Session, actor: User, patient: Patient) -> str:
    if patient.user_id is not None and patient.user_id == actor.id:
        return "self"
    if actor.role in ("clinician", "admin"):
        return "clinician"
    if may(db, user=actor, patient=patient, scope=Scope.SHARING, action=Action.WRITE):
        return "proxy"
    return "caregiver"


def _snapshot(entry: MedicineEntry, **extra: Any) -> dict[str, Any]:
    return {
        "name": entry.name,
        "catalogue_id": entry.catalogue_id,
        "dose": entry.dose,
        "started_on": entry.started_on.isoformat() if entry.started_on else None,
        "stopped_on": entry.stopped_on.isoformat() if entry.stopped_on else None,
        "prescriber": entry.prescriber,
        **extra,
    }


def _log(
    db: Session, entry: MedicineEntry, kind: str, actor: User, patient: Patient, now: datetime, **extra: Any
) -> None:
    db.add(
        MedicineChange(
            entry_id=entry.id,
            patient_id=patient.id,
            version=entry.version,
            kind=kind,
            changed_by_id=actor.id,
            changed_as=_changed_as(db, actor, patient),
            changed_at=now,
            snapshot=_snapshot(entry, **extra),
        )
    )
    db.flush()


def _clean(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(field, f"Use at most {limit} characters.")
    return value or None


def _check_dates(started_on: date | None, stopped_on: date | None, today: date) -> None:
    for field, value in (("started_on", started_on), ("stopped_on", stopped_on)):
        if value is not None and value < EARLIEST:
            raise InvalidInput(field, f"Enter a date after {EARLIEST.year}.")
        if value is not None and value > today + LATEST_AHEAD:
            raise InvalidInput(field, "Enter a date within the next year.")
    if started_on is not None and stopped_on is not None and stopped_on < started_on:
        raise InvalidInput("stopped_on", "The stop date cannot be before the start date.")


def add_medicine(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    now: datetime,
    catalogue_id: str | None = None,
    name: str | None = None,
    dose: str | None = None,
    started_on: date | None = None,
    prescriber: str | None = None,
    source_ip: str | None = None,
) -> MedicineEntry:
    """Put a medicine on the list: a catalogue medicine (``catalogue_id``) or one named in free text."""
    patient = _open(db, actor, patient_id, Action.WRITE, now, source_ip)
    catalogue_id = _clean(catalogue_id, "catalogue_id", 40)
    free = _clean(name, "name", NAME_MAX)
    if catalogue_id is not None:
        if catalogue_id not in core.BY_ID:
            raise InvalidInput("catalogue_id", "Choose a medicine from the list, or type its name.")
        display = core.BY_ID[catalogue_id].name
    elif free is not None:
        display = free
    else:
        raise InvalidInput("catalogue_id", "Choose a medicine from the list, or type its name.")
    dose_text = _clean(dose, "dose", DOSE_MAX)
    who = _clean(prescriber, "prescriber", PRESCRIBER_MAX)
    _check_dates(started_on, None, now.date())
    entry = MedicineEntry(
        patient_id=patient.id,
        catalogue_id=catalogue_id,
        name=display,
        dose=dose_text,
        started_on=started_on,
        prescriber=who,
        entered_by_id=actor.id,
        entered_at=now,
        version=1,
        updated_by_id=actor.id,
        updated_at=now,
    )
    db.add(entry)
    db.flush()
    _log(db, entry, "added", actor, patient, now)
    return entry


_UNSET: Final[Any] = object()


def change_medicine(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    entry_id: int,
    now: datetime,
    dose: str | None = _UNSET,
    started_on: date | None = _UNSET,
    stopped_on: date | None = _UNSET,
    prescriber: str | None = _UNSET,
    source_ip: str | None = None,
) -> MedicineEntry:
    """Change an entry's dose, dates or prescriber (arguments left out stay as they are). Setting a stop date
    is logged as ``stopped``. A change that changes nothing writes nothing."""
    patient = _open(db, actor, patient_id, Action.WRITE, now, source_ip)
    entry = _entry_of(db, patient, entry_id)
    new: dict[str, Any] = {
        "dose": entry.dose if dose is _UNSET else _clean(dose, "dose", DOSE_MAX),
        "started_on": entry.started_on if started_on is _UNSET else started_on,
        "stopped_on": entry.stopped_on if stopped_on is _UNSET else stopped_on,
        "prescriber": entry.prescriber if prescriber is _UNSET else _clean(prescriber, "prescriber", PRESCRIBER_MAX),
    }
    _check_dates(new["started_on"], new["stopped_on"], now.date())
    if all(getattr(entry, k) == v for k, v in new.items()):
        return entry
    kind = "stopped" if entry.stopped_on is None and new["stopped_on"] is not None else "changed"
    for k, v in new.items():
        setattr(entry, k, v)
    entry.version += 1
    entry.updated_by_id = actor.id
    entry.updated_at = now
    db.flush()
    _log(db, entry, kind, actor, patient, now)
    return entry


def record_liver_test(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    entry_id: int,
    done_on: date,
    now: datetime,
    source_ip: str | None = None,
) -> MedicineLiverTest:
    """Mark "liver test (ALT) done on ``done_on``" on a medicine that needs them (riluzole)."""
    patient = _open(db, actor, patient_id, Action.WRITE, now, source_ip)
    entry = _entry_of(db, patient, entry_id)
    medicine = _listed(entry, ()).medicine()
    if medicine is None or medicine.monitoring != "riluzole_liver_tests":
        raise InvalidInput("done_on", "This medicine does not need liver tests.")
    if done_on > now.date():
        raise InvalidInput("done_on", "The test date cannot be in the future.")
    if done_on < EARLIEST:
        raise InvalidInput("done_on", f"Enter a date after {EARLIEST.year}.")
    test = MedicineLiverTest(
        entry_id=entry.id, patient_id=patient.id, done_on=done_on, recorded_by_id=actor.id, recorded_at=now
    )
    db.add(test)
    entry.version += 1
    entry.updated_by_id = actor.id
    entry.updated_at = now
    db.flush()
    _log(db, entry, "liver_test", actor, patient, now, liver_test_done_on=done_on.isoformat())
    return test

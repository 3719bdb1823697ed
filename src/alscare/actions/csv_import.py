"""Import ALSFRS-R assessments and measurements from CSV files (issue 13, item 3): check everything, then all
or nothing.

Files (UTF-8, comma-separated, a header row; column order free, names fixed):

- assessments: ``patient_id, assessed_on, administration_mode, item_1 … item_4, item_5a, item_5b, item_6 …
  item_12`` — one row per assessment; exactly one of ``item_5a``/``item_5b`` filled (the clinical core's rule).
- measurements: ``patient_id, measured_at, weight_kg, fvc_percent, snip_cmh2o, spo2_percent`` — at least one
  measurement per row; ``measured_at`` an ISO date (taken as noon UTC) or date and time with a zone.

``check_*`` lists every problem by row (the spreadsheet's row number: the header is row 1) and column, and
changes nothing: that is the dry run. ``commit_*`` refuses unless there is no problem, then adds every row in
the caller's transaction, in bulk. Each row's id is a digest of its content, so importing the same file twice
adds nothing the second time. Each import is one audit event naming every person it wrote to.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from alscare.actions.audit import record_event
from alscare.clinical import alsfrs_r
from alscare.clinical.errors import InvalidInput
from alscare.clinical.prompts import Measurements
from alscare.clinical.triage import WEIGHT_KG_MAX, WEIGHT_KG_MIN
from alscare.storage.models import AlsfrsAssessment, CheckIn, Patient, User

ITEM_COLUMNS: Final = tuple(f"item_{i}" for i in alsfrs_r.ITEM_IDS)
ASSESSMENT_COLUMNS: Final = ("patient_id", "assessed_on", "administration_mode", *ITEM_COLUMNS)
MEASUREMENT_VALUES: Final = ("weight_kg", "fvc_percent", "snip_cmh2o", "spo2_percent")
MEASUREMENT_COLUMNS: Final = ("patient_id", "measured_at", *MEASUREMENT_VALUES)
MODES: Final = frozenset(m.value for m in alsfrs_r.AdministrationMode)
EARLIEST: Final = date(1990, 1, 1)
_BATCH: Final = 5000


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Checked:
    """The outcome of checking a file: the rows ready to store, and every problem found."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_rows: int = 0
    already_stored: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(text: str, expected: Sequence[str], required: Sequence[str]) -> tuple[list[dict[str, str]], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    problems = [Problem(1, name, "unknown column") for name in header if name not in expected]
    problems += [Problem(1, name, "column is missing") for name in required if name not in header]
    if problems:
        return [], problems
    rows = []
    for raw in reader:
        if None in raw:
            problems.append(Problem(reader.line_num, "", "more cells than columns"))
            continue
        rows.append({k: (v or "").strip() for k, v in raw.items()})
    return rows, problems


def _day(value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date written YYYY-MM-DD") from None
    if day > today:
        raise ValueError("is in the future")
    if day < EARLIEST:
        raise ValueError(f"must be after {EARLIEST.year}")
    return day


def _moment(value: str, now: datetime) -> datetime:
    if len(value) == 10:
        return datetime.combine(_day(value, now.date()), time(12), tzinfo=UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD) or a date and time with a zone") from None
    if at.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-03-01T09:30:00+00:00")
    if at > now:
        raise ValueError("is in the future")
    return at.astimezone(UTC)


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(number):
        raise ValueError("must be a number")
    return number


def _digest(kind: str, row: dict[str, str], columns: Sequence[str]) -> str:
    canonical = "\x1f".join(row.get(c, "") for c in columns)
    return f"csv-{kind}-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _known_patients(db: Session, rows: list[dict[str, str]]) -> set[int]:
    ids = {int(r["patient_id"]) for r in rows if r["patient_id"].isdigit()}
    known: set[int] = set()
    listed = sorted(ids)
    for start in range(0, len(listed), _BATCH):
        chunk = listed[start : start + _BATCH]
        known.update(db.execute(select(Patient.id).where(Patient.id.in_(chunk))).scalars())
    return known


def _stored_ids(db: Session, model: Any, keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    client_ids = sorted({k[1] for k in keys})
    for start in range(0, len(client_ids), _BATCH):
        chunk = client_ids[start : start + _BATCH]
        found.update(
            (int(p), str(c))
            for p, c in db.execute(select(model.patient_id, model.client_id).where(model.client_id.in_(chunk)))
        )
    return found & keys


def _check(
    db: Session,
    text: str,
    *,
    kind: str,
    columns: Sequence[str],
    required: Sequence[str],
    parse: Callable[[dict[str, str], int, list[Problem]], dict[str, Any] | None],
    model: Any,
    progress: Callable[[int], None] | None,
) -> Checked:
    raw_rows, problems = _read(text, columns, required)
    checked = Checked(problems=problems, total_rows=len(raw_rows))
    if problems:
        return checked
    known = _known_patients(db, raw_rows)
    first_seen: dict[tuple[int, str], int] = {}
    for n, raw in enumerate(raw_rows, start=2):
        pid_text = raw["patient_id"]
        if not pid_text.isdigit() or int(pid_text) not in known:
            checked.problems.append(Problem(n, "patient_id", "no person with this id"))
        parsed = parse(raw, n, checked.problems)
        if parsed is not None and pid_text.isdigit() and int(pid_text) in known:
            key = (int(pid_text), _digest(kind, raw, columns))
            if key in first_seen:
                checked.problems.append(Problem(n, "", f"the same as row {first_seen[key]}"))
            else:
                first_seen[key] = n
                checked.rows.append({"patient_id": key[0], "client_id": key[1], **parsed})
        if progress is not None:
            progress(1)
    stored = _stored_ids(db, model, set(first_seen))
    if stored:
        checked.already_stored = len(stored)
        checked.rows = [r for r in checked.rows if (r["patient_id"], r["client_id"]) not in stored]
    return checked


def check_assessments(
    db: Session, text: str, *, now: datetime, progress: Callable[[int], None] | None = None
) -> Checked:
    """The dry run of an assessments file: every problem by row and column; nothing is written."""
    today = now.date()

    def parse(raw: dict[str, str], n: int, problems: list[Problem]) -> dict[str, Any] | None:
        before = len(problems)
        day: date | None = None
        try:
            day = _day(raw["assessed_on"], today)
        except ValueError as e:
            problems.append(Problem(n, "assessed_on", str(e)))
        mode = raw["administration_mode"]
        if mode not in MODES:
            problems.append(Problem(n, "administration_mode", f"must be one of {', '.join(sorted(MODES))}"))
        answers: dict[str, int] = {}
        for item_id, column in zip(alsfrs_r.ITEM_IDS, ITEM_COLUMNS, strict=True):
            value = raw.get(column, "")
            if value == "":
                continue
            if value not in ("0", "1", "2", "3", "4"):
                problems.append(Problem(n, column, "must be a whole number from 0 to 4"))
                continue
            answers[item_id] = int(value)
        if len(problems) == before:
            try:
                scored = alsfrs_r.Assessment.from_answers(answers)
            except InvalidInput as e:
                column = "item_" + e.field.removeprefix("items.") if e.field.startswith("items.") else "item_5a"
                problems.append(Problem(n, column, e.message))
                return None
            return {"assessed_on": day, "administration_mode": mode, "answers": answers, "total": scored.total}
        return None

    return _check(db, text, kind="alsfrs", columns=ASSESSMENT_COLUMNS, required=("patient_id", "assessed_on",
                  "administration_mode"), parse=parse, model=AlsfrsAssessment, progress=progress)  # fmt: skip


def check_measurements(
    db: Session, text: str, *, now: datetime, progress: Callable[[int], None] | None = None
) -> Checked:
    """The dry run of a measurements file: every problem by row and column; nothing is written."""

    def parse(raw: dict[str, str], n: int, problems: list[Problem]) -> dict[str, Any] | None:
        before = len(problems)
        at: datetime | None = None
        try:
            at = _moment(raw["measured_at"], now)
        except ValueError as e:
            problems.append(Problem(n, "measured_at", str(e)))
        values: dict[str, float] = {}
        for column in MEASUREMENT_VALUES:
            text_value = raw.get(column, "")
            if text_value == "":
                continue
            try:
                number = _number(text_value)
                if column == "weight_kg":
                    if not WEIGHT_KG_MIN <= number <= WEIGHT_KG_MAX:
                        raise ValueError(f"must be between {WEIGHT_KG_MIN:g} and {WEIGHT_KG_MAX:g} kg")
                else:
                    Measurements(**{column: number})
            except ValueError as e:
                problems.append(Problem(n, column, str(e)))
                continue
            except InvalidInput as e:
                problems.append(Problem(n, column, e.message))
                continue
            values[column] = number
        if not values and len(problems) == before:
            problems.append(Problem(n, "weight_kg", "the row holds no measurement"))
        if len(problems) != before:
            return None
        return {"submitted_at": at, **{c: values.get(c) for c in MEASUREMENT_VALUES}}

    return _check(db, text, kind="measure", columns=MEASUREMENT_COLUMNS, required=("patient_id", "measured_at"),
                  parse=parse, model=CheckIn, progress=progress)  # fmt: skip


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


def _audit(db: Session, *, now: datetime, by: User, resource: str, patient_ids: Iterable[int], rows: int) -> None:
    from alscare.storage.models.clinic_dashboard import AuditEventPatient

    ids = sorted(set(patient_ids))
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    event = record_event(db, now=now, actor_user_id=by.id, patient_id=None, action="write", resource=resource,
                         detail=f"rows={rows} people={len(ids)} sha256={digest}")  # fmt: skip
    for chunk in range(0, len(ids), _BATCH):
        db.execute(
            insert(cast(Table, AuditEventPatient.__table__)),
            [{"audit_event_id": event.id, "patient_id": i} for i in ids[chunk : chunk + _BATCH]],
        )


def _refuse_unless_ok(checked: Checked) -> None:
    if not checked.ok:
        first = checked.problems[0]
        raise InvalidInput(f"row {first.row}, {first.column or 'row'}", f"{first.message} ({len(checked.problems)} "
                           "problem(s) in all; run the dry run to list them)")  # fmt: skip


def commit_assessments(
    db: Session, checked: Checked, *, by: User, now: datetime, progress: Callable[[int], None] | None = None
) -> int:
    """Store every checked row (none if any problem); returns how many were added. The caller commits."""
    from alscare.actions.clinic_summary import refresh_summaries

    _refuse_unless_ok(checked)
    for chunk in _chunks(checked.rows):
        db.execute(
            insert(cast(Table, AlsfrsAssessment.__table__)),
            [{**r, "recorded_by_id": by.id, "recorded_at": now} for r in chunk],
        )
        if progress is not None:
            progress(len(chunk))
    people = {r["patient_id"] for r in checked.rows}
    _audit(db, now=now, by=by, resource="csv_import_alsfrs_r", patient_ids=people, rows=len(checked.rows))
    refresh_summaries(db, patient_ids=sorted(people), now=now)
    return len(checked.rows)


def commit_measurements(
    db: Session, checked: Checked, *, by: User, now: datetime, progress: Callable[[int], None] | None = None
) -> int:
    """Store each checked row as a measurement-only check-in (routine, no answers) entered by ``by``."""
    from alscare.actions.clinic_summary import refresh_summaries

    _refuse_unless_ok(checked)
    reporter = "clinician" if by.is_clinic_staff else "caregiver"
    for chunk in _chunks(checked.rows):
        db.execute(
            insert(cast(Table, CheckIn.__table__)),
            [
                {**r, "submitted_by_id": by.id, "reporter": reporter, "answers": {}, "body_map": {},
                 "question": None, "tier": "routine", "reasons": []}
                for r in chunk
            ],
        )  # fmt: skip
        if progress is not None:
            progress(len(chunk))
    people = {r["patient_id"] for r in checked.rows}
    _audit(db, now=now, by=by, resource="csv_import_measurements", patient_ids=people, rows=len(checked.rows))
    refresh_summaries(db, patient_ids=sorted(people), now=now)
    return len(checked.rows)

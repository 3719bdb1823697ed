"""Check-in schedules: how often a symptom check-in and an ALSFRS-R are due, what is overdue, and reminders.

A schedule is one row per person and kind (``check_in_schedules``); a person without a row has the default
interval, and the row is created only when someone changes the interval or a reminder is recorded. An item
is due ``interval_days`` after it was last done (the newest check-in's ``submitted_at``, or the newest
ALSFRS-R's ``recorded_at``), or after the record was created if it was never done.

Reminders go to the person's own e-mail through the outbox, at most one per due period (the outbox's
``dedupe_key`` names the due date), and say only that something is due, with a link: no clinical details.

Finding who to remind reads no one else (issue 11: it read everyone's check-ins every cycle). Every person
has one row per kind (made with the record, ``storage.models._schedule_new_person``), and each row's
``remind_at`` is when the reminder task next looks at it — never later than a reminder could fall due: the
due date when it is in the future, else the earliest moment the rule below could remind again. The task
takes the rows whose ``remind_at`` has passed (one indexed range, ``REMINDER_BATCH`` at a time), works out
their people's due dates exactly, reminds where due, and moves ``remind_at`` on. A check-in done early only
means one look that finds nothing; a changed interval sets ``remind_at`` to now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import exists, func, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.paging import PAGE_SIZE, Page, check_page, offset_of
from alscare.actions.records import open_record
from alscare.storage.models import (
    DEFAULT_SCHEDULE_DAYS,
    AlsfrsAssessment,
    CheckIn,
    CheckInSchedule,
    Patient,
    User,
)

__all__ = [
    "DEFAULT_INTERVAL_DAYS",
    "INTERVAL_MAX",
    "INTERVAL_MIN",
    "DueItem",
    "Kind",
    "OverdueItem",
    "due_status",
    "form_path",
    "overdue_for_clinic",
    "schedule_new_people",
    "send_due_reminders",
    "set_schedule",
    "view_schedule",
]


class Kind(StrEnum):
    """What a schedule is for (the ``kind`` column)."""

    SYMPTOM_CHECK_IN = "symptom_check_in"
    ALSFRS_R = "alsfrs_r"


# Our defaults, not from a guideline: a weekly symptom check-in catches new problems between clinic visits;
# a four-weekly ALSFRS-R matches how often self-report is usually collected in remote-monitoring studies.
DEFAULT_INTERVAL_DAYS: Final = {Kind(kind): days for kind, days in DEFAULT_SCHEDULE_DAYS.items()}
# Schedule rows one reminder run looks at; the next run (a couple of seconds later) takes the rest. Small, as
# a run holds the write lock on SQLite: after an upgrade or a bulk load, 100 rows are ~30-70 ms of it.
REMINDER_BATCH: Final = 100
# After reminding (or finding a due item already reminded), look again after at most this long: a check-in or
# ALSFRS-R recorded with an earlier date than today can move the next due date closer than a full interval.
RELOOK_AFTER: Final = timedelta(days=1)
INTERVAL_MIN: Final = 1
INTERVAL_MAX: Final = 365  # as the table's check constraint

RESOURCE: Final = "schedule"

# Where each kind is filled in. The check-in form is another page's; keep this in step with its route.
_FORM_PATHS: Final = {
    Kind.SYMPTOM_CHECK_IN: "/patients/{patient_id}/check-in",
    Kind.ALSFRS_R: "/patients/{patient_id}/alsfrs-r/new",
}

# The reminder says only that something is due (decision 0001, privacy): no names, symptoms or scores.
REMINDER_SUBJECT: Final = "A reminder from alscare"
REMINDER_WHAT: Final = {
    Kind.SYMPTOM_CHECK_IN: "your regular check-in",
    Kind.ALSFRS_R: "your questions about daily activities",
}
REMINDER_BODY: Final = (
    "It is time for {what} in alscare.\n\n"
    "Sign in to fill it in:\n{link}\n\n"
    "You can change how often you are reminded here:\n{schedule_link}\n"
)


@dataclass(frozen=True)
class DueItem:
    """When one kind of check-in was last done and when it is next due. Overdue once ``due_at`` has passed."""

    kind: Kind
    interval_days: int
    last_done_at: datetime | None
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class OverdueItem:
    """A person of the clinic whose check-in is overdue, and by how long."""

    patient_id: int
    full_name: str
    kind: Kind
    last_done_at: datetime | None
    due_at: datetime
    overdue_by: timedelta


def form_path(kind: Kind, patient_id: int) -> str:
    """The page where ``kind`` is filled in for this person."""
    return _FORM_PATHS[kind].format(patient_id=patient_id)


def _kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise InvalidInput("kind", f"Choose one of: {', '.join(k.value for k in Kind)}.") from None


def _interval(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not INTERVAL_MIN <= value <= INTERVAL_MAX:
        raise InvalidInput(
            "interval_days", f"Enter a whole number of days from {INTERVAL_MIN} to {INTERVAL_MAX}, got {value!r}."
        )
    return value


# --- Reading -------------------------------------------------------------------------------------------


def _rows(db: Session, patient_ids: Iterable[int] | None) -> dict[tuple[int, Kind], CheckInSchedule]:
    query = select(CheckInSchedule)
    if patient_ids is not None:
        query = query.where(CheckInSchedule.patient_id.in_(list(patient_ids)))
    return {(r.patient_id, Kind(r.kind)): r for r in db.execute(query).scalars()}


def _last_done(db: Session, patient_ids: Iterable[int] | None) -> dict[tuple[int, Kind], datetime]:
    ids = list(patient_ids) if patient_ids is not None else None
    found: dict[tuple[int, Kind], datetime] = {}
    for kind, column, pid in (
        (Kind.SYMPTOM_CHECK_IN, CheckIn.submitted_at, CheckIn.patient_id),
        (Kind.ALSFRS_R, AlsfrsAssessment.recorded_at, AlsfrsAssessment.patient_id),
    ):
        query = select(pid, func.max(column)).group_by(pid)
        if ids is not None:
            query = query.where(pid.in_(ids))
        for patient_id, newest in db.execute(query):
            if newest is not None:
                found[(patient_id, kind)] = newest
    return found


def _statuses(
    db: Session, patients: list[Patient], now: datetime, *, all_patients: bool = False
) -> dict[int, list[DueItem]]:
    """Due items for many people in three queries (the reminder loop runs every few seconds)."""
    ids = None if all_patients else [p.id for p in patients]
    rows = _rows(db, ids)
    done = _last_done(db, ids)
    result: dict[int, list[DueItem]] = {}
    for patient in patients:
        items = []
        for kind in Kind:
            row = rows.get((patient.id, kind))
            interval = row.interval_days if row is not None else DEFAULT_INTERVAL_DAYS[kind]
            last = done.get((patient.id, kind))
            due_at = (last or patient.created_at) + timedelta(days=interval)
            items.append(DueItem(kind, interval, last, due_at, overdue=now >= due_at))
        result[patient.id] = items
    return result


def due_status(db: Session, *, patient_id: int, now: datetime) -> list[DueItem]:
    """What is due for one person, one item per kind. Not audited: call ``view_schedule`` for a user."""
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise NotFound("record not found")
    return _statuses(db, [patient], now)[patient.id]


def view_schedule(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> list[DueItem]:
    """``due_status`` for someone who may read the person's check-ins (audited)."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    return _statuses(db, [patient], now)[patient.id]


# --- Changing ------------------------------------------------------------------------------------------


def _row_for(db: Session, patient_id: int, kind: Kind) -> CheckInSchedule:
    """The schedule row, created with the default interval if there is none yet (race-safe)."""
    query = select(CheckInSchedule).where(CheckInSchedule.patient_id == patient_id, CheckInSchedule.kind == kind)
    row = db.execute(query).scalar_one_or_none()
    if row is not None:
        return row
    row = CheckInSchedule(patient_id=patient_id, kind=kind.value, interval_days=DEFAULT_INTERVAL_DAYS[kind])
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        return db.execute(query).scalar_one()
    return row


def set_schedule(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    kind: str,
    interval_days: object,
    now: datetime,
    source_ip: str | None = None,
) -> DueItem:
    """Change how often ``kind`` is due for this person (1-365 days). Anyone who may add check-ins may."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    which = _kind(kind)
    days = _interval(interval_days)
    row = _row_for(db, patient.id, which)
    row.interval_days = days
    row.remind_at = now  # the due date may have moved either way: the reminder task looks again now
    db.flush()
    return next(item for item in _statuses(db, [patient], now)[patient.id] if item.kind is which)


# --- The clinic's view ---------------------------------------------------------------------------------


def overdue_for_clinic(
    db: Session,
    *,
    actor: User,
    now: datetime,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    source_ip: str | None = None,
) -> Page[OverdueItem]:
    """One page of what is overdue for people who share their check-ins with the actor's clinic, longest
    overdue first (then by name and kind), and the total.

    For clinicians only (anyone else: ``NotFound``). Read from the stored due dates (``patient_summaries``,
    kept fresh in the transaction that changes a person's check-ins, assessments or schedule; the same rule
    as ``due_status``), with access decided for the whole list in one subquery: three statements whatever the
    clinic's size, and one audit event naming the people shown (``audit.record_list_view``).
    """
    from alscare.actions.audit import record_list_view
    from alscare.actions.clinic_dashboard import visible_patient_ids
    from alscare.storage.models.clinic_dashboard import PatientSummary

    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("page not found")
    check_page(page)
    s = PatientSummary
    visible = s.patient_id.in_(visible_patient_ids(actor.clinic_id))
    late = union_all(
        *(
            select(
                s.patient_id.label("patient_id"),
                Patient.full_name.label("full_name"),
                literal(kind.value).label("kind"),
                due.label("due_at"),
            )
            .join(Patient, Patient.id == s.patient_id)
            .where(visible, due <= now)
            for kind, due in ((Kind.SYMPTOM_CHECK_IN, s.symptom_due_at), (Kind.ALSFRS_R, s.alsfrs_due_at))
        )
    ).subquery()
    total = db.execute(select(func.count()).select_from(late)).scalar_one()
    rows = db.execute(
        select(late.c.patient_id, late.c.full_name, late.c.kind, late.c.due_at)
        .order_by(late.c.due_at, late.c.full_name, late.c.kind, late.c.patient_id)
        .limit(page_size)
        .offset(offset_of(page, page_size))
    ).all()
    ids = sorted({r.patient_id for r in rows})
    # When each was last done, for this page's people only (one statement): the newest check-in is stored in
    # the summary; the ALSFRS-R due date counts from when the newest one was recorded.
    done: dict[tuple[int, Kind], datetime] = {}
    if ids:
        recorded = (
            select(AlsfrsAssessment.patient_id, func.max(AlsfrsAssessment.recorded_at).label("at"))
            .where(AlsfrsAssessment.patient_id.in_(ids))
            .group_by(AlsfrsAssessment.patient_id)
            .subquery()
        )
        for pid, checked_in, assessed in db.execute(
            select(s.patient_id, s.last_check_in_at, recorded.c.at)
            .outerjoin(recorded, recorded.c.patient_id == s.patient_id)
            .where(s.patient_id.in_(ids))
        ):
            if checked_in is not None:
                done[(pid, Kind.SYMPTOM_CHECK_IN)] = checked_in
            if assessed is not None:
                done[(pid, Kind.ALSFRS_R)] = _aware(assessed)
    items = [
        OverdueItem(
            r.patient_id, r.full_name, Kind(r.kind), done.get((r.patient_id, Kind(r.kind))), r.due_at, now - r.due_at
        )
        for r in rows
    ]
    record_list_view(db, now=now, actor_user_id=actor.id, resource="overdue", patient_ids=ids, source_ip=source_ip)
    return Page(items=items, total=int(total), page=page, page_size=page_size)


def _aware(value: datetime) -> datetime:
    """Aggregates may lose the column's time zone on SQLite: always hand back an aware UTC time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- Reminders -----------------------------------------------------------------------------------------


def _needs_reminder(item: DueItem, last_reminded_at: datetime | None, now: datetime) -> bool:
    """Due, and not reminded yet in this due period nor within the last interval."""
    if not item.overdue:
        return False
    if last_reminded_at is None:
        return True
    return last_reminded_at < item.due_at and now - last_reminded_at >= timedelta(days=item.interval_days)


def _next_look(item: DueItem, last_reminded_at: datetime | None, now: datetime) -> datetime:
    """When the reminder task has to look at this item again: the earliest a reminder could fall due.

    Not due yet: its due date (a check-in done meanwhile only moves it later). Due but reminded in an earlier
    period too recently: when that interval is over. Reminded for this period (or just now): the next
    reminder needs a new due date, which a check-in or assessment makes; look again in a day at the latest,
    as one recorded with a past date can make it sooner than a full interval.
    """
    if not item.overdue:
        return item.due_at
    if last_reminded_at is not None and last_reminded_at < item.due_at:
        return max(now, last_reminded_at + timedelta(days=item.interval_days))
    return now + min(RELOOK_AFTER, timedelta(days=item.interval_days))


def send_due_reminders(db: Session, *, now: datetime, base_url: str, batch: int = REMINDER_BATCH) -> int:
    """Queue one reminder e-mail to each person for each item that is due and not yet reminded about.

    Only people with an active account of their own get one. Returns how many e-mails were queued. Runs in the
    caller's transaction (the delivery worker commits); calling it again queues nothing new. Reads only the
    schedules whose ``remind_at`` has passed (at most ``batch``) and those people's latest check-ins, so its
    statements do not grow with the number of people.
    """
    from alscare.delivery.outbox import enqueue_email  # written separately; imported when first needed

    found = list(
        db.execute(
            select(CheckInSchedule, Patient, User.email, User.is_active)
            .join(Patient, CheckInSchedule.patient_id == Patient.id)
            .outerjoin(User, Patient.user_id == User.id)
            .where(CheckInSchedule.remind_at <= now)
            .order_by(CheckInSchedule.remind_at, CheckInSchedule.id)
            .limit(batch)
        )
    )
    if not found:
        return 0
    patients = list({patient.id: patient for _, patient, _, _ in found}.values())
    statuses = _statuses(db, patients, now)
    base = base_url.rstrip("/")
    queued = 0
    for row, patient, email, active in found:
        item = next(i for i in statuses[patient.id] if i.kind.value == row.kind)
        if email is not None and active and _needs_reminder(item, row.last_reminded_at, now):
            body = REMINDER_BODY.format(
                what=REMINDER_WHAT[item.kind],
                link=base + form_path(item.kind, patient.id),
                schedule_link=f"{base}/patients/{patient.id}/schedule",
            )
            created = enqueue_email(
                db,
                kind="reminder",
                to=email,
                subject=REMINDER_SUBJECT,
                body=body,
                dedupe_key=f"reminder:{patient.id}:{item.kind.value}:{item.due_at.date().isoformat()}",
                now=now,
            )
            queued += created is not None
            row.last_reminded_at = now
        row.remind_at = _next_look(item, row.last_reminded_at, now)
    db.flush()
    return queued


def schedule_new_people(db: Session, *, now: datetime) -> int:
    """Add the schedule rows a person lacks (a record older than migration 0018, a bulk load), looked at now.

    Records made through the models get theirs when they are made; this is the safety net, run by the worker
    every few minutes (one INSERT … SELECT per kind, an index probe per person). Returns how many rows it added.
    """
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = 0
    for kind, days in DEFAULT_INTERVAL_DAYS.items():
        has_row = exists().where(CheckInSchedule.patient_id == Patient.id, CheckInSchedule.kind == kind.value)
        missing = select(
            Patient.id,
            literal(kind.value),
            literal(days),
            literal(now, CheckInSchedule.remind_at.type),
        ).where(~has_row)
        stmt = (
            insert(CheckInSchedule)
            .from_select(["patient_id", "kind", "interval_days", "remind_at"], missing)
            .on_conflict_do_nothing(index_elements=[CheckInSchedule.patient_id, CheckInSchedule.kind])
            .returning(CheckInSchedule.id)
        )
        added += len(db.execute(stmt).all())
    return added

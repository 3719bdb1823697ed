"""Rehabilitation programmes: a therapist assigns, the person or carer logs, both see adherence by week.

Access (decision, docs/sources.md "Rehabilitation"): a programme and its logs are part of the record's
*check-ins* scope — they are self-reported activity, like check-ins and ALSFRS-R self-reports — so the
person, their proxy, carers granted check-ins and the clinic granted check-ins (or the full record) may read
them and log sessions. Only clinic staff with the clinician role assign or stop a programme. Every read and
write goes through ``open_record`` (audited); the clinic list audits one read per person listed, in bulk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.audit import record_list_view
from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.actions.messages import MESSAGE_SCOPES
from alscare.actions.records import open_record
from alscare.clinical import rehabilitation as core
from alscare.storage.models import ConsentGrant, Patient, User
from alscare.storage.models.rehabilitation import ExerciseLog, ProgrammeExercise, RehabProgramme

RESOURCE = "rehabilitation"
NOTE_MAX_CHARS = 2000
WEEKS_SHOWN = 12
RECENT_LOGS_SHOWN = 20
PAGE_SIZE = 50


def programme_path(patient_id: int) -> str:
    return f"/patients/{patient_id}/programme"


def _open(
    db: Session, *, actor: User, patient_id: int, action: Action, now: datetime, source_ip: str | None
) -> Patient:
    return open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=action,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )


def _require_clinician(actor: User) -> None:
    if actor.role != "clinician":
        raise PermissionDenied("Only clinic staff assign or stop a programme.")


def active_programme(db: Session, *, patient_id: int) -> RehabProgramme | None:
    return db.execute(
        select(RehabProgramme)
        .where(RehabProgramme.patient_id == patient_id, RehabProgramme.stopped_at.is_(None))
        .order_by(RehabProgramme.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _latest_programme(db: Session, *, patient_id: int) -> RehabProgramme | None:
    return db.execute(
        select(RehabProgramme)
        .where(RehabProgramme.patient_id == patient_id)
        .order_by(RehabProgramme.stopped_at.is_not(None), RehabProgramme.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- Writing ---------------------------------------------------------------------------------------


def _plan(exercises: Mapping[str, object]) -> list[tuple[str, int]]:
    if not exercises:
        raise InvalidInput("exercises", "Choose at least one exercise.")
    plan: list[tuple[str, int]] = []
    for exercise_id, times in exercises.items():
        core.exercise(exercise_id)  # unknown id: InvalidInput("exercise_id")
        if isinstance(times, bool) or not isinstance(times, int):
            raise InvalidInput(f"times_per_week.{exercise_id}", "Enter how many times a week, as a whole number.")
        if not core.TIMES_PER_WEEK_MIN <= times <= core.TIMES_PER_WEEK_MAX:
            raise InvalidInput(
                f"times_per_week.{exercise_id}",
                f"Choose from {core.TIMES_PER_WEEK_MIN} to {core.TIMES_PER_WEEK_MAX} times a week.",
            )
        plan.append((exercise_id, times))
    order = {eid: i for i, eid in enumerate(core.EXERCISE_IDS)}
    return sorted(plan, key=lambda p: order[p[0]])


def assign_programme(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    exercises: Mapping[str, object],
    now: datetime,
    starts_on: date | None = None,
    note: str | None = None,
    source_ip: str | None = None,
) -> RehabProgramme:
    """Give the person a programme: exercise id -> sessions per week. Replaces (stops) any active programme,
    keeping it and its logs as history. Clinicians only; nothing is stored when anything is refused."""
    _open(db, actor=actor, patient_id=patient_id, action=Action.WRITE, now=now, source_ip=source_ip)
    _require_clinician(actor)
    plan = _plan(exercises)
    start = starts_on or now.date()
    if abs((start - now.date()).days) > 31:
        raise InvalidInput("starts_on", "Start the programme within a month of today.")
    text = (note or "").strip()
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidInput("note", f"Use at most {NOTE_MAX_CHARS:,} characters.")
    current = active_programme(db, patient_id=patient_id)
    if current is not None:
        current.stopped_at = now
        current.stopped_by_id = actor.id
    programme = RehabProgramme(
        patient_id=patient_id,
        assigned_by_id=actor.id,
        assigned_at=now,
        starts_on=start,
        note=text or None,
        exercises=[
            ProgrammeExercise(exercise_id=eid, times_per_week=times, position=i) for i, (eid, times) in enumerate(plan)
        ],
    )
    db.add(programme)
    db.flush()
    return programme


def stop_programme(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> RehabProgramme:
    """End the active programme (clinicians only). Its weeks and logs stay visible as history."""
    _open(db, actor=actor, patient_id=patient_id, action=Action.WRITE, now=now, source_ip=source_ip)
    _require_clinician(actor)
    current = active_programme(db, patient_id=patient_id)
    if current is None:
        raise InvalidInput("programme", "There is no active programme to stop.")
    current.stopped_at = now
    current.stopped_by_id = actor.id
    db.flush()
    return current


def log_session(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    exercise_id: str,
    outcome: str,
    tiring: int | None,
    done_on: date,
    client_id: str,
    now: datetime,
    source_ip: str | None = None,
) -> ExerciseLog:
    """Record one session of the active programme, done or skipped, and how tiring it was (0-10; asked for a
    session done, optional for one skipped). Idempotent on ``client_id``: a retried submit returns the stored
    row. Refused, naming the field, for an exercise not in the programme, a date in the future or before the
    programme began, or a tiring score outside 0-10."""
    _open(db, actor=actor, patient_id=patient_id, action=Action.WRITE, now=now, source_ip=source_ip)
    if not 0 < len(client_id) <= 64:
        raise InvalidInput("client_id", "The form's id must be 1 to 64 characters.")
    stored = db.execute(
        select(ExerciseLog).where(ExerciseLog.patient_id == patient_id, ExerciseLog.client_id == client_id)
    ).scalar_one_or_none()
    if stored is not None:
        return stored
    programme = active_programme(db, patient_id=patient_id)
    if programme is None:
        raise InvalidInput("exercise_id", "There is no exercise programme yet. Your therapist sets one up.")
    if exercise_id not in {e.exercise_id for e in programme.exercises}:
        raise InvalidInput("exercise_id", "Choose one of the exercises in your programme.")
    try:
        result = core.Outcome(outcome)
    except ValueError:
        raise InvalidInput("outcome", "Choose done or skipped.") from None
    if tiring is not None and not core.TIRING_MIN <= tiring <= core.TIRING_MAX:
        raise InvalidInput("tiring", f"Choose a number from {core.TIRING_MIN} to {core.TIRING_MAX}.")
    if result is core.Outcome.DONE and tiring is None:
        raise InvalidInput("tiring", "Say how tiring it was, from 0 (not at all) to 10 (worn out).")
    if done_on > now.date():
        raise InvalidInput("done_on", "The date cannot be in the future.")
    if done_on < programme.starts_on:
        raise InvalidInput("done_on", f"The programme began on {programme.starts_on:%-d %B %Y}: choose a later date.")
    row = ExerciseLog(
        programme_id=programme.id,
        patient_id=patient_id,
        exercise_id=exercise_id,
        done_on=done_on,
        outcome=result.value,
        tiring=tiring,
        logged_by_id=actor.id,
        logged_at=now,
        client_id=client_id,
    )
    db.add(row)
    db.flush()
    return row


# --- Reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedView:
    exercise: core.Exercise
    times_per_week: int


@dataclass(frozen=True)
class ProgrammeView:
    """What the person's programme page shows, to the person, their carers and the therapist alike."""

    patient: Patient
    programme: RehabProgramme | None
    planned: tuple[PlannedView, ...]
    weeks: tuple[core.WeekAdherence, ...]  # newest first, at most WEEKS_SHOWN
    recent: tuple[ExerciseLog, ...]  # newest first
    last_log_on: date | None
    may_assign: bool

    @property
    def active(self) -> bool:
        return self.programme is not None and self.programme.stopped_at is None

    @property
    def too_tiring(self) -> tuple[ExerciseLog, ...]:
        return tuple(r for r in self.recent if core.too_tiring(r.tiring))


def view_programme(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> ProgrammeView:
    """The active programme (or the latest stopped one), its weekly adherence and the latest logs."""
    patient = _open(db, actor=actor, patient_id=patient_id, action=Action.READ, now=now, source_ip=source_ip)
    programme = _latest_programme(db, patient_id=patient_id)
    if programme is None:
        return ProgrammeView(patient, None, (), (), (), None, actor.role == "clinician")
    logs = list(
        db.execute(
            select(ExerciseLog)
            .where(ExerciseLog.programme_id == programme.id)
            .order_by(ExerciseLog.done_on.desc(), ExerciseLog.id.desc())
        ).scalars()
    )
    planned = tuple(PlannedView(core.exercise(e.exercise_id), e.times_per_week) for e in programme.exercises)
    weeks = core.weekly_adherence(
        plan=[core.PlannedExercise(e.exercise_id, e.times_per_week) for e in programme.exercises],
        starts_on=programme.starts_on,
        stopped_on=programme.stopped_at.date() if programme.stopped_at else None,
        logs=[core.LoggedSession(r.done_on, r.exercise_id, core.Outcome(r.outcome)) for r in logs],
        today=now.date(),
    )
    return ProgrammeView(
        patient=patient,
        programme=programme,
        planned=planned,
        weeks=tuple(reversed(weeks[-WEEKS_SHOWN:])),
        recent=tuple(logs[:RECENT_LOGS_SHOWN]),
        last_log_on=logs[0].done_on if logs else None,
        may_assign=actor.role == "clinician",
    )


# --- The clinic's list of people who may have stopped ---------------------------------------------------


@dataclass(frozen=True)
class StoppedRow:
    patient_id: int
    full_name: str
    programme_id: int
    starts_on: date
    last_log_on: date | None
    quiet_days: int  # days since the last log, or since the start when nothing was ever logged


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    page: int
    has_next: bool


def shared_with_clinic(clinic_id: int) -> object:
    """Patient ids that share check-ins (or the full record, or act-for-me) with this clinic."""
    return select(ConsentGrant.patient_id).where(
        ConsentGrant.grantee_clinic_id == clinic_id,
        ConsentGrant.scope.in_(MESSAGE_SCOPES),
        ConsentGrant.revoked_at.is_(None),
    )


def stopped_for_clinic(
    db: Session, *, actor: User, now: datetime, page: int = 1, source_ip: str | None = None
) -> Page[StoppedRow]:
    """Active programmes of people sharing check-ins with the clinician's clinic with no log (done or skipped)
    for ``STOPPED_AFTER_DAYS`` days or more — or none since the start that long ago — quietest first.

    A fixed number of statements whatever the number of people (the list, one audit event naming them), paged by
    ``PAGE_SIZE``. Clinicians only; anyone else gets ``NotFound``.
    """
    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("Page not found")
    page = max(1, page)
    cutoff = now.date() - timedelta(days=core.STOPPED_AFTER_DAYS)
    last_log = (
        select(ExerciseLog.programme_id, func.max(ExerciseLog.done_on).label("last_on"))
        .group_by(ExerciseLog.programme_id)
        .subquery()
    )
    quiet_since = func.coalesce(last_log.c.last_on, RehabProgramme.starts_on)
    rows = db.execute(
        select(Patient.id, Patient.full_name, RehabProgramme.id, RehabProgramme.starts_on, last_log.c.last_on)
        .join(RehabProgramme, RehabProgramme.patient_id == Patient.id)
        .outerjoin(last_log, last_log.c.programme_id == RehabProgramme.id)
        .where(
            RehabProgramme.stopped_at.is_(None),
            Patient.id.in_(shared_with_clinic(actor.clinic_id)),  # type: ignore[arg-type]
            quiet_since <= cutoff,
        )
        .order_by(quiet_since, Patient.full_name, Patient.id)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    found = tuple(
        StoppedRow(pid, name, prog_id, starts, last_on, (now.date() - (last_on or starts)).days)
        for pid, name, prog_id, starts, last_on in rows[:PAGE_SIZE]
    )
    # One audit event for the page view, naming every person shown (actions.audit.record_list_view).
    record_list_view(
        db,
        now=now,
        actor_user_id=actor.id,
        resource=f"{RESOURCE}_list",
        patient_ids=[r.patient_id for r in found],
        source_ip=source_ip,
    )
    return Page(found, page, len(rows) > PAGE_SIZE)


def exercise_choices() -> Sequence[core.Exercise]:
    return core.EXERCISES

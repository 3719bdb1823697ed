"""Reading a person's timeline: scores, measurements and check-ins over time (issue 8), and the visit summary.

One action per read, each opening the record through ``open_record`` (so it is audited and follows consent):
the profile for the page itself, the ``checkins`` scope for scores and check-ins. Whoever may not see check-ins
gets the page without them.

The number of SQL statements does not grow with the length of the history: the assessments in one query, the
measurement and body-map columns of every check-in in one, one page of check-ins and their count in two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.audit import record_event
from alscare.actions.records import may, open_record
from alscare.storage.models import Alert, AlsfrsAssessment, CheckIn, Message, Patient, User

CHECK_INS_PER_PAGE: Final = 20
# The visit summary lists at most this many of the person's messages since the last visit.
QUESTIONS_MAX: Final = 50


@dataclass(frozen=True)
class CheckInPoint:
    """The columns of one check-in that the charts and the body-map grid need (not its whole answers)."""

    id: int
    submitted_at: datetime
    reporter: str
    weight_kg: float | None
    usual_weight_kg: float | None
    fvc_percent: float | None
    snip_cmh2o: float | None
    body_map: dict[str, list[str]]


@dataclass(frozen=True)
class Timeline:
    """What the timeline shows. ``assessments`` and the check-in fields are None when not shared."""

    patient: Patient
    assessments: list[AlsfrsAssessment] | None
    points: list[CheckInPoint] | None
    check_ins: list[CheckIn] | None
    check_in_count: int
    page: int
    pages: int


def _points(db: Session, patient_id: int) -> list[CheckInPoint]:
    usual = CheckIn.answers["usual_weight_kg"]
    rows = db.execute(
        select(
            CheckIn.id,
            CheckIn.submitted_at,
            CheckIn.reporter,
            CheckIn.weight_kg,
            usual.as_float(),
            CheckIn.fvc_percent,
            CheckIn.snip_cmh2o,
            CheckIn.body_map,
        )
        .where(CheckIn.patient_id == patient_id)
        .order_by(CheckIn.submitted_at, CheckIn.id)
    ).all()
    return [CheckInPoint(*row) for row in rows]


def timeline_of(
    db: Session, *, actor: User, patient_id: int, now: datetime, page: int = 1, source_ip: str | None = None
) -> Timeline:
    """The person's timeline: every assessment, every check-in's measurements, one page of check-ins."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.PROFILE,
        action=Action.READ,
        now=now,
        resource="timeline",
        source_ip=source_ip,
    )
    if not may(db, user=actor, patient=patient, scope=Scope.CHECKINS):
        return Timeline(patient, None, None, None, 0, 1, 1)
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource="timeline",
        source_ip=source_ip,
    )
    assessments = list(
        db.execute(
            select(AlsfrsAssessment)
            .where(AlsfrsAssessment.patient_id == patient_id)
            .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
        ).scalars()
    )
    points = _points(db, patient_id)
    count = len(points)
    pages = max(1, -(-count // CHECK_INS_PER_PAGE))
    page = min(max(page, 1), pages)
    check_ins = list(
        db.execute(
            select(CheckIn)
            .where(CheckIn.patient_id == patient_id)
            .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
            .limit(CHECK_INS_PER_PAGE)
            .offset((page - 1) * CHECK_INS_PER_PAGE)
        ).scalars()
    )
    return Timeline(patient, assessments, points, check_ins, count, page, pages)


# --- The visit summary ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitSummary:
    timeline: Timeline
    open_alerts: list[Alert]
    questions: list[Message]
    since: datetime | None


def visit_summary_of(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> VisitSummary:
    """What the visit summary PDF holds: the timeline, open alerts, and the person's messages since the last visit.

    "The last visit" is the latest clinician-taken ALSFRS-R (in person or by phone) before today; with none,
    every message is a question since the last visit. Messages are the person's side of the conversation.
    """
    # The summary is drawn from check-ins and scores (with the alerts and messages that go with them): whoever
    # may not read them is refused here, on the audit trail, before anything is read.
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource="visit_summary",
        source_ip=source_ip,
    )
    timeline = timeline_of(db, actor=actor, patient_id=patient_id, now=now, source_ip=source_ip)
    if timeline.assessments is None:  # a grant revoked between the two reads
        return VisitSummary(timeline, [], [], None)
    visits = [
        a.recorded_at
        for a in timeline.assessments
        if a.administration_mode.startswith("clinician") and a.assessed_on < now.date()
    ]
    since = max(visits, default=None)
    alerts = list(
        db.execute(
            select(Alert)
            .where(Alert.patient_id == patient_id, Alert.status != "resolved")
            .order_by(Alert.created_at, Alert.id)
        ).scalars()
    )
    query = select(Message).where(Message.patient_id == patient_id, Message.from_clinic.is_(False))
    if since is not None:
        query = query.where(Message.created_at > since)
    questions = list(db.execute(query.order_by(Message.created_at, Message.id).limit(QUESTIONS_MAX)).scalars())
    if questions:  # messages are read under the check-ins scope, like the conversation page
        record_event(
            db,
            now=now,
            actor_user_id=actor.id,
            patient_id=patient_id,
            action="read",
            resource="message",
            source_ip=source_ip,
        )
    return VisitSummary(timeline, alerts, questions, since)

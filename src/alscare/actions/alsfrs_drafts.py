"""ALSFRS-R self-report in progress: one answer at a time, saved at once, submitted once.

A draft belongs to the person who started it (the person with ALS, or a caregiver answering for them) and
to one record. Every answer is stored the moment it is given, so leaving and coming back loses nothing.
Submitting turns the draft into an assessment through ``record_alsfrs_assessment`` with the draft's own
``client_id``, so a double submit or a retry stores one assessment (decision 0001).

Every function opens the record through ``open_record`` (scope check-ins and scores), so each one is
audited and refused alike for a record that is missing or not shared.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.assessments import record_alsfrs_assessment
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import open_record
from alscare.clinical.alsfrs_r import (
    GASTROSTOMY_ITEM,
    ITEM_IDS,
    NO_GASTROSTOMY_ITEM,
    SCORE_MAX,
    SCORE_MIN,
    AdministrationMode,
    item,
)
from alscare.storage.models import AlsfrsAssessment, AlsfrsDraft, Patient, User

__all__ = [
    "QUESTION_COUNT",
    "SELF_REPORT_MODES",
    "AssessmentResult",
    "assessment_result",
    "change_setup",
    "draft_item_ids",
    "draft_of",
    "resumable_draft",
    "save_answer",
    "start_draft",
    "submit_draft",
]

QUESTION_COUNT = 12
# Who can fill in the questionnaire screen by screen; clinicians score it on the clinic form instead.
SELF_REPORT_MODES: tuple[AdministrationMode, ...] = (AdministrationMode.SELF_REPORT, AdministrationMode.CAREGIVER)
# ALSFRS-R asks about function now; a draft left for longer than this is not offered to continue, because
# its early answers may no longer describe today. Our choice, not from a source.
RESUME_WITHIN = timedelta(days=7)

RESOURCE = "alsfrs_r_draft"


def draft_item_ids(gastrostomy: bool) -> tuple[str, ...]:
    """The twelve items this draft asks, in order: question 5 is 5b with a feeding tube, else 5a."""
    skip = NO_GASTROSTOMY_ITEM if gastrostomy else GASTROSTOMY_ITEM
    return tuple(i for i in ITEM_IDS if i != skip)


def _open(db: Session, actor: User, patient_id: int, now: datetime, source_ip: str | None) -> Patient:
    return open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )


def _mode(value: str) -> AdministrationMode:
    if value not in {m.value for m in SELF_REPORT_MODES}:
        raise InvalidInput("administration_mode", "Choose who is answering the questions.")
    return AdministrationMode(value)


def _client_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput("client_id", "The form has expired. Go back to the start and try again.") from None


def start_draft(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    administration_mode: str,
    gastrostomy: bool,
    now: datetime,
    client_id: str | None = None,
    source_ip: str | None = None,
) -> AlsfrsDraft:
    """Start a draft. ``client_id`` is the start form's own id (a UUID): posting the same form twice gives
    back the same draft. Without it a fresh UUID is made."""
    patient = _open(db, actor, patient_id, now, source_ip)
    mode = _mode(administration_mode)
    cid = _client_id(client_id) if client_id is not None else str(uuid.uuid4())
    existing = _by_client_id(db, patient.id, cid)
    if existing is not None:
        if existing.started_by_id != actor.id:
            raise InvalidInput("client_id", "The form has expired. Go back to the start and try again.")
        return existing
    draft = AlsfrsDraft(
        patient_id=patient.id,
        client_id=cid,
        started_by_id=actor.id,
        administration_mode=mode.value,
        gastrostomy=gastrostomy,
        answers={},
        started_at=now,
        updated_at=now,
    )
    try:
        with db.begin_nested():
            db.add(draft)
    except IntegrityError:
        raced = _by_client_id(db, patient.id, cid)
        if raced is None or raced.started_by_id != actor.id:
            raise
        return raced
    return draft


def _by_client_id(db: Session, patient_id: int, client_id: str) -> AlsfrsDraft | None:
    return db.execute(
        select(AlsfrsDraft).where(AlsfrsDraft.patient_id == patient_id, AlsfrsDraft.client_id == client_id)
    ).scalar_one_or_none()


def resumable_draft(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> AlsfrsDraft | None:
    """The newest unsent draft this actor started for this record within ``RESUME_WITHIN``, if any."""
    _open(db, actor, patient_id, now, source_ip)
    return db.execute(
        select(AlsfrsDraft)
        .where(
            AlsfrsDraft.patient_id == patient_id,
            AlsfrsDraft.started_by_id == actor.id,
            AlsfrsDraft.submitted_assessment_id.is_(None),
            AlsfrsDraft.updated_at >= now - RESUME_WITHIN,
        )
        .order_by(AlsfrsDraft.updated_at.desc(), AlsfrsDraft.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def draft_of(
    db: Session, *, actor: User, patient_id: int, draft_id: int, now: datetime, source_ip: str | None = None
) -> AlsfrsDraft:
    """One draft, sent or not. Only the person who started it sees it; for anyone else it does not exist."""
    _open(db, actor, patient_id, now, source_ip)
    draft = db.get(AlsfrsDraft, draft_id)
    if draft is None or draft.patient_id != patient_id or draft.started_by_id != actor.id:
        raise NotFound("questionnaire not found")
    return draft


def _unsent(draft: AlsfrsDraft) -> None:
    if draft.submitted_assessment_id is not None:
        raise InvalidInput("draft", "These answers have already been sent.")


def change_setup(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    draft_id: int,
    administration_mode: str,
    gastrostomy: bool,
    now: datetime,
    source_ip: str | None = None,
) -> AlsfrsDraft:
    """Change who is answering, or the feeding-tube answer. Changing the feeding tube drops the answer to
    the other form of question 5 (5a and 5b ask different things); every other answer is kept."""
    draft = draft_of(db, actor=actor, patient_id=patient_id, draft_id=draft_id, now=now, source_ip=source_ip)
    _unsent(draft)
    draft.administration_mode = _mode(administration_mode).value
    if draft.gastrostomy is not gastrostomy:
        dropped = NO_GASTROSTOMY_ITEM if gastrostomy else GASTROSTOMY_ITEM
        draft.answers = {k: v for k, v in draft.answers.items() if k != dropped}
        draft.gastrostomy = gastrostomy
    draft.updated_at = now
    db.flush()
    return draft


def save_answer(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    draft_id: int,
    item_id: str,
    score: object,
    now: datetime,
    source_ip: str | None = None,
) -> AlsfrsDraft:
    """Store one answer at once. Refuses, naming ``items.<id>``, an item this draft does not ask or an answer
    that is not a whole number 0-4; nothing is saved then."""
    draft = draft_of(db, actor=actor, patient_id=patient_id, draft_id=draft_id, now=now, source_ip=source_ip)
    _unsent(draft)
    asked = item(item_id)  # unknown ids are refused here, naming the item
    field = f"items.{asked.id}"
    if asked.id not in draft_item_ids(bool(draft.gastrostomy)):
        raise InvalidInput(field, f"Question {asked.number} is asked as {_other_form(asked.id)} on this form.")
    if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
        raise InvalidInput(
            field,
            f"Question {asked.number} ({asked.name}): choose one of the five answers (0 to 4), not {score!r}.",
        )
    # A new dict, so the JSON column sees the change.
    draft.answers = {**draft.answers, asked.id: score}
    draft.updated_at = now
    db.flush()
    return draft


def _other_form(item_id: str) -> str:
    return GASTROSTOMY_ITEM if item_id == NO_GASTROSTOMY_ITEM else NO_GASTROSTOMY_ITEM


def submit_draft(
    db: Session, *, actor: User, patient_id: int, draft_id: int, now: datetime, source_ip: str | None = None
) -> AlsfrsAssessment:
    """Store the draft's answers as one assessment dated today. Submitting again returns the same assessment.

    Raises ``InvalidInput`` naming ``items.<id>`` when an answer is missing; nothing is stored then.
    """
    draft = draft_of(db, actor=actor, patient_id=patient_id, draft_id=draft_id, now=now, source_ip=source_ip)
    if draft.submitted_assessment_id is not None:
        stored = db.get(AlsfrsAssessment, draft.submitted_assessment_id)
        assert stored is not None  # foreign key
        return stored
    answers = {i: draft.answers[i] for i in draft_item_ids(bool(draft.gastrostomy)) if i in draft.answers}
    for item_id in draft_item_ids(bool(draft.gastrostomy)):
        if item_id not in answers:
            asked = item(item_id)
            raise InvalidInput(f"items.{item_id}", f"Question {asked.number} ({asked.name}) has no answer yet.")
    row = record_alsfrs_assessment(
        db,
        actor=actor,
        patient_id=patient_id,
        answers=answers,
        assessed_on=now.date(),
        administration_mode=draft.administration_mode,
        now=now,
        source_ip=source_ip,
        client_id=draft.client_id,
    )
    draft.submitted_assessment_id = row.id
    draft.updated_at = now
    db.flush()
    return row


@dataclass(frozen=True)
class AssessmentResult:
    """An assessment and the one before it (by date), for showing what changed."""

    assessment: AlsfrsAssessment
    previous: AlsfrsAssessment | None


def assessment_result(db: Session, *, patient_id: int, assessment_id: int) -> AssessmentResult | None:
    """One stored assessment of this record and the assessment just before it, or None if there is no such
    assessment of this record. Not a gate: call it after opening the record (``draft_of``, ``open_record``)."""
    row = db.get(AlsfrsAssessment, assessment_id)
    if row is None or row.patient_id != patient_id:
        return None
    earlier = db.execute(
        select(AlsfrsAssessment)
        .where(
            AlsfrsAssessment.patient_id == patient_id,
            AlsfrsAssessment.id != row.id,
            (AlsfrsAssessment.assessed_on < row.assessed_on)
            | ((AlsfrsAssessment.assessed_on == row.assessed_on) & (AlsfrsAssessment.id < row.id)),
        )
        .order_by(AlsfrsAssessment.assessed_on.desc(), AlsfrsAssessment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return AssessmentResult(assessment=row, previous=earlier)

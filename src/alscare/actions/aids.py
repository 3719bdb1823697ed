"""Aids and equipment: what is worth asking about, requests to the clinic, and their status.

Access (decision, docs/sources.md "Aids and equipment"): suggestions are derived from ALSFRS-R answers and
check-ins, so they sit in the *check-ins* scope, like the messages a request starts. Anyone who may write
the person's check-ins (the person, their proxy, carers granted check-ins, their clinic's clinicians) may ask
for an aid; only clinicians of the person's own clinic change a request's status.

Messages (decision): a request is also a message in the person's one conversation with their clinic
(``actions.messages.post_message``), and so is every status change, with the clinician's note. The thread stays
the single place where the two sides talk; ``AidRequestEvent.message_id`` links each step to its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions import messages
from alscare.actions.audit import record_list_view
from alscare.actions.checkins import check_in_of
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import open_record
from alscare.actions.rehabilitation import PAGE_SIZE, Page, shared_with_clinic
from alscare.clinical import aids as core
from alscare.delivery.outbox import DEFAULT_BASE_URL
from alscare.storage.models import AlsfrsAssessment, CheckIn, Patient, User
from alscare.storage.models.rehabilitation import AidRequest, AidRequestEvent

RESOURCE = "aids"
NOTE_MAX_CHARS = 1000
OPEN = tuple(s.value for s in core.OPEN_STATUSES)


def aids_path(patient_id: int) -> str:
    return f"/patients/{patient_id}/aids"


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


def inputs_for(db: Session, *, patient_id: int) -> core.AidInputs:
    """The latest ALSFRS-R answers, the latest check-in and the latest FVC reported (not audited: callers
    have opened the record)."""
    latest = db.execute(
        select(AlsfrsAssessment.answers)
        .where(AlsfrsAssessment.patient_id == patient_id)
        .order_by(AlsfrsAssessment.assessed_on.desc(), AlsfrsAssessment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    check_in = db.execute(
        select(CheckIn)
        .where(CheckIn.patient_id == patient_id)
        .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    fvc = db.execute(
        select(CheckIn.fvc_percent)
        .where(CheckIn.patient_id == patient_id, CheckIn.fvc_percent.is_not(None))
        .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return core.AidInputs(
        answers=dict(latest) if latest else None,
        check_in=check_in_of(check_in) if check_in is not None else None,
        fvc_percent=fvc,
    )


@dataclass(frozen=True)
class AidsView:
    patient: Patient
    suggestions: tuple[core.Suggestion, ...]
    requests: tuple[AidRequest, ...]  # newest first
    connected: bool
    has_scores: bool

    def open_request_for(self, aid_id: str) -> AidRequest | None:
        return next((r for r in self.requests if r.aid_id == aid_id and r.status in OPEN), None)


def view_aids(db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None) -> AidsView:
    """Aids worth asking about now, and every request made, with its history."""
    patient = _open(db, actor=actor, patient_id=patient_id, action=Action.READ, now=now, source_ip=source_ip)
    inputs = inputs_for(db, patient_id=patient_id)
    requests = tuple(
        db.execute(
            select(AidRequest).where(AidRequest.patient_id == patient_id).order_by(AidRequest.id.desc())
        ).scalars()
    )
    return AidsView(
        patient=patient,
        suggestions=core.suggest_aids(inputs),
        requests=requests,
        connected=messages.connected_to_clinic(db, patient),
        has_scores=inputs.answers is not None,
    )


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidInput("note", f"Use at most {NOTE_MAX_CHARS:,} characters.")
    return text or None


def open_request(db: Session, *, patient_id: int, aid_id: str) -> AidRequest:
    """The open request for this aid (for the demo seed and tests; not audited)."""
    return db.execute(
        select(AidRequest).where(
            AidRequest.patient_id == patient_id, AidRequest.aid_id == aid_id, AidRequest.status.in_(OPEN)
        )
    ).scalar_one()


def request_aid(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    aid_id: str,
    now: datetime,
    note: str | None = None,
    source_ip: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> AidRequest:
    """Ask the person's clinic about an aid: a task for the clinic (status ``requested``) and a message in the
    conversation. Any aid of the library may be asked for, suggested or not. Asking again for an aid with a
    request still open returns that request (a retried or doubled submit adds nothing)."""
    patient = _open(db, actor=actor, patient_id=patient_id, action=Action.WRITE, now=now, source_ip=source_ip)
    chosen = core.aid(aid_id)
    text = _note(note)
    if patient.clinic_id is None or not messages.connected_to_clinic(db, patient):
        raise InvalidInput("aid_id", messages.NOT_CONNECTED)
    existing = db.execute(
        select(AidRequest).where(
            AidRequest.patient_id == patient_id, AidRequest.aid_id == chosen.id, AidRequest.status.in_(OPEN)
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    body = f"Request for an aid: {chosen.title}." + (f"\n\n{text}" if text else "")
    message = messages.post_message(
        db, actor=actor, patient_id=patient_id, body=body, now=now, source_ip=source_ip, base_url=base_url
    )
    request = AidRequest(
        patient_id=patient_id,
        clinic_id=patient.clinic_id,
        aid_id=chosen.id,
        status=core.AidStatus.REQUESTED.value,
        requested_by_id=actor.id,
        requested_at=now,
        updated_at=now,
    )
    db.add(request)
    db.flush()
    db.add(
        AidRequestEvent(
            request_id=request.id,
            status=request.status,
            actor_id=actor.id,
            at=now,
            note=text,
            message_id=message.id,
        )
    )
    db.flush()
    return request


def change_status(
    db: Session,
    *,
    actor: User,
    request_id: int,
    status: str,
    now: datetime,
    note: str | None = None,
    source_ip: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> AidRequest:
    """Move a request on (clinicians of the person's own clinic only), recording who and when, and tell the
    person in the conversation. A delivered or declined request is closed and cannot change."""
    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("Page not found")
    request = db.get(AidRequest, request_id)
    if request is None:
        raise NotFound("Page not found")
    # Audited either way; a clinician without the person's consent is refused here (and it stays on the trail).
    _open(db, actor=actor, patient_id=request.patient_id, action=Action.WRITE, now=now, source_ip=source_ip)
    if request.clinic_id != actor.clinic_id:
        raise NotFound("Page not found")
    try:
        new = core.AidStatus(status)
    except ValueError:
        raise InvalidInput("status", "Choose one of: assessed, ordered, delivered, declined.") from None
    if request.status not in OPEN:
        raise InvalidInput("status", "This request is closed: ask the person to make a new one if needed.")
    if new.value == request.status or new is core.AidStatus.REQUESTED:
        raise InvalidInput("status", "Choose a different status from the current one.")
    text = _note(note)
    title = core.aid(request.aid_id).title
    body = f"Your request for {title}: {core.STATUS_WORDS[new.value].lower()}." + (f"\n\n{text}" if text else "")
    message = messages.post_message(
        db, actor=actor, patient_id=request.patient_id, body=body, now=now, source_ip=source_ip, base_url=base_url
    )
    request.status = new.value
    request.updated_at = now
    db.add(
        AidRequestEvent(
            request_id=request.id, status=new.value, actor_id=actor.id, at=now, note=text, message_id=message.id
        )
    )
    db.flush()
    return request


@dataclass(frozen=True)
class OpenRequestRow:
    request_id: int
    patient_id: int
    full_name: str
    aid_id: str
    status: str
    requested_at: datetime
    updated_at: datetime


def open_requests_for_clinic(
    db: Session, *, actor: User, now: datetime, page: int = 1, source_ip: str | None = None
) -> Page[OpenRequestRow]:
    """Open requests (requested, assessed, ordered) to the clinician's clinic from people still sharing
    check-ins with it, oldest first; paged; three statements whatever the number of people."""
    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("Page not found")
    page = max(1, page)
    rows = db.execute(
        select(
            AidRequest.id,
            Patient.id,
            Patient.full_name,
            AidRequest.aid_id,
            AidRequest.status,
            AidRequest.requested_at,
            AidRequest.updated_at,
        )
        .join(Patient, Patient.id == AidRequest.patient_id)
        .where(
            AidRequest.clinic_id == actor.clinic_id,
            AidRequest.status.in_(OPEN),
            Patient.id.in_(shared_with_clinic(actor.clinic_id)),  # type: ignore[arg-type]
        )
        .order_by(AidRequest.requested_at, AidRequest.id)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    found = tuple(OpenRequestRow(*row) for row in rows[:PAGE_SIZE])
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

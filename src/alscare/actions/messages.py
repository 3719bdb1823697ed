"""Secure messages between a person with ALS (or their caregiver) and their clinic (scope: check-ins).

Each person has one conversation, with their own clinic (``patients.clinic_id``), and only while that clinic
holds an active grant covering check-ins (``checkins``, ``full_record`` or ``proxy``). Two sides write in it:
the *person side* (the person, their proxy, caregivers granted check-ins) and the *clinic side* (the clinic's
staff). Every read and write goes through ``open_record``; the e-mail telling the other side that a message is
waiting carries no content — only that there is one, and a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.actions.paging import PAGE_SIZE, Page, check_page, offset_of
from alscare.actions.records import open_record
from alscare.delivery.outbox import DEFAULT_BASE_URL, enqueue_email
from alscare.storage.models import CheckIn, ConsentGrant, Message, Patient, User

MAX_BODY_CHARS = 4000
NOT_CONNECTED = "You are not connected to a clinic that can read messages yet."
# Grants that let a clinic (or a person) read the conversation: the messages live under check-ins.
MESSAGE_SCOPES: tuple[str, ...] = (Scope.CHECKINS.value, Scope.FULL_RECORD.value, Scope.PROXY.value)
RESOURCE = "messages"

# The notification says only that a message is waiting (decision 0001, privacy): no names, no content.
NOTIFICATION_SUBJECT = "You have a new message in alscare"
NOTIFICATION_BODY = "You have a new message in alscare.\n\nSign in to read it:\n{link}\n"

MessageStatus = Literal["sent", "read", "answered"]


@dataclass(frozen=True)
class UnansweredThread:
    """A conversation waiting for the clinic: the newest message is from the person's side.

    ``last_message_at`` is the newest message; ``age`` is how long the person has been waiting, counted from
    the first message the clinic has not answered; ``count`` is how many messages have come since.
    """

    patient: Patient
    last_message_at: datetime
    age: timedelta
    count: int


def is_clinic_side(user: User) -> bool:
    return user.is_clinic_staff


def thread_link(patient_id: int) -> str:
    """The path of a conversation, for pages and notifications."""
    return f"/patients/{patient_id}/messages"


def connected_to_clinic(db: Session, patient: Patient) -> bool:
    """True when the person has a clinic and it holds an active grant covering check-ins."""
    if patient.clinic_id is None:
        return False
    found = db.execute(
        select(ConsentGrant.id)
        .where(
            ConsentGrant.patient_id == patient.id,
            ConsentGrant.grantee_clinic_id == patient.clinic_id,
            ConsentGrant.scope.in_(MESSAGE_SCOPES),
            ConsentGrant.revoked_at.is_(None),
        )
        .limit(1)
    ).first()
    return found is not None


def _open_conversation(
    db: Session, *, actor: User, patient_id: int, action: Action, now: datetime, source_ip: str | None
) -> Patient:
    """Open the record (audited) and check the actor may take part in *this* conversation.

    Clinic staff of another clinic that the person shared check-ins with may see the record, but the
    conversation is with the person's own clinic only.
    """
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=action,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    if is_clinic_side(actor) and (actor.clinic_id is None or actor.clinic_id != patient.clinic_id):
        raise PermissionDenied("Messages are between the person and their own clinic.")
    return patient


def post_message(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    body: str,
    now: datetime,
    check_in_id: int | None = None,
    source_ip: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> Message:
    """Add a message to the person's conversation with their clinic and tell the other side by e-mail.

    Refused (``InvalidInput("body", ...)``) when the body is empty or longer than ``MAX_BODY_CHARS`` after
    trimming, or when the person has no clinic that can read messages. Nothing is stored when refused.
    ``base_url`` starts the link in the e-mail (the app passes ``settings.base_url``).
    """
    patient = _open_conversation(
        db, actor=actor, patient_id=patient_id, action=Action.WRITE, now=now, source_ip=source_ip
    )
    text = body.strip()
    if not text:
        raise InvalidInput("body", "Write your message.")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput("body", f"Use at most {MAX_BODY_CHARS:,} characters (this has {len(text):,}).")
    if not connected_to_clinic(db, patient):
        raise InvalidInput("body", NOT_CONNECTED)
    if check_in_id is not None:
        check_in = db.get(CheckIn, check_in_id)
        if check_in is None or check_in.patient_id != patient.id:
            raise InvalidInput("check_in_id", "No such check-in for this person.")
    _mark(actor, _messages_of(db, patient.id), now)  # answering means the other side's messages were read
    message = Message(
        patient_id=patient.id,
        author_id=actor.id,
        from_clinic=is_clinic_side(actor),
        body=text,
        check_in_id=check_in_id,
        created_at=now,
    )
    db.add(message)
    db.flush()
    _notify_other_side(db, message=message, patient=patient, now=now, base_url=base_url)
    return message


def _recipients(db: Session, *, message: Message, patient: Patient) -> list[User]:
    if message.from_clinic:
        # The person, and everyone they let read check-ins (caregivers, proxies).
        granted = select(ConsentGrant.grantee_user_id).where(
            ConsentGrant.patient_id == patient.id,
            ConsentGrant.grantee_user_id.is_not(None),
            ConsentGrant.scope.in_(MESSAGE_SCOPES),
            ConsentGrant.revoked_at.is_(None),
        )
        condition = or_(User.id.in_(granted), User.id == patient.user_id) if patient.user_id else User.id.in_(granted)
    else:
        condition = and_(User.role == "clinician", User.clinic_id == patient.clinic_id, User.is_service.is_(False))
    users = db.execute(select(User).where(condition, User.is_active.is_(True)).order_by(User.id)).scalars()
    return [u for u in users if u.id != message.author_id]


def _notify_other_side(db: Session, *, message: Message, patient: Patient, now: datetime, base_url: str) -> None:
    body = NOTIFICATION_BODY.format(link=base_url.rstrip("/") + thread_link(patient.id))
    for user in _recipients(db, message=message, patient=patient):
        enqueue_email(
            db,
            kind="message",
            to=user.email,
            subject=NOTIFICATION_SUBJECT,
            body=body,
            dedupe_key=f"message:{message.id}:user:{user.id}",
            now=now,
        )


def thread(db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None) -> list[Message]:
    """The whole conversation, oldest first. Reading changes nothing: a GET must not be able to mark messages
    read (a page opened cross-site would), so that is ``mark_read``, an explicit POST (issue 14, finding 11)."""
    patient = _open_conversation(
        db, actor=actor, patient_id=patient_id, action=Action.READ, now=now, source_ip=source_ip
    )
    return _messages_of(db, patient.id)


def _messages_of(db: Session, patient_id: int) -> list[Message]:
    return list(
        db.execute(
            select(Message).where(Message.patient_id == patient_id).order_by(Message.created_at, Message.id)
        ).scalars()
    )


def unread_for(actor: User, thread: Sequence[Message]) -> int:
    """How many of the other side's messages ``actor`` has not marked read."""
    reader_is_clinic = is_clinic_side(actor)
    return sum(1 for m in thread if m.from_clinic != reader_is_clinic and m.read_at is None)


def _mark(actor: User, thread: Sequence[Message], now: datetime) -> int:
    reader_is_clinic = is_clinic_side(actor)
    marked = 0
    for m in thread:
        if m.from_clinic != reader_is_clinic and m.read_at is None:
            m.read_at = now
            marked += 1
    return marked


def mark_read(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> list[Message]:
    """Mark the other side's unread messages read at ``now`` (the reader pressed "Mark as read"); returns the
    conversation. Replying marks them read too (``post_message``)."""
    patient = _open_conversation(
        db, actor=actor, patient_id=patient_id, action=Action.READ, now=now, source_ip=source_ip
    )
    messages = _messages_of(db, patient.id)
    _mark(actor, messages, now)
    db.flush()
    return messages


def message_status(m: Message, thread: Sequence[Message]) -> MessageStatus:
    """``answered`` when the other side wrote after ``m``; else ``read`` once they opened it; else ``sent``."""
    later = False
    for other in thread:
        if later and other.from_clinic != m.from_clinic:
            return "answered"
        if other is m or other.id == m.id:
            later = True
    return "read" if m.read_at is not None else "sent"


def _waiting(actor: User) -> Any:
    """Per person, the clinic's unanswered messages: since when, the last one, how many (one subquery)."""
    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("Page not found")
    granted = select(ConsentGrant.patient_id).where(
        ConsentGrant.grantee_clinic_id == actor.clinic_id,
        ConsentGrant.scope.in_(MESSAGE_SCOPES),
        ConsentGrant.revoked_at.is_(None),
    )
    last_answer = (
        select(Message.patient_id, func.max(Message.created_at).label("at"))
        .where(Message.from_clinic.is_(True))
        .group_by(Message.patient_id)
        .subquery()
    )
    return (
        select(
            Message.patient_id,
            func.min(Message.created_at).label("since"),
            func.max(Message.created_at).label("last"),
            func.count(Message.id).label("n"),
        )
        .join(last_answer, last_answer.c.patient_id == Message.patient_id, isouter=True)
        .join(Patient, Patient.id == Message.patient_id)
        .where(
            Message.from_clinic.is_(False),
            or_(last_answer.c.at.is_(None), Message.created_at > last_answer.c.at),
            Patient.clinic_id == actor.clinic_id,
            Patient.id.in_(granted),
        )
        .group_by(Message.patient_id)
        .subquery()
    )


def _threads(db: Session, stmt: Any, now: datetime) -> list[UnansweredThread]:
    return [
        UnansweredThread(
            patient=patient,
            last_message_at=_aware(last),
            age=now - _aware(since),
            count=int(n),
        )
        for patient, since, last, n in db.execute(stmt).all()
    ]


def _waiting_rows(waiting: Any) -> Any:
    return (
        select(Patient, waiting.c.since, waiting.c.last, waiting.c.n)
        .join(waiting, waiting.c.patient_id == Patient.id)
        .order_by(waiting.c.since, Patient.id)
    )


def unanswered_for_clinic(db: Session, *, actor: User, now: datetime) -> list[UnansweredThread]:
    """Conversations of the clinician's clinic waiting for an answer, longest-waiting first.

    Only people whose own clinic is the clinician's and who share check-ins with it are listed.
    """
    return _threads(db, _waiting_rows(_waiting(actor)), now)


def unanswered_page(
    db: Session, *, actor: User, now: datetime, page: int = 1, page_size: int = PAGE_SIZE
) -> Page[UnansweredThread]:
    """One page of ``unanswered_for_clinic`` and its total: two statements whatever the clinic's size."""
    check_page(page)
    waiting = _waiting(actor)
    total = db.execute(select(func.count()).select_from(waiting)).scalar_one()
    stmt = _waiting_rows(waiting).limit(page_size).offset(offset_of(page, page_size))
    return Page(items=_threads(db, stmt, now), total=int(total), page=page, page_size=page_size)


def _aware(value: datetime) -> datetime:
    """Aggregates keep the column's type, so this is a guard: always hand back an aware UTC time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""Messages pages: a person's conversation with their clinic, and the clinic's list of unanswered ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.access import Scope
from alscare.actions import messages
from alscare.actions.audit import record_list_view
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.paging import parse_page
from alscare.actions.records import may_each, visible_patients
from alscare.storage.models import Message, Patient, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form
from alscare.web.paging import pager_of
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


# --- Presenters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageView:
    id: int
    author: str
    from_clinic: bool
    at: datetime
    body: str
    from_check_in: bool
    # Shown on messages from the reader's own side only: "Sent", "Read 14:02", "Answered".
    status: str | None


def _time(at: datetime, now: datetime) -> str:
    return at.strftime("%H:%M") if at.date() == now.date() else at.strftime("%-d %b %Y, %H:%M")


def status_label(m: Message, thread: list[Message], now: datetime) -> str:
    status = messages.message_status(m, thread)
    if status == "answered":
        return "Answered"
    if status == "read" and m.read_at is not None:
        return f"Read {_time(m.read_at, now)}"
    return "Sent"


def message_views(thread: list[Message], *, reader: User, patient: Patient, now: datetime) -> list[MessageView]:
    reader_is_clinic = messages.is_clinic_side(reader)
    clinic_name = patient.clinic.name if patient.clinic else "the clinic"
    views = []
    for m in thread:
        if m.author_id == reader.id:
            author = "You"
        elif m.from_clinic:
            author = f"{m.author.display_name} ({clinic_name})"
        else:
            author = m.author.display_name
        views.append(
            MessageView(
                id=m.id,
                author=author,
                from_clinic=m.from_clinic,
                at=m.created_at,
                body=m.body,
                from_check_in=m.check_in_id is not None,
                status=status_label(m, thread, now) if m.from_clinic == reader_is_clinic else None,
            )
        )
    return views


def waiting_label(age: timedelta) -> str:
    """How long someone has waited, in words a busy clinician reads at a glance: "waiting 3 h"."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 1:
        return "waiting under 1 min"
    if minutes < 60:
        return f"waiting {minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"waiting {hours} h"
    return f"waiting {hours // 24} days"


# --- Routes --------------------------------------------------------------------------------------------


@router.get("/messages")
def messages_home(request: Request, user: PageUser, db: Db) -> Response:
    """Where the "Messages" link leads: the clinic's list, the person's own conversation, or a choice."""
    if user.role == "clinician":
        return RedirectResponse("/clinic/messages", status_code=303)
    if user.role == "admin":
        raise NotFound("Page not found")
    visible = visible_patients(db, user=user)
    allowed = may_each(db, user=user, patients=visible, scope=Scope.CHECKINS)  # one query for all of them
    patients = [p for p in visible if p.id in allowed]
    if len(patients) == 1:
        return RedirectResponse(messages.thread_link(patients[0].id), status_code=303)
    return render(
        request, "messages_inbox.html", title="Messages", user=user, db=db, active="messages", patients=patients
    )


def _thread_page(
    request: Request,
    db: Db,
    user: User,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    now = request.app.state.ctx.clock()
    thread = messages.thread(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    patient = db.get(Patient, patient_id)
    assert patient is not None  # thread() opened it
    connected = messages.connected_to_clinic(db, patient)
    views = message_views(thread, reader=user, patient=patient, now=now)
    db.commit()
    return render(
        request,
        "messages_thread.html",
        title="Messages",
        user=user,
        db=db,
        active="messages",
        patient=patient,
        views=views,
        connected=connected,
        not_connected=messages.NOT_CONNECTED,
        max_chars=messages.MAX_BODY_CHARS,
        reader_is_clinic=messages.is_clinic_side(user),
        unread=messages.unread_for(user, thread),
        errors=errors,
        values=values or {},
        notice=notice,
        emergency_number=patient.emergency_number,
    )


@router.get("/patients/{patient_id}/messages")
def thread_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    notice = "Message sent." if request.query_params.get("sent") == "1" else None
    return _thread_page(request, db, user, patient_id, notice=notice)


@router.post("/patients/{patient_id}/messages/read")
async def mark_read(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    """The "Mark as read" button: a POST, so opening the page (a GET) never changes anything."""
    await read_form(request)
    messages.mark_read(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return RedirectResponse(messages.thread_link(patient_id), status_code=303)


@router.post("/patients/{patient_id}/messages")
async def post_message(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    raw = form.get("body")
    body = raw if isinstance(raw, str) else ""
    ctx = request.app.state.ctx
    try:
        messages.post_message(
            db,
            actor=user,
            patient_id=patient_id,
            body=body,
            now=ctx.clock(),
            source_ip=client_ip(request),
            base_url=ctx.settings.base_url,
        )
    except InvalidInput as e:
        db.rollback()
        return _thread_page(request, db, user, patient_id, errors={e.field: e.message}, values={"body": body})
    db.commit()
    return RedirectResponse(f"{messages.thread_link(patient_id)}?sent=1", status_code=303)


@router.get("/clinic/messages")
def clinic_inbox(request: Request, user: PageUser, db: Db) -> Response:
    now = request.app.state.ctx.clock()
    errors: dict[str, str] = {}
    try:
        page_number = parse_page(request.query_params.get("page"))
    except InvalidInput as e:
        # As the dashboard: the first page, with the message naming the field (422).
        errors, page_number = {e.field: e.message}, 1
    found = messages.unanswered_page(db, actor=user, now=now, page=page_number)
    record_list_view(
        db,
        now=now,
        actor_user_id=user.id,
        resource="messages_inbox",
        patient_ids=[t.patient.id for t in found.items],
        source_ip=client_ip(request),
    )
    db.commit()
    rows = [(t, waiting_label(t.age)) for t in found.items]
    return render(
        request,
        "messages_inbox.html",
        title="Messages waiting for an answer",
        user=user,
        db=db,
        active="messages",
        errors=errors,
        waiting=rows,
        found=found,
        pager=pager_of(found, "/clinic/messages"),
        clinic=True,
    )

"""Aids and equipment pages: what is worth asking about (the person's side and the clinic's), a request in
one press, each request's status and history, the clinic's list of open requests and its status changes.

Status changes post to ``/clinic/aid-requests/{request_id}/status``: they are for the person's own clinic's
clinicians only, so they live under ``/clinic`` and every ``/patients/{patient_id}/…`` route means the same
for everyone who may use that part of the record."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.actions import aids as actions
from alscare.actions.errors import InvalidInput
from alscare.clinical import aids as core
from alscare.storage.models import User
from alscare.storage.models.rehabilitation import AidRequest
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form, text
from alscare.web.pages.rehabilitation import page_number
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

NEXT_STATUSES = [(s.value, core.STATUS_WORDS[s.value]) for s in core.AidStatus if s is not core.AidStatus.REQUESTED]


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock()
    return now


def _aids_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    view = actions.view_aids(db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request))
    db.commit()
    suggested = {s.aid.id for s in view.suggestions}
    return render(
        request,
        "aids.html",
        title="Aids and equipment",
        user=user,
        db=db,
        view=view,
        patient=view.patient,
        own=view.patient.user_id == user.id,
        clinician=user.role == "clinician" and user.clinic_id == view.patient.clinic_id,
        others=[a for a in core.AIDS if a.id not in suggested],
        aid_title=lambda aid_id: core.aid(aid_id).title,
        aid_choices=[(a.id, a.title) for a in core.AIDS],
        status_words=core.STATUS_WORDS,
        next_statuses=NEXT_STATUSES,
        is_open=lambda r: r.status in actions.OPEN,
        values=values or {},
        errors=errors,
        notice=notice,
        emergency_number=view.patient.emergency_number,
    )


@router.get("/patients/{patient_id}/aids")
def aids_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    notice = None
    done = request.query_params.get("done", "")
    if done == "requested":
        notice = "Your request was sent to the clinic. You will see its progress here and in your messages."
    elif done == "updated":
        notice = "Status saved. The person has been told in their messages."
    return _aids_page(request, db, user, patient_id, notice=notice)


@router.post("/patients/{patient_id}/aids/requests")
async def request_aid(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = {
        "aid_id": text(form, "aid_id", max_length=40),
        "note": text(form, "note", max_length=actions.NOTE_MAX_CHARS),
    }
    ctx = request.app.state.ctx
    try:
        actions.request_aid(
            db,
            actor=user,
            patient_id=patient_id,
            aid_id=values["aid_id"],
            note=values["note"],
            now=_now(request),
            source_ip=client_ip(request),
            base_url=ctx.settings.base_url,
        )
    except InvalidInput as e:
        db.rollback()
        field = "request-aid_id" if e.field == "aid_id" else f"request-{e.field}"
        return _aids_page(request, db, user, patient_id, errors={field: e.message}, values=values)
    db.commit()
    return RedirectResponse(f"{actions.aids_path(patient_id)}?done=requested#requests", status_code=303)


@router.post("/clinic/aid-requests/{request_id}/status")
async def change_status(request: Request, request_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    status = text(form, f"status-{request_id}", max_length=20)
    note = text(form, "note", max_length=actions.NOTE_MAX_CHARS)
    ctx = request.app.state.ctx
    try:
        row = actions.change_status(
            db,
            actor=user,
            request_id=request_id,
            status=status,
            note=note,
            now=_now(request),
            source_ip=client_ip(request),
            base_url=ctx.settings.base_url,
        )
    except InvalidInput as e:
        db.rollback()
        existing = db.get(AidRequest, request_id)
        assert existing is not None  # change_status found it before refusing the input
        field = f"status-{request_id}" if e.field == "status" else f"note-{request_id}"
        return _aids_page(
            request, db, user, existing.patient_id, errors={field: e.message}, values={field: status or note}
        )
    patient_id = row.patient_id
    db.commit()
    return RedirectResponse(f"{actions.aids_path(patient_id)}?done=updated#request-{request_id}", status_code=303)


@router.get("/clinic/aid-requests")
def open_requests(request: Request, user: PageUser, db: Db) -> Response:
    result = actions.open_requests_for_clinic(
        db, actor=user, now=_now(request), page=page_number(request), source_ip=client_ip(request)
    )
    db.commit()
    return render(
        request,
        "aid_requests.html",
        title="Open requests for aids",
        user=user,
        db=db,
        active="home",
        result=result,
        aid_title=lambda aid_id: core.aid(aid_id).title,
        status_words=core.STATUS_WORDS,
    )

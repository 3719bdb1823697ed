"""Check-in schedules: a person's page (how often, when next due, change it) and the clinic's overdue list."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions import schedules
from alscare.actions.errors import InvalidInput
from alscare.actions.paging import parse_page
from alscare.actions.records import may
from alscare.storage.models import Patient, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form, text
from alscare.web.paging import pager_of
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

KIND_WORDS = {
    schedules.Kind.SYMPTOM_CHECK_IN: "Symptom check-in",
    schedules.Kind.ALSFRS_R: "Daily activities questions (ALSFRS-R)",
}


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock()
    return now


def _field(kind: schedules.Kind) -> str:
    return f"interval_days_{kind.value}"


def how_long(delta: timedelta) -> str:
    """A duration in plain words: "less than a day", "1 day", "12 days", "3 weeks"."""
    days = delta.days
    if days < 1:
        return "less than a day"
    if days < 21:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{days // 7} weeks"


def _schedule_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    now = _now(request)
    items = schedules.view_schedule(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    patient = db.get(Patient, patient_id)  # opened (and audited) just above
    assert patient is not None
    can_change = may(db, user=user, patient=patient, scope=Scope.CHECKINS, action=Action.WRITE)
    db.commit()
    current = {_field(i.kind): str(i.interval_days) for i in items}
    return render(
        request,
        "schedule.html",
        title="Check-in schedule",
        user=user,
        db=db,
        patient=patient,
        own=patient.user_id == user.id,
        items=items,
        kind_words=KIND_WORDS,
        field_of=_field,
        form_path=schedules.form_path,
        how_long=how_long,
        now=now,
        can_change=can_change,
        values={**current, **(values or {})},
        interval_min=schedules.INTERVAL_MIN,
        interval_max=schedules.INTERVAL_MAX,
        errors=errors,
        saved=request.query_params.get("done") == "saved",
        emergency_number=patient.emergency_number,
    )


@router.get("/patients/{patient_id}/schedule")
def schedule(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _schedule_page(request, db, user, patient_id)


def _days(raw: str) -> object:
    try:
        return int(raw)
    except ValueError:
        return raw


@router.post("/patients/{patient_id}/schedule")
async def change_schedule(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    now = _now(request)
    current = {
        i.kind: i.interval_days
        for i in schedules.view_schedule(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    }
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for kind in schedules.Kind:
        raw = text(form, _field(kind), max_length=10)
        values[_field(kind)] = raw
        if not raw:
            continue  # left out: unchanged
        days = _days(raw)
        if days == current[kind]:
            continue
        try:
            schedules.set_schedule(
                db,
                actor=user,
                patient_id=patient_id,
                kind=kind.value,
                interval_days=days,
                now=now,
                source_ip=client_ip(request),
            )
        except InvalidInput as e:
            errors[_field(kind) if e.field == "interval_days" else e.field] = f"{KIND_WORDS[kind]}: {e.message}"
    if errors:
        db.rollback()
        return _schedule_page(request, db, user, patient_id, values=values, errors=errors)
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/schedule?done=saved", status_code=303)


@router.get("/clinic/overdue")
def overdue(request: Request, user: PageUser, db: Db) -> Response:
    now = _now(request)
    errors: dict[str, str] = {}
    try:
        page_number = parse_page(request.query_params.get("page"))
    except InvalidInput as e:
        # As the dashboard: the first page, with the message naming the field (422).
        errors, page_number = {e.field: e.message}, 1
    found = schedules.overdue_for_clinic(db, actor=user, now=now, page=page_number, source_ip=client_ip(request))
    db.commit()
    return render(
        request,
        "overdue.html",
        title="Overdue check-ins",
        user=user,
        db=db,
        active="overdue",
        errors=errors,
        rows=found.items,
        found=found,
        pager=pager_of(found, "/clinic/overdue"),
        kind_words=KIND_WORDS,
        how_long=how_long,
    )

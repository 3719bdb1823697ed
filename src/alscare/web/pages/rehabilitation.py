"""Rehabilitation pages: a person's programme (log a session, adherence by week), the therapist's assign and
stop forms, and the clinic's list of people who may have stopped.

Clinic-only writes (assign, stop) post to ``/clinic/programmes…`` with the person's id in the form, so every
``/patients/{patient_id}/…`` route means the same thing for everyone who may use that part of the record.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.actions import rehabilitation as rehab
from alscare.actions.errors import InvalidInput, NotFound
from alscare.clinical import rehabilitation as core
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import choices, optional_date, read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

TIRING_CHOICES = [("", "Choose")] + [
    (str(n), f"{n} – not tiring at all" if n == 0 else f"{n} – worn out" if n == 10 else str(n))
    for n in range(core.TIRING_MIN, core.TIRING_MAX + 1)
]


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock()
    return now


def _programme_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    assign_errors: bool = False,
    notice: str | None = None,
) -> Response:
    now = _now(request)
    view = rehab.view_programme(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    db.commit()
    planned_ids = {p.exercise.id: p.times_per_week for p in view.planned} if view.active else {}
    defaults: dict[str, str] = {
        "client_id": str(uuid.uuid4()),
        "done_on": now.date().isoformat(),
        **{f"times_{e.id}": str(planned_ids.get(e.id, e.default_times_per_week)) for e in core.EXERCISES},
    }
    return render(
        request,
        "programme.html",
        title="Exercise programme",
        user=user,
        db=db,
        view=view,
        patient=view.patient,
        own=view.patient.user_id == user.id,
        caution=core.CAUTION,
        categories=core.CATEGORY_WORDS,
        library=core.EXERCISES,
        planned_ids=planned_ids,
        exercise_options=[("", "Choose")] + [(p.exercise.id, p.exercise.title) for p in view.planned],
        exercise_title=lambda eid: core.exercise(eid).title,
        tiring_choices=TIRING_CHOICES,
        too_tiring_from=core.TOO_TIRING_FROM,
        values={**defaults, **(values or {})},
        errors=errors,
        assign_errors=assign_errors,
        notice=notice,
        emergency_number=view.patient.emergency_number,
    )


NOTICES = {
    "logged": "Session saved. Thank you.",
    "assigned": "Programme saved. The person and their carers can see it now.",
    "stopped": "Programme stopped. Its weeks stay here as history.",
}


@router.get("/patients/{patient_id}/programme")
def programme(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _programme_page(request, db, user, patient_id, notice=NOTICES.get(request.query_params.get("done", "")))


def _int_or_none(raw: str) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        raise InvalidInput("tiring", "Choose a number from 0 to 10.") from None


@router.post("/patients/{patient_id}/programme/log")
async def log(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = {
        name: text(form, name, max_length=64) for name in ("client_id", "exercise_id", "outcome", "tiring", "done_on")
    }
    try:
        done_on = optional_date(form, "done_on") or _now(request).date()
        rehab.log_session(
            db,
            actor=user,
            patient_id=patient_id,
            exercise_id=values["exercise_id"],
            outcome=values["outcome"],
            tiring=_int_or_none(values["tiring"]),
            done_on=done_on,
            client_id=values["client_id"] or str(uuid.uuid4()),
            now=_now(request),
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _programme_page(request, db, user, patient_id, errors={e.field: e.message}, values=values)
    db.commit()
    return RedirectResponse(f"{rehab.programme_path(patient_id)}?done=logged#log", status_code=303)


def _patient_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("Page not found")
    return int(raw)


@router.post("/clinic/programmes")
async def assign(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    patient_id = _patient_id(text(form, "patient_id", max_length=20))
    chosen = choices(form, "exercise")
    values: dict[str, str] = {f"times_{e.id}": text(form, f"times_{e.id}", max_length=5) for e in core.EXERCISES}
    values["note"] = text(form, "note", max_length=rehab.NOTE_MAX_CHARS)
    plan: dict[str, object] = {}
    for exercise_id in chosen:
        raw = values.get(f"times_{exercise_id}", "")
        plan[exercise_id] = int(raw) if raw.isdigit() else raw
    try:
        rehab.assign_programme(
            db,
            actor=user,
            patient_id=patient_id,
            exercises=plan,
            note=values["note"],
            starts_on=optional_date(form, "starts_on"),
            now=_now(request),
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        field = f"times_{e.field.split('.', 1)[1]}" if e.field.startswith("times_per_week.") else e.field
        if field == "exercises":
            field = "exercise"
        return _programme_page(
            request, db, user, patient_id, errors={field: e.message}, values=values, assign_errors=True
        )
    db.commit()
    return RedirectResponse(f"{rehab.programme_path(patient_id)}?done=assigned", status_code=303)


@router.post("/clinic/programmes/stop")
async def stop(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    patient_id = _patient_id(text(form, "patient_id", max_length=20))
    try:
        rehab.stop_programme(db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request))
    except InvalidInput as e:
        db.rollback()
        return _programme_page(request, db, user, patient_id, errors={"assign": e.message})
    db.commit()
    return RedirectResponse(f"{rehab.programme_path(patient_id)}?done=stopped", status_code=303)


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


@router.get("/clinic/programmes/stopped")
def stopped(request: Request, user: PageUser, db: Db) -> Response:
    now = _now(request)
    result = rehab.stopped_for_clinic(db, actor=user, now=now, page=page_number(request), source_ip=client_ip(request))
    db.commit()
    return render(
        request,
        "programme_stopped.html",
        title="Exercise programmes that may have stopped",
        user=user,
        db=db,
        active="home",
        result=result,
        days=core.STOPPED_AFTER_DAYS,
        today=now.date(),
    )


def fmt_day(d: date) -> str:
    return d.strftime("%-d %b %Y")

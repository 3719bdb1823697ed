"""The diagnosis journey pages: the tests with status, dates, notes and what to expect; the MRI safety checklist
and its printout (PDF). Access is the check-ins scope (see ``alscare.actions.diagnosis``)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions import diagnosis
from alscare.actions.errors import InvalidInput
from alscare.actions.records import may
from alscare.clinical import mri_safety
from alscare.content.articles import article
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form, text
from alscare.web.pdf import render_pdf
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

STATUS_WORDS = {"planned": "Planned", "done": "Done", "result_discussed": "Result discussed"}
DATE_FIELDS = ("planned_on", "done_on", "discussed_on")
DATE_WORDS = {"planned_on": "Date planned", "done_on": "Date done", "discussed_on": "Date the result was discussed"}


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock()
    return now


def _journey_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    kept: dict[str, str] | None = None,
) -> Response:
    journey = diagnosis.view_journey(
        db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request)
    )
    can_change = may(db, user=user, patient=journey.patient, scope=Scope.CHECKINS, action=Action.WRITE)
    db.commit()
    return render(
        request,
        "diagnosis.html",
        title="Tests on the way to a diagnosis",
        user=user,
        db=db,
        patient=journey.patient,
        own=journey.patient.user_id == user.id,
        journey=journey,
        can_change=can_change,
        status_words=STATUS_WORDS,
        date_fields=DATE_FIELDS,
        date_words=DATE_WORDS,
        kept=kept or {},
        errors=errors,
        saved=request.query_params.get("saved"),
        diagnosis_article=article("diagnosis"),
        emergency_number=journey.patient.emergency_number,
    )


@router.get("/patients/{patient_id}/diagnosis")
def journey_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _journey_page(request, db, user, patient_id)


def _date(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(field, "Enter a real date, for example 2026-03-27.") from None


@router.post("/patients/{patient_id}/diagnosis/tests/{test_kind}")
async def save_test(request: Request, patient_id: int, test_kind: str, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    kept = {f"{test_kind}-{name}": text(form, name, max_length=4000) for name in ("status", "notes", *DATE_FIELDS)}
    try:
        dates = {name: _date(text(form, name, max_length=20), name) for name in DATE_FIELDS}
        diagnosis.record_test(
            db,
            actor=user,
            patient_id=patient_id,
            kind=test_kind,
            status=text(form, "status", max_length=20),
            notes=text(form, "notes", max_length=diagnosis.NOTES_MAX_CHARS),
            now=_now(request),
            source_ip=client_ip(request),
            **dates,
        )
    except InvalidInput as e:
        db.rollback()
        label = DATE_WORDS.get(e.field, e.field.replace("_", " ").capitalize())
        return _journey_page(
            request, db, user, patient_id, errors={f"{test_kind}-{e.field}": f"{label}: {e.message}"}, kept=kept
        )
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/diagnosis?saved={test_kind}#test-{test_kind}", status_code=303)


def _checklist_page(
    request: Request, db: Session, user: User, patient_id: int, *, errors: dict[str, str] | None = None
) -> Response:
    view = diagnosis.mri_checklist(
        db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request)
    )
    can_change = may(db, user=user, patient=view.patient, scope=Scope.CHECKINS, action=Action.WRITE)
    db.commit()
    return render(
        request,
        "mri_checklist.html",
        title="MRI safety checklist",
        user=user,
        db=db,
        patient=view.patient,
        own=view.patient.user_id == user.id,
        view=view,
        questions=mri_safety.questions(),
        answer_labels=mri_safety.answer_labels(),
        can_change=can_change,
        errors=errors,
        saved=request.query_params.get("done") == "saved",
        emergency_number=view.patient.emergency_number,
    )


@router.get("/patients/{patient_id}/diagnosis/mri-checklist")
def checklist_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _checklist_page(request, db, user, patient_id)


@router.post("/patients/{patient_id}/diagnosis/mri-checklist")
async def save_checklist(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    answers: dict[str, object] = {item: text(form, item, max_length=20) for item in mri_safety.ITEM_IDS}
    try:
        diagnosis.save_mri_checklist(
            db,
            actor=user,
            patient_id=patient_id,
            answers=answers,
            details=text(form, "details", max_length=diagnosis.DETAILS_MAX_CHARS),
            now=_now(request),
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        field = e.field.removeprefix("answers.")
        return _checklist_page(request, db, user, patient_id, errors={field: e.message})
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/diagnosis/mri-checklist?done=saved", status_code=303)


@router.get("/patients/{patient_id}/diagnosis/mri-checklist.pdf")
def checklist_pdf(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    now = _now(request)
    view = diagnosis.mri_checklist(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    db.commit()
    pdf = render_pdf(
        "mri_checklist_pdf.html",
        view=view,
        questions=mri_safety.questions(),
        answer_labels=mri_safety.answer_labels(),
        printed_on=now.date(),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="mri-safety-checklist.pdf"', "Cache-Control": "no-store"},
    )

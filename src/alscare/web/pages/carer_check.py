"""The carer's weekly check on themselves (issue 7, item 6): the form, what might help, and, when the carer
says they cannot cope, the question whether to tell the care team (nothing is sent without a "yes")."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import carer_check as actions
from alscare.actions.errors import InvalidInput
from alscare.clinical import carer_check as core
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, app_context, client_ip
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


def _form_page(
    request: Request, db: Db, user: User, *, errors: dict[str, str] | None = None, kept: dict[str, str] | None = None
) -> Response:
    words = core.wording()
    if kept is None:
        row = actions.check_of_week(db, carer=user, now=app_context(request).clock())
        kept = {q: str(getattr(row, q)) for q in core.QUESTIONS} if row else {}
    return render(
        request, "carer_check.html", title=words["page"]["title"], user=user, db=db, words=words,
        questions=core.QUESTIONS, kept=kept, errors=errors,
    )  # fmt: skip


@router.get("/carer-check")
def form(request: Request, user: PageUser, db: Db) -> Response:
    return _form_page(request, db, user)


@router.post("/carer-check")
async def send(request: Request, user: PageUser, db: Db) -> Response:
    submitted = await read_form(request)
    answers = {q: text(submitted, q, max_length=2) for q in core.QUESTIONS}
    try:
        actions.record_carer_check(db, carer=user, answers=dict(answers), now=app_context(request).clock())
    except InvalidInput as e:
        db.rollback()
        return _form_page(
            request,
            db,
            user,
            errors={e.field: f"{core.wording()['questions'][e.field]['text']} {e.message}"},
            kept=answers,
        )
    db.commit()
    return RedirectResponse("/carer-check/result", status_code=303)


@router.get("/carer-check/result")
def result(request: Request, user: PageUser, db: Db) -> Response:
    row = actions.check_of_week(db, carer=user, now=app_context(request).clock())
    if row is None:
        return RedirectResponse("/carer-check", status_code=303)
    answers = {q: int(getattr(row, q)) for q in core.QUESTIONS}
    words = core.wording()
    teams = actions.teams_for(db, carer=user) if core.cannot_cope(answers) else []
    told_team = next((t for t in teams if t.patient_id == row.patient_id), None) if row.clinic_told else None
    return render(
        request, "carer_check_result.html", title=words["page"]["title"], user=user, db=db, words=words,
        check=row, suggestions=core.suggestions(answers), cannot_cope=core.cannot_cope(answers), teams=teams,
        reachable=[t for t in teams if t.clinic_name], told_team=told_team,
        declined=request.query_params.get("declined") == "1",
    )  # fmt: skip


@router.post("/carer-check/tell")
async def tell(request: Request, user: PageUser, db: Db) -> Response:
    submitted = await read_form(request)
    if text(submitted, "tell", max_length=3) != "yes":
        return RedirectResponse("/carer-check/result?declined=1", status_code=303)
    ctx = app_context(request)
    try:
        check_id, patient_id = (
            int(text(submitted, "check_id", max_length=12)),
            int(text(submitted, "patient_id", max_length=12)),
        )
    except ValueError:
        raise InvalidInput("patient_id", "Choose whose care team to tell.") from None
    actions.tell_the_team(
        db, carer=user, check_id=check_id, patient_id=patient_id, now=ctx.clock(), base_url=ctx.settings.base_url,
        source_ip=client_ip(request),
    )  # fmt: skip
    db.commit()
    return RedirectResponse("/carer-check/result", status_code=303)

"""The clinic's alert inbox: what needs attention, most severe and oldest first; acknowledge and resolve."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.actions import alerts as alert_actions
from alscare.actions.clinician_view import TIER_WORDS, clinician_view
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.paging import parse_page
from alscare.actions.prompts import ALERT_SOURCE as PROMPT_ALERT_SOURCE
from alscare.content.articles import Article, article, article_for_prompt
from alscare.storage.models import Alert, CheckIn, Patient, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.care_wishes import emergency_care_wishes
from alscare.web.pages.forms import read_form, text
from alscare.web.paging import pager_of
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

SEVERITY_LABELS: Final = {
    "emergency": "Emergency",
    "contact_team": "Contact today",
    "prompt": "Guideline prompt",
}
STATUS_LABELS: Final = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved"}


def format_age(age: timedelta) -> str:
    """ "2 h 15 min", "3 d 4 h", "5 min", "less than 1 min"."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min" if mins else "less than 1 min"


def _only_clinicians(user: User) -> None:
    if user.role != "clinician":
        raise NotFound("Page not found.")


@router.get("/clinic/alerts")
def inbox(request: Request, user: PageUser, db: Db) -> Response:
    _only_clinicians(user)
    include_resolved = request.query_params.get("show") == "all"
    errors: dict[str, str] = {}
    try:
        page_number = parse_page(request.query_params.get("page"))
    except InvalidInput as e:
        # As the dashboard: the first page, with the message naming the field (422).
        errors, page_number = {e.field: e.message}, 1
    found = alert_actions.alert_inbox(
        db,
        actor=user,
        now=request.app.state.ctx.clock(),
        include_resolved=include_resolved,
        page=page_number,
        source_ip=client_ip(request),
    )
    db.commit()
    return render(
        request,
        "alerts_inbox.html",
        title="Alerts",
        user=user,
        db=db,
        active="alerts",
        errors=errors,
        views=found.items,
        found=found,
        pager=pager_of(found, "/clinic/alerts", {"show": "all" if include_resolved else ""}),
        include_resolved=include_resolved,
        severity_labels=SEVERITY_LABELS,
        status_labels=STATUS_LABELS,
        format_age=format_age,
    )


def _detail_page(
    request: Request,
    db: Session,
    user: User,
    alert_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    _only_clinicians(user)
    view = alert_actions.alert_detail(
        db, actor=user, alert_id=alert_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    alert = view.alert
    check_in_id = alert.source_id.split(":", 1)[0] if alert.source in ("check_in", "prompt") else None
    if check_in_id is not None and not check_in_id.isdigit():
        check_in_id = None
    check_in = db.get(CheckIn, int(check_in_id)) if check_in_id else None
    if check_in is not None and check_in.patient_id != view.patient_id:
        check_in = None
    patient = db.get(Patient, view.patient_id)
    assert patient is not None  # alert_detail opened (and audited) this record for check-ins
    now = request.app.state.ctx.clock()
    clinical = clinician_view(db, patient=patient, check_in=check_in, now=now)
    # The card's essentials (CPR, ventilation, hospital, proxy), read under the care_wishes scope and audited.
    care_wishes = emergency_care_wishes(db, user=user, patient_id=patient.id, now=now, source_ip=client_ip(request))
    db.commit()
    return render(
        request,
        "alert_detail.html",
        title=f"Alert for {view.patient_name}",
        user=user,
        db=db,
        active="alerts",
        view=view,
        check_in_id=check_in_id,
        clinical=clinical,
        care_wishes=care_wishes,
        prompt_article=_prompt_article(view.alert),
        tier_words=TIER_WORDS,
        severity_labels=SEVERITY_LABELS,
        status_labels=STATUS_LABELS,
        format_age=format_age,
        done=request.query_params.get("done"),
        errors=errors,
        values=values or {},
    )


def _prompt_article(alert: Alert) -> Article | None:
    """The learning article a clinic may share for a guideline prompt (source id ``<patient>:<prompt>:<n>``)."""
    if alert.source != PROMPT_ALERT_SOURCE:
        return None
    parts = alert.source_id.split(":")
    found = article_for_prompt(parts[1]) if len(parts) == 3 else None
    return article(found) if found else None


@router.get("/clinic/alerts/{alert_id}")
def detail(request: Request, alert_id: int, user: PageUser, db: Db) -> Response:
    return _detail_page(request, db, user, alert_id)


@router.post("/clinic/alerts/{alert_id}/acknowledge")
async def acknowledge(request: Request, alert_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    _only_clinicians(user)
    note = ""
    try:
        note = text(form, "ack_note", max_length=alert_actions.NOTE_MAX_CHARS)
        alert_actions.acknowledge_alert(
            db,
            actor=user,
            alert_id=alert_id,
            now=request.app.state.ctx.clock(),
            note=note or None,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        field = "ack_note" if e.field == "note" else e.field
        return _detail_page(request, db, user, alert_id, errors={field: e.message}, values={"ack_note": note})
    db.commit()
    return RedirectResponse(f"/clinic/alerts/{alert_id}?done=acknowledged", status_code=303)


@router.post("/clinic/alerts/{alert_id}/resolve")
async def resolve(request: Request, alert_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    _only_clinicians(user)
    note = ""
    try:
        note = text(form, "note", max_length=alert_actions.NOTE_MAX_CHARS)
        alert_actions.resolve_alert(
            db,
            actor=user,
            alert_id=alert_id,
            now=request.app.state.ctx.clock(),
            note=note,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _detail_page(request, db, user, alert_id, errors={e.field: e.message}, values={"note": note})
    db.commit()
    return RedirectResponse(f"/clinic/alerts/{alert_id}?done=resolved", status_code=303)

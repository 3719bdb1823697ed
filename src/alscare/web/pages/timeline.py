"""The timeline tab of a record (issue 8): charts, plain-words progress, check-in history; and the visit summary
PDF drawn from the same view."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from alscare.access import Scope
from alscare.actions.errors import NotFound
from alscare.actions.forecast import band_for
from alscare.actions.records import may
from alscare.actions.timeline import timeline_of, visit_summary_of
from alscare.actions.visit_summary import other_sections
from alscare.storage.models import AlsfrsAssessment, Patient, User
from alscare.web.charts import BandPoint
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pdf import render_pdf
from alscare.web.render import render
from alscare.web.timeline_view import build

router = APIRouter(include_in_schema=False)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 6 else 1


def _forecast_band(
    db: Session, *, user: User, patient: Patient, assessments: list[AlsfrsAssessment] | None, today: date
) -> list[BandPoint] | None:
    """The forecast band beyond today (issue 12): for the clinic under the prognosis scope; for the person and
    their family only once the person has chosen to see their outlook (``prognosis_opt_in``)."""
    if not assessments or not may(db, user=user, patient=patient, scope=Scope.PROGNOSIS):
        return None
    if user.role != "clinician" and not patient.prognosis_opt_in:
        return None
    found = band_for(patient, assessments, today=today)
    return None if found is None else [BandPoint(on=b.on, total=b.total, low=b.low, high=b.high) for b in found]


@router.get("/patients/{patient_id}/timeline")
def timeline(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    now = request.app.state.ctx.clock()
    data = timeline_of(
        db, actor=user, patient_id=patient_id, now=now, page=_page_number(request), source_ip=client_ip(request)
    )
    db.commit()
    patient = data.patient
    band = _forecast_band(db, user=user, patient=patient, assessments=data.assessments, today=now.date())
    view = build(data, viewer=user, today=now.date(), band=band)
    return render(
        request,
        "timeline.html",
        title=f"Timeline of {patient.full_name}",
        user=user,
        db=db,
        patient=patient,
        view=view,
        tab="timeline",
        own=patient.user_id == user.id,
        emergency_number=patient.emergency_number,
    )


@router.get("/patients/{patient_id}/visit-summary.pdf")
def visit_summary(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    now = request.app.state.ctx.clock()
    summary = visit_summary_of(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    if summary.timeline.assessments is None:
        db.commit()
        raise NotFound("record not found")
    sections = other_sections(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    db.commit()
    view = build(summary.timeline, viewer=user, today=now.date(), clinical=True)
    pdf = render_pdf(
        "visit_summary.html",
        patient=summary.timeline.patient,
        view=view,
        summary=summary,
        sections=sections,
        generated=now,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'inline; filename="visit-summary.pdf"',
            "Cache-Control": "no-store",
        },
    )

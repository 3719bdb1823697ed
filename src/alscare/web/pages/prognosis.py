"""The outlook (prognosis) page: for clinicians the ENCALS estimate with its inputs and caveats; for the person,
only once they have turned it on, the same in plain words with the offer to talk it through."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions.errors import InvalidInput
from alscare.actions.prognosis_view import (
    CURVE_MONTHS_AHEAD,
    curve_svg_points,
    prognosis_view,
    set_prognosis_choice,
)
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)
CHART = {"width": 640, "height": 300, "pad": 40}


@router.get("/patients/{patient_id}/prognosis")
def prognosis_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    view = prognosis_view(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return render(
        request,
        "prognosis.html",
        title=f"Outlook for {view.patient.full_name}" if not view.is_own else "Your outlook",
        user=user,
        db=db,
        view=view,
        chart=CHART,
        months_ahead=CURVE_MONTHS_AHEAD,
        low_points=curve_svg_points(view.curve, high=False, **CHART) if view.curve else "",
        high_points=curve_svg_points(view.curve, high=True, **CHART) if view.curve else "",
        clinician=user.role == "clinician",
        saved=request.query_params.get("saved"),
        emergency_number=view.patient.emergency_number,
    )


@router.post("/patients/{patient_id}/prognosis/choice")
async def prognosis_choice(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    choice = text(form, "choice", max_length=5)
    if choice not in ("on", "off"):
        raise InvalidInput("choice", "Choose on or off.")
    set_prognosis_choice(
        db,
        actor=user,
        patient_id=patient_id,
        opt_in=choice == "on",
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
    )
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/prognosis?saved={choice}", status_code=303)

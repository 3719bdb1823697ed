"""For people who cannot speak in an emergency (issue 7, item 4): the full-screen card to show the operator or
paramedic, and the settings page that prompts the person to register with their country's text route.

The card is read under the profile scope (name and emergency number, shown to anyone the person shares with);
the care wishes on it only for those who may read care wishes, the breathing support only for those who may
read check-ins, each audited by its own action.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.access import Action, Scope
from alscare.actions import care_wishes as care_wishes_actions
from alscare.actions import emergency_text as actions
from alscare.actions.errors import InvalidInput
from alscare.actions.records import open_record
from alscare.clinical import care_wishes as care_wishes_core
from alscare.clinical.emergency_text import TextRoute, route, route_for_locale
from alscare.clinical.wording import load_wording
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, app_context, client_ip
from alscare.web.pages.care_wishes import emergency_care_wishes
from alscare.web.pages.forms import read_form, text
from alscare.web.render import TEMPLATES, render

router = APIRouter(include_in_schema=False)

RESOURCE = "emergency_card"


def words() -> dict[str, Any]:
    return load_wording("emergency_card.en")


def text_route(request: Request) -> TextRoute:
    """The text route of the app's locale (``ALSCARE_LOCALE``)."""
    return route_for_locale(app_context(request).settings.locale)


# Templates reach the route through these globals, so the emergency screen and the account page need no
# change to their handlers (``_emergency_cannot_speak.html``, ``_emergency_text_prompt.html``).
TEMPLATES.env.globals["emergency_text_route"] = text_route
TEMPLATES.env.globals["emergency_words"] = words


@router.get("/patients/{patient_id}/emergency/card")
def operator_card(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    """One screen, large print, for the person to hold up to the operator's video or the paramedic."""
    ctx = app_context(request)
    now = ctx.clock()
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.PROFILE,
        action=Action.READ,
        now=now,
        resource=RESOURCE,
        source_ip=client_ip(request),
    )
    wishes = emergency_care_wishes(db, user=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    used = care_wishes_actions.in_use(db, actor=user, patient=patient, now=now, source_ip=client_ip(request))
    # ALSFRS-R item 12 answered 4 ("no breathing machine"): no machine to keep on or bring.
    uses_machine = used.breathing is not None and used.breathing != care_wishes_core.wording()["in_use"]["4"]
    db.commit()
    return render(
        request,
        "emergency_card.html",
        title=words()["card"]["title"],
        user=user,
        db=db,
        patient=patient,
        care_wishes=wishes,
        in_use=used,
        uses_machine=uses_machine,
        words=words(),
        emergency_number=patient.emergency_number,
    )


def _settings_page(request: Request, db: Db, user: User, notice: str | None = None) -> Response:
    registration = actions.registration_of(db, user=user)
    return render(
        request,
        "emergency_text_settings.html",
        title=words()["settings"]["title"],
        user=user,
        db=db,
        active="account",
        route=text_route(request),
        registered=registration,
        registered_route=route(registration.route_id) if registration else None,
        words=words(),
        notice=notice,
    )


@router.get("/account/emergency-text")
def settings(request: Request, user: PageUser, db: Db) -> Response:
    said = request.query_params.get("done")
    notice = {"registered": "done_notice", "taken_back": "undone_notice"}.get(said or "")
    return _settings_page(request, db, user, words()["settings"][notice] if notice else None)


@router.post("/account/emergency-text")
async def save_settings(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    choice = text(form, "registered", max_length=10)
    now = app_context(request).clock()
    if choice == "yes":
        try:
            actions.note_registered(db, user=user, route_id=text(form, "route_id", max_length=40), now=now)
        except InvalidInput as e:
            db.rollback()
            return render(
                request, "error.html", title="Please check what you sent", user=user, db=db, message=e.message,
                status_code=422,
            )  # fmt: skip
        done = "registered"
    else:
        actions.take_back(db, user=user)
        done = "taken_back"
    db.commit()
    return RedirectResponse(f"/account/emergency-text?done={done}", status_code=303)

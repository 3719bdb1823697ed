"""The clinic administrator's pages: the clinic's details, its staff, the people it cares for (no clinical
data). Every action is in ``actions/clinic_admin.py``; anyone who is not the clinic's administrator gets 403."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import clinic_admin
from alscare.actions.errors import InvalidInput
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

FIELDS = ("name", "phone", "hours", "address", "email", "emergency_number")
NOTICES = {
    "saved": "The clinic's details are saved.",
    "deactivated": "The account is deactivated. Its sessions have ended.",
    "reactivated": "The account can sign in again.",
    "two_step_reset": "Two-step sign-in is reset. They will set it up again when they next sign in.",
}


def _details_page(
    request: Request, db: Db, user: User, values: dict[str, str], errors: dict[str, str] | None = None
) -> Response:
    return render(
        request,
        "clinic_details.html",
        title="Clinic details",
        user=user,
        db=db,
        active="clinic",
        values=values,
        errors=errors,
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


@router.get("/clinic/details")
def details_form(request: Request, user: PageUser, db: Db) -> Response:
    clinic = clinic_admin.clinic_details(db, admin=user)
    values = {f: getattr(clinic, f) or "" for f in FIELDS}
    return _details_page(request, db, user, values)


@router.post("/clinic/details")
async def save_details(request: Request, user: PageUser, db: Db) -> Response:
    clinic_admin.require_admin(user)
    form = await read_form(request)
    try:
        values = {f: text(form, f, max_length=400) for f in FIELDS}
        clinic_admin.update_clinic_details(
            db, admin=user, details=clinic_admin.ClinicDetails(**values), now=request.app.state.ctx.clock()
        )
    except InvalidInput as e:
        db.rollback()
        raw = {f: str(form.get(f) or "")[:400] for f in FIELDS}
        return _details_page(request, db, user, raw, {e.field: e.message})
    db.commit()
    return RedirectResponse("/clinic/details?done=saved", status_code=303)


@router.get("/clinic/staff")
def staff(request: Request, user: PageUser, db: Db) -> Response:
    return render(
        request,
        "clinic_staff.html",
        title="Clinic staff",
        user=user,
        db=db,
        active="clinic",
        staff=clinic_admin.staff_list(db, admin=user),
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


async def _staff_action(request: Request, user: User, db: Db, user_id: int, what: str) -> Response:
    clinic_admin.require_admin(user)
    await read_form(request)
    now = request.app.state.ctx.clock()
    try:
        if what == "two_step_reset":
            clinic_admin.reset_second_factor(db, admin=user, user_id=user_id, now=now)
        else:
            clinic_admin.set_staff_active(db, admin=user, user_id=user_id, active=what == "reactivated", now=now)
    except InvalidInput as e:
        db.rollback()
        return render(
            request,
            "clinic_staff.html",
            title="Clinic staff",
            user=user,
            db=db,
            active="clinic",
            staff=clinic_admin.staff_list(db, admin=user),
            errors={"staff": e.message},
        )
    db.commit()
    return RedirectResponse(f"/clinic/staff?done={what}#staff-{user_id}", status_code=303)


@router.post("/clinic/staff/{user_id}/deactivate")
async def deactivate(request: Request, user_id: int, user: PageUser, db: Db) -> Response:
    return await _staff_action(request, user, db, user_id, "deactivated")


@router.post("/clinic/staff/{user_id}/reactivate")
async def reactivate(request: Request, user_id: int, user: PageUser, db: Db) -> Response:
    return await _staff_action(request, user, db, user_id, "reactivated")


@router.post("/clinic/staff/{user_id}/reset-two-step")
async def reset_two_step(request: Request, user_id: int, user: PageUser, db: Db) -> Response:
    return await _staff_action(request, user, db, user_id, "two_step_reset")


@router.get("/clinic/people")
def people(request: Request, user: PageUser, db: Db, page: int = 1) -> Response:
    listing = clinic_admin.clinic_people(db, admin=user, page=page, now=request.app.state.ctx.clock())
    db.commit()  # the read is on the audit trail
    return render(
        request, "clinic_people.html", title="People in your clinic's care", user=user, db=db, active="clinic",
        listing=listing,
    )  # fmt: skip

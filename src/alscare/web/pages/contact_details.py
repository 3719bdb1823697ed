"""Your phone number (account page): the care team sees it beside your alerts, as a number to call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import phones
from alscare.actions.errors import InvalidInput
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/account/phone")
def phone_form(request: Request, user: PageUser, db: Db) -> Response:
    return render(
        request,
        "account_phone.html",
        title="Your phone number",
        user=user,
        db=db,
        active="account",
        phone=phones.phone_of(db, user=user) or "",
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/account/phone")
async def phone_save(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    raw = ""
    try:
        raw = text(form, "phone", max_length=phones.PHONE_MAX_CHARS)
        phones.set_phone(db, actor=user, phone=raw, now=request.app.state.ctx.clock(), source_ip=client_ip(request))
    except InvalidInput as e:
        db.rollback()
        return render(
            request,
            "account_phone.html",
            title="Your phone number",
            user=user,
            db=db,
            active="account",
            phone=raw,
            errors={e.field: e.message},
        )
    db.commit()
    return RedirectResponse("/account/phone?saved=1", status_code=303)

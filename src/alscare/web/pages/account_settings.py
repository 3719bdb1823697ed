"""Changing one's own password and email address from the account page (``actions/account_settings.py``).

The email confirmation link arrives only at the new address; opening it shows a page with one button, and
the change happens on that POST, so a GET (a link preview, a prefetch) never changes anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import account_settings
from alscare.actions.errors import InvalidInput, NotFound
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, start_session
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


def _account_page(request: Request, db: Db, user: User, errors: dict[str, str], values: dict[str, str]) -> Response:
    return render(
        request, "account.html", title="Your account", user=user, db=db, active="account", errors=errors,
        values=values,
    )  # fmt: skip


@router.post("/account/password")
async def change_password(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    try:
        account_settings.change_password(
            db,
            user=user,
            current_password=str(form.get("current_password") or ""),
            new_password=str(form.get("new_password") or ""),
            now=request.app.state.ctx.clock(),
        )
    except InvalidInput as e:
        db.rollback()
        return _account_page(request, db, user, {e.field: e.message}, {})
    # Every session ended; this browser gets a fresh one.
    start_session(db, request, user_id=user.id, pending_user_id=None)
    db.commit()
    return RedirectResponse("/account?changed=password", status_code=303)


@router.post("/account/email")
async def change_email(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    ctx = request.app.state.ctx
    new_email = text(form, "new_email", max_length=254)
    try:
        asked = account_settings.request_email_change(
            db, user=user, password=str(form.get("email_password") or ""), new_email=new_email, now=ctx.clock()
        )
    except InvalidInput as e:
        db.rollback()
        field = "email_password" if e.field == "current_password" else e.field
        return _account_page(request, db, user, {field: e.message}, {"new_email": new_email})
    db.commit()
    if asked.token is not None:
        (subject, body), _ = account_settings.email_change_emails(
            f"{ctx.settings.base_url}/account/email/confirm/{asked.token}"
        )
        ctx.mailer.send(to=asked.new_email, subject=subject, body=body)
    # The same answer whether or not the address is in use; the link is never shown here.
    return RedirectResponse("/account?changed=email_sent", status_code=303)


@router.get("/account/email/confirm/{token}")
def confirm_email_form(request: Request, token: str) -> Response:
    return render(request, "email_confirm.html", title="Confirm your new email address", token=token)


@router.post("/account/email/confirm/{token}")
async def confirm_email(request: Request, token: str, db: Db) -> Response:
    await read_form(request)
    ctx = request.app.state.ctx
    try:
        user, old = account_settings.confirm_email_change(db, token=token[:200], now=ctx.clock())
    except NotFound as e:
        db.rollback()
        return render(
            request, "email_confirm.html", title="Confirm your new email address", token=token, problem=str(e),
            status_code=404,
        )  # fmt: skip
    db.commit()
    _, (subject, body) = account_settings.email_change_emails("")
    ctx.mailer.send(to=old, subject=subject, body=body)
    return render(request, "email_confirm.html", title="Email address changed", done=True, new_email=user.email)

"""The account page and two-factor enrolment (required for clinic staff, offered to everyone)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import accounts
from alscare.actions.errors import InvalidInput
from alscare.security.tokens import sign, verify_signature
from alscare.security.totp import new_secret, provisioning_uri, qr_svg
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, optional_user, pending_user, start_session
from alscare.web.pages.forms import read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account(request: Request, user: PageUser, db: Db) -> Response:
    return render(request, "account.html", title="Your account", user=user, db=db, active="account")


class _SecondFactorOwed(Exception):
    """Password checked for someone who already has two-step sign-in: they must give a code, not enrol anew."""


def _enrolling_user(request: Request, db: Db) -> tuple[User | None, bool]:
    """The signed-in user, or one who must enrol before finishing sign-in (clinic staff).

    Someone who has passed only the password of an account that already has two-step sign-in is *not* offered
    enrolment: setting up a new authenticator would replace the enrolled one and sign them in without it.
    """
    user = optional_user(request, db)
    if user is not None:
        return user, False
    pending = pending_user(request, db)
    if pending is not None and pending.totp_enabled:
        raise _SecondFactorOwed()
    return pending, True


def _two_factor_page(
    request: Request, db: Db, user: User, pending: bool, secret: str, errors: dict[str, str] | None = None
) -> Response:
    key: bytes = request.app.state.ctx.settings.secret_key
    uri = provisioning_uri(secret, user.email)
    return render(
        request,
        "two_factor.html",
        title="Set up two-step sign-in",
        user=None if pending else user,
        db=db,
        errors=errors,
        secret=secret,
        signed_secret=sign(key, f"{user.id}:{secret}".encode()),
        qr=qr_svg(uri),
        pending=pending,
        active="account",
    )


@router.get("/account/two-factor")
def two_factor_form(request: Request, db: Db) -> Response:
    try:
        user, pending = _enrolling_user(request, db)
    except _SecondFactorOwed:
        return RedirectResponse("/signin/code", status_code=303)
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    return _two_factor_page(request, db, user, pending, new_secret())


@router.post("/account/two-factor")
async def two_factor(request: Request, db: Db) -> Response:
    form = await read_form(request)
    try:
        user, pending = _enrolling_user(request, db)
    except _SecondFactorOwed:
        return RedirectResponse("/signin/code", status_code=303)
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    secret = text(form, "secret", max_length=64)
    key: bytes = request.app.state.ctx.settings.secret_key
    if not verify_signature(key, f"{user.id}:{secret}".encode(), text(form, "signed_secret", max_length=128)):
        return _two_factor_page(
            request, db, user, pending, new_secret(), {"code": "The set-up expired. Scan the new code and try again."}
        )
    try:
        accounts.enable_second_factor(
            db, user=user, secret=secret, code=text(form, "code", max_length=20), now=request.app.state.ctx.clock()
        )
    except InvalidInput as e:
        db.rollback()
        return _two_factor_page(request, db, user, pending, secret, {e.field: e.message})
    start_session(db, request, user_id=user.id, pending_user_id=None)
    db.commit()
    return RedirectResponse("/account?two_factor=on", status_code=303)

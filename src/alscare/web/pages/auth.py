"""Signing in and out, second factor, self sign-up, password reset, accepting an invitation."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.access import GRANTABLE_SCOPES, SCOPE_LABELS
from alscare.actions import accounts, security, share_invitations, sign_up
from alscare.actions.errors import InvalidInput, NotFound
from alscare.storage.models import Invitation
from alscare.web.deps import Db, PageUser, client_ip, end_session, optional_user, pending_user, start_session
from alscare.web.next_path import safe_next, with_next
from alscare.web.pages.forms import choices, optional_date, optional_number, read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

SIGN_IN_FAILED = "The email or password is not right. Check them and try again."
ONSET_REGION_OPTIONS = [
    ("", "Not sure / prefer not to say"),
    ("bulbar", "Speech or swallowing (bulbar)"),
    ("upper_limb", "Arm or hand"),
    ("lower_limb", "Leg or foot"),
    ("respiratory", "Breathing"),
    ("trunk", "Body (trunk)"),
]
SEX_OPTIONS = [("", "Prefer not to say"), ("female", "Female"), ("male", "Male"), ("other", "Other")]


async def _take_at_least(seconds: float, *, since: float) -> None:
    """Wait until ``seconds`` have passed ``since`` (a ``time.monotonic()`` reading), so that an answer's timing
    cannot tell a known email from an unknown one (``/password/forgot``, ``/signup``)."""
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - since)))


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/")
def start(request: Request, db: Db) -> Response:
    if optional_user(request, db):
        return _redirect("/home")
    return render(request, "start.html", title="Welcome")


@router.get("/signin")
def signin_form(request: Request, db: Db) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if optional_user(request, db):
        return _redirect(next_path or "/home")
    return render(request, "signin.html", title="Sign in", email="", next_path=next_path)


def _too_many(request: Request, email: str, wait: float, next_path: str | None = None) -> Response:
    minutes = max(1, round(wait / 60))
    return render(
        request,
        "signin.html",
        title="Sign in",
        email=email,
        status_code=429,
        errors={"email": f"Too many attempts. Wait {minutes} minute(s), then try again."},
        next_path=next_path,
    )


@router.post("/signin")
async def signin(request: Request, db: Db) -> Response:
    """Throttled per account *and address* (plus per address), never per account alone: guesses from one place
    slow down that place, while the owner on their own device still gets in (``actions.security``)."""
    form = await read_form(request)
    email = text(form, "email", max_length=254).lower()
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    next_path = safe_next(form.get("next"))
    ctx = request.app.state.ctx
    now = ctx.clock()
    ip = client_ip(request)
    wait = security.wait_seconds(db, [security.pair_key(email, ip), security.address_key(ip)], now=now)
    if wait:
        db.rollback()
        return _too_many(request, email, wait, next_path)
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address."
    if not password:
        errors["password"] = "Enter your password."
    if errors:
        db.rollback()
        return render(request, "signin.html", title="Sign in", email=email, errors=errors, next_path=next_path)
    result = accounts.authenticate(db, email=email, password=password)
    if result is None:
        security.sign_in_failed(db, email=email, address=ip, now=now, base_url=ctx.settings.base_url)
        db.commit()
        return render(
            request, "signin.html", title="Sign in", email=email, errors={"email": SIGN_IN_FAILED}, next_path=next_path
        )
    security.sign_in_succeeded(db, user=result.user, email=email, address=ip, now=now)
    if result.needs_second_factor:
        start_session(db, request, user_id=None, pending_user_id=result.user.id)
        db.commit()
        return _redirect(with_next("/signin/code", next_path))
    if result.must_enrol_second_factor:
        start_session(db, request, user_id=None, pending_user_id=result.user.id)
        db.commit()
        return _redirect("/account/two-factor")
    start_session(db, request, user_id=result.user.id, pending_user_id=None)
    db.commit()
    return _redirect(next_path or "/home")


@router.get("/signin/code")
def code_form(request: Request, db: Db) -> Response:
    if pending_user(request, db) is None:
        return _redirect("/signin")
    next_path = safe_next(request.query_params.get("next"))
    return render(request, "signin_code.html", title="Enter your sign-in code", next_path=next_path)


@router.post("/signin/code")
async def code(request: Request, db: Db) -> Response:
    form = await read_form(request)
    next_path = safe_next(form.get("next"))
    user = pending_user(request, db)
    if user is None:
        return _redirect("/signin")
    ctx = request.app.state.ctx
    now = ctx.clock()
    ip = client_ip(request)
    key = security.pair_key(f"totp:{user.id}", ip)
    if security.wait_seconds(db, [key], now=now):
        return render(
            request,
            "signin_code.html",
            title="Enter your sign-in code",
            status_code=429,
            errors={"code": "Too many attempts. Wait a few minutes, then try again."},
            next_path=next_path,
        )
    if not accounts.check_second_factor(db, user=user, code=text(form, "code", max_length=20), now=now):
        security.register(db, key, now=now, policy=security.CODE_POLICY)
        security.security_event(
            db, now=now, actor_user_id=user.id, action="denied", resource="sign_in_code", source_ip=ip
        )
        db.commit()
        return render(
            request,
            "signin_code.html",
            title="Enter your sign-in code",
            errors={"code": "That code is not right. Enter the newest 6-digit code from your app."},
            next_path=next_path,
        )
    security.clear(db, key)
    security.security_event(db, now=now, actor_user_id=user.id, action="signin", resource="sign_in_code", source_ip=ip)
    start_session(db, request, user_id=user.id, pending_user_id=None)
    db.commit()
    return _redirect(next_path or "/home")


@router.post("/signout")
async def signout(request: Request, db: Db) -> Response:
    await read_form(request)
    end_session(db, request)
    db.commit()
    return _redirect("/signin?signed_out=1")


def _profile_from(form: object) -> accounts.PatientProfile:
    from starlette.datastructures import FormData

    assert isinstance(form, FormData)
    return accounts.PatientProfile(
        full_name=text(form, "full_name", max_length=200),
        date_of_birth=optional_date(form, "date_of_birth"),
        sex=text(form, "sex") or None,
        height_cm=optional_number(form, "height_cm"),
        onset_date=optional_date(form, "onset_date"),
        onset_region=text(form, "onset_region") or None,
        diagnosis_date=optional_date(form, "diagnosis_date"),
        emergency_number=text(form, "emergency_number", max_length=20) or None,
    )


def _signup_page(request: Request, values: dict[str, str], errors: dict[str, str] | None = None) -> Response:
    return render(
        request,
        "signup.html",
        title="Create your account",
        values=values,
        errors=errors,
        onset_regions=ONSET_REGION_OPTIONS,
        sexes=SEX_OPTIONS,
        default_emergency_number=request.app.state.ctx.settings.default_emergency_number,
    )


@router.get("/signup")
def signup_form(request: Request) -> Response:
    return _signup_page(request, {})


@router.post("/signup")
async def signup(request: Request, db: Db) -> Response:
    """Check the form, then answer "check your email" for a new address and a known one alike, in the same
    time (``actions.sign_up``): the account is made when the emailed link is used."""
    started = time.monotonic()
    form = await read_form(request)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("password", "csrf_token")}
    ctx = request.app.state.ctx
    now = ctx.clock()
    ip = client_ip(request)
    if security.wait_seconds(db, [security.address_key(f"signup:{ip}")], now=now):
        db.rollback()
        return _signup_page(request, values, {"email": "Too many sign-ups from here. Wait an hour, then try again."})
    try:
        mail = sign_up.start_sign_up(
            db,
            email=text(form, "email", max_length=254),
            password=str(form.get("password") or ""),
            profile=_profile_from(form),
            now=now,
            base_url=ctx.settings.base_url,
        )
    except InvalidInput as e:
        db.rollback()
        return _signup_page(request, values, {e.field: e.message})
    # Per email: past the limit nothing more is sent (and nothing stored), and the answer stays the same.
    email_limited = security.wait_seconds(db, [security.account_key(f"signup:{mail.to}")], now=now) is not None
    if email_limited:
        db.rollback()
    security.register(db, security.address_key(f"signup:{ip}"), now=now, policy=security.FORGOT_ADDRESS_POLICY)
    security.register(db, security.account_key(f"signup:{mail.to}"), now=now, policy=security.FORGOT_EMAIL_POLICY)
    db.commit()
    if not email_limited:
        ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
    await _take_at_least(FORGOT_MIN_SECONDS, since=started)
    return render(request, "signup_sent.html", title="Check your email", email=mail.to)


@router.get("/signup/confirm/{token}")
def signup_confirm_form(request: Request, token: str, db: Db) -> Response:
    """The link from the email: a page with one button (a GET never creates the account)."""
    try:
        sign_up.find_pending(db, token=token, now=request.app.state.ctx.clock())
    except NotFound as e:
        db.rollback()
        return render(request, "signup_confirm.html", title="Link not valid", problem=str(e), status_code=404)
    db.rollback()
    return render(request, "signup_confirm.html", title="Finish creating your account", token=token)


@router.post("/signup/confirm/{token}")
async def signup_confirm(request: Request, token: str, db: Db) -> Response:
    await read_form(request)  # the CSRF check
    ctx = request.app.state.ctx
    try:
        user = sign_up.finish_sign_up(
            db, token=token, now=ctx.clock(), default_emergency_number=ctx.settings.default_emergency_number
        )
    except NotFound as e:
        db.rollback()
        return render(request, "signup_confirm.html", title="Link not valid", problem=str(e), status_code=404)
    start_session(db, request, user_id=user.id, pending_user_id=None)
    db.commit()
    return _redirect("/home?welcome=1")


@router.get("/password/forgot")
def forgot_form(request: Request) -> Response:
    return render(request, "password_forgot.html", title="Reset your password")


# Every answer to /password/forgot takes at least this long, whichever branch ran, so its timing cannot tell
# a known email from an unknown one (both branches also do the same work: a token, a digest, one email).
FORGOT_MIN_SECONDS = 0.25


@router.post("/password/forgot")
async def forgot(request: Request, db: Db) -> Response:
    started = time.monotonic()
    form = await read_form(request)
    email = text(form, "email", max_length=254).strip().lower()
    if not email:
        return render(
            request,
            "password_forgot.html",
            title="Reset your password",
            errors={"email": "Enter the email address you sign in with."},
        )
    ctx = request.app.state.ctx
    now = ctx.clock()
    ip = client_ip(request)
    if security.wait_seconds(db, [security.address_key(f"forgot:{ip}")], now=now):
        db.rollback()
        return render(
            request,
            "password_forgot.html",
            title="Reset your password",
            status_code=429,
            errors={"email": "Too many requests from here. Wait an hour, then try again."},
        )
    # Per email: past the limit, nothing is sent, and the answer is still the same "check your email".
    email_limited = security.wait_seconds(db, [security.account_key(f"forgot:{email}")], now=now) is not None
    security.register(db, security.address_key(f"forgot:{ip}"), now=now, policy=security.FORGOT_ADDRESS_POLICY)
    security.register(db, security.account_key(f"forgot:{email}"), now=now, policy=security.FORGOT_EMAIL_POLICY)
    mail = None
    if not email_limited:
        mail = accounts.request_password_reset(db, email=email, now=now, base_url=ctx.settings.base_url, source_ip=ip)
    db.commit()
    if mail is not None:
        ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
    await _take_at_least(FORGOT_MIN_SECONDS, since=started)
    # The same answer either way, so the page does not reveal who has an account.
    return render(request, "password_forgot.html", title="Check your email", sent=True)


@router.get("/password/reset/{token}")
def reset_form(request: Request, token: str) -> Response:
    return render(request, "password_reset.html", title="Choose a new password", token=token)


@router.post("/password/reset/{token}")
async def reset(request: Request, token: str, db: Db) -> Response:
    form = await read_form(request)
    password = str(form.get("password") or "")
    try:
        accounts.reset_password(
            db, token=token, new_password=password, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
        )
    except InvalidInput as e:
        db.rollback()
        return render(
            request, "password_reset.html", title="Choose a new password", token=token, errors={"password": e.message}
        )
    db.commit()
    return _redirect("/signin?reset=1")


def _invite_page(
    request: Request,
    inv: object,
    token: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    checked: list[str] | None = None,
) -> Response:
    return render(
        request,
        "invitation_accept.html",
        title="Accept your invitation",
        invitation=inv,
        token=token,
        values=values,
        errors=errors,
        checked=checked or [],
        scope_options=[(s.value, SCOPE_LABELS[s]) for s in GRANTABLE_SCOPES if s.value not in ("proxy", "research")],
        scope_labels=SCOPE_LABELS,
        onset_regions=ONSET_REGION_OPTIONS,
        sexes=SEX_OPTIONS,
    )


def _share_for_account(request: Request, db: Db, inv: Invitation, token: str) -> Response | None:
    """For a share invitation to an email that has an account: the page to accept it signed in (or the way to
    sign in first). None when the invitee has no account and makes one from the link. Only the link's holder —
    the mailbox's owner — ever sees which it is; the sharer sees "waiting" either way (finding 5)."""
    if inv.patient_id is None or not accounts._email_taken(db, inv.email):
        return None
    user = optional_user(request, db)
    if user is None:
        return _redirect(with_next("/signin", f"/invite/{token}"))
    return render(
        request,
        "share_accept.html",
        title="Accept what is shared with you",
        user=user,
        db=db,
        invitation=inv,
        token=token,
        for_someone_else=user.email != inv.email,
        scope_labels=SCOPE_LABELS,
    )


@router.get("/invite/{token}")
def invitation_form(request: Request, token: str, db: Db) -> Response:
    inv = accounts.find_invitation(db, token=token, now=request.app.state.ctx.clock())
    return _share_for_account(request, db, inv, token) or _invite_page(request, inv, token, {})


@router.post("/invite/{token}/accept")
async def accept_share(request: Request, token: str, user: PageUser, db: Db) -> Response:
    """A signed-in account accepts a share invitation sent to its email; the grants start now."""
    await read_form(request)
    share_invitations.accept_share(
        db, token=token, user=user, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return _redirect("/home?accepted=1")


@router.post("/invite/{token}")
async def accept_invitation(request: Request, token: str, db: Db) -> Response:
    form = await read_form(request)
    ctx = request.app.state.ctx
    inv = accounts.find_invitation(db, token=token, now=ctx.clock())
    values = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("password", "csrf_token")}
    share = choices(form, "share_with_clinic")
    try:
        profile = _profile_from(form) if inv.role == "patient" else None
        if profile is not None and not profile.full_name:
            profile = accounts.PatientProfile(**{**profile.__dict__, "full_name": text(form, "display_name")})
        user = accounts.accept_invitation(
            db,
            token=token,
            display_name=text(form, "display_name", max_length=200),
            password=str(form.get("password") or ""),
            now=ctx.clock(),
            default_emergency_number=ctx.settings.default_emergency_number,
            profile=profile,
            share_with_clinic=share,
        )
    except InvalidInput as e:
        db.rollback()
        inv = accounts.find_invitation(db, token=token, now=ctx.clock())
        return _invite_page(request, inv, token, values, {e.field: e.message}, share)
    except NotFound:
        raise
    if user.is_clinic_staff:
        start_session(db, request, user_id=None, pending_user_id=user.id)
        db.commit()
        return _redirect("/account/two-factor")
    start_session(db, request, user_id=user.id, pending_user_id=None)
    db.commit()
    return _redirect("/home?welcome=1")

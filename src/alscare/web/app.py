"""The application factory. Nothing is created at import time: settings, engine and workers are made here."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.clinical.wording import load_wording
from alscare.mail import Mailer, mailer_for
from alscare.security.ratelimit import ThrottleStore
from alscare.security.secretbox import use_key
from alscare.settings import Settings, load_settings
from alscare.storage.db import make_engine, make_read_sessionmaker, make_sessionmaker
from alscare.web.context import AppContext
from alscare.web.deps import SignInRequired
from alscare.web.middleware import SECURITY_HEADERS, SessionAndHeadersMiddleware

log = logging.getLogger("alscare.web")


def _route_template(request: Request) -> str:
    """The matched route's template (``/invite/{token}``), never the raw path: paths such as
    ``/signup/confirm/<token>`` or ``/password/reset/<token>`` carry live tokens, which must not reach a log."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(no route)"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    mailer: Mailer | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    use_key(settings.secret_key)  # two-step keys and webhook secrets are sealed at rest with it
    engine = engine or make_engine(settings.database_url, pool_size=settings.db_pool_size)
    ctx = AppContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        read_sessions=make_read_sessionmaker(engine),
        mailer=mailer or mailer_for(settings),
        throttle=ThrottleStore(),
    )
    app = FastAPI(
        title="alscare",
        version="0.1.0",
        summary="ALS care companion and clinic monitor",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.ctx = ctx
    app.add_middleware(
        SessionAndHeadersMiddleware,
        cookie_secure=settings.cookie_secure,
        max_age_seconds=settings.session_hours * 3600,
    )
    from alscare.web.admission import AdmissionGate

    # Outermost: requests wait here, holding neither a thread nor a connection (see web/admission.py).
    app.add_middleware(AdmissionGate, pool_size=settings.db_pool_size)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")

    from alscare.web.api import alerts as alerts_api
    from alscare.web.api import care_wishes as care_wishes_api
    from alscare.web.api import checkins as checkins_api
    from alscare.web.api import medicines as medicines_api
    from alscare.web.api import messages as messages_api
    from alscare.web.api import prognosis as prognosis_api
    from alscare.web.api import schedules as schedules_api
    from alscare.web.api import v1
    from alscare.web.pages import (
        account,
        aids,
        alerts,
        alsfrs,
        auth,
        checkins,
        contact_details,
        messages,
        records,
        rehabilitation,
        schedules,
        timeline,
        webhooks,
    )
    from alscare.web.pages import care_wishes as care_wishes_pages
    from alscare.web.pages import clinic as clinic_pages
    from alscare.web.pages import medicines as medicines_pages
    from alscare.web.pages import prognosis as prognosis_pages
    from alscare.web.pages.criteria import router as criteria_router
    from alscare.web.pages.diagnosis import router as diagnosis_router
    from alscare.web.pages.learn import router as learn_router

    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(records.router)
    app.include_router(checkins.router)
    from alscare.web.pages import checkin_steps, reading

    app.include_router(checkin_steps.router)
    app.include_router(reading.router)
    app.include_router(alerts.router)
    app.include_router(alsfrs.router)
    app.include_router(schedules.router)
    app.include_router(messages.router)
    app.include_router(webhooks.router)
    app.include_router(learn_router)
    app.include_router(diagnosis_router)
    app.include_router(criteria_router)
    app.include_router(rehabilitation.router)
    app.include_router(aids.router)
    app.include_router(timeline.router)
    app.include_router(clinic_pages.router)
    app.include_router(contact_details.router)
    app.include_router(prognosis_pages.router)
    app.include_router(prognosis_api.router)
    app.include_router(v1.router)
    app.include_router(messages_api.router)
    app.include_router(schedules_api.router)
    app.include_router(checkins_api.router)
    app.include_router(alerts_api.router)
    app.include_router(medicines_pages.router)
    app.include_router(medicines_api.router)
    app.include_router(care_wishes_pages.router)
    app.include_router(care_wishes_api.router)
    from alscare.web.pages import account_settings, clinic_admin
    from alscare.web.pages import api_tokens as api_tokens_pages

    app.include_router(account_settings.router)
    app.include_router(clinic_admin.router)
    app.include_router(api_tokens_pages.router)
    from alscare.web.api import fhir as fhir_api
    from alscare.web.api.docs import enrich_openapi
    from alscare.web.pages import emergency
    from alscare.web.pages import fhir as fhir_pages

    app.include_router(fhir_pages.router)
    app.include_router(fhir_api.router)
    enrich_openapi(app)

    app.include_router(emergency.router)
    from alscare.web.pages import carer_check

    app.include_router(carer_check.router)

    from alscare.web import health

    app.include_router(health.router)

    @app.exception_handler(SignInRequired)
    async def _to_signin(request: Request, _exc: SignInRequired) -> Response:
        # An alert opened from its email comes back to that alert after sign-in and the two-step code.
        from alscare.web.next_path import RETURN_AFTER_SIGN_IN, safe_next, with_next

        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        returns = request.method == "GET" and request.url.path.startswith(RETURN_AFTER_SIGN_IN)
        next_path = safe_next(wanted) if returns else None
        return RedirectResponse(with_next("/signin", next_path), status_code=303)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return _error_page(request, 404, "Page not found", str(exc))

    @app.exception_handler(PermissionDenied)
    async def _forbidden(request: Request, exc: PermissionDenied) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return _error_page(request, 403, "Not allowed", str(exc))

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, exc: InvalidInput) -> Response:
        return JSONResponse(
            {"detail": [{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": "invalid_input"}]},
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if not _wants_json(request) and any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            # /patients/abc names no page: a person gets the same "page not found" page as any unknown address.
            return _error_page(request, 404, NOT_FOUND_TITLE, NOT_FOUND_MESSAGE)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid"), "type": e.get("type", "invalid")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        # Starlette answers unhandled errors outside every middleware: add the security headers here too.
        log.error("unhandled error on %s %s (%s)", request.method, _route_template(request), type(exc).__name__)
        if _wants_json(request):
            response: Response = JSONResponse({"detail": _WORDS["server_error"]["api"]}, status_code=500)
        else:
            try:  # the site's own error page; the plain one if even that cannot be drawn
                response = _error_page(request, 500, _SERVER_ERROR_TITLE, _SERVER_ERROR_TEXT)
            except Exception:
                response = HTMLResponse(_PLAIN_ERROR, status_code=500)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code == 405:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return _error_page(request, 404, NOT_FOUND_TITLE, NOT_FOUND_MESSAGE)
        return _error_page(request, exc.status_code, _SERVER_ERROR_TITLE, str(exc.detail))

    return app


# The words of the error pages (clinical/wording/errors.en.toml).
_WORDS = load_wording("errors.en")
NOT_FOUND_TITLE: str = _WORDS["not_found"]["title"]
NOT_FOUND_MESSAGE: str = _WORDS["not_found"]["message"]
_SERVER_ERROR_TITLE: str = _WORDS["server_error"]["title"]
_SERVER_ERROR_TEXT: str = _WORDS["server_error"]["message"]
_REFUSED_TITLE: str = _WORDS["refused"]["title"]

# The page sent when even the error template cannot be drawn: nothing here may fail.
_PLAIN_ERROR = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    f"<title>{html.escape(_SERVER_ERROR_TITLE)} - alscare</title>"
    '<link rel="stylesheet" href="/static/alscare.css"></head><body><main>'
    f"<h1>{html.escape(_SERVER_ERROR_TITLE)}</h1><p>{html.escape(_SERVER_ERROR_TEXT)}</p></main></body></html>"
)


def input_refused_response(request: Request, status: int, message: str, field: tuple[str, ...]) -> Response:
    """The answer to input refused before any route ran (``middleware.refused_input``): JSON for the API,
    the error page for the pages."""
    if _wants_json(request):
        if status == 422:
            return JSONResponse(
                {"detail": [{"loc": list(field), "msg": message, "type": "invalid_input"}]}, status_code=422
            )
        return JSONResponse({"detail": message}, status_code=status)
    title = NOT_FOUND_TITLE if status == 404 else _REFUSED_TITLE
    return _error_page(request, status, title, message)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    from alscare.web.deps import csrf_for
    from alscare.web.render import TEMPLATES

    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "user": None, "errors": {}, "csrf_token": csrf_for(request)},
        status_code=status,
    )

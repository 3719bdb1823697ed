"""The application factory. Nothing is created at import time: settings, engine and workers are made here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.mail import Mailer, mailer_for
from alscare.security.ratelimit import ThrottleStore
from alscare.settings import Settings, load_settings
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.web.context import AppContext
from alscare.web.deps import SignInRequired
from alscare.web.middleware import SessionAndHeadersMiddleware


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    mailer: Mailer | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    ctx = AppContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
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
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")

    from alscare.web.api import prognosis as prognosis_api
    from alscare.web.api import v1
    from alscare.web.pages import (
        account,
        alerts,
        alsfrs,
        auth,
        checkins,
        contact_details,
        messages,
        records,
        schedules,
        webhooks,
    )
    from alscare.web.pages import clinic as clinic_pages
    from alscare.web.pages import prognosis as prognosis_pages

    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(records.router)
    app.include_router(checkins.router)
    app.include_router(alerts.router)
    app.include_router(alsfrs.router)
    app.include_router(schedules.router)
    app.include_router(messages.router)
    app.include_router(webhooks.router)
    app.include_router(clinic_pages.router)
    app.include_router(contact_details.router)
    app.include_router(prognosis_pages.router)
    app.include_router(prognosis_api.router)
    app.include_router(v1.router)

    @app.get("/healthz", tags=["service"], summary="Liveness and database reachability")
    def healthz() -> Response:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

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
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid"), "type": e.get("type", "invalid")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code == 405:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error_page(request, exc.status_code, "Something went wrong", str(exc.detail))

    return app


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    from alscare.web.deps import csrf_for
    from alscare.web.render import TEMPLATES

    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "user": None, "errors": {}, "csrf_token": csrf_for(request)},
        status_code=status,
    )

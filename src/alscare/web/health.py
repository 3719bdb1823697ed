"""``/healthz`` (issue 11, item 5): every check, as JSON, and 503 when any of them fails.

``?checks=web`` limits it to what the web process itself needs (the database takes a write, the disk has
room): that is what a load balancer or container health check should ask, so a stopped worker does not take
the web pages away too. Monitoring asks for everything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from alscare.actions import health
from alscare.web.context import AppContext

router = APIRouter()


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The address could not be read (a NUL character or text that is not UTF-8)"},
    503: {"description": "At least one check failed; `checks` says which"},
}


@router.get(
    "/healthz",
    tags=["service"],
    summary="Database writable, free disk, worker heartbeat, outbox backlog",
    responses=_RESPONSES,
)
def healthz(request: Request, checks: Literal["all", "web"] = "all") -> Response:
    ctx: AppContext = request.app.state.ctx
    settings = ctx.settings
    now = ctx.clock()
    results = [
        health.database_writable(ctx.engine),
        health.disk(settings.data_dir, minimum_mb=settings.min_free_disk_mb),
    ]
    if checks != "web" and results[0].ok:
        with ctx.sessions_for(write=False)() as db:
            if settings.worker_stale_seconds > 0:
                stale = timedelta(seconds=settings.worker_stale_seconds)
                results.append(health.worker_heartbeat(db, now=now, stale_after=stale))
            limit = timedelta(minutes=settings.max_backlog_minutes)
            results.append(health.backlog(db, now=now, limit=limit))
    ok = all(c.ok for c in results)
    body = {"status": "ok" if ok else "failing", "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in results}}
    return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})

"""The clinic's webhook endpoints (clinic administrators only; anyone else gets 404)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions.errors import InvalidInput
from alscare.delivery import endpoints
from alscare.delivery.transports import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import read_form
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    db: Db,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    secret: str | None = None,
    added_url: str | None = None,
    notice: str | None = None,
) -> Response:
    return render(
        request,
        "webhooks.html",
        title="Webhooks",
        user=user,
        db=db,
        active="webhooks",
        endpoints=endpoints.clinic_webhook_endpoints(db, user=user),
        errors=errors,
        values=values or {},
        secret=secret,
        added_url=added_url,
        notice=notice,
        signature_header=SIGNATURE_HEADER,
        event_header=EVENT_HEADER,
        delivery_header=DELIVERY_HEADER,
    )


@router.get("/clinic/webhooks")
def webhooks(request: Request, user: PageUser, db: Db) -> Response:
    notice = "Webhook endpoint deactivated." if request.query_params.get("done") == "deactivated" else None
    return _page(request, db, user, notice=notice)


@router.post("/clinic/webhooks")
async def add_webhook(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    raw = form.get("url")
    url = raw.strip() if isinstance(raw, str) else ""
    try:
        endpoint, secret = endpoints.add_webhook_endpoint(
            db,
            user=user,
            url=url,
            now=request.app.state.ctx.clock(),
            allow_private=request.app.state.ctx.settings.webhook_allow_private,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _page(request, db, user, errors={e.field: e.message}, values={"url": url})
    db.commit()
    return _page(request, db, user, secret=secret, added_url=endpoint.url)


@router.post("/clinic/webhooks/{endpoint_id}/deactivate")
async def deactivate_webhook(request: Request, endpoint_id: int, user: PageUser, db: Db) -> Response:
    await read_form(request)
    endpoints.deactivate_webhook_endpoint(
        db, user=user, endpoint_id=endpoint_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return RedirectResponse("/clinic/webhooks?done=deactivated", status_code=303)

"""API tokens for the clinic's own systems (clinic administrators only; anyone else gets 404).

Every rule is in ``actions/api_tokens.py``; this module only translates. The token is emailed to the clinician
the administrator names and never appears in a page (the guide: tokens travel only by email).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alscare.actions import api_tokens
from alscare.actions.errors import InvalidInput
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
    notice: str | None = None,
) -> Response:
    words = api_tokens.wording()
    now = request.app.state.ctx.clock()
    return render(
        request,
        "api_tokens.html",
        title=words["page"]["title"],
        user=user,
        db=db,
        active="clinic",
        words=words["page"],
        tokens=api_tokens.clinic_tokens(db, admin=user, now=now),
        clinicians=[(str(c.id), c.display_name) for c in api_tokens.clinicians(db, admin=user)],
        errors=errors or {},
        values=values or {},
        notice=notice,
    )


@router.get("/clinic/api-tokens")
def tokens_page(request: Request, user: PageUser, db: Db) -> Response:
    done = request.query_params.get("done")
    notice = api_tokens.wording()["page"]["revoked"] if done == "revoked" else None
    return _page(request, db, user, notice=notice)


@router.post("/clinic/api-tokens")
async def issue(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = {k: v.strip() if isinstance(v := form.get(k), str) else "" for k in ("name", "responsible")}
    ctx = request.app.state.ctx
    chosen = values["responsible"]
    try:
        token, mail = api_tokens.issue_token(
            db,
            admin=user,
            name=values["name"],
            responsible_user_id=int(chosen) if chosen.isdigit() and len(chosen) < 10 else None,
            now=ctx.clock(),
            base_url=ctx.settings.base_url,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _page(request, db, user, errors={e.field: e.message}, values=values)
    responsible = token.responsible.display_name
    db.commit()
    ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
    notice = api_tokens.wording()["page"]["emailed"].format(name=responsible)
    return _page(request, db, user, notice=notice)


@router.post("/clinic/api-tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: int, user: PageUser, db: Db) -> Response:
    await read_form(request)
    api_tokens.revoke_token(
        db, admin=user, token_id=token_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return RedirectResponse("/clinic/api-tokens?done=revoked", status_code=303)

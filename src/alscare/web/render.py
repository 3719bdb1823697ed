"""Rendering pages: every template gets the user, a CSRF token and (for patients and family) the
emergency number, so the number is one glance away on every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from alscare.actions.records import own_patient
from alscare.clinical.wording import load_wording
from alscare.storage.models import User
from alscare.web.deps import app_context, csrf_for

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# The shared pager's words (templates/_pager.html), for every list that includes it.
TEMPLATES.env.globals["pager_words"] = load_wording("paging.en")["pager"]


def render(
    request: Request,
    template: str,
    *,
    title: str,
    user: User | None = None,
    db: Session | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    emergency_number = context.pop("emergency_number", None)
    if emergency_number is None and user is not None and user.role in ("patient", "caregiver"):
        own = own_patient(db, user=user) if (db is not None and user.role == "patient") else None
        emergency_number = own.emergency_number if own else app_context(request).settings.default_emergency_number
    if "nav_counts" not in context and db is not None and user is not None and user.role == "clinician":
        context["nav_counts"] = _nav_counts(request, db, user)
    if "reading" not in context and db is not None and user is not None:
        from alscare.actions.reading import reading_of

        context["reading"] = reading_of(db, user.id)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "user": user,
            "errors": errors or {},
            "csrf_token": csrf_for(request),
            "emergency_number": emergency_number,
            **context,
        },
        status_code=status_code if not errors or status_code != 200 else 422,
    )


def _nav_counts(request: Request, db: Session, user: User) -> Any:
    """The navigation's badges for clinicians: three aggregate queries, whatever the clinic's size."""
    from alscare.actions.clinic_dashboard import counts_for_clinic

    if user.clinic_id is None:
        return None
    return counts_for_clinic(db, actor=user, now=app_context(request).clock())

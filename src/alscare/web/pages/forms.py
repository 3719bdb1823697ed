"""Reading HTML forms: CSRF first, then plain strings; dates and numbers parsed with field-named errors."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from starlette.datastructures import FormData

from alscare.actions.errors import InvalidInput
from alscare.web.deps import check_csrf


async def read_form(request: Request) -> FormData:
    form = await request.form()
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    return form


def text(form: FormData, name: str, *, max_length: int = 500) -> str:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if len(value) > max_length:
        raise InvalidInput(name, f"Use at most {max_length} characters.")
    return value


def optional_date(form: FormData, name: str) -> date | None:
    raw = text(form, name, max_length=20)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(name, "Enter a real date, for example 2025-03-27.") from None


def optional_number(form: FormData, name: str) -> float | None:
    raw = text(form, name, max_length=20)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(name, "Enter a number, for example 172.") from None


def choices(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]

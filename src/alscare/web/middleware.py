"""Every response: a session cookie (for CSRF even before sign-in) and the security headers.

The cookie holds a random token; the server keeps only its digest, and only once someone signs in.
Signing in or out *rotates* the token, so a token planted before sign-in is worthless after it.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from alscare.security.tokens import new_token

SESSION_COOKIE = "alscare_session"

# No inline script or style anywhere: pages use /static files only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Ids are 32-bit on PostgreSQL (SERIAL): a bigger number in a path names no record, and must not reach the
# database (where it fails as an overflow) — answered 404 before any route runs.
MAX_ID = 2**31 - 1
_NUMBER = re.compile(r"^[0-9]+$")
# A check-in is stored whatever its free text holds (NULs are stripped there, not refused): see actions.checkins.
_CHECK_IN_SUBMIT = re.compile(r"^/(?:api/v1/)?patients/[^/]+/check-ins?$")
NUL_MESSAGE = "Remove the NUL character (an invisible control character) from this field, then send it again."


def _nul_field(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where a NUL is in a parsed JSON value, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in str(k):
                return (*path, str(k))
            found = _nul_field(v, (*path, str(k)))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _nul_field(v, (*path, str(i)))
            if found is not None:
                return found
    return None


async def refused_input(request: Request) -> tuple[int, str, tuple[str, ...]] | None:
    """Input no route should see: (status, message, field) or None. NUL anywhere in the address or a text
    field, and ids past what the database can hold (issue 14, finding 10)."""
    path = request.url.path
    if "\x00" in path or "%00" in request.url.query or "\x00" in unquote(request.url.query):
        return 400, "The address contains a NUL character. Remove it and try again.", ("query",)
    for segment in path.split("/"):
        if _NUMBER.match(segment) and (len(segment) > 12 or int(segment) > MAX_ID):
            return 404, "No such record: the number in the address is too large to be a record's id.", ("path",)
    if request.method not in ("POST", "PUT", "PATCH") or _CHECK_IN_SUBMIT.match(path):
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # the route answers malformed JSON itself
        field = _nul_field(parsed)
        if field is not None:
            return 422, NUL_MESSAGE, ("body", *field)
    elif kind == "application/x-www-form-urlencoded":
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return 422, NUL_MESSAGE, ("body", name.replace("\x00", ""))
    elif b"\x00" in body:
        return 422, NUL_MESSAGE, ("body",)
    return None


class SessionAndHeadersMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, *, cookie_secure: bool, max_age_seconds: int) -> None:
        super().__init__(app)
        self.cookie_secure = cookie_secure
        self.max_age = max_age_seconds

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        fresh = not (20 <= len(token) <= 100)
        if fresh:
            token = new_token()
        request.state.session_token = token
        request.state.rotate_session_to = None
        refused = await refused_input(request)
        if refused is not None:
            from alscare.web.app import input_refused_response

            response = input_refused_response(request, *refused)
        else:
            response = await call_next(request)
        rotate: str | None = request.state.rotate_session_to
        if rotate or fresh:
            response.set_cookie(
                SESSION_COOKIE,
                rotate or token,
                httponly=True,
                secure=self.cookie_secure,
                samesite="lax",
                path="/",
                max_age=self.max_age,
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if not request.url.path.startswith("/static/"):
            # Health data must not linger in shared or back-button caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

"""Every response: a session cookie (for CSRF even before sign-in) and the security headers.

The cookie holds a random token; the server keeps only its digest, and only once someone signs in.
Signing in or out *rotates* the token, so a token planted before sign-in is worthless after it.

A plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware``: that one runs every request in an extra task
with memory streams between it and the app, a cost paid on every page (issue 11, load targets). Here the app
gets the request's own ``send`` wrapped, and the headers are added to its ``http.response.start`` message.
"""

from __future__ import annotations

import http.cookies
import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def _session_cookie(value: str, *, secure: bool, max_age: int) -> str:
    """The ``Set-Cookie`` value for the session token: script cannot read it, other sites' forms do not send
    it (SameSite=Lax), and it ends with the session's lifetime."""
    cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    cookie[SESSION_COOKIE] = value
    morsel = cookie[SESSION_COOKIE]
    morsel["max-age"] = max_age
    morsel["path"] = "/"
    if secure:
        morsel["secure"] = True
    morsel["httponly"] = True
    morsel["samesite"] = "lax"
    return morsel.OutputString()


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that first hands over the messages ``refused_input`` already took from the client (the
    body it checked), then the client's own: the route must see the body the check consumed."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class SessionAndHeadersMiddleware:
    """The session token in ``request.state``, input no route should see refused, and on every answer the
    session cookie (when new or rotated) and the security headers."""

    def __init__(self, app: ASGIApp, *, cookie_secure: bool, max_age_seconds: int) -> None:
        self.app = app
        self.cookie_secure = cookie_secure
        self.max_age = max_age_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websockets, should one appear) have no cookie or headers
            await self.app(scope, receive, send)
            return
        # What refused_input reads of the body, kept to be given to the app again.
        taken: list[Message] = []

        async def recording_receive() -> Message:
            message = await receive()
            taken.append(message)
            return message

        request = Request(scope, recording_receive)
        token = request.cookies.get(SESSION_COOKIE, "")
        fresh = not (20 <= len(token) <= 100)
        if fresh:
            token = new_token()
        # Request.state reads and writes this dict, so the routes see (and may rotate) the token.
        state = scope.setdefault("state", {})
        state["session_token"] = token
        state["rotate_session_to"] = None
        https = request.url.scheme == "https"
        cacheable = request.url.path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Read now, not before: the route has run and may have signed someone in or out.
                rotate: str | None = state.get("rotate_session_to")
                if rotate or fresh:
                    cookie = _session_cookie(rotate or token, secure=self.cookie_secure, max_age=self.max_age)
                    headers.append("set-cookie", cookie)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)  # a header the route set itself wins
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not cacheable:
                    # Health data must not linger in shared or back-button caches.
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        refused = await refused_input(request)
        if refused is not None:
            from alscare.web.app import input_refused_response

            await input_refused_response(request, *refused)(scope, receive, send_with_headers)
            return
        await self.app(scope, _replaying(taken, receive) if taken else receive, send_with_headers)

"""The session-and-headers middleware driven as plain ASGI, without an app or a database.

The functional tests see it through TestClient, which sends a body as one message; here the body comes in
chunks, as a real server may send it, and must reach the app whole after the NUL check has read it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from alscare.web.middleware import SECURITY_HEADERS, SESSION_COOKIE, SessionAndHeadersMiddleware

GOOD_TOKEN = "t" * 40


def _on_own_loop(call: Coroutine[Any, Any, None]) -> None:
    """Run the middleware's coroutine on an event loop of its own thread: the browser tests' sync Playwright
    leaves a loop running in the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, call).result()


def _scope(method: str, path: str, *, cookie: str | None = None, content_type: str | None = None) -> Scope:
    headers = []
    if cookie is not None:
        headers.append((b"cookie", f"{SESSION_COOKIE}={cookie}".encode()))
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "server": ("testserver", 443),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
    }


def _run(app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope, chunks: list[bytes]) -> list[Message]:
    """Run the wrapped app once; the client sends ``chunks`` as the body, then (if asked again) disconnects."""
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    _on_own_loop(SessionAndHeadersMiddleware(app, cookie_secure=True, max_age_seconds=3600)(scope, receive, send))
    return sent


def _headers(sent: list[Message]) -> list[tuple[str, str]]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return [(k.decode().lower(), v.decode()) for k, v in start["headers"]]


async def _answer(send: Send, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


def test_a_chunked_form_body_read_by_the_nul_check_reaches_the_app_whole() -> None:
    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await _answer(send, body)

    scope = _scope("POST", "/api/v1/things", content_type="application/x-www-form-urlencoded")
    sent = _run(echo, scope, [b"name=Ada&", b"note=two+", b"chunks"])
    assert [m["body"] for m in sent if m["type"] == "http.response.body"] == [b"name=Ada&note=two+chunks"]


def test_a_nul_in_a_chunked_body_is_refused_before_the_app_runs() -> None:
    called: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(True)
        await _answer(send, b"reached")

    scope = _scope("POST", "/api/v1/things", content_type="application/x-www-form-urlencoded")
    sent = _run(app, scope, [b"name=A", b"da%00"])
    assert not called
    assert sent[0]["status"] == 422
    assert ("content-security-policy", SECURITY_HEADERS["Content-Security-Policy"]) in _headers(sent)


def test_a_header_the_route_set_wins_and_a_known_token_gets_no_new_cookie() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["state"] == {"session_token": GOOD_TOKEN, "rotate_session_to": None}
        await _answer(send, b"", [(b"cache-control", b"max-age=60"), (b"x-frame-options", b"SAMEORIGIN")])

    headers = _headers(_run(app, _scope("GET", "/page", cookie=GOOD_TOKEN), [b""]))
    names = [k for k, _ in headers]
    assert ("cache-control", "max-age=60") in headers and names.count("cache-control") == 1
    assert ("x-frame-options", "SAMEORIGIN") in headers and names.count("x-frame-options") == 1
    assert ("strict-transport-security", "max-age=31536000") in headers
    assert "set-cookie" not in names


def test_a_token_rotated_by_the_route_is_the_cookie_sent() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["rotate_session_to"] = "r" * 40  # what signing in does, through request.state
        await _answer(send, b"")

    headers = _headers(_run(app, _scope("GET", "/signin", cookie=GOOD_TOKEN), [b""]))
    cookies = [v for k, v in headers if k == "set-cookie"]
    assert cookies == [f"{SESSION_COOKIE}={'r' * 40}; HttpOnly; Max-Age=3600; Path=/; SameSite=lax; Secure"]


def test_a_missing_token_gets_a_fresh_cookie_and_static_files_may_be_cached() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["state"]["session_token"])
        await _answer(send, b"")

    headers = _headers(_run(app, _scope("GET", "/static/alscare.css"), [b""]))
    assert next(v for k, v in headers if k == "set-cookie").startswith(f"{SESSION_COOKIE}={seen[0]};")
    assert 20 <= len(seen[0]) <= 100
    assert "cache-control" not in [k for k, _ in headers]


def test_lifespan_passes_straight_through() -> None:
    got: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        got.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing to send")

    scope: Scope = {"type": "lifespan"}
    _on_own_loop(SessionAndHeadersMiddleware(app, cookie_secure=True, max_age_seconds=1)(scope, receive, send))
    assert got == [(scope, receive, send)] and "state" not in scope

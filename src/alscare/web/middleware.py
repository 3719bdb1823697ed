"""Every response: a session cookie (for CSRF even before sign-in) and the security headers.

The cookie holds a random token; the server keeps only its digest, and only once someone signs in.
Signing in or out *rotates* the token, so a token planted before sign-in is worthless after it.
"""

from __future__ import annotations

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

"""Request dependencies: the database session, the signed-in user, CSRF checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from alscare.actions import api_tokens
from alscare.actions.records import RecordRefused
from alscare.security.tokens import csrf_token, csrf_valid, new_token, token_digest
from alscare.storage.db import claim_write
from alscare.storage.models import User, WebSession
from alscare.web.context import AppContext


def app_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def get_db(request: Request) -> Iterator[Session]:
    """A session per request. Handlers commit explicitly; anything uncommitted is rolled back — except that a
    refused attempt to open a record stays on the audit trail even though the request fails.

    Every request's session starts read-only: on SQLite it takes the write lock only at its first write (or
    ``SELECT ... FOR UPDATE``, or ``claim_write``), not while it checks the session cookie, reads the form and
    decides; see ``storage/db.py``. What it read before that first write has PostgreSQL's READ COMMITTED
    guarantees, which the handlers are written for already (row locks and unique keys, not snapshots)."""
    factory = app_context(request).sessions_for(write=False)
    with factory() as db:
        try:
            yield db
        except RecordRefused as refused:
            db.rollback()
            claim_write(db)  # the refusal count is read, then written
            refused.keep_on_audit_trail(db)
            db.commit()
            raise


Db = Annotated[Session, Depends(get_db)]
Ctx = Annotated[AppContext, Depends(app_context)]


def now(request: Request) -> datetime:
    return app_context(request).clock()


def client_ip(request: Request) -> str | None:
    """The client's address: ``X-Forwarded-For`` is believed only from ``ALSCARE_TRUSTED_PROXIES``."""
    from alscare.security.netaddr import client_address

    peer = request.client.host if request.client else None
    proxies = app_context(request).settings.trusted_proxies
    return client_address(peer, request.headers.get("x-forwarded-for"), proxies)


def _session_row(db: Session, request: Request) -> WebSession | None:
    token: str = request.state.session_token
    row = db.execute(select(WebSession).where(WebSession.token_digest == token_digest(token))).scalar_one_or_none()
    if row is None or row.expires_at <= now(request):
        return None
    return row


# Built once, so SQLAlchemy works out its cache key once: it runs on every request.
_SESSION_AND_USER = (
    select(WebSession, User)
    .outerjoin(User, User.id == WebSession.user_id)
    .where(WebSession.token_digest == bindparam("digest"))
)


def optional_user(request: Request, db: Db) -> User | None:
    """The signed-in user of the session cookie: the session and its user in one query (every request)."""
    token: str = request.state.session_token
    found = db.execute(_SESSION_AND_USER, {"digest": token_digest(token)}).first()
    if found is None or found[0].expires_at <= now(request):
        return None
    user: User | None = found[1]
    # A clinic system's account acts only by its API token, never through a session.
    return user if user is not None and user.is_active and not user.is_service else None


def pending_user(request: Request, db: Session) -> User | None:
    """The user who passed the password but still owes the second factor."""
    row = _session_row(db, request)
    if row is None or row.pending_user_id is None:
        return None
    return db.get(User, row.pending_user_id)


class SignInRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the sign-in page."""


def page_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise SignInRequired()
    return user


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if the request carries one (a clinic system)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def api_user(request: Request, db: Db) -> User:
    """Who calls the API: a clinic system by its bearer token (``actions/api_tokens``), else the signed-in
    account of the session cookie. A bearer token that does not work is refused outright, never ignored in
    favour of a cookie, so a system learns at once that its token has stopped."""
    raw = bearer_token(request)
    if raw is not None:
        service = api_tokens.authenticate(db, raw=raw, now=now(request))
        if service is None:
            raise HTTPException(
                status_code=401,
                detail=api_tokens.wording()["errors"]["invalid"],
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return service
    user = optional_user(request, db)
    if user is None:
        raise HTTPException(status_code=401, detail="Sign in first.")
    return user


PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]


def csrf_for(request: Request) -> str:
    return csrf_token(app_context(request).settings.secret_key, request.state.session_token)


def check_csrf(request: Request, submitted: str | None) -> None:
    if not submitted or not csrf_valid(
        app_context(request).settings.secret_key, request.state.session_token, submitted
    ):
        raise HTTPException(status_code=403, detail="The form expired. Go back, reload the page and try again.")


def api_csrf(request: Request) -> None:
    """Unsafe API calls authenticated by the session cookie must echo the CSRF token in a header."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if bearer_token(request) is not None:
        # A clinic system's token only reads (actions/api_tokens.py); it carries no session to forge.
        raise HTTPException(status_code=403, detail=api_tokens.wording()["errors"]["read_only"])
    check_csrf(request, request.headers.get("x-csrf-token"))


def start_session(db: Session, request: Request, *, user_id: int | None, pending_user_id: int | None) -> None:
    """Rotate the cookie and bind the new token to the user (or to a pending second factor)."""
    end_session(db, request)
    token = new_token()
    ctx = app_context(request)
    from datetime import timedelta

    db.add(
        WebSession(
            token_digest=token_digest(token),
            user_id=user_id,
            pending_user_id=pending_user_id,
            created_at=ctx.clock(),
            expires_at=ctx.clock() + timedelta(hours=ctx.settings.session_hours),
        )
    )
    request.state.session_token = token
    request.state.rotate_session_to = token


def end_session(db: Session, request: Request) -> None:
    db.execute(delete(WebSession).where(WebSession.token_digest == token_digest(request.state.session_token)))
    token = new_token()
    request.state.session_token = token
    request.state.rotate_session_to = token

"""Small helpers for the functional tests: a movable clock, CSRF tokens from real pages, signing people up
and in through the real pages, and reading the database in short transactions.

Database reads open their own short-lived session: on SQLite every transaction takes the write lock at
BEGIN, so a test session left open would make the app's requests wait.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from alscare.actions.accounts import enable_second_factor
from alscare.mail import OutboxMailer
from alscare.security.passwords import hash_password
from alscare.security.totp import current_code
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Base, Clinic, User

# A fixed moment for the app's clock, so dates in forms and TOTP codes are reproducible.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PASSWORD = "violet tractor lemonade"
SESSION_COOKIE = "alscare_session"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = r'name="{name}" value="([^"]*)"'
_LINK = re.compile(r"https://testserver(/(?:invite|password/reset|signup/confirm)/[A-Za-z0-9_\-]+)")


@dataclass
class Clock:
    """The app's clock: ``app.state.ctx.clock`` calls it; tests move it on."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def freeze_clock(app: FastAPI, at: datetime = NOW) -> Clock:
    clock = Clock(at)
    app.state.ctx.clock = clock
    return clock


@contextmanager
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A second, independent browser (its own cookies) on the same app."""
    with TestClient(app, base_url="https://testserver") as c:
        yield c


# --- Pages and forms -------------------------------------------------------------------------------


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def hidden(html: str, name: str) -> str:
    match = re.search(_HIDDEN.format(name=re.escape(name)), html)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def submit(client: TestClient, path: str, data: Mapping[str, Any], *, page: str | None = None) -> httpx.Response:
    """GET ``page`` (default ``path``) for its CSRF token, then POST the form without following redirects."""
    token = csrf_from(client.get(page or path).text)
    response: httpx.Response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
    return response


def api_token(client: TestClient) -> str:
    """The CSRF token a script sends back as X-CSRF-Token (from /api/v1/me)."""
    r = client.get("/api/v1/me")
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token


def signup_form(**overrides: str) -> dict[str, str]:
    """A valid self sign-up form; override any field."""
    form = {
        "full_name": "Ada Lovelace-Byron",
        "email": "ada@example.org",
        "password": PASSWORD,
        "date_of_birth": "1961-05-14",
        "sex": "female",
        "height_cm": "168",
        "onset_date": "2025-01-10",
        "onset_region": "upper_limb",
        "diagnosis_date": "2025-07-20",
        "emergency_number": "999",
    }
    form.update(overrides)
    return form


def sign_up(client: TestClient, **overrides: str) -> httpx.Response:
    """Sign up through the real pages: the form, then the link in the email, then its button."""
    form = signup_form(**overrides)
    r = submit(client, "/signup", form)
    assert r.status_code == 200 and "Check your email" in r.text, r.text
    link = newest_link_to(client, form["email"])
    assert link.startswith("/signup/confirm/"), link
    r = submit(client, link, {})
    assert r.status_code == 303 and r.headers["location"].startswith("/home"), r.text
    return r


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return submit(client, "/signin", {"email": email, "password": password})


def sign_in_with_code(client: TestClient, email: str, secret: str, at: datetime, password: str = PASSWORD) -> None:
    r = sign_in(client, email, password)
    assert r.status_code == 303 and r.headers["location"] == "/signin/code", r.text
    r = submit(client, "/signin/code", {"code": current_code(secret, at)})
    assert r.status_code == 303 and r.headers["location"] == "/home", r.text


def sign_out(client: TestClient) -> httpx.Response:
    r = submit(client, "/signout", {}, page="/home")
    assert r.status_code == 303, r.text
    return r


def invite(client: TestClient, email: str, scopes: list[str] | None = None) -> str:
    """Send an invitation from the invitations page; return the link's path (``/invite/<token>``) as read from
    the invitee's email — the page never shows it (issue 14, finding 1)."""
    r = submit(client, "/invitations", {"email": email, "scopes": scopes or []})
    assert r.status_code == 200, r.text
    assert "/invite/" not in r.text, "the invitation link must travel only by email"
    return newest_link_to(client, email)


def newest_link_to(client: TestClient, address: str) -> str:
    """The invitation or reset link in the newest email to ``address`` (the app's outbox mailer)."""
    mailer = client.app.state.ctx.mailer  # type: ignore[attr-defined]
    assert isinstance(mailer, OutboxMailer)
    bodies = mails_to(mailer, address.strip().lower())
    assert bodies, f"no email to {address}"
    return link_in(bodies[-1])


def link_in(text: str) -> str:
    match = _LINK.search(text)
    assert match, "no invitation or reset link found"
    return match.group(1)


def mails_to(outbox: OutboxMailer, address: str) -> list[str]:
    """Bodies of the messages sent to ``address``."""
    return [str(m.get_content()) for m in outbox.messages() if m["To"] == address]


# --- Database --------------------------------------------------------------------------------------


def count(engine: Engine, model: type[Base], *where: Any) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def rows(engine: Engine, model: type[Base], *where: Any) -> list[Any]:
    with Session(engine) as s:
        return list(s.execute(select(model).where(*where).order_by(model.id)).scalars())  # type: ignore[attr-defined]


def listed_in(engine: Engine, audit_event_id: int) -> set[int]:
    """The people a clinic-wide list view's one audit event names (``audit.record_list_view``)."""
    from alscare.storage.models.clinic_dashboard import AuditEventPatient

    with Session(engine) as s:
        return set(
            s.execute(
                select(AuditEventPatient.patient_id).where(AuditEventPatient.audit_event_id == audit_event_id)
            ).scalars()
        )


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent on ``engine`` inside the block (to pin a page's statement count)."""
    statements: list[str] = []

    def _count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


@dataclass(frozen=True)
class ClinicSetup:
    clinic_id: int
    admin_email: str
    admin_secret: str


ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def open_clinic(engine: Engine, *, now: datetime = NOW) -> ClinicSetup:
    """A clinic and its administrator with two-step sign-in on (no action creates clinics yet).

    The second factor is switched on an hour before ``now``, so a code at ``now`` is not a replay.
    """
    earlier = now - timedelta(hours=1)
    with transaction(make_sessionmaker(engine)) as db:
        clinic = Clinic(name="Northgate MND Clinic", phone="0113 496 0000", hours="Mon-Fri 9-5", created_at=earlier)
        db.add(clinic)
        db.flush()
        admin = User(
            email="admin@northgate.example",
            display_name="Morag Admin",
            role="admin",
            password_hash=hash_password(PASSWORD),
            clinic_id=clinic.id,
            totp_enabled=False,
            is_active=True,
            created_at=earlier,
        )
        db.add(admin)
        db.flush()
        enable_second_factor(
            db, user=admin, secret=ADMIN_TOTP_SECRET, code=current_code(ADMIN_TOTP_SECRET, earlier), now=earlier
        )
        return ClinicSetup(clinic.id, admin.email, ADMIN_TOTP_SECRET)


def days_after(day: date, n: int) -> str:
    return (day + timedelta(days=n)).isoformat()

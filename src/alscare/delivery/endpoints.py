"""Webhook endpoints: a clinic administrator lists, adds and deactivates the clinic's own receivers.

Only a clinic's administrators manage its endpoints; to anyone else they do not exist (``NotFound``). The
signing secret is made here, shown once to the administrator, and kept so the worker can sign with it.
Endpoints are deactivated, never deleted, so old notifications still name a real row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions.errors import InvalidInput, NotFound
from alscare.security.tokens import new_token
from alscare.storage.models import User, WebhookEndpoint

URL_MAX: Final = 500
# Plain http is allowed only to this machine, for trying a receiver out.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def _admin_clinic(user: User) -> int:
    if user.role != "admin" or user.clinic_id is None or not user.is_active:
        raise NotFound("Page not found.")
    return user.clinic_id


def may_manage_webhooks(user: User) -> bool:
    return user.role == "admin" and user.clinic_id is not None and user.is_active


def check_webhook_url(raw: str, field: str = "url") -> str:
    """An https URL, or http to this machine; anything else is refused with a reason."""
    url = raw.strip()
    if not url:
        raise InvalidInput(field, "Enter the address of your system's webhook receiver.")
    if len(url) > URL_MAX:
        raise InvalidInput(field, f"Use at most {URL_MAX} characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise InvalidInput(field, "Enter a full address, for example https://ehr.example.org/alscare.") from None
    if not host or parts.scheme not in ("https", "http") or any(c.isspace() for c in url):
        raise InvalidInput(field, "Enter a full address, for example https://ehr.example.org/alscare.")
    if parts.username or parts.password:
        raise InvalidInput(field, "Leave the user name and password out of the address: alscare signs each call.")
    if parts.fragment:
        raise InvalidInput(field, "Leave out the part after #.")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise InvalidInput(field, "Use an https address (plain http is allowed only to 127.0.0.1 or localhost).")
    return url


def clinic_webhook_endpoints(db: Session, *, user: User) -> list[WebhookEndpoint]:
    """The administrator's clinic's endpoints, active first, newest first."""
    clinic_id = _admin_clinic(user)
    return list(
        db.execute(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.clinic_id == clinic_id)
            .order_by(WebhookEndpoint.active.desc(), WebhookEndpoint.id.desc())
        ).scalars()
    )


def add_webhook_endpoint(db: Session, *, user: User, url: str, now: datetime) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for the administrator's clinic. Returns it and its signing secret (show it once)."""
    clinic_id = _admin_clinic(user)
    secret = new_token()
    endpoint = WebhookEndpoint(
        clinic_id=clinic_id, url=check_webhook_url(url), secret=secret, active=True, created_at=now
    )
    db.add(endpoint)
    db.flush()
    return endpoint, secret


def deactivate_webhook_endpoint(db: Session, *, user: User, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to an endpoint. Queued notifications for it fail (permanently) when their turn comes."""
    clinic_id = _admin_clinic(user)
    endpoint = db.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.clinic_id != clinic_id:
        raise NotFound("No such webhook endpoint.")
    endpoint.active = False
    db.flush()
    return endpoint

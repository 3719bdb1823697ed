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

from alscare.actions.audit import record_event
from alscare.actions.errors import InvalidInput, NotFound
from alscare.security.netaddr import Address, first_refusal, resolve
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


def check_webhook_url(raw: str, field: str = "url", *, allow_private: bool = False) -> str:
    """An https URL, or http to this machine; anything else is refused with a reason.

    Unless ``allow_private`` (``ALSCARE_WEBHOOK_ALLOW_PRIVATE``), a host that is — or resolves to — a loopback,
    link-local, private, multicast, reserved or unspecified address is refused: the worker would otherwise
    call into the server's own network for whoever saved the URL. A name that does not resolve yet is
    accepted here; the same check runs again before every call (``check_webhook_target``).
    """
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
    if not allow_private:
        try:
            problem = check_webhook_target(url)
        except OSError:
            problem = None  # not resolvable now: checked again before each call
        if problem is not None:
            raise InvalidInput(
                field,
                f"This address points to {problem}. Use your system's public https address (or ask the "
                "operator to set ALSCARE_WEBHOOK_ALLOW_PRIVATE for a receiver on the clinic's own network).",
            )
    return url


def check_webhook_target(url: str) -> str | None:
    """Why ``url``'s host may not be called (resolving it now), or None. OSError if it does not resolve."""
    return resolve_webhook_target(url)[1]


def resolve_webhook_target(url: str) -> tuple[list[Address], str | None]:
    """Every address ``url``'s host resolves to now, and why one of them may not be called (or None).

    The worker connects to these very addresses (``transports.PinnedBackend``): resolving the name again when
    connecting would let a name re-pointed in between (DNS rebinding) reach an address never checked.
    OSError if the name does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    refusal = first_refusal(addresses)
    return addresses, None if refusal is None else f"{refusal[1]} ({refusal[0]})"


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


def add_webhook_endpoint(
    db: Session,
    *,
    user: User,
    url: str,
    now: datetime,
    allow_private: bool = False,
    source_ip: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for the administrator's clinic. Returns it and its signing secret (show it once)."""
    clinic_id = _admin_clinic(user)
    secret = new_token()
    endpoint = WebhookEndpoint(
        clinic_id=clinic_id,
        url=check_webhook_url(url, allow_private=allow_private),
        secret=secret,
        active=True,
        created_at=now,
    )
    db.add(endpoint)
    db.flush()
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="webhook",
        detail=f"added endpoint {endpoint.id}",
        source_ip=source_ip,
    )
    return endpoint, secret


def deactivate_webhook_endpoint(
    db: Session, *, user: User, endpoint_id: int, now: datetime | None = None, source_ip: str | None = None
) -> WebhookEndpoint:
    """Stop sending to an endpoint. Queued notifications for it fail (permanently) when their turn comes."""
    clinic_id = _admin_clinic(user)
    endpoint = db.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.clinic_id != clinic_id:
        raise NotFound("No such webhook endpoint.")
    endpoint.active = False
    db.flush()
    if now is not None:
        record_event(
            db,
            now=now,
            actor_user_id=user.id,
            patient_id=None,
            action="write",
            resource="webhook",
            detail=f"deactivated endpoint {endpoint.id}",
            source_ip=source_ip,
        )
    return endpoint

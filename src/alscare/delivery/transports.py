"""Transports: one class per channel. Each sends one ``Envelope`` or raises an error that says what to do next.

- ``TransientError``: the far side may accept it later (connection refused, timeout, SMTP 4xx, HTTP 408/429/5xx).
  The worker retries with back-off.
- ``PermanentError``: retrying cannot help (SMTP 5xx for the recipient or the message, HTTP 4xx, a deactivated
  webhook endpoint). The worker marks the notification ``failed`` at once.

Error messages are kept in ``notifications.last_error``: they hold status codes and the far side's reply,
never the notification's content.

Emails carry the same stable id: ``Message-ID: <alscare-notification-<id>.<token>@<sender's domain>>`` and
``X-Alscare-Notification: <id>``, so a mail system (or a person's filter) can drop a repeat.

Webhooks for clinics' own systems
---------------------------------
alscare POSTs a JSON body (``{"event", "alert_id", "severity", "clinic_id", "created_at", "url"}``) with:

- ``Content-Type: application/json``
- ``X-Alscare-Event``: ``alert.raised`` or ``alert.escalated``
- ``X-Alscare-Delivery``: the notification's id, and ``Idempotency-Key``: a key made from it that stays the
  same on every retry (``alscare-notification-<id>.<token>``) and differs between installations. Delivery
  is *at least once*: a worker that dies after sending but before recording it means a second send with
  the same key, so ignore keys you have seen.
- ``X-Alscare-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is HMAC-SHA256, keyed with the endpoint's
  secret (as UTF-8), over ``f"{t}.{raw body}"``. Check it with ``verify_webhook_signature`` (or the same few
  lines in your language), on the raw bytes as received, and refuse old timestamps so a recorded call
  cannot be replayed. Answer 2xx when stored; 408, 429 and 5xx are retried, any other answer is final.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

import httpcore
import httpx

from alscare.mail import OutboxMailer, SmtpMailer
from alscare.security.tokens import sign, verify_signature
from alscare.settings import SmtpSettings

SIGNATURE_HEADER: Final = "X-Alscare-Signature"
EVENT_HEADER: Final = "X-Alscare-Event"
DELIVERY_HEADER: Final = "X-Alscare-Delivery"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
NOTIFICATION_HEADER: Final = "X-Alscare-Notification"
USER_AGENT: Final = "alscare-webhooks/1"
RETRYABLE_HTTP_STATUSES: Final = frozenset({408, 429})
ERROR_TEXT_MAX: Final = 400


class TransientError(Exception):
    """Delivery failed, but may succeed later: retry with back-off."""


class PermanentError(Exception):
    """Delivery failed and cannot succeed as things are: give up."""


@dataclass(frozen=True)
class Envelope:
    """What a transport needs to send one notification, resolved by the worker from its row."""

    notification_id: int
    channel: str  # email, webhook
    to: str  # email address, or the webhook endpoint's URL
    subject: str  # email subject, or the webhook's event name
    body: str
    secret: str | None = None  # webhook signing secret
    # The same on every try of this notification (Message-ID, Idempotency-Key): ``outbox.notification_key``.
    key: str = ""

    def headers(self) -> dict[str, str]:
        """The de-duplication headers of an email: the stable Message-ID and ``X-Alscare-Notification``."""
        return {NOTIFICATION_HEADER: str(self.notification_id)}


def message_id(key: str, sender: str) -> str:
    """``<key@domain>`` with the sender address's domain (``localhost`` when it has none)."""
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    return f"<{key}@{domain}>"


class Transport(Protocol):
    def send(self, envelope: Envelope, *, now: datetime) -> None:
        """Deliver, or raise ``TransientError`` / ``PermanentError``."""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"


def _smtp_reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return _short(f"SMTP {code} {text}")


class EmailTransport:
    """Email by SMTP; with no SMTP server configured, .eml files in the outbox folder (the embedded default)."""

    def __init__(self, smtp: SmtpSettings | None, outbox_dir: Path) -> None:
        self.smtp = smtp
        self.outbox_dir = outbox_dir

    def send(self, envelope: Envelope, *, now: datetime) -> None:
        headers = envelope.headers()
        if envelope.key:
            sender = self.smtp.sender if self.smtp is not None else "alscare@localhost"
            headers["Message-ID"] = message_id(envelope.key, sender)
        if self.smtp is None:
            try:
                OutboxMailer(self.outbox_dir).send(
                    to=envelope.to, subject=envelope.subject, body=envelope.body, headers=headers
                )
            except OSError as e:
                raise TransientError(_short(f"outbox folder: {e.strerror or type(e).__name__}")) from e
            return
        try:
            SmtpMailer(self.smtp).send(to=envelope.to, subject=envelope.subject, body=envelope.body, headers=headers)
        except smtplib.SMTPRecipientsRefused as e:
            # One recipient per message, so this is that recipient's reply.
            code, message = next(iter(e.recipients.values()), (550, b"recipient refused"))
            raise _by_code(code, _smtp_reply(code, message)) from e
        except (
            smtplib.SMTPConnectError,
            smtplib.SMTPHeloError,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPNotSupportedError,
        ) as e:
            # The server refuses *us* (greeting, sender, login, STARTTLS), not this message: a problem the
            # operator can fix, so keep retrying until the last attempt rather than dropping alerts at once.
            code = getattr(e, "smtp_code", 0)
            raise TransientError(_smtp_reply(code, getattr(e, "smtp_error", str(e)))) from e
        except smtplib.SMTPResponseException as e:
            raise _by_code(e.smtp_code, _smtp_reply(e.smtp_code, e.smtp_error)) from e
        except (smtplib.SMTPException, OSError) as e:
            # Connection refused or reset, timeouts, name resolution, a server that hung up.
            raise TransientError(_short(f"SMTP connection: {type(e).__name__}: {e}")) from e


def _by_code(code: int, text: str) -> Exception:
    return PermanentError(text) if 500 <= code < 600 else TransientError(text)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to the addresses checked for a host, never to what the name resolves to when connecting.

    httpx would otherwise resolve the host a second time as it connects, and a name re-pointed between the
    check and the call (DNS rebinding) would reach an address nobody checked. Only the TCP connection is
    pinned: the request still names the host, so the Host header and the TLS server name (SNI) and
    certificate check stay those of the URL. A host with no pinned addresses is not connected to at all.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._pins: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def pin(self, host: str, addresses: list[str]) -> None:
        with self._lock:
            self._pins[host.lower()] = list(addresses)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self._lock:
            addresses = list(self._pins.get(host.lower(), ()))
        if not addresses:
            raise httpcore.ConnectError(f"no checked address for {host}")
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as e:  # try the next checked address, as a resolver's list is tried
                last = e
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are sent over TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool on a ``PinnedBackend``."""

    def __init__(self, backend: PinnedBackend) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=backend)


class WebhookTransport:
    """POSTs the JSON body to a clinic's endpoint, signed with the endpoint's secret."""

    def __init__(self, timeout: float = 10, *, allow_private: bool = False) -> None:
        self.timeout = timeout
        # ALSCARE_WEBHOOK_ALLOW_PRIVATE: without it, a target resolving to a private, loopback or link-local
        # address is refused just before each call, and the call goes to the addresses checked then
        # (``PinnedBackend``), so a name re-pointed after it was checked (DNS rebinding) cannot turn the
        # worker against the server's own network. (A pinned client ignores HTTPS_PROXY: the addresses it
        # checked are the ones it connects to.)
        self.allow_private = allow_private
        self._pins: PinnedBackend | None = None if allow_private else PinnedBackend()
        transport = None if self._pins is None else _PinnedTransport(self._pins)
        # One client, so connections (and the TLS set-up) are reused between calls. Redirects are refused:
        # a receiver that moved must be re-registered, not followed to wherever it points.
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def close(self) -> None:
        self._client.close()

    def send(self, envelope: Envelope, *, now: datetime) -> None:
        if not envelope.secret:
            raise PermanentError("webhook endpoint has no secret")
        if self._pins is not None:
            from alscare.delivery.endpoints import resolve_webhook_target

            try:
                host = httpx.URL(envelope.to).raw_host.decode("ascii")
                addresses, problem = resolve_webhook_target(envelope.to)
            except OSError as e:
                raise TransientError(_short(f"name resolution: {type(e).__name__}: {e}")) from e
            except (ValueError, httpx.InvalidURL) as e:
                raise PermanentError(_short(f"invalid URL: {e}")) from e
            if problem is not None:
                raise PermanentError(_short(f"refused: the webhook address points to {problem}"))
            self._pins.pin(host, [str(a) for a in addresses])
        body = envelope.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: envelope.subject,
            DELIVERY_HEADER: str(envelope.notification_id),
            IDEMPOTENCY_HEADER: envelope.key or str(envelope.notification_id),
            SIGNATURE_HEADER: signature_header(envelope.secret, body, now=now),
        }
        try:
            response = self._client.post(envelope.to, content=body, headers=headers)
        except httpx.TransportError as e:  # connect errors, timeouts, protocol errors
            raise TransientError(_short(f"HTTP connection: {type(e).__name__}: {e}")) from e
        except httpx.InvalidURL as e:
            raise PermanentError(_short(f"invalid URL: {e}")) from e
        status = response.status_code
        if 200 <= status < 300:
            return
        text = _short(f"HTTP {status} {response.reason_phrase}")
        if status in RETRYABLE_HTTP_STATUSES or status >= 500:
            raise TransientError(text)
        raise PermanentError(text)


def signature_header(secret: str, body: bytes, *, now: datetime) -> str:
    """The ``X-Alscare-Signature`` value for ``body`` sent at ``now``."""
    t = int(now.timestamp())
    return f"t={t},v1={sign(secret.encode('utf-8'), _signed_payload(t, body))}"


def verify_webhook_signature(
    secret: str, header: str, body: bytes | str, *, now: datetime, tolerance_seconds: int = 300
) -> bool:
    """For receivers: True if ``header`` (the ``X-Alscare-Signature`` value) signs ``body`` with ``secret`` and
    its timestamp is within ``tolerance_seconds`` of ``now`` (either side). Malformed headers are False.

    Several ``v1=`` entries are allowed (any one matching is enough), so a secret can be rotated.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures or not secret:
        return False
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        return False
    payload = _signed_payload(timestamp, body)
    key_bytes = secret.encode("utf-8")
    return any(verify_signature(key_bytes, payload, s) for s in signatures)


def _signed_payload(t: int, body: bytes) -> bytes:
    return str(t).encode("ascii") + b"." + body


__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "IDEMPOTENCY_HEADER",
    "NOTIFICATION_HEADER",
    "SIGNATURE_HEADER",
    "EmailTransport",
    "Envelope",
    "PermanentError",
    "TransientError",
    "Transport",
    "WebhookTransport",
    "message_id",
    "signature_header",
    "verify_webhook_signature",
]

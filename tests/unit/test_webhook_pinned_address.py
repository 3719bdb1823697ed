"""Issue 14, finding 8 (the rest): a webhook call connects to the address that was checked just before it.

Written as the attack: the clinic's receiver name is checked and resolves to an allowed address, then the
name is re-pointed (DNS rebinding) before httpx connects. Before this change httpx resolved the name again and
went wherever it pointed by then; now the connection goes to the checked address, while the request still
names the host (Host header, and TLS server name for https).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from alscare.delivery import endpoints
from alscare.delivery.transports import Envelope, TransientError, WebhookTransport

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CHECKED = "127.0.0.1"  # where the receiver listens: the address the check saw
REBOUND = "127.0.0.9"  # where the name points when httpx would resolve it again: nothing listens there


class _Receiver(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Receiver.seen.append((self.path, self.headers.get("Host")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check resolves ``receiver.example`` to CHECKED (treated as allowed); any later lookup gets REBOUND."""
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: [ipaddress.ip_address(CHECKED)])
    monkeypatch.setattr(endpoints, "first_refusal", lambda addresses: None)
    real = socket.getaddrinfo

    def rebound(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "receiver.example":
            return real(REBOUND, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)


@pytest.fixture
def receiver() -> Iterator[int]:
    _Receiver.seen = []
    server = HTTPServer((CHECKED, 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _envelope(url: str) -> Envelope:
    return Envelope(1, "webhook", url, "alert.raised", '{"event": "alert.raised"}', secret="s" * 43)


def test_the_call_goes_to_the_checked_address_not_the_rebound_one(rebinding: None, receiver: int) -> None:
    transport = WebhookTransport(timeout=5)
    try:
        transport.send(_envelope(f"http://receiver.example:{receiver}/hook"), now=NOW)
    finally:
        transport.close()
    assert _Receiver.seen == [("/hook", f"receiver.example:{receiver}")]


def test_https_keeps_the_host_name_for_tls(rebinding: None) -> None:
    """The TLS ClientHello (plain text) names the URL's host, though the TCP connection goes to CHECKED."""
    listener = socket.socket()
    listener.bind((CHECKED, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    hello: list[bytes] = []

    def accept_one() -> None:
        conn, _ = listener.accept()
        conn.settimeout(5)
        hello.append(conn.recv(4096))
        conn.close()

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    transport = WebhookTransport(timeout=5)
    try:
        with pytest.raises(TransientError):  # nobody answers the TLS handshake here
            transport.send(_envelope(f"https://receiver.example:{port}/hook"), now=NOW)
    finally:
        transport.close()
        thread.join(5)
        listener.close()
    assert hello and b"receiver.example" in hello[0]


def test_allow_private_connects_as_resolved(rebinding: None, receiver: int) -> None:
    """With ALSCARE_WEBHOOK_ALLOW_PRIVATE nothing is checked, so nothing is pinned: the name is resolved as
    usual (here, to the rebound address where nothing listens)."""
    transport = WebhookTransport(timeout=2, allow_private=True)
    try:
        with pytest.raises(TransientError):
            transport.send(_envelope(f"http://receiver.example:{receiver}/hook"), now=NOW)
    finally:
        transport.close()
    assert _Receiver.seen == []

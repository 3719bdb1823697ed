"""Real servers on 127.0.0.1 for delivery tests: an SMTP server (aiosmtpd) that records what it is sent, and a
webhook receiver (``http.server`` in a thread) that checks each call's signature as a clinic's system would.

Plain classes and context managers, no fixtures: each test module wraps them in the fixtures it needs.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from alscare.delivery.transports import verify_webhook_signature


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- A real SMTP server ------------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """Records messages; answers RCPT for ``refuse`` with 550 and for ``busy`` with 451."""

    port: int
    refuse: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.busy:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server on a free port of 127.0.0.1 for as long as the block runs."""
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- A webhook receiver that checks signatures, as a clinic's system would ----------------------------------


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """Answers with ``script`` statuses in order (then 200), or 401 to a call whose signature does not check
    against ``secret`` at ``now()``. ``secret`` may be set later (once the clinic has registered the endpoint)."""

    url: str
    now: Callable[[], datetime]
    secret: str = ""
    script: list[int] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook_receiver(now: Callable[[], datetime], secret: str = "") -> Iterator[Receiver]:
    """A webhook receiver on a free port of 127.0.0.1 for as long as the block runs."""
    state = Receiver(url="", now=now, secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            header = self.headers.get("X-Alscare-Signature", "")
            ok = verify_webhook_signature(state.secret, header, body, now=state.now())
            with state.lock:
                state.calls.append(Call(dict(self.headers.items()), body, ok))
                status = state.script.pop(0) if state.script else 200
            if not ok:
                status = 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/alscare-hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

"""Outgoing email: SMTP in production, files in a local outbox folder in the demo.

Emails never carry clinical details: only that something needs attention, and a link.
"""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from alscare.settings import Settings, SmtpSettings


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None: ...


def _message(sender: str, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    for name, value in (headers or {}).items():  # e.g. the delivery worker's Message-ID, the same on every retry
        msg[name] = value
    msg.set_content(body)
    return msg


class OutboxMailer:
    """Writes each message as an .eml file; for the embedded default and for tests."""

    def __init__(self, folder: Path, sender: str = "alscare@localhost") -> None:
        self.folder = folder
        self.sender = sender

    def send(self, *, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None:
        # The web app and the delivery worker write here at the same time: a name from the clock plus a random
        # part, opened exclusively, so two messages can never overwrite each other; names sort by time.
        # Files hold live reset and invitation links: folder 0700, files 0600 from creation.
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder.chmod(0o700)
        path = self.folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(_message(self.sender, to, subject, body, headers)))

    def messages(self) -> list[EmailMessage]:
        from email import message_from_bytes, policy

        out: list[EmailMessage] = []
        for p in sorted(self.folder.glob("*.eml")):
            m = message_from_bytes(p.read_bytes(), policy=policy.default)
            assert isinstance(m, EmailMessage)
            out.append(m)
        return out


class SmtpMailer:
    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def send(self, *, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None:
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30) as client:
            if self.smtp.starttls:
                client.starttls()
            if self.smtp.username:
                client.login(self.smtp.username, self.smtp.password or "")
            client.send_message(_message(self.smtp.sender, to, subject, body, headers))


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp is not None:
        return SmtpMailer(settings.smtp)
    return OutboxMailer(settings.outbox_dir)

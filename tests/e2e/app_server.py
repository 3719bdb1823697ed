"""The real app for the browser tests: ``alscare serve --demo`` in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alscare.demo import DEMO_PASSWORD, DemoLogin, demo_logins
from alscare.security.secretbox import use_key
from alscare.storage.db import make_engine, make_sessionmaker

_LAST_STEP: dict[tuple[str, str], int] = {}  # (server, email) -> the time step of the last code handed out

START_SECONDS = 90  # migrations and the demo's seeding happen before the server listens
# Settings the developer's own environment may hold that would point the server elsewhere.
_UNSET = ("ALSCARE_DATABASE_URL", "ALSCARE_COOKIE_SECURE", "ALSCARE_SMTP_HOST", "ALSCARE_OUTBOX_DIR")


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    logins: dict[str, DemoLogin]
    password: str = DEMO_PASSWORD

    def url(self, path: str) -> str:
        return self.base_url + path

    def link_to(self, email: str) -> str:
        """The invitation, reset or sign-up link in the newest email to ``email`` (the server's outbox folder): links
        travel only by email, never on the page of whoever asked for them (issue 14, finding 1)."""
        import re

        from alscare.mail import OutboxMailer

        bodies = [str(m.get_content()) for m in OutboxMailer(self.data_dir / "outbox").messages() if m["To"] == email]
        assert bodies, f"no email to {email}"
        kinds = r"/(?:invite|password/reset|signup/confirm)/[A-Za-z0-9_\-]+"
        match = re.search(re.escape(self.base_url) + kinds, bodies[-1])
        assert match, "no link in the email"
        return match.group(0)

    def secret_of(self, email: str) -> str:
        """The demo staff member's two-step key, as an authenticator app holds it."""
        secret = self.logins[email].totp_secret
        assert secret, f"{email} has no two-step key in the demo"
        return secret

    def code_for(self, email: str) -> str:
        """A sign-in code for ``email`` that the server will take: the server refuses a code from a time step
        it has already seen for that person (replay protection), so when two tests sign the same person in
        within one 30-second step, wait for the next step instead of failing on the clock."""
        from datetime import UTC, datetime

        from alscare.security.totp import STEP_SECONDS, current_code, time_step

        key = (self.base_url, email)
        while time_step(datetime.now(UTC)) <= _LAST_STEP.get(key, -1):
            time.sleep(STEP_SECONDS - time.time() % STEP_SECONDS + 0.05)
        now = datetime.now(UTC)
        _LAST_STEP[key] = time_step(now)
        return current_code(self.secret_of(email), now)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"alscare serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"alscare serve not healthy after {START_SECONDS}s:\n{log.read_text(errors='replace')}")


@contextmanager
def serve_demo(data_dir: Path) -> Iterator[Server]:
    """Run the app with the demo data in ``data_dir`` (SQLite) until the block ends.

    Cookies stay ``Secure`` (the default): Chromium counts http://127.0.0.1 as a secure context, so it keeps
    and sends them back as it would over HTTPS.
    """
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env |= {
        "ALSCARE_DATA_DIR": str(data_dir),
        "ALSCARE_BASE_URL": base_url,
        "ALSCARE_SECRET_KEY": "e2e-only-secret-key-" + "x" * 32,
    }
    log = data_dir / "server.log"
    alscare = Path(sys.executable).with_name("alscare")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(alscare), "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base_url + "/healthz", proc, log)
        use_key(env["ALSCARE_SECRET_KEY"].encode())  # two-step keys are sealed at rest with the server's key
        engine = make_engine(f"sqlite:///{data_dir / 'alscare.db'}")
        with make_sessionmaker(engine)() as db:
            logins = {login.email: login for login in demo_logins(db)}
        engine.dispose()
        yield Server(base_url=base_url, data_dir=data_dir, logins=logins)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

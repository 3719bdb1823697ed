"""Helpers for the crash-recovery test: a real ``alscare serve`` to kill, and a client that streams check-ins.

The server runs in its own process group so ``os.killpg(pgid, SIGKILL)`` takes it down at once, with no
shutdown handlers, like a power cut of the process. The client signs in over HTTP the way a browser does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from alscare.demo import DEMO_PASSWORD

START_SECONDS = 30.0  # migrations and (on first start) the demo's seeding happen before the server listens
REQUEST_SECONDS = 5.0
SESSION_COOKIE = "alscare_session"
# Settings the developer's own environment may hold that would point the server elsewhere.
_UNSET = ("ALSCARE_DATABASE_URL", "ALSCARE_COOKIE_SECURE", "ALSCARE_SMTP_HOST", "ALSCARE_OUTBOX_DIR")

# Each check-in is routine or above routine; the contact_team ones also raise an alert and queue its
# notification in the same transaction (decision 0001), so a crash has more than one row to tear.
PAYLOADS: tuple[Mapping[str, Any], ...] = (
    {"cramps": True, "fatigue": True},
    {"fever": True, "cough": True},
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``alscare serve --demo --no-worker`` on a loopback port, in its own process group."""

    def __init__(self, *, data_dir: Path, database_url: str | None, port: int, log: Path) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.port = port
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in _UNSET}
        env |= {
            "ALSCARE_DATA_DIR": str(data_dir),
            "ALSCARE_BASE_URL": self.base_url,
            "ALSCARE_SECRET_KEY": "crash-test-only-secret-key-" + "x" * 32,
            "ALSCARE_WORKER_STALE_SECONDS": "0",  # served with --no-worker: no heartbeat to check
        }
        if database_url is not None:
            env["ALSCARE_DATABASE_URL"] = database_url
        self._env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        alscare = Path(sys.executable).with_name("alscare")
        cmd = [str(alscare), "serve", "--demo", "--no-worker", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, env=self._env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"alscare serve exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(self.base_url + "/healthz?checks=web", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"alscare serve not healthy after {START_SECONDS}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, *, wait: bool = True) -> None:
        """SIGKILL the whole process group: no shutdown handlers, no flushing, no goodbyes."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # start_new_session: the group id is the pid
        if wait:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A normal shutdown (SIGTERM, as a service manager sends); SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


@dataclass
class Session:
    """A signed-in API session: the session cookie's value and the CSRF token bound to it."""

    base_url: str
    token: str
    csrf: str
    patient_id: int

    def client(self) -> httpx.Client:
        # The session cookie is ``Secure`` (the production default, kept for this test). httpx rightly will
        # not send a Secure cookie over plain http, so the cookie is sent as a header, as the browser would
        # over HTTPS; nothing in the server is loosened for the test.
        return httpx.Client(
            base_url=self.base_url,
            headers={"Cookie": f"{SESSION_COOKIE}={self.token}", "X-CSRF-Token": self.csrf},
            timeout=REQUEST_SECONDS,
        )


def _cookie_from(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == SESSION_COOKIE:
            return rest.split(";", 1)[0]
    return None


def sign_in(base_url: str, email: str, password: str = DEMO_PASSWORD) -> Session:
    """Sign in through the HTML form (a person with ALS has no second step), then read the API's CSRF token."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_SECONDS, follow_redirects=False) as http:
        form = http.get("/signin")
        assert form.status_code == 200, form.text
        token = _cookie_from(form)
        match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token and match, "the sign-in page set no session cookie or has no CSRF field"
        cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
        done = http.post(
            "/signin",
            data={"email": email, "password": password, "csrf_token": match.group(1)},
            headers=cookie,
        )
        assert done.status_code == 303 and done.headers["location"] == "/home", (done.status_code, done.text[:500])
        token = _cookie_from(done)  # signing in rotates the session token
        assert token, "signing in did not rotate the session cookie"
        cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
        me = http.get("/api/v1/me", headers=cookie)
        assert me.status_code == 200, me.text
        patients = http.get("/api/v1/patients", headers=cookie)
        assert patients.status_code == 200, patients.text
        own = [p["id"] for p in patients.json()]
        assert len(own) == 1, f"{email} should see exactly their own record, saw {own}"
        return Session(base_url=base_url, token=token, csrf=me.json()["csrf_token"], patient_id=own[0])


@dataclass
class Ledger:
    """What the clients know: for each client_id, the payload sent and whether a 2xx came back."""

    payloads: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> time.monotonic() when sent
    acknowledged: dict[str, int] = field(default_factory=dict)  # client_id -> status (201 or 200)
    unacknowledged: dict[str, str] = field(default_factory=dict)  # client_id -> what went wrong
    refused: dict[str, int] = field(default_factory=dict)  # client_id -> a non-2xx status (never expected)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, http: httpx.Client, patient_id: int, client_id: str, payload: Mapping[str, Any]) -> None:
        with self.lock:
            self.payloads[client_id] = payload
            self.sent_at[client_id] = time.monotonic()
        try:
            r = http.post(f"/api/v1/patients/{patient_id}/check-ins", json={"client_id": client_id, **payload})
        except httpx.HTTPError as e:  # the server died with the request in flight
            with self.lock:
                self.unacknowledged[client_id] = type(e).__name__
            return
        with self.lock:
            if 200 <= r.status_code < 300:
                assert r.json()["client_id"] == client_id
                self.acknowledged[client_id] = r.status_code
                self.unacknowledged.pop(client_id, None)
            else:
                self.refused[client_id] = r.status_code


def stream(
    session: Session, ledger: Ledger, *, threads: int, seconds: float, max_each: int, stop: threading.Event
) -> list[threading.Thread]:
    """Start ``threads`` clients, each submitting fresh check-ins until ``stop``, ``seconds`` or ``max_each``."""

    def run(n: int) -> None:
        deadline = time.monotonic() + seconds
        with session.client() as http:
            for i in range(max_each):
                if stop.is_set() or time.monotonic() >= deadline:
                    return
                ledger.submit(http, session.patient_id, str(uuid.uuid4()), PAYLOADS[(n + i) % len(PAYLOADS)])

    workers = [threading.Thread(target=run, args=(n,), name=f"client-{n}", daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    return workers


def join_all(workers: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [w.name for w in workers if w.is_alive()]
    assert not alive, f"client threads still running after {timeout}s: {alive}"

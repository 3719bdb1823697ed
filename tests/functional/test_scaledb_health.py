"""Issue 11, item 5: /healthz checks the database, the disk, the worker's heartbeat and the outbox backlog,
and answers 503 when any fails; a 500 is the site's error page with the security headers (JSON for /api)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from alscare.actions import health
from alscare.delivery.worker import run_periodic
from alscare.mail import OutboxMailer
from alscare.settings import Settings
from alscare.storage.db import make_sessionmaker
from alscare.storage.models import Notification
from alscare.web.app import create_app
from alscare.web.middleware import SECURITY_HEADERS

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _client(settings: Settings, engine: Engine, tmp_path: Path, **changes: object) -> TestClient:
    app = create_app(replace(settings, **changes), engine=engine, mailer=OutboxMailer(tmp_path / "outbox"))  # type: ignore[arg-type]
    app.state.ctx.clock = lambda: NOW
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False)


def test_healthz_is_green_with_every_check_named(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert {"database", "disk", "backlog"} <= set(body["checks"])
    assert body["checks"]["database"] == {"ok": True, "detail": "writable"}


def test_a_full_disk_turns_healthz_red(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/healthz").status_code == 200
    monkeypatch.setattr(health, "free_disk_bytes", lambda _path: 5 * 1024 * 1024)
    for url in ("/healthz", "/healthz?checks=web"):
        r = client.get(url)
        assert r.status_code == 503, url
        assert r.json()["checks"]["disk"]["ok"] is False
        assert r.json()["checks"]["disk"]["detail"] == "5 MB free (minimum 200 MB)"


def test_a_missing_or_stale_worker_heartbeat_turns_healthz_red(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with _client(settings, engine, tmp_path, worker_stale_seconds=120) as c:
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["checks"]["worker"] == {"ok": False, "detail": "no heartbeat yet"}
        # The load balancer's question leaves the worker out: the pages keep being served.
        assert c.get("/healthz?checks=web").status_code == 200
        # A worker cycle beats ...
        run_periodic(make_sessionmaker(engine), settings=settings, now=NOW - timedelta(seconds=30))
        r = c.get("/healthz")
        assert r.status_code == 200, r.text
        assert r.json()["checks"]["worker"]["detail"] == "last heartbeat 30 s ago"
        # ... and a beat older than the limit is red again.
        run_periodic(make_sessionmaker(engine), settings=settings, now=NOW - timedelta(minutes=5))
        assert c.get("/healthz").status_code == 503


def test_an_overdue_outbox_backlog_turns_healthz_red(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    def queue(due: datetime) -> None:
        with make_sessionmaker(engine)() as db:
            db.add(
                Notification(
                    dedupe_key=f"health-test-{due.isoformat()}",
                    kind="message",
                    channel="email",
                    target="someone@example.org",
                    subject="s",
                    body="b",
                    status="pending",
                    attempts=0,
                    next_attempt_at=due,
                    created_at=due,
                )
            )
            db.commit()

    with _client(settings, engine, tmp_path, max_backlog_minutes=15) as c:
        queue(NOW - timedelta(minutes=2))
        r = c.get("/healthz")
        assert r.status_code == 200, r.text
        assert r.json()["checks"]["backlog"]["detail"] == "1 due, the oldest 120 s overdue"
        queue(NOW - timedelta(minutes=40))
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["checks"]["backlog"] == {"ok": False, "detail": "2 due, the oldest 2400 s overdue"}


def _with_failing_routes(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/scaledb-boom", boom)
    app.add_api_route("/api/v1/scaledb-boom", boom)


def test_a_server_error_is_the_sites_error_page_with_the_security_headers(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with _client(settings, engine, tmp_path) as c:
        _with_failing_routes(c.app)  # type: ignore[arg-type]
        page = c.get("/scaledb-boom")
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert '<main id="main"' in page.text or "<main" in page.text
        assert "Something went wrong on our side" in page.text
        assert "a bug" not in page.text
        api = c.get("/api/v1/scaledb-boom")
        assert api.status_code == 500
        assert api.json() == {"detail": "Something went wrong on our side."}
        for r in (page, api):
            for name, value in SECURITY_HEADERS.items():
                assert r.headers.get(name) == value, name
            assert r.headers["cache-control"] == "no-store"
        # The client (and its connection) carries on: the next request is answered normally.
        assert c.get("/healthz").status_code == 200

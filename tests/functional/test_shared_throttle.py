"""Issue 14, item 2: several app processes behind a load balancer behave as one.

Two app instances, each with its own engine and connection pool (as two processes would have), share one
database. An attacker whose guesses the load balancer spreads over both is counted once per guess: the
pair (account, address) slows down after the same number of failures as with one instance, and the owner
signing in from their own address gets in on either instance during the attack. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from world import NOW, P_EMAIL, PASSWORD, World, build_world

from alscare.mail import OutboxMailer
from alscare.settings import Settings
from alscare.storage.db import make_engine
from alscare.storage.models.security import SignInThrottle
from alscare.web.app import create_app

ATTACKER_IP = "203.0.113.9"
OWNER_IP = "198.51.100.7"


@pytest.fixture
def two_apps(settings: Settings, database_url: str, tmp_path: object) -> Iterator[tuple[FastAPI, FastAPI]]:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    engines = [make_engine(database_url), make_engine(database_url)]
    apps = tuple(
        create_app(replace(settings), engine=e, mailer=OutboxMailer(tmp_path / f"outbox{i}"))
        for i, e in enumerate(engines)
    )
    clock = Clock(NOW)
    for a in apps:
        a.state.ctx.clock = clock
    yield apps[0], apps[1]
    for e in engines:
        e.dispose()


@pytest.fixture
def world(two_apps: tuple[FastAPI, FastAPI], db: Session) -> World:
    built = build_world(db)
    db.close()
    return built


def _sign_in(app: FastAPI, ip: str, email: str, password: str) -> int:
    with TestClient(app, base_url="https://testserver", client=(ip, 40000), follow_redirects=False) as c:
        m = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text)
        assert m
        return c.post("/signin", data={"email": email, "password": password, "csrf_token": m.group(1)}).status_code


def test_guesses_spread_over_two_processes_are_counted_once(
    two_apps: tuple[FastAPI, FastAPI], world: World, engine: Engine
) -> None:
    first, second = two_apps
    codes = [_sign_in((first, second)[i % 2], ATTACKER_IP, P_EMAIL, f"guess {i}") for i in range(8)]
    # Five free failures in all (not five per process), the sixth starts the delay, the seventh waits.
    assert codes == [422] * 6 + [429, 429], codes
    # The owner, from their own address, gets in on either process during the attack.
    assert _sign_in(first, OWNER_IP, P_EMAIL, PASSWORD) == 303
    assert _sign_in(second, OWNER_IP, P_EMAIL, PASSWORD) == 303
    # ...and the attacker is still waiting on both.
    assert _sign_in(first, ATTACKER_IP, P_EMAIL, PASSWORD) == 429
    assert _sign_in(second, ATTACKER_IP, P_EMAIL, PASSWORD) == 429
    with Session(engine) as s:
        failures = s.execute(select(func.max(SignInThrottle.failures))).scalar_one()
    assert failures == 6  # the pair's six counted failures, once each, across both processes

"""Every response carries the security headers: pages, API, errors, redirects, static files, the health check.

Parametrised over every GET route of the app (read at collection time, so new routes are covered without
editing this file), each asked anonymously and as the person whose record it is, plus error cases. The
headers come from one middleware and do not depend on the database, so the per-route sweep runs on SQLite
only; the cookie test runs on both databases.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session
from world import OWN, P_EMAIL, PASSWORD, World, app_for_collection, app_on, build_world, http_routes, signed_in_client

from alscare.storage.db import make_engine, make_sessionmaker
from alscare.web.middleware import SESSION_COOKIE

GET_PATHS = [path for method, path in http_routes(app_for_collection()) if method == "GET"]

# (method, path, who, expected status): one of each kind of answer that is not a page or API success.
ERROR_CASES = [
    ("GET", "/no-such-page", "anonymous", 404),
    ("GET", "/api/v1/no-such-thing", "anonymous", 404),
    ("DELETE", "/home", OWN, 405),
    ("PUT", "/api/v1/me", OWN, 405),
    ("GET", "/api/v1/patients/not-a-number", OWN, 422),
    ("GET", "/home", "anonymous", 303),
    ("GET", "/api/v1/me", "anonymous", 401),
    ("POST", "/api/v1/invitations", "no csrf token", 403),
    ("GET", "/static/alscare.css", "anonymous", 200),
    ("GET", "/static/no-such-file.css", "anonymous", 404),
    ("GET", "/healthz", "anonymous", 200),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[tuple[FastAPI, World]]:
    folder = tmp_path_factory.mktemp("headers")
    shutil.copy(_sqlite_template, folder / "alscare.db")
    engine = make_engine(f"sqlite:///{folder / 'alscare.db'}")
    app = app_on(engine, folder)
    with make_sessionmaker(engine)() as db:
        world = build_world(db)
    yield app, world
    engine.dispose()


def _client(app: FastAPI, world: World, who: str) -> TestClient:
    client = signed_in_client(app, world.users[OWN] if who == OWN else None)
    if who == "no csrf token":
        del client.headers["X-CSRF-Token"]
    return client


def _fill(path: str, world: World) -> str:
    # Other parameters' values do not matter here: a refusal or a "not found" must carry the headers too.
    return re.sub(r"\{[^}]+\}", "1", path.replace("{patient_id}", str(world.patient_p_id)))


def assert_security_headers(response: Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    policies = response.headers.get_list("content-security-policy")
    assert len(policies) == 1, f"{where}: expected one Content-Security-Policy, got {policies}"
    directives = {d.split()[0]: d.split()[1:] for d in policies[0].split(";") if d.strip()}
    assert "'unsafe-inline'" not in policies[0], f"{where}: 'unsafe-inline' in {policies[0]}"
    assert "'unsafe-eval'" not in policies[0], f"{where}: 'unsafe-eval' in {policies[0]}"
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src, f"{where}: no script-src or default-src"
    assert directives.get("frame-ancestors") == ["'none'"], f"{where}: {policies[0]}"
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy"), f"{where}: no Referrer-Policy"


@pytest.mark.parametrize("who", ["anonymous", OWN])
@pytest.mark.parametrize("path", GET_PATHS)
def test_every_get_route_sends_security_headers(path: str, who: str, site: tuple[FastAPI, World]) -> None:
    app, world = site
    response = _client(app, world, who).get(_fill(path, world))
    assert response.status_code < 500, response.text
    assert_security_headers(response)


@pytest.mark.parametrize(("method", "path", "who", "status"), ERROR_CASES)
def test_errors_redirects_and_static_files_send_security_headers(
    method: str, path: str, who: str, status: int, site: tuple[FastAPI, World]
) -> None:
    app, world = site
    response = _client(app, world, who).request(method, path)
    assert response.status_code == status, response.text
    assert_security_headers(response)


def _session_cookie(response: Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
    assert len(cookies) == 1, response.headers.get_list("set-cookie")
    return cookies[0]


def _assert_cookie_attributes(set_cookie: str) -> None:
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in set_cookie.split(";")[1:]}
    assert "httponly" in attributes, set_cookie
    assert "secure" in attributes, set_cookie
    assert attributes.get("samesite", "").lower() == "samesite=lax", set_cookie
    assert attributes.get("path") == "Path=/", set_cookie


def test_session_cookie_is_httponly_secure_and_samesite_lax(client: TestClient, db: Session) -> None:
    build_world(db)
    first = client.get("/signin")
    _assert_cookie_attributes(_session_cookie(first))
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.text)
    assert token is not None
    signed_in = client.post(
        "/signin",
        data={"email": P_EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/home")
    # Signing in rotates the cookie; the new one has the same protections.
    _assert_cookie_attributes(_session_cookie(signed_in))
    assert_security_headers(signed_in)

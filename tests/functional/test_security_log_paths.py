"""Issue 14: the unhandled-error log line names the route, never the raw path, since some paths carry live
tokens (``/signup/confirm/<token>``, ``/password/reset/<token>``, ``/invite/<token>``) and logs are read by more
people than the mailbox the token was sent to."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alscare.actions import accounts, sign_up

TOKEN = "Sx3kLive-Token_Value0123456789abcdefghijklmn"


def _boom(*args: object, **kwargs: object) -> object:
    raise RuntimeError("database went away")


@pytest.mark.parametrize(
    ("path", "module", "name", "template"),
    [
        (f"/invite/{TOKEN}", accounts, "find_invitation", "/invite/{token}"),
        (f"/signup/confirm/{TOKEN}", sign_up, "find_pending", "/signup/confirm/{token}"),
    ],
)
def test_unhandled_error_log_has_the_route_not_the_token(
    app: FastAPI,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    module: object,
    name: str,
    template: str,
) -> None:
    monkeypatch.setattr(module, name, _boom)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="alscare.web"):
        assert client.get(path).status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "alscare.web"]
    assert f"unhandled error on GET {template} (RuntimeError)" in lines
    assert not any(TOKEN in r.getMessage() or TOKEN in str(r.args) for r in caplog.records)


def test_password_reset_route_is_logged_by_its_template(
    app: FastAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "reset_password", _boom)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    page = client.get(f"/password/reset/{TOKEN}")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    with caplog.at_level(logging.ERROR, logger="alscare.web"):
        r = client.post(f"/password/reset/{TOKEN}", data={"csrf_token": csrf, "password": "a long new password"})
    assert r.status_code == 500
    assert "unhandled error on POST /password/reset/{token} (RuntimeError)" in [r.getMessage() for r in caplog.records]
    assert not any(TOKEN in r.getMessage() for r in caplog.records)

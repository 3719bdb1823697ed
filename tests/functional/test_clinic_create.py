"""Opening a clinic from the command line, then its administrator's first sign-in through the pages.

A clinic network on PostgreSQL has nobody to invite its first administrator; ``alscare clinic create`` is that
first step. The administrator chooses a password through a single-use link and must set up two-step sign-in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import count, hidden, submit
from sqlalchemy import Engine
from typer.testing import CliRunner

from alscare.cli import app as cli
from alscare.security.totp import current_code
from alscare.storage.models import Clinic, User

ARGS = [
    "clinic", "create",
    "--name", "Harbourside ALS Service",
    "--phone", "0161 496 0000",
    "--hours", "Monday to Friday, 8am to 6pm",
    "--admin-email", "Lead.Admin@Harbourside.example",
    "--admin-name", "Priya Natarajan",
]  # fmt: skip


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "ALSCARE_DATABASE_URL": database_url,
        "ALSCARE_DATA_DIR": str(tmp_path / "cli-data"),
        "ALSCARE_SECRET_KEY": "z" * 48,
        "ALSCARE_BASE_URL": "https://testserver",
    }


def test_clinic_create_then_the_administrator_sets_a_password_and_two_step_sign_in(
    client: TestClient, app: FastAPI, engine: Engine, cli_env: dict[str, str]
) -> None:
    result = CliRunner().invoke(cli, ARGS, env=cli_env)
    assert result.exit_code == 0, result.output
    assert count(engine, Clinic) == 1
    assert count(engine, User, User.role == "admin", User.email == "lead.admin@harbourside.example") == 1
    link = re.search(r"https://testserver(/password/reset/[A-Za-z0-9_\-]+)", result.output)
    assert link, result.output

    r = submit(client, link.group(1), {"password": "harbour lights at dusk"})
    assert r.status_code == 303, r.text
    r = submit(client, "/signin", {"email": "lead.admin@harbourside.example", "password": "harbour lights at dusk"})
    assert r.status_code == 303 and r.headers["location"] == "/account/two-factor", "staff must enrol first"

    enrol = client.get("/account/two-factor")
    secret = hidden(enrol.text, "secret")
    r = submit(
        client,
        "/account/two-factor",
        {
            "secret": secret,
            "signed_secret": hidden(enrol.text, "signed_secret"),
            "code": current_code(secret, datetime.now(UTC)),
        },
        page="/account/two-factor",
    )
    assert r.status_code == 303, r.text
    home = client.get("/home")
    assert "Priya Natarajan" in home.text and "Invite a clinician" in home.text

    # The same link does not work twice.
    again = client.get(link.group(1))
    assert again.status_code == 200  # the form shows; using it is refused
    assert submit(client, link.group(1), {"password": "another long phrase"}).status_code == 404


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [("--phone", "call us", "phone"), ("--admin-email", "not-an-email", "admin_email"), ("--hours", " ", "hours")],
)
def test_clinic_create_refuses_bad_input_naming_the_field(
    engine: Engine, cli_env: dict[str, str], flag: str, value: str, field: str
) -> None:
    args = list(ARGS)
    args[args.index(flag) + 1] = value
    result = CliRunner().invoke(cli, args, env=cli_env)
    assert result.exit_code == 2
    assert f'"field": "{field}"' in result.output
    assert count(engine, Clinic) == 0 and count(engine, User) == 0


def test_clinic_create_refuses_an_email_already_in_use(engine: Engine, cli_env: dict[str, str]) -> None:
    assert CliRunner().invoke(cli, ARGS, env=cli_env).exit_code == 0
    result = CliRunner().invoke(cli, ARGS, env=cli_env)
    assert result.exit_code == 2 and '"field": "admin_email"' in result.output
    assert count(engine, Clinic) == 1

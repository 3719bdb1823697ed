"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

Signed in as each role in turn — patient P, P's caregiver, a clinician and the administrator of P's clinic
(issue 14: not only one role) — so generated requests get past authentication and CSRF and reach the real handlers;
half of them aim at a real record (P's own, or Q's, which P may not see) instead of a random id. Whatever
the input, the API must never answer with a server error, and its answers must match the document.

SQLite only, with a bounded number of examples per operation, to keep the run short; the authorization matrix
covers both databases.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from world import (
    ADMIN_GRANTED_CLINIC,
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    OWN,
    World,
    app_for_collection,
    app_on,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.storage.db import make_engine, make_sessionmaker
from alscare.web.middleware import SESSION_COOKIE

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# One of each role, each with their own relationship to P's record (see world.py).
ROLES = (OWN, CAREGIVER_GRANTED, CLINICIAN_GRANTED_CLINIC, ADMIN_GRANTED_CLINIC)


@dataclass(frozen=True)
class Fuzzed:
    app: FastAPI
    world: World
    headers: dict[str, dict[str, str]]
    cookies: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[Fuzzed]:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(_sqlite_template, folder / "alscare.db")
    engine = make_engine(f"sqlite:///{folder / 'alscare.db'}")
    app = app_on(engine, folder)
    with make_sessionmaker(engine)() as db:
        world = build_world(db)
    _RECORDS.update(own=world.patient_p_id, other=world.patient_q_id)
    headers: dict[str, dict[str, str]] = {}
    cookies: dict[str, dict[str, str]] = {}
    for role in ROLES:
        client = signed_in_client(app, world.users[role])
        headers[role] = {"X-CSRF-Token": csrf_of(client)}
        cookies[role] = {SESSION_COOKIE: client.cookies[SESSION_COOKIE]}
    yield Fuzzed(app, world, headers, cookies)
    engine.dispose()


# The document, served by an app built only to be read at collection time (its routes are the real ones);
# each case is then sent to the fixture's app, which has the database and the world behind it.
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app_for_collection())
# The real record ids, known once the fixture has built the world (before any case is generated).
_RECORDS: dict[str, int] = {}


@schema.hook("flatmap_path_parameters")
def _aim_at_real_records(
    context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Keep the generated id, or swap in P's own record or Q's (which P may not open)."""
    # Explicit examples are generated while collecting, before there is a world to aim at.
    if not path_parameters or "patient_id" not in path_parameters or not _RECORDS:
        return st.just(path_parameters)
    return st.sampled_from(["generated", "own", "other"]).map(
        lambda aim: path_parameters if aim == "generated" else {**path_parameters, "patient_id": _RECORDS[aim]}
    )


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_document(case: Any, fuzzed: Fuzzed, role: str) -> None:
    case.call_and_validate(app=fuzzed.app, headers=fuzzed.headers[role], cookies=fuzzed.cookies[role], checks=CHECKS)

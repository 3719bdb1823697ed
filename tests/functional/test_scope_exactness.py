"""Sharing that means what it says (issue 9): a grantee of exactly one scope sees exactly that scope's data, on
every page and every API route that names P's record, and nothing of any other scope.

Each scope's data carries markers (world.py's P, plus a medicine and a check-in question added here):
- the header (name, emergency number), which anyone with any grant sees;
- ``profile_details``: date of birth, when symptoms began, date of diagnosis;
- ``medicines``: a free-text medicine and its dose;
- ``checkins``: a check-in's question (also in the messages thread);
- ``care_wishes`` and ``prognosis``: no data of theirs on this branch (care wishes are built by their own
  stream; their pages join this test through ROUTE_SCOPES), so their grantee must see nothing but the header.

The routes walked are every GET route with ``{patient_id}``, read from the app, with the scope each one is
classified under in the authorization matrix: a route of the grantee's scope must answer and show the
scope's markers somewhere; a route of any other scope must answer 404; and no answer may carry another
scope's markers.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from test_authorization_matrix import CLINICIAN_ONLY, PATH_PARAMS, ROUTE_SCOPES
from world import (
    NOW,
    OWN,
    P_BIRTH,
    P_DIAGNOSIS,
    P_EMERGENCY,
    P_ONSET,
    World,
    app_for_collection,
    http_routes,
    signed_in_client,
    world_once_per_database,
)

from alscare.access import Scope
from alscare.actions import consent
from alscare.actions.checkins import record_check_in
from alscare.actions.medicines import add_medicine
from alscare.storage.models import User

_world_database, _world, _module_app, conn, app, world = world_once_per_database("scopes")

HEADER = ("PPLEAKMARKER", P_EMERGENCY)
MARKERS: dict[Scope, tuple[str, ...]] = {
    Scope.PROFILE_DETAILS: (
        P_BIRTH.isoformat(),
        "23 July 1961",
        P_ONSET.isoformat(),
        P_DIAGNOSIS.isoformat(),
        "September 2024",
        "February 2024",
    ),
    Scope.MEDICINES: ("MEDLISTMARKER", "MEDDOSEMARKER"),
    Scope.CHECKINS: ("CHECKINQUESTIONMARKER",),
    Scope.CARE_WISHES: ("CWLEAKMARKER",),
    Scope.PROGNOSIS: (),
}
SINGLE_SCOPES = tuple(MARKERS)

GET_ROUTES = [p for m, p in http_routes(app_for_collection()) if m == "GET" and "{patient_id}" in p]


def _fill(path: str, world: World) -> str:
    values: dict[str, object] = {"patient_id": world.patient_p_id}
    for name in [part.split("}")[0] for part in path.split("{")[1:]]:
        if name != "patient_id":
            values[name] = PATH_PARAMS[name](world)
    return path.format(**values)


def _grantee_of(app: FastAPI, world: World, scope: Scope) -> int:
    """A carer holding exactly ``scope`` on P's record; P also gets the marked medicine and check-in."""
    ctx = app.state.ctx
    with ctx.sessions() as db:
        p_user = db.get(User, world.users[OWN])
        assert p_user is not None
        carer = User(
            email=f"only.{scope.value}@example.org",
            display_name=f"Only {scope.value}",
            role="caregiver",
            password_hash="x",
            totp_enabled=False,
            is_active=True,
            created_at=NOW,
        )
        db.add(carer)
        db.flush()
        consent.grant_access(
            db, actor=p_user, patient_id=world.patient_p_id, scope=scope.value, now=NOW, grantee_user_id=carer.id
        )
        add_medicine(
            db, actor=p_user, patient_id=world.patient_p_id, now=NOW, name="MEDLISTMARKER tablets", dose="MEDDOSEMARKER"
        )
        record_check_in(
            db,
            actor=p_user,
            patient_id=world.patient_p_id,
            client_id="1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
            data={"fatigue": True, "question": "CHECKINQUESTIONMARKER about my legs"},
            now=NOW,
        )
        db.commit()
        return carer.id


def _text_of(response: Any) -> str:
    """The body as text; an XLSX workbook (a zip) as the text of its sheets, so markers in it are seen."""
    if response.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "\n".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    return str(response.text)


@pytest.mark.parametrize("scope", SINGLE_SCOPES, ids=lambda s: s.value)
def test_a_grantee_of_one_scope_sees_exactly_its_data(scope: Scope, app: FastAPI, world: World) -> None:
    client = signed_in_client(app, _grantee_of(app, world, scope))
    others = tuple(m for s, ms in MARKERS.items() if s is not scope for m in ms)
    seen_own: set[str] = set()
    answered = 0
    for path in GET_ROUTES:
        route_scope, _ = ROUTE_SCOPES[("GET", path)]
        response = client.get(_fill(path, world))
        body = _text_of(response)
        leaked = [m for m in others if m in body]
        assert not leaked, f"{scope.value} grantee saw {leaked} at GET {path}"
        # Clinic-only pages (the clinician's ALSFRS-R form) refuse a family grantee whatever the scope.
        if ("GET", path) in CLINICIAN_ONLY:
            assert response.status_code == 404, f"{scope.value} grantee reached clinician-only GET {path}"
            continue
        if route_scope is Scope.PROFILE or route_scope is scope:
            assert response.status_code in (200, 303), f"{scope.value} grantee refused GET {path}"
            answered += 1
            seen_own.update(m for m in MARKERS[scope] if m in body)
            if route_scope is Scope.PROFILE:
                assert all(m in body for m in HEADER), f"GET {path} lacks the header (name, emergency number)"
        else:
            assert response.status_code == 404, f"{scope.value} grantee reached GET {path} ({route_scope.value})"
    assert seen_own == set(MARKERS[scope]), f"{scope.value}: its own data was not shown anywhere"
    assert answered >= 1


@pytest.mark.parametrize("scope", SINGLE_SCOPES, ids=lambda s: s.value)
def test_the_patient_list_api_shows_profile_details_only_with_their_scope(
    scope: Scope, app: FastAPI, world: World
) -> None:
    client = signed_in_client(app, _grantee_of(app, world, scope))
    (listed,) = client.get("/api/v1/patients").json()
    one = client.get(f"/api/v1/patients/{world.patient_p_id}").json()
    for record in (listed, one):
        assert record["full_name"] and record["emergency_number"] == P_EMERGENCY
        shown = record["date_of_birth"] is not None
        assert shown is (scope is Scope.PROFILE_DETAILS), record
        assert (record["diagnosis_date"] is not None) is shown and (record["onset_date"] is not None) is shown


def test_every_get_route_is_walked() -> None:
    # A new GET route must be classified before this test can walk it (the matrix says the same).
    assert all(("GET", p) in ROUTE_SCOPES for p in GET_ROUTES)
    assert {("GET", p) for p in GET_ROUTES} >= {
        ("GET", "/patients/{patient_id}/medicines"),
        ("GET", "/api/v1/patients/{patient_id}/medicines"),
        ("GET", "/patients/{patient_id}"),
    }

"""Authorization over every route × relationship: no route leaks a byte of another person's data.

The matrix is generated from the app's own routes when the tests are collected. Every route whose path names
a ``{patient_id}`` is a patient-data route and must be classified in ``ROUTE_SCOPES`` by the part of the
record it touches; an unclassified route fails ``test_every_patient_route_is_classified``, so adding a route
grows the matrix and forces someone to say who may use it.

What each relationship to patient P's record may do is written out in ``MAY`` — deliberately not derived from
``alscare.access.decide``, so the policy is checked against an independent statement of it.

Denied means, for a signed-in person: 404, byte-for-byte the same answer as for a record that does not exist,
none of P's details in the answer, nothing changed in the database, and a "denied" entry on the audit trail.

Speed: the world is built once per database for this module, and each test runs inside one transaction on one
connection that is rolled back afterwards (the app's sessions join it through savepoints), so every case still
starts from the same untouched world. Tests in this module must therefore use this module's ``app``, ``conn``
and ``world`` fixtures, not ``db``/``engine`` (those are a different database).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, select
from world import (
    ACTORS,
    ADMIN_GRANTED_CLINIC,
    ANONYMOUS,
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CAREGIVER_REVOKED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    OTHER_PATIENT,
    OWN,
    P_MARKERS,
    PROXY,
    Q_MARKERS,
    World,
    app_for_collection,
    csrf_of,
    http_routes,
    signed_in_client,
    world_once_per_database,
)

from alscare.access import Action, Scope
from alscare.storage.models import AuditEvent, Base

R, W = Action.READ, Action.WRITE

# Which part of a record each patient-data route touches, and how. Changing the profile is for the person and
# their proxy only, like the sharing settings, so it is classified as a write of SHARING.
ROUTE_SCOPES: dict[tuple[str, str], tuple[Scope, Action]] = {
    ("GET", "/api/v1/patients/{patient_id}"): (Scope.PROFILE, R),
    ("PATCH", "/api/v1/patients/{patient_id}"): (Scope.SHARING, W),
    ("GET", "/api/v1/patients/{patient_id}/alsfrs-r"): (Scope.CHECKINS, R),
    ("POST", "/api/v1/patients/{patient_id}/alsfrs-r"): (Scope.CHECKINS, W),
    ("GET", "/api/v1/patients/{patient_id}/progression"): (Scope.CHECKINS, R),
    ("GET", "/api/v1/patients/{patient_id}/grants"): (Scope.SHARING, R),
    ("GET", "/api/v1/patients/{patient_id}/invitations"): (Scope.SHARING, R),
    ("POST", "/api/v1/patients/{patient_id}/grants"): (Scope.SHARING, W),
    ("DELETE", "/api/v1/patients/{patient_id}/grants/{grant_id}"): (Scope.SHARING, W),
    ("GET", "/api/v1/patients/{patient_id}/access-log"): (Scope.SHARING, R),
    ("GET", "/patients/{patient_id}"): (Scope.PROFILE, R),
    ("GET", "/patients/{patient_id}/sharing"): (Scope.SHARING, R),
    ("POST", "/patients/{patient_id}/sharing"): (Scope.SHARING, W),
    ("POST", "/patients/{patient_id}/sharing/{grant_id}/revoke"): (Scope.SHARING, W),
    ("GET", "/patients/{patient_id}/access-log"): (Scope.SHARING, R),
    # Timeline (issue 8): the page for anyone with a grant (scores and check-ins only with that scope); the PDF.
    ("GET", "/patients/{patient_id}/timeline"): (Scope.PROFILE, R),
    ("GET", "/patients/{patient_id}/visit-summary.pdf"): (Scope.CHECKINS, R),
    ("GET", "/api/v1/patients/{patient_id}/messages"): (Scope.CHECKINS, R),
    ("POST", "/api/v1/patients/{patient_id}/messages"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/messages"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/messages"): (Scope.CHECKINS, W),
    ("POST", "/api/v1/patients/{patient_id}/messages/read"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/messages/read"): (Scope.CHECKINS, R),
    # ALSFRS-R self-report wizard and clinician form: every step opens the record to write check-ins.
    ("GET", "/patients/{patient_id}/alsfrs-r/new"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/alsfrs-r/new"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/setup"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/setup"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/items/{n}"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/items/{n}"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/review"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/submit"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/done"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/alsfrs-r/clinic"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/alsfrs-r/clinic"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/schedule"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/schedule"): (Scope.CHECKINS, W),
    ("GET", "/api/v1/patients/{patient_id}/schedule"): (Scope.CHECKINS, R),
    ("PUT", "/api/v1/patients/{patient_id}/schedule/{kind}"): (Scope.CHECKINS, W),
    # Symptom check-ins: the form opens the record to write check-ins; the result screen reads one.
    ("GET", "/patients/{patient_id}/check-in"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/check-in"): (Scope.CHECKINS, W),
    # The stepped check-in (issue 7): every step opens the record to write check-ins, as the form does.
    ("GET", "/patients/{patient_id}/check-in/steps"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/check-in/steps/{step_id}"): (Scope.CHECKINS, W),
    ("POST", "/patients/{patient_id}/check-in/steps/{step_id}"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/check-ins/{check_in_id}"): (Scope.CHECKINS, R),
    ("GET", "/api/v1/patients/{patient_id}/check-ins"): (Scope.CHECKINS, R),
    ("POST", "/api/v1/patients/{patient_id}/check-ins"): (Scope.CHECKINS, W),
    # Diagnosis journey and MRI safety checklist (issue 10): part of the check-ins scope.
    ("GET", "/patients/{patient_id}/diagnosis"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/diagnosis/tests/{test_kind}"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/diagnosis/mri-checklist"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/diagnosis/mri-checklist"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/diagnosis/mri-checklist.pdf"): (Scope.CHECKINS, R),
    # Rehabilitation and aids (issue 10): self-reported activity and what it suggests live under check-ins.
    # Clinic-only writes (assign, stop, status changes) are under /clinic/…, refused there by the actions.
    ("GET", "/patients/{patient_id}/programme"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/programme/log"): (Scope.CHECKINS, W),
    ("GET", "/patients/{patient_id}/aids"): (Scope.CHECKINS, R),
    ("POST", "/patients/{patient_id}/aids/requests"): (Scope.CHECKINS, W),
    # The medicine list (issue 9): read and changed under the medicines scope only.
    ("GET", "/patients/{patient_id}/medicines"): (Scope.MEDICINES, R),
    ("POST", "/patients/{patient_id}/medicines"): (Scope.MEDICINES, W),
    ("GET", "/patients/{patient_id}/medicines/{entry_id}"): (Scope.MEDICINES, R),
    ("POST", "/patients/{patient_id}/medicines/{entry_id}"): (Scope.MEDICINES, W),
    ("POST", "/patients/{patient_id}/medicines/{entry_id}/liver-tests"): (Scope.MEDICINES, W),
    ("GET", "/api/v1/patients/{patient_id}/medicines"): (Scope.MEDICINES, R),
    ("POST", "/api/v1/patients/{patient_id}/medicines"): (Scope.MEDICINES, W),
    ("PATCH", "/api/v1/patients/{patient_id}/medicines/{entry_id}"): (Scope.MEDICINES, W),
    ("POST", "/api/v1/patients/{patient_id}/medicines/{entry_id}/liver-tests"): (Scope.MEDICINES, W),
    ("GET", "/api/v1/patients/{patient_id}/medicines/{entry_id}/history"): (Scope.MEDICINES, R),
    # Stopping sharing with a clinic asks first: the confirmation page belongs to the sharing settings.
    ("GET", "/patients/{patient_id}/sharing/{grant_id}/revoke"): (Scope.SHARING, R),
    # Care wishes: read through the care_wishes scope; written (a new version, a "discussed with" note) by the
    # person and their proxy only, so writing is classified as a write of SHARING, like the profile.
    ("GET", "/patients/{patient_id}/care-wishes"): (Scope.CARE_WISHES, R),
    ("GET", "/patients/{patient_id}/care-wishes/history"): (Scope.CARE_WISHES, R),
    ("GET", "/patients/{patient_id}/care-wishes/versions/{n}"): (Scope.CARE_WISHES, R),
    ("GET", "/patients/{patient_id}/care-wishes/compare"): (Scope.CARE_WISHES, R),
    ("GET", "/patients/{patient_id}/care-wishes.pdf"): (Scope.CARE_WISHES, R),
    ("GET", "/patients/{patient_id}/care-wishes/emergency-card"): (Scope.CARE_WISHES, R),
    ("GET", "/patients/{patient_id}/care-wishes/emergency-card.pdf"): (Scope.CARE_WISHES, R),
    # The card for the operator or paramedic (issue 7): name and emergency number, like the record's header;
    # the care wishes and breathing support on it only under their own scopes.
    ("GET", "/patients/{patient_id}/emergency/card"): (Scope.PROFILE, R),
    # FHIR export (issue 13): for anyone with a grant; the Bundle holds only the parts their scopes cover.
    ("GET", "/patients/{patient_id}/record.fhir.json"): (Scope.PROFILE, R),
    ("GET", "/api/v1/patients/{patient_id}/fhir"): (Scope.PROFILE, R),
    # Spreadsheets (issue 13): the workbook holds the parts the viewer's scopes cover; the CSVs are check-ins data.
    ("GET", "/patients/{patient_id}/record.xlsx"): (Scope.PROFILE, R),
    ("GET", "/patients/{patient_id}/alsfrs-r.csv"): (Scope.CHECKINS, R),
    ("GET", "/patients/{patient_id}/measurements.csv"): (Scope.CHECKINS, R),
    ("GET", "/patients/{patient_id}/care-wishes/edit"): (Scope.SHARING, W),
    ("POST", "/patients/{patient_id}/care-wishes/edit"): (Scope.SHARING, W),
    ("GET", "/patients/{patient_id}/care-wishes/versions/{n}/discussed"): (Scope.SHARING, W),
    ("POST", "/patients/{patient_id}/care-wishes/versions/{n}/discussed"): (Scope.SHARING, W),
    ("GET", "/api/v1/patients/{patient_id}/care-wishes"): (Scope.CARE_WISHES, R),
    ("GET", "/api/v1/patients/{patient_id}/care-wishes/versions"): (Scope.CARE_WISHES, R),
    ("GET", "/api/v1/patients/{patient_id}/care-wishes/versions/{n}"): (Scope.CARE_WISHES, R),
    ("POST", "/api/v1/patients/{patient_id}/care-wishes/versions"): (Scope.SHARING, W),
    ("POST", "/api/v1/patients/{patient_id}/care-wishes/versions/{n}/discussions"): (Scope.SHARING, W),
    # The outlook (ENCALS): read under the prognosis scope (the person and their proxy see the figures only
    # once the person has turned the page on); turning it on or off is the person's own choice.
    ("GET", "/patients/{patient_id}/prognosis"): (Scope.PROGNOSIS, R),
    ("GET", "/api/v1/patients/{patient_id}/prognosis"): (Scope.PROGNOSIS, R),
    ("POST", "/patients/{patient_id}/prognosis/choice"): (Scope.SHARING, W),
}

# The clinician's ALSFRS-R form records a clinician-administered score: only a clinician of a clinic with
# access may open it (issue 14, finding 2); to the person, their proxy and family it is "not found".
CLINICIAN_ONLY = {
    ("GET", "/patients/{patient_id}/alsfrs-r/clinic"),
    ("POST", "/patients/{patient_id}/alsfrs-r/clinic"),
}

EVERYTHING = frozenset((scope, action) for scope in Scope for action in Action)
CLINICAL = frozenset(
    (scope, action)
    for scope in (Scope.CHECKINS, Scope.CARE_WISHES, Scope.MEDICINES, Scope.PROGNOSIS, Scope.PROFILE_DETAILS)
    for action in Action
)
NOTHING: frozenset[tuple[Scope, Action]] = frozenset()

# What each relationship to P's record may do (see world.py for who is who).
MAY: dict[str, frozenset[tuple[Scope, Action]]] = {
    OWN: EVERYTHING,
    PROXY: EVERYTHING,
    # Granted check-ins: those, plus the profile header anyone with a grant sees. Not sharing, not the log.
    # G holds check-ins and the world's spare prognosis grant (the grant the sharing routes revoke).
    CAREGIVER_GRANTED: frozenset(
        {(Scope.PROFILE, R), (Scope.CHECKINS, R), (Scope.CHECKINS, W), (Scope.PROGNOSIS, R), (Scope.PROGNOSIS, W)}
    ),
    CAREGIVER_REVOKED: NOTHING,
    CAREGIVER_NOT_GRANTED: NOTHING,
    # The clinic holds full_record: all clinical data and the profile header, never sharing or the access log.
    CLINICIAN_GRANTED_CLINIC: CLINICAL | {(Scope.PROFILE, R)},
    CLINICIAN_OTHER_CLINIC: NOTHING,
    # Administrators run accounts; a grant to their clinic is for its clinicians.
    ADMIN_GRANTED_CLINIC: NOTHING,
    OTHER_PATIENT: NOTHING,
    ANONYMOUS: NOTHING,
}

# Path parameters other than patient_id, filled from the world.
PATH_PARAMS: dict[str, Callable[[World], object]] = {
    # A draft is its starter's alone; for anyone else (and for one that does not exist, as here) the wizard
    # leads back to its start screen, so the real record answers 303 and a refused one 404.
    "draft_id": lambda w: 1,
    "n": lambda w: 1,
    "step_id": lambda w: "breathing",
    "kind": lambda w: "alsfrs_r",
    "grant_id": lambda w: w.spare_grant_id,
    "check_in_id": lambda w: w.check_in_id,
    "test_kind": lambda w: "emg",
    "entry_id": lambda w: w.medicine_entry_id,
}

# API bodies start from the request model's OpenAPI example; these replace fields that must name world data.
BODY_OVERRIDES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("POST", "/api/v1/patients/{patient_id}/grants"): lambda w: {"grantee_email": w.emails[CAREGIVER_NOT_GRANTED]},
}

# Page forms (pages have no OpenAPI example): a minimal valid form; the CSRF token is added by the test.
PAGE_FORMS: dict[tuple[str, str], Callable[[World], dict[str, str]]] = {
    ("POST", "/patients/{patient_id}/sharing"): lambda w: {
        "grantee": "person",
        "grantee_email": w.emails[CAREGIVER_NOT_GRANTED],
        "scope": "checkins",
    },
    ("POST", "/patients/{patient_id}/sharing/{grant_id}/revoke"): lambda w: {},
    ("POST", "/patients/{patient_id}/messages"): lambda w: {"body": "A question that can wait."},
    ("POST", "/patients/{patient_id}/messages/read"): lambda w: {},
    ("POST", "/patients/{patient_id}/alsfrs-r/new"): lambda w: {
        "administration_mode": "caregiver",
        "gastrostomy": "no",
    },
    ("POST", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/setup"): lambda w: {
        "administration_mode": "caregiver",
        "gastrostomy": "no",
    },
    ("POST", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/items/{n}"): lambda w: {"answer": "3", "go": "next"},
    ("POST", "/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/submit"): lambda w: {},
    ("POST", "/patients/{patient_id}/alsfrs-r/clinic"): lambda w: {
        "client_id": "0b7f1f4e-5d2c-4f7e-9a43-6f1d2c3b4a59",
        "assessed_on": "2026-02-27",
        "administration_mode": "clinician_in_person",
        **{f"item_{i}": "3" for i in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")},
    },
    ("POST", "/patients/{patient_id}/schedule"): lambda w: {"interval_days_alsfrs_r": "14"},
    ("POST", "/patients/{patient_id}/diagnosis/tests/{test_kind}"): lambda w: {"status": "planned"},
    ("POST", "/patients/{patient_id}/diagnosis/mri-checklist"): lambda w: {"pacemaker_or_defibrillator": "no"},
    ("POST", "/patients/{patient_id}/programme/log"): lambda w: {
        "client_id": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
        "exercise_id": "hand_stretch",
        "outcome": "done",
        "tiring": "3",
        "done_on": "2026-03-01",
    },
    ("POST", "/patients/{patient_id}/aids/requests"): lambda w: {"aid_id": "walking_aid"},
    ("POST", "/patients/{patient_id}/care-wishes/edit"): lambda w: {
        "client_id": "7c2e9b1a-3d4f-4a5b-8c6d-9e0f1a2b3c4d",
        "resuscitation.cpr": "yes",
    },
    ("POST", "/patients/{patient_id}/care-wishes/versions/{n}/discussed"): lambda w: {
        "with_kind": "family",
        "discussed_on": "2026-02-20",
    },
    ("POST", "/patients/{patient_id}/prognosis/choice"): lambda w: {"choice": "on"},
    ("POST", "/patients/{patient_id}/check-in"): lambda w: {
        "client_id": "5d1c9a7e-2f3b-4c8d-9e0f-1a2b3c4d5e6f",
        "cramps": "yes",
    },
    ("POST", "/patients/{patient_id}/check-in/steps/{step_id}"): lambda w: {
        "client_id": "6e2d0b8f-3a4c-4d9e-8f1a-2b3c4d5e6f70",
        "orthopnea": "yes",
        "go": "next",
    },
    ("POST", "/patients/{patient_id}/medicines"): lambda w: {"catalogue_id": "baclofen", "dose": "10 mg"},
    ("POST", "/patients/{patient_id}/medicines/{entry_id}"): lambda w: {"dose": "50 mg once a day"},
    ("POST", "/patients/{patient_id}/medicines/{entry_id}/liver-tests"): lambda w: {"done_on": "2026-02-27"},
}

MISSING_PATIENT_ID = 999_999
# Tables that a refused request may still write to: the audit trail (by design) and the session store.
# Refusals are counted in refused_probe_counts (one audit row per actor, record and hour, not one per probe),
# and sign-in throttles move with every attempt: neither is data a refused request "changed".
AUDIT_AND_SESSIONS = {"audit_events", "audit_head", "web_sessions", "refused_probe_counts", "sign_in_throttles"}

_COLLECTION_APP = app_for_collection()
ALL_ROUTES = http_routes(_COLLECTION_APP)
PATIENT_ROUTES = [(m, p) for m, p in ALL_ROUTES if "{patient_id}" in p]
# /healthz holds no records and opens its own connection, which would wait on this module's test transaction.
OTHER_GET_ROUTES = [p for m, p in ALL_ROUTES if m == "GET" and "{patient_id}" not in p and p != "/healthz"]
OPENAPI = _COLLECTION_APP.openapi()


def test_every_patient_route_is_classified() -> None:
    missing = sorted(set(PATIENT_ROUTES) - ROUTE_SCOPES.keys())
    stale = sorted(ROUTE_SCOPES.keys() - set(PATIENT_ROUTES))
    assert not missing, f"classify these patient-data routes in ROUTE_SCOPES (which scope, read or write): {missing}"
    assert not stale, f"these ROUTE_SCOPES entries name routes that no longer exist: {stale}"


_world_database, _world, _module_app, conn, app, world = world_once_per_database("matrix")


def _client(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, None if actor == ANONYMOUS else world.users[actor])


def _url(path: str, world: World, patient_id: int) -> str:
    names = [part.split("}")[0] for part in path.split("{")[1:]]
    values: dict[str, object] = {"patient_id": patient_id}
    for name in names:
        if name != "patient_id":
            if name not in PATH_PARAMS:
                pytest.fail(f"{path}: say how to fill the path parameter {{{name}}} in PATH_PARAMS")
            values[name] = PATH_PARAMS[name](world)
    return path.format(**values)


def _api_example(method: str, path: str) -> dict[str, Any] | None:
    operation = OPENAPI["paths"][path][method.lower()]
    if "requestBody" not in operation:
        return None
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = schema.get("examples")
    if not examples:
        pytest.fail(f"{method} {path}: give the request model an OpenAPI example (json_schema_extra)")
    return dict(examples[0])


def _request(client: TestClient, method: str, path: str, world: World, patient_id: int) -> Response:
    url = _url(path, world, patient_id)
    if method == "GET":
        return client.get(url)
    if path.startswith("/api/"):
        body = _api_example(method, path)
        if body is not None:
            body |= BODY_OVERRIDES.get((method, path), lambda w: {})(world)
        return client.request(method, url, json=body)
    if (method, path) not in PAGE_FORMS:
        pytest.fail(f"{method} {path}: give a minimal valid form in PAGE_FORMS")
    form = PAGE_FORMS[(method, path)](world) | {"csrf_token": csrf_of(client)}
    return client.request(method, url, data=form)


def _snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a refused request must leave alone."""
    return {
        table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
        for table in Base.metadata.sorted_tables
        if table.name not in AUDIT_AND_SESSIONS
    }


def _audit_since(conn: Connection, last_id: int) -> list[Any]:
    query = select(AuditEvent.__table__).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
    return list(conn.execute(query))


def _probe_count(conn: Connection, actor_id: int | None) -> int:
    from sqlalchemy import func

    from alscare.storage.models.security import RefusedProbeCount

    if actor_id is None:
        return 0
    query = select(func.coalesce(func.sum(RefusedProbeCount.count), 0)).where(
        RefusedProbeCount.actor_user_id == actor_id
    )
    return int(conn.execute(query).scalar_one())


def _last_audit_id(conn: Connection) -> int:
    return conn.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar() or 0


def _shown(response: Response) -> str:
    return response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def _assert_no_markers(response: Response, markers: tuple[str, ...], who: str) -> None:
    shown = _shown(response)
    leaked = [m for m in markers if m in shown]
    assert not leaked, f"{who}'s details {leaked} leaked in {response.request.method} {response.request.url}"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path"), PATIENT_ROUTES, ids=[f"{m} {p}" for m, p in PATIENT_ROUTES])
def test_patient_route(method: str, path: str, actor: str, app: FastAPI, conn: Connection, world: World) -> None:
    if (method, path) not in ROUTE_SCOPES:
        pytest.fail(f"{method} {path} is not classified in ROUTE_SCOPES")
    allowed = ROUTE_SCOPES[(method, path)] in MAY[actor] and (
        (method, path) not in CLINICIAN_ONLY or actor == CLINICIAN_GRANTED_CLINIC
    )
    client = _client(app, world, actor)
    before = _snapshot(conn)
    last_audit = _last_audit_id(conn)
    probes_before = _probe_count(conn, world.users.get(actor))

    real = _request(client, method, path, world, world.patient_p_id)
    events = _audit_since(conn, last_audit)
    missing = _request(client, method, path, world, MISSING_PATIENT_ID)

    _assert_no_markers(real, Q_MARKERS, "Q")
    assert missing.status_code == 404 or actor == ANONYMOUS, missing.text
    if allowed:
        assert 200 <= real.status_code < 400, f"{actor} should be allowed: {real.status_code} {real.text[:300]}"
        assert any(e.action != "denied" and e.patient_id == world.patient_p_id for e in events), "access not audited"
        return

    _assert_no_markers(real, P_MARKERS, "P")
    assert (real.status_code, real.content) == (missing.status_code, missing.content), (
        "a refused record must look exactly like a missing one"
    )
    if actor == ANONYMOUS:
        if path.startswith("/api/"):
            assert real.status_code == 401, real.text
        else:
            assert (real.status_code, real.headers.get("location")) == (303, "/signin")
        assert events == []
    else:
        assert real.status_code == 404, f"{actor} should be refused: {real.status_code} {real.text[:300]}"
        counted = _probe_count(conn, world.users[actor]) > probes_before
        assert events or counted, "the refused attempt is neither on the audit trail nor counted"
        assert all(
            (e.action, e.patient_id, e.actor_user_id) == ("denied", world.patient_p_id, world.users[actor])
            for e in events
        ), [(e.action, e.patient_id, e.actor_user_id) for e in events]
    assert _snapshot(conn) == before, "a refused request changed the database"


def _fill_other(path: str) -> str:
    # Routes without a patient id take at most a token; an unknown one is the interesting case here.
    return (
        path.replace("{token}", "t" * 43)
        .replace("{alert_id}", "999999")
        .replace("{article_id}", "what-is-als")
        .replace("{leaflet_id}", "riluzole")
    )


@pytest.mark.parametrize("path", OTHER_GET_ROUTES)
def test_other_routes_show_only_what_is_shared(path: str, app: FastAPI, world: World) -> None:
    """Lists, home pages, account pages: nobody but Q sees Q; only those P shares with see P."""
    if "{" in _fill_other(path):
        pytest.fail(f"{path}: say how to fill its path parameters in _fill_other")
    for actor in ACTORS:
        response = _client(app, world, actor).get(_fill_other(path))
        assert response.status_code < 500, response.text
        if actor != OTHER_PATIENT:
            _assert_no_markers(response, Q_MARKERS, "Q")
        if not MAY[actor]:
            markers = P_MARKERS
            if path == "/clinic/people" and actor == ADMIN_GRANTED_CLINIC:
                # Issue 14 item 4: the clinic's administrator sees the names of the people in the clinic's care,
                # and nothing else of their record (no email, dates or numbers).
                markers = tuple(m for m in P_MARKERS if m != "PPLEAKMARKER")
            _assert_no_markers(response, markers, "P")


@pytest.mark.parametrize(
    ("actor", "sees_p"),
    [
        (OWN, True),
        (PROXY, True),
        (CAREGIVER_GRANTED, True),
        (CLINICIAN_GRANTED_CLINIC, True),
        (CAREGIVER_REVOKED, False),
        (CAREGIVER_NOT_GRANTED, False),
        (CLINICIAN_OTHER_CLINIC, False),
        (ADMIN_GRANTED_CLINIC, False),
    ],
)
def test_patient_list_holds_exactly_the_shared_records(app: FastAPI, world: World, actor: str, sees_p: bool) -> None:
    client = _client(app, world, actor)
    listed = {p["id"] for p in client.get("/api/v1/patients").json()}
    assert listed == ({world.patient_p_id} if sees_p else set())
    home = client.get("/home", follow_redirects=True)  # a clinician's home is the clinic dashboard
    assert home.status_code == 200
    assert ("PPLEAKMARKER" in home.text) is sees_p


def test_revoking_stops_access_at_once(app: FastAPI, world: World) -> None:
    caregiver = _client(app, world, CAREGIVER_GRANTED)
    patient = _client(app, world, OWN)
    scores = f"/api/v1/patients/{world.patient_p_id}/alsfrs-r"
    assert caregiver.get(scores).status_code == 200

    revoked = patient.delete(f"/api/v1/patients/{world.patient_p_id}/grants/{world.grant_g_id}")
    assert revoked.status_code == 204

    after = caregiver.get(scores)
    assert after.status_code == 404
    _assert_no_markers(after, P_MARKERS, "P")
    # G still holds the unrelated prognosis grant, so the profile header stays visible; the scores do not.
    assert caregiver.get(f"/patients/{world.patient_p_id}").text.count("Scores are not shared with you") == 1

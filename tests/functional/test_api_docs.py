"""The API documented (issue 13, item 5): every operation grouped under a described tag, described, with an
example; the hand-written examples are accepted by the API; the FHIR Bundle over the API follows consent."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    OWN,
    World,
    build_world,
    freeze_clock,
    signed_in_client,
)

from alscare.web.api.docs import REQUEST_EXAMPLES, TAGS


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def test_every_operation_is_grouped_described_and_has_an_example(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    names = {name for name, _ in TAGS}
    assert {t["name"] for t in spec["tags"]} == names and all(t["description"] for t in spec["tags"])
    operations = [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) > 30
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        assert len(op["tags"]) == 1 and op["tags"][0] in names, where
        assert op["description"], where
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert "example" in body, where
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert ok, where
        for status, response in ok.items():
            if status == "204":
                assert not response.get("content"), where
            else:
                assert all("example" in media for media in response["content"].values()), where
    fhir = spec["paths"]["/api/v1/patients/{patient_id}/fhir"]["get"]
    assert fhir["tags"] == ["FHIR"]
    Bundle.model_validate(fhir["responses"]["200"]["content"]["application/fhir+json"]["example"])


def test_hand_written_examples_are_accepted(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
    for (method, path), example in REQUEST_EXAMPLES.items():
        r = client.request(method.upper(), path.format(patient_id=world.patient_p_id), json=example)
        assert r.status_code in (200, 201), (path, r.text)


def test_fhir_bundle_over_the_api(app: FastAPI, world: World) -> None:
    path = f"/api/v1/patients/{world.patient_p_id}/fhir"
    r = signed_in_client(app, world.users[OWN]).get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(r.json())
    assert bundle.type == "collection"
    refused = signed_in_client(app, world.users[CAREGIVER_NOT_GRANTED]).get(path)
    assert refused.status_code == 404
    assert signed_in_client(app, None).get(path).status_code == 401

"""The OpenAPI page made useful to a clinic's developers (issue 13, item 5): endpoints grouped by what they
touch, each group described, and an example on every endpoint.

Kept apart from the routes so the routes stay short: the groups are declared as data here (path prefix → tag),
and every operation without a hand-written example gets one built from its own schema (a schema's own
``examples`` first, then plain values by type and format), so a new endpoint is never shown without one.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

TAGS: Final = (
    ("people", "Who you are (`/me`) and the records you can open: the profile header and its details."),
    ("ALSFRS-R", "ALSFRS-R assessments, the progression rate and the ENCALS outlook."),
    ("check-ins", "Symptom check-ins (triaged on arrival; emergencies raise alerts) and the check-in schedule."),
    ("messages", "The conversation between a person (or their carer) and their clinic."),
    ("alerts", "The clinic's alerts: list, acknowledge, resolve. Clinicians only."),
    ("sharing", "Consent: who may see which part of a record, invitations, and who has looked at it."),
    ("medicines", "The medicine list with its full history, and riluzole liver tests."),
    ("care wishes", "Versioned care wishes (advance care planning) and who they were discussed with."),
    ("FHIR", "The record as a FHIR R4 Bundle, for electronic health records and registries."),
    ("service", "Liveness."),
)

# Operations grouped by path: the first matching (method or "*", path fragment) wins.
_GROUPS: Final = (
    ("*", "/fhir", "FHIR"),
    ("*", "/grants", "sharing"),
    ("*", "/access-log", "sharing"),
    ("*", "/invitations", "sharing"),
    ("*", "/alsfrs-r", "ALSFRS-R"),
    ("*", "/progression", "ALSFRS-R"),
    ("*", "/prognosis", "ALSFRS-R"),
    ("*", "/check-ins", "check-ins"),
    ("*", "/schedule", "check-ins"),
    ("*", "/messages", "messages"),
    ("*", "/api/v1/alerts", "alerts"),
    ("*", "/medicines", "medicines"),
    ("*", "/care-wishes", "care wishes"),
    ("*", "/api/v1/me", "people"),
    ("*", "/api/v1/patients", "people"),
)

# Hand-written request examples where a built one would not show a realistic call.
REQUEST_EXAMPLES: Final[dict[tuple[str, str], dict[str, Any]]] = {
    ("post", "/api/v1/patients/{patient_id}/alsfrs-r"): {
        "client_id": "5b0c1f9e-8d2a-4c3b-9e1f-2a3b4c5d6e7f",
        "assessed_on": "2026-02-20",
        "administration_mode": "clinician_in_person",
        "items": {"1": 4, "2": 4, "3": 3, "4": 3, "5a": 3, "6": 4, "7": 4, "8": 3, "9": 3, "10": 4, "11": 4, "12": 4},
    },
    ("post", "/api/v1/patients/{patient_id}/check-ins"): {
        "client_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "cramps": True,
        "fatigue": True,
        "weight_kg": 68.4,
        "usual_weight_kg": 70.0,
        "fvc_percent": 78,
        "questions": "Should I change the time I take riluzole?",
    },
}

_SAMPLE_STRINGS: Final = {
    "email": "nurse.lindqvist@clinic.example",
    "name": "Mei Chen",
    "phone": "020 7946 0321",
    "client_id": "5b0c1f9e-8d2a-4c3b-9e1f-2a3b4c5d6e7f",
    "body": "Could someone call me about my feeding tube?",
}


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(schema: dict[str, Any], spec: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plain example value for ``schema`` (its own example first), a few levels deep."""
    schema = _resolve(schema, spec)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, spec).get("type") != "null"]
            return sample(options[0], spec, name, depth) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {k: sample(v, spec, k, depth + 1) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {}), spec, name, depth + 1)] if depth <= 4 else []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2026-11-20"
        if fmt == "date-time":
            return "2026-11-20T10:30:00Z"
        return next((v for k, v in _SAMPLE_STRINGS.items() if k in name), "text")
    return None


def _tag(method: str, path: str, current: list[str]) -> list[str]:
    if current and current != ["api"]:
        return current
    for m, fragment, tag in _GROUPS:
        if (m == "*" or m == method) and fragment in path:
            return [tag]
    return current or ["service"]


def enriched(spec: dict[str, Any]) -> dict[str, Any]:
    """Tags, tag descriptions and an example on every operation (request body and successful answer)."""
    spec["tags"] = [{"name": name, "description": text} for name, text in TAGS]
    spec.setdefault("info", {})["description"] = (
        "The alscare API. Sign in, then send the session cookie; every call that changes something also sends "
        "the `X-CSRF-Token` header (from `GET /api/v1/me`). Every read of patient data is audited and follows "
        "the person's consent: a record that is not shared with you answers 404, as a missing one does. "
        "A guide for clinic developers: docs/api.md."
    )
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            op["tags"] = _tag(method, path, op.get("tags", []))
            op.setdefault("description", op.get("summary", ""))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body:
                body["example"] = REQUEST_EXAMPLES.get((method, path)) or sample(body.get("schema", {}), spec)
            for status, response in op.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                content = response.get("content")
                if not content and str(status) != "204":
                    # e.g. a retried check-in (200) answers as the first submit (201) did: the same body.
                    sibling = next((r["content"] for s, r in op["responses"].items()
                                    if str(s).startswith("2") and r.get("content")), None)  # fmt: skip
                    if sibling is not None:
                        content = response["content"] = copy.deepcopy(sibling)
                if not content:  # 204 No Content: nothing to show
                    continue
                for media in content.values():
                    if "example" not in media:
                        media["example"] = sample(media.get("schema", {}), spec)
    return spec


def enrich_openapi(app: FastAPI) -> None:
    """Serve the enriched schema at the app's OpenAPI URL (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = enriched(
                get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

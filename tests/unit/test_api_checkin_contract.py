"""The API's check-in body must accept exactly the triage table's fields, with matching kinds.

The rule table in ``alscare.clinical.triage`` is the single source of check-in fields; the pydantic model in
the API repeats them for the OpenAPI document. This test stops the two drifting apart: a field added to the
table without the API (or the other way round) fails here.
"""

from __future__ import annotations

import types
import typing

from alscare.clinical.triage import CHECK_IN_FIELDS
from alscare.web.api.checkins import CheckInIn

# Fields the API adds around the triage answers: the form's id, the body map and the breathing measurements.
API_ONLY = {"client_id", "body_map", "fvc_percent", "snip_cmh2o", "spo2_percent"}
KIND_TO_TYPE = {"bool": bool, "number": float, "text": str, "list": list}


def _base_type(annotation: object) -> object:
    """``bool | None`` → bool; ``list[str] | None`` → list."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    inner = args[0] if isinstance(annotation, types.UnionType) and args else annotation
    return typing.get_origin(inner) or inner


def _field_by_published_name() -> dict[str, object]:
    """The model's fields keyed by the name the OpenAPI document publishes (the first alias, if any)."""
    out: dict[str, object] = {}
    for name, info in CheckInIn.model_fields.items():
        alias = info.validation_alias
        published = alias.choices[0] if alias is not None and hasattr(alias, "choices") else name
        out[str(published)] = info.annotation
    return out


def test_api_accepts_every_triage_field_and_nothing_else_unexplained() -> None:
    published = set(CheckInIn.model_json_schema()["properties"])
    assert published == set(_field_by_published_name())
    assert published - API_ONLY == set(CHECK_IN_FIELDS)


def test_api_field_kinds_match_the_triage_table() -> None:
    fields = _field_by_published_name()
    for name, spec in CHECK_IN_FIELDS.items():
        assert _base_type(fields[name]) is KIND_TO_TYPE[spec.kind], name


def test_the_question_is_accepted_under_the_triage_name_and_the_short_name() -> None:
    client_id = "3f0c8f1e-5d0a-4a8e-9d8e-2b7c4e1a9f10"
    assert CheckInIn.model_validate({"client_id": client_id, "questions": "Can I drive?"}).question == "Can I drive?"
    assert CheckInIn.model_validate({"client_id": client_id, "question": "Can I drive?"}).question == "Can I drive?"

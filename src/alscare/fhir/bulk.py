"""Bulk export in the FHIR Bulk Data style: one NDJSON file per resource type, every resource once per line.

A person's Bundle uses ids local to it ("patient", "alsfrs-r-3"); in a clinic-wide file they must be unique, so
each person's resources get their id prefixed with the person's key (``p<id>-``) and every reference inside
follows. Questionnaires are shared by everyone and are written once, unprefixed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from typing import Any

SHARED_TYPES = frozenset({"Questionnaire"})


def _rewrite(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and "/" in value:
                kind, _, local = value.partition("/")
                out[key] = value if kind in SHARED_TYPES else f"{kind}/{prefix}-{local}"
            else:
                out[key] = _rewrite(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix) for v in node]
    return node


def globalised(bundle: dict[str, Any], prefix: str) -> Iterator[dict[str, Any]]:
    """The Bundle's resources with clinic-wide unique ids (``<prefix>-<id>``) and references to match."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] in SHARED_TYPES:
            yield copy.deepcopy(resource)
            continue
        out = _rewrite(resource, prefix)
        out["id"] = f"{prefix}-{resource['id']}"
        yield out


def ndjson_lines(resources: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(resource type, one NDJSON line) for each resource."""
    for r in resources:
        yield r["resourceType"], json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"

"""The ALSFRS-R and the symptom check-in as FHIR Questionnaires, built from the same data the forms use.

Why built rather than stored: the items, answer scores and words already live in the clinical core
(``alscare.clinical.alsfrs_r``, ``alscare.clinical.triage``) and the wording files; building the Questionnaire
from them means the export can never describe a question the form does not ask. Each has a stable canonical
URL and a version (``alscare.fhir.codes``); a change of items or wording must bump the version.
"""

from __future__ import annotations

from typing import Any, Final

from alscare.actions.checkins import BODY_REGIONS, BODY_SYMPTOMS, MEASUREMENT_FIELDS
from alscare.clinical import alsfrs_r
from alscare.clinical.triage import CHECK_IN_FIELDS
from alscare.clinical.wording import load_wording
from alscare.fhir import codes

ALSFRS_R_ID: Final = "alsfrs-r"
CHECK_IN_ID: Final = "symptom-check-in"

# Check-in field kind -> Questionnaire item type.
_ITEM_TYPES: Final = {"bool": "boolean", "number": "decimal", "text": "text", "list": "string"}
# Triage fields stored in their own columns: exported under the check-in's own item ids below instead.
_OWN_COLUMNS: Final = ("weight_kg", "questions")


def _words() -> dict[str, Any]:
    return load_wording("fhir.en")


def alsfrs_r_questionnaire() -> dict[str, Any]:
    """The ALSFRS-R: one ``choice`` item per question (5a and 5b both listed; a response answers one)."""
    words = _words()["questionnaires"]["alsfrs_r"]
    items = []
    for it in alsfrs_r.ITEMS:
        items.append(
            {
                "linkId": it.id,
                "prefix": it.id,
                "text": it.question,
                "type": "choice",
                # 5a and 5b are alternatives: each response answers exactly one of them.
                "required": it.id not in (alsfrs_r.NO_GASTROSTOMY_ITEM, alsfrs_r.GASTROSTOMY_ITEM),
                "answerOption": [
                    {"valueCoding": {"system": codes.ALSFRS_R_ANSWER, "code": str(o.score), "display": o.label}}
                    for o in it.options
                ],
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": ALSFRS_R_ID,
        "url": codes.ALSFRS_R_QUESTIONNAIRE,
        "version": codes.ALSFRS_R_VERSION,
        "name": "ALSFRS_R",
        "title": words["title"],
        "status": "active",
        "subjectType": ["Patient"],
        "description": words["description"],
        "code": [{"system": codes.LOINC, "code": "82954-9", "display": "ALSFRS-R panel"}],
        "item": items,
    }


def check_in_item_ids() -> tuple[str, ...]:
    """Every linkId of the check-in Questionnaire, in order (the body map's regions as ``body_map.<region>``)."""
    triage_ids = tuple(name for name in CHECK_IN_FIELDS if name not in _OWN_COLUMNS)
    return (*triage_ids, "weight_kg", *MEASUREMENT_FIELDS, "question", *(f"body_map.{r}" for r in BODY_REGIONS))


def check_in_questionnaire() -> dict[str, Any]:
    """The symptom check-in: a yes/no item per sign, numbers for weight and measurements, the body map."""
    words = _words()
    items: list[dict[str, Any]] = []
    for name, spec in CHECK_IN_FIELDS.items():
        if name in _OWN_COLUMNS:
            continue
        item: dict[str, Any] = {"linkId": name, "text": spec.label, "type": _ITEM_TYPES[spec.kind]}
        if spec.kind == "list":
            item["repeats"] = True
        items.append(item)
    for name in ("weight_kg", *MEASUREMENT_FIELDS):
        items.append({"linkId": name, "text": words["items"][name], "type": "decimal"})
    items.append({"linkId": "question", "text": words["items"]["question"], "type": "text"})
    items.append(
        {
            "linkId": "body_map",
            "text": words["items"]["body_map"],
            "type": "group",
            "item": [
                {
                    "linkId": f"body_map.{region}",
                    "text": words["body_regions"][region],
                    "type": "choice",
                    "repeats": True,
                    "answerOption": [
                        {"valueCoding": {"system": f"{codes.BASE}/CodeSystem/body-symptom", "code": s,
                                         "display": words["body_symptoms"][s]}}
                        for s in BODY_SYMPTOMS
                    ],
                }
                for region in BODY_REGIONS
            ],
        }
    )  # fmt: skip
    meta = words["questionnaires"]["symptom_check_in"]
    return {
        "resourceType": "Questionnaire",
        "id": CHECK_IN_ID,
        "url": codes.CHECK_IN_QUESTIONNAIRE,
        "version": codes.CHECK_IN_VERSION,
        "name": "SymptomCheckIn",
        "title": meta["title"],
        "status": "active",
        "subjectType": ["Patient"],
        "description": meta["description"],
        "item": items,
    }


def check_in_field_kind(link_id: str) -> str:
    """The Questionnaire item type of a check-in linkId (for reading answers back on import)."""
    if link_id.startswith("body_map."):
        return "choice"
    if link_id in ("weight_kg", *MEASUREMENT_FIELDS):
        return "decimal"
    if link_id == "question":
        return "text"
    return _ITEM_TYPES[CHECK_IN_FIELDS[link_id].kind]

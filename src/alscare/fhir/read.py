"""Read a Bundle made by ``alscare.fhir.export`` back into plain values, ready to store (issue 13, item 2).

Pure: no database. The Bundle is first validated with the ``fhir.resources`` R4B models, then read; every
problem is an ``InvalidInput`` naming where it is (``entry[3].resource.status``, or the resource's
``Type/id``), so a malformed file changes nothing and says what to fix. References are local ("Patient/patient",
"Practitioner/person-2") and are kept as such; the storing layer turns them into rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from alscare.actions.checkins import BODY_REGIONS, MEASUREMENT_FIELDS
from alscare.clinical import alsfrs_r
from alscare.clinical.errors import InvalidInput
from alscare.clinical.triage import CHECK_IN_FIELDS, RULES, rule_message
from alscare.fhir import codes
from alscare.fhir.export import CLIENT_ID_SYSTEM, PATIENT_ID

JSON = dict[str, Any]
_SEX = {"female": "female", "male": "male", "other": "other", "unknown": "unspecified"}
_RULES = {rule.id: rule for rule in RULES}


@dataclass
class Named:
    """Someone named in the record: ``Practitioner`` (clinic staff) or ``RelatedPerson`` (family, carers)."""

    ref: str
    kind: str
    name: str


@dataclass
class ImportedRecord:
    """A record as plain column values; ``*_ref`` fields are local references inside the Bundle."""

    patient: JSON
    clinic_ref: str | None
    organizations: dict[str, JSON] = field(default_factory=dict)
    people: list[Named] = field(default_factory=list)
    assessments: list[JSON] = field(default_factory=list)
    check_ins: list[JSON] = field(default_factory=list)  # each with "ref": its QuestionnaireResponse
    alerts: list[JSON] = field(default_factory=list)
    programmes: list[JSON] = field(default_factory=list)
    medicines: list[JSON] = field(default_factory=list)
    care_wishes: list[JSON] = field(default_factory=list)
    grants: list[JSON] = field(default_factory=list)


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(bundle: object) -> JSON:
    """The Bundle if the R4B models accept it; else ``InvalidInput`` naming the first bad element."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(bundle, dict):
        raise InvalidInput("bundle", "must be a FHIR Bundle (a JSON object)")
    try:
        Bundle.model_validate(bundle)
    except ValidationError as e:
        first = e.errors()[0]
        raise InvalidInput(_where(tuple(first["loc"])) or "bundle", str(first["msg"])) from None
    if bundle.get("type") != "collection":
        raise InvalidInput("type", "must be 'collection'")
    return bundle


def _ref(node: JSON | None) -> str | None:
    return None if node is None else str(node["reference"])


def _ext(resource: JSON, url: str) -> list[Any]:
    return [
        next(v for k, v in e.items() if k.startswith("value")) for e in resource.get("extension", []) if e["url"] == url
    ]


def _one_ext(resource: JSON, url: str) -> Any:
    found = _ext(resource, url)
    return found[0] if found else None


def _dt(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(where, "must be a date and time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(where, "must carry a time zone")
    return parsed


def _day(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidInput(where, "must be a date") from None


def _code(concept: JSON, system: str, where: str) -> str:
    for coding in concept.get("coding", []):
        if coding.get("system") == system:
            return str(coding["code"])
    raise InvalidInput(where, f"needs a code from {system}")


def read_bundle(bundle: object) -> ImportedRecord:
    """Validate and read a Bundle of one person's record."""
    data = validate(bundle)
    by_kind: dict[str, list[JSON]] = {}
    index: dict[str, JSON] = {}
    for n, entry in enumerate(data.get("entry", [])):
        resource = entry.get("resource")
        if resource is None:
            raise InvalidInput(f"entry[{n}].resource", "is missing")
        key = f"{resource['resourceType']}/{resource.get('id')}"
        if key in index:
            raise InvalidInput(f"entry[{n}].resource.id", f"{key} appears twice")
        index[key] = resource
        by_kind.setdefault(resource["resourceType"], []).append(resource)
    patients = by_kind.get("Patient", [])
    if len(patients) != 1 or patients[0].get("id") != PATIENT_ID:
        raise InvalidInput("Patient", "the Bundle must hold exactly one Patient, with id 'patient'")
    known = set(index)

    def resolve(ref: str | None, where: str) -> str | None:
        if ref is not None and ref not in known:
            raise InvalidInput(where, f"reference {ref} does not resolve inside the Bundle")
        return ref

    p = patients[0]
    patient: JSON = {"full_name": (p.get("name") or [{}])[0].get("text"), "emergency_number": None}
    if not patient["full_name"]:
        raise InvalidInput("Patient/patient.name", "needs the person's name as text")
    for contact in p.get("contact", []):
        relationship = contact.get("relationship") or [{}]
        if any(c.get("code") == "C" for c in relationship[0].get("coding", [])):
            patient["emergency_number"] = contact["telecom"][0]["value"]
    if not patient["emergency_number"]:
        raise InvalidInput("Patient/patient.contact", "needs the emergency number (an Emergency Contact telecom)")
    patient["sex"] = _SEX.get(p["gender"]) if "gender" in p else None
    patient["date_of_birth"] = _day(p["birthDate"], "Patient/patient.birthDate") if "birthDate" in p else None
    patient["phone"] = p["telecom"][0]["value"] if p.get("telecom") else None
    for key in ("onset_date", "onset_region", "diagnosis_date", "height_cm"):
        patient[key] = None
    for c in by_kind.get("Condition", []):
        where = f"Condition/{c['id']}"
        patient["onset_region"] = _one_ext(c, codes.EXT_ONSET_REGION)
        diagnosed = _one_ext(c, codes.EXT_DIAGNOSIS_DATE)
        patient["diagnosis_date"] = _day(diagnosed, where) if diagnosed else None
        patient["onset_date"] = _day(c["onsetDateTime"], where) if "onsetDateTime" in c else None
    height = index.get("Observation/height")
    if height is not None:
        patient["height_cm"] = height["valueQuantity"]["value"]
    record = ImportedRecord(
        patient=patient,
        clinic_ref=resolve(_ref(p.get("managingOrganization")), "Patient/patient.managingOrganization"),
    )
    for o in by_kind.get("Organization", []):
        telecom = {t["system"]: t["value"] for t in o.get("telecom", [])}
        record.organizations[f"Organization/{o['id']}"] = {
            "name": o.get("name") or "Imported clinic",
            "phone": telecom.get("phone", ""),
            "email": telecom.get("email"),
        }
    for kind in ("Practitioner", "RelatedPerson"):
        for person in by_kind.get(kind, []):
            name = (person.get("name") or [{}])[0].get("text") or "Imported person"
            record.people.append(Named(f"{kind}/{person['id']}", kind, name))
    record.people.sort(key=lambda n: _ordinal(n.ref)[1])  # person-1, person-2 … whatever their kind
    observations = {f"Observation/{o['id']}": o for o in by_kind.get("Observation", [])}
    for qr in by_kind.get("QuestionnaireResponse", []):
        where = f"QuestionnaireResponse/{qr['id']}"
        author = resolve(_ref(qr.get("author")), f"{where}.author")
        questionnaire = str(qr.get("questionnaire", "")).split("|")[0]
        client_id = (
            (qr.get("identifier") or {}).get("value")
            if (qr.get("identifier") or {}).get("system") == CLIENT_ID_SYSTEM
            else None
        )
        if questionnaire == codes.ALSFRS_R_QUESTIONNAIRE:
            record.assessments.append(_assessment(qr, where, author, client_id, observations))
        elif questionnaire == codes.CHECK_IN_QUESTIONNAIRE:
            record.check_ins.append(_check_in(qr, where, author, client_id))
        else:
            raise InvalidInput(f"{where}.questionnaire", "is neither the ALSFRS-R nor the symptom check-in")
    record.assessments.sort(key=lambda a: _ordinal(a["ref"]))
    record.check_ins.sort(key=lambda c: _ordinal(c["ref"]))
    for f in sorted(by_kind.get("Flag", []), key=lambda r: _ordinal(r["id"])):
        where = f"Flag/{f['id']}"
        check_in = _one_ext(f, f"{codes.BASE}/StructureDefinition/alert-check-in")
        record.alerts.append(
            {
                "ref": where,
                "source": _code(f["category"][0], codes.ALERT_CODES, f"{where}.category"),
                "severity": _code(f["code"], codes.ALERT_CODES, f"{where}.code"),
                "summary": f["code"].get("text") or "",
                "status": _one_ext(f, codes.EXT_ALERT_STATUS) or ("resolved" if f["status"] == "inactive" else "open"),
                "created_at": _dt(f["period"]["start"], f"{where}.period.start"),
                "resolved_at": _dt(f["period"]["end"], f"{where}.period.end") if "end" in f["period"] else None,
                "check_in_ref": resolve(_ref(check_in), f"{where}.extension") if check_in else None,
                "kind": _one_ext(f, f"{codes.BASE}/StructureDefinition/alert-kind"),
            }
        )
    for cp in sorted(by_kind.get("CarePlan", []), key=lambda r: _ordinal(r["id"])):
        where = f"CarePlan/{cp['id']}"
        record.programmes.append(
            {
                "assigned_by_ref": resolve(_ref(cp.get("author")), f"{where}.author"),
                "assigned_at": _dt(cp["created"], f"{where}.created"),
                "starts_on": _day(cp["period"]["start"], f"{where}.period.start"),
                "stopped_at": _dt(cp["period"]["end"], f"{where}.period.end") if "end" in cp["period"] else None,
                "note": (cp.get("note") or [{}])[0].get("text"),
                "exercises": [
                    (
                        _code(a["detail"]["code"], codes.EXERCISE_CODES, f"{where}.activity[{n}]"),
                        int(a["detail"]["scheduledTiming"]["repeat"]["frequency"]),
                    )
                    for n, a in enumerate(cp.get("activity", []))
                ],
            }
        )
    for ms in sorted(by_kind.get("MedicationStatement", []), key=lambda r: _ordinal(r["id"])):
        where = f"MedicationStatement/{ms['id']}"
        concept = ms["medicationCodeableConcept"]
        period = ms.get("effectivePeriod", {})
        record.medicines.append(
            {
                "name": concept.get("text") or "",
                "catalogue_id": next((c["code"] for c in concept.get("coding", [])
                                      if c.get("system") == codes.MEDICINE_CATALOGUE), None),
                "dose": (ms.get("dosage") or [{}])[0].get("text"),
                "started_on": _day(period["start"], f"{where}.effectivePeriod.start") if "start" in period else None,
                "stopped_on": _day(period["end"], f"{where}.effectivePeriod.end") if "end" in period else None,
                "prescriber": _one_ext(ms, codes.EXT_PRESCRIBER),
                "entered_by_ref": resolve(_ref(ms.get("informationSource")), f"{where}.informationSource"),
                "entered_at": _dt(ms["dateAsserted"], f"{where}.dateAsserted"),
            }
        )  # fmt: skip
    for number, doc in enumerate(sorted(by_kind.get("DocumentReference", []), key=lambda r: _ordinal(r["id"])), 1):
        where = f"DocumentReference/{doc['id']}"
        try:
            answers = json.loads(base64.b64decode(doc["content"][0]["attachment"]["data"], validate=True))
        except (KeyError, binascii.Error, ValueError):
            raise InvalidInput(f"{where}.content", "must hold the care wishes as base64-encoded JSON") from None
        identifier = (doc.get("identifier") or [{}])[0]
        record.care_wishes.append(
            {
                "number": number,
                "answers": answers,
                "author_ref": resolve(_ref((doc.get("author") or [None])[0]), f"{where}.author"),
                "author_capacity": _one_ext(doc, codes.EXT_AUTHOR_CAPACITY) or "self",
                "saved_at": _dt(doc["date"], f"{where}.date"),
                "client_id": identifier.get("value") if identifier.get("system") == CLIENT_ID_SYSTEM else None,
            }
        )
    for consent in sorted(by_kind.get("Consent", []), key=lambda r: _ordinal(r["id"])):
        where = f"Consent/{consent['id']}"
        provision = consent.get("provision", {})
        actors = provision.get("actor", [])
        record.grants.append(
            {
                "scope": _code(provision["code"][0], codes.CONSENT_SCOPES, f"{where}.provision.code"),
                "grantee_ref": resolve(_ref(actors[0]["reference"]) if actors else None, f"{where}.provision.actor"),
                "granted_by_ref": resolve(_ref((consent.get("performer") or [None])[0]), f"{where}.performer"),
                "granted_at": _dt(consent["dateTime"], f"{where}.dateTime"),
                "revoked_at": _dt(provision["period"]["end"], f"{where}.provision.period.end")
                if "end" in provision.get("period", {})
                else None,
            }
        )
    return record


def _ordinal(ref: str) -> tuple[str, int]:
    """Sort key of a local id such as ``person-12`` or ``QuestionnaireResponse/check-in-3``: by its number."""
    stem, _, number = ref.rpartition("-")
    return (stem, int(number)) if number.isdigit() else (ref, 0)


def _assessment(qr: JSON, where: str, author: str | None, client_id: str | None, obs: dict[str, JSON]) -> JSON:
    answers: dict[str, int] = {}
    for item in qr.get("item", []):
        link_id = item["linkId"]
        if link_id not in alsfrs_r.ITEM_DOMAINS:
            raise InvalidInput(f"{where}.item.{link_id}", "is not an ALSFRS-R item")
        try:
            answers[link_id] = int(item["answer"][0]["valueCoding"]["code"])
        except (KeyError, IndexError, ValueError):
            raise InvalidInput(f"{where}.item.{link_id}", "needs one coded answer, 0 to 4") from None
    try:
        scored = alsfrs_r.Assessment.from_answers(answers)
    except InvalidInput as e:  # the clinical core names the item
        raise InvalidInput(f"{where}.{e.field}", e.message) from None
    total = obs.get(f"Observation/{qr['id']}-total")
    if total is None or "effectiveDateTime" not in total:
        raise InvalidInput(f"{where}", "needs its total-score Observation with the date it was taken")
    mode = _one_ext(qr, codes.EXT_ADMINISTRATION_MODE)
    if mode not in {m.value for m in alsfrs_r.AdministrationMode}:
        raise InvalidInput(f"{where}.extension", "needs the administration mode")
    return {
        "ref": where,
        "answers": answers,
        "total": scored.total,
        "assessed_on": _day(total["effectiveDateTime"], f"Observation/{qr['id']}-total.effectiveDateTime"),
        "administration_mode": mode,
        "recorded_at": _dt(qr["authored"], f"{where}.authored"),
        "recorded_by_ref": author,
        "client_id": client_id,
    }


def _check_in(qr: JSON, where: str, author: str | None, client_id: str | None) -> JSON:
    if not client_id:
        raise InvalidInput(f"{where}.identifier", "needs the check-in's client id")
    answers: dict[str, Any] = {}
    columns: dict[str, Any] = {k: None for k in ("weight_kg", *MEASUREMENT_FIELDS)}
    question: str | None = None
    body_map: dict[str, list[str]] = {}
    for item in qr.get("item", []):
        link_id = item["linkId"]
        if link_id == "body_map":
            for region in item.get("item", []):
                name = region["linkId"].removeprefix("body_map.")
                if name not in BODY_REGIONS:
                    raise InvalidInput(f"{where}.item.{region['linkId']}", "is not a body region")
                body_map[name] = [a["valueCoding"]["code"] for a in region.get("answer", [])]
            continue
        values = [next(v for k, v in a.items() if k.startswith("value")) for a in item.get("answer", [])]
        if link_id in columns:
            columns[link_id] = values[0]
        elif link_id == "question":
            question = str(values[0])
        elif link_id in CHECK_IN_FIELDS:
            answers[link_id] = values if CHECK_IN_FIELDS[link_id].kind == "list" else values[0]
        else:
            raise InvalidInput(f"{where}.item.{link_id}", "is not a check-in item")
    reasons = []
    for rule_id in _ext(qr, f"{codes.EXT_TRIAGE_TIER}-reason"):
        rule = _RULES.get(rule_id)
        if rule is None:
            raise InvalidInput(f"{where}.extension", f"unknown triage rule {rule_id}")
        reasons.append({"rule": rule.id, "message": rule_message(rule.id), "source": rule.source})
    return {
        "ref": where,
        "client_id": client_id,
        "submitted_at": _dt(qr["authored"], f"{where}.authored"),
        "submitted_by_ref": author,
        "reporter": _one_ext(qr, codes.EXT_ADMINISTRATION_MODE) or "self",
        "tier": _one_ext(qr, codes.EXT_TRIAGE_TIER) or "routine",
        "reasons": reasons,
        "answers": answers,
        "body_map": {r: body_map[r] for r in BODY_REGIONS if r in body_map},
        "question": question,
        **columns,
    }

"""A person's record as one FHIR R4 Bundle (type ``collection``): pure translation, no database, no clock.

Resource ids are local to the Bundle and stable for the same record ("patient", "alsfrs-r-3", "medicine-2"
…, numbered oldest first), references inside the Bundle are relative (``Patient/patient``) and every entry's
``fullUrl`` is ``<base>/<type>/<id>`` with one base per person, so each reference resolves to exactly one entry
and an export, import into an empty database and export again gives the same Bundle
(``alscare.fhir.read``). Which codes are standard and which are alscare's own: ``alscare.fhir.codes`` and
docs/sources.md ("FHIR export").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from alscare.clinical import alsfrs_r
from alscare.fhir import codes
from alscare.fhir.questionnaires import (
    alsfrs_r_questionnaire,
    check_in_item_ids,
    check_in_questionnaire,
)
from alscare.fhir.record import Part, PersonRecord
from alscare.storage.models import Alert, AlsfrsAssessment, CheckIn, ConsentGrant
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.medicines import MedicineEntry
from alscare.storage.models.rehabilitation import RehabProgramme

JSON = dict[str, Any]
PATIENT_ID = "patient"
CONDITION_ID = "als"
_GENDER = {"female": "female", "male": "male", "other": "other", "unspecified": "unknown"}
_MEASURE_SLUGS = {"weight_kg": "weight", "fvc_percent": "fvc", "snip_cmh2o": "snip", "spo2_percent": "spo2"}
_ITEM_WORDS = {it.id: it for it in alsfrs_r.ITEMS}
CLIENT_ID_SYSTEM = f"{codes.BASE}/sid/client-id"


def ref(resource_type: str, resource_id: str) -> JSON:
    return {"reference": f"{resource_type}/{resource_id}"}


def _day(value: date) -> str:
    return value.isoformat()


def _at(value: datetime) -> str:
    return value.isoformat()


def _coding(system: str, code: str, display: str | None = None) -> JSON:
    out: JSON = {"system": system, "code": code}
    if display is not None:
        out["display"] = display
    return out


def _concept(*codings: tuple[str, str, str], text: str | None = None) -> JSON:
    out: JSON = {"coding": [_coding(*c) for c in codings]}
    if text is not None:
        out["text"] = text
    return out


class _Refs:
    """Local ids for the people and clinics named in a record, numbered in a stable order (by database id)."""

    def __init__(self, record: PersonRecord) -> None:
        self.record = record
        own = record.patient.user_id
        others = sorted(uid for uid in record.people if uid != own)
        self.people = {uid: f"person-{n}" for n, uid in enumerate(others, start=1)}
        self.clinics = {cid: f"organization-{n}" for n, cid in enumerate(sorted(record.clinics), start=1)}

    def person(self, user_id: int | None) -> JSON | None:
        if user_id is None:
            return None
        if user_id == self.record.patient.user_id:
            return ref("Patient", PATIENT_ID)
        user = self.record.people.get(user_id)
        if user is None:
            return None
        kind = "Practitioner" if user.is_clinic_staff else "RelatedPerson"
        return ref(kind, self.people[user_id])

    def clinic(self, clinic_id: int | None) -> JSON | None:
        return (
            None if clinic_id is None or clinic_id not in self.clinics else ref("Organization", self.clinics[clinic_id])
        )


def build_bundle(record: PersonRecord, *, base_url: str, exported_at: datetime, bundle_id: str) -> JSON:
    """The Bundle of ``record`` (only the parts it holds). ``base_url`` is this person's base for fullUrls."""
    refs = _Refs(record)
    resources: list[JSON] = [_patient(record, refs), *_organizations(record), *_people(record, refs)]
    parts = record.parts
    if Part.PROFILE_DETAILS in parts:
        resources.extend(_profile_details(record))
    if Part.CHECKINS in parts:
        resources.append(alsfrs_r_questionnaire())
        resources.append(check_in_questionnaire())
        for n, assessment in enumerate(record.assessments, start=1):
            resources.extend(_assessment(assessment, n, refs))
        check_in_ids: dict[int, str] = {}
        for n, check_in in enumerate(record.check_ins, start=1):
            check_in_ids[check_in.id] = f"check-in-{n}"
            resources.extend(_check_in(check_in, n, refs))
        resources.extend(_alert(a, n, check_in_ids) for n, a in enumerate(record.alerts, start=1))
        resources.extend(_programme(p, n, refs) for n, p in enumerate(record.programmes, start=1))
    if Part.MEDICINES in parts:
        resources.extend(_medicine(m, n, refs) for n, m in enumerate(record.medicines, start=1))
    if Part.CARE_WISHES in parts:
        resources.extend(_care_wishes(v, refs, last=i == len(record.care_wishes) - 1)
                         for i, v in enumerate(record.care_wishes))  # fmt: skip
    if Part.SHARING in parts:
        resources.extend(_consent(g, n, refs) for n, g in enumerate(record.grants, start=1))
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "timestamp": _at(exported_at),
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


# --- The person, their clinic, the people named in the record ----------------------------------------------


def _patient(record: PersonRecord, refs: _Refs) -> JSON:
    p = record.patient
    out: JSON = {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "name": [{"text": p.full_name}],
        # The emergency number is on every view of the record (the header), so it travels with the name.
        "contact": [
            {
                "relationship": [_concept((codes.CONTACT_RELATIONSHIP, "C", "Emergency Contact"))],
                "telecom": [{"system": "phone", "value": p.emergency_number}],
            }
        ],
    }
    if Part.PROFILE_DETAILS in record.parts:
        if p.sex is not None and p.sex in _GENDER:
            out["gender"] = _GENDER[p.sex]
        if p.date_of_birth is not None:
            out["birthDate"] = _day(p.date_of_birth)
        if p.phone:
            out["telecom"] = [{"system": "phone", "value": p.phone}]
    organization = refs.clinic(p.clinic_id)
    if organization is not None:
        out["managingOrganization"] = organization
    return out


def _organizations(record: PersonRecord) -> Iterable[JSON]:
    refs = _Refs(record)
    for clinic_id in sorted(record.clinics):
        clinic = record.clinics[clinic_id]
        out: JSON = {"resourceType": "Organization", "id": refs.clinics[clinic_id], "name": clinic.name}
        telecom = [{"system": "phone", "value": clinic.phone}]
        if clinic.email:
            telecom.append({"system": "email", "value": clinic.email})
        out["telecom"] = telecom
        yield out


def _people(record: PersonRecord, refs: _Refs) -> Iterable[JSON]:
    for user_id, local in refs.people.items():
        user = record.people[user_id]
        if user.is_clinic_staff:
            yield {"resourceType": "Practitioner", "id": local, "name": [{"text": user.display_name}]}
        else:
            yield {
                "resourceType": "RelatedPerson",
                "id": local,
                "patient": ref("Patient", PATIENT_ID),
                "name": [{"text": user.display_name}],
            }


def _profile_details(record: PersonRecord) -> Iterable[JSON]:
    p = record.patient
    condition: JSON = {
        "resourceType": "Condition",
        "id": CONDITION_ID,
        "code": _concept((codes.CONDITION_CODES, "als", "Amyotrophic lateral sclerosis"),
                         text="Amyotrophic lateral sclerosis (ALS / MND)"),
        "subject": ref("Patient", PATIENT_ID),
    }  # fmt: skip
    extension = []
    if p.onset_region is not None:
        extension.append({"url": codes.EXT_ONSET_REGION, "valueCode": p.onset_region})
    if p.diagnosis_date is not None:
        extension.append({"url": codes.EXT_DIAGNOSIS_DATE, "valueDate": _day(p.diagnosis_date)})
    if extension:
        condition["extension"] = extension
    if p.onset_date is not None:
        condition["onsetDateTime"] = _day(p.onset_date)
    yield condition
    if p.height_cm is not None:
        yield {
            "resourceType": "Observation",
            "id": "height",
            "status": "final",
            "category": [_concept((codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs"))],
            "code": _concept((codes.OBSERVATION_CODES, "body-height", "Body height")),
            "subject": ref("Patient", PATIENT_ID),
            "valueQuantity": {"value": p.height_cm, "unit": "cm", "system": codes.UCUM, "code": "cm"},
        }


# --- ALSFRS-R and check-ins ---------------------------------------------------------------------------------


def _mode(code: str) -> JSON:
    return _concept((codes.ADMINISTRATION_MODE, code, code.replace("_", " ")))


def _assessment(a: AlsfrsAssessment, n: int, refs: _Refs) -> Iterable[JSON]:
    qr_id = f"alsfrs-r-{n}"
    items = []
    for item_id in alsfrs_r.ITEM_IDS:
        if item_id not in a.answers:
            continue
        score = int(a.answers[item_id])
        words = _ITEM_WORDS[item_id]
        label = next(o.label for o in words.options if o.score == score)
        items.append(
            {
                "linkId": item_id,
                "text": words.question,
                "answer": [{"valueCoding": _coding(codes.ALSFRS_R_ANSWER, str(score), label)}],
            }
        )
    response: JSON = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "extension": [{"url": codes.EXT_ADMINISTRATION_MODE, "valueCode": a.administration_mode}],
        "questionnaire": f"{codes.ALSFRS_R_QUESTIONNAIRE}|{codes.ALSFRS_R_VERSION}",
        "status": "completed",
        "subject": ref("Patient", PATIENT_ID),
        "authored": _at(a.recorded_at),
        "item": items,
    }
    if a.client_id:
        response["identifier"] = {"system": CLIENT_ID_SYSTEM, "value": a.client_id}
    author = refs.person(a.recorded_by_id)
    if author is not None:
        response["author"] = author
    yield response
    domains: dict[str, int] = {}
    for item_id, score in a.answers.items():
        domain = alsfrs_r.ITEM_DOMAINS[item_id].value
        domains[domain] = domains.get(domain, 0) + int(score)
    scores: list[tuple[str, tuple[tuple[str, str, str], ...], int]] = [("total", codes.ALSFRS_R_TOTAL_CODINGS, a.total)]
    for domain, (code, display) in codes.DOMAIN_CODES.items():
        scores.append((domain.replace("_", "-"), ((codes.OBSERVATION_CODES, code, display),), domains.get(domain, 0)))
    for slug, codings, value in scores:
        observation: JSON = {
            "resourceType": "Observation",
            "id": f"{qr_id}-{slug}",
            "status": "final",
            "category": [_concept((codes.OBSERVATION_CATEGORY, "survey", "Survey"))],
            "code": _concept(*codings),
            "subject": ref("Patient", PATIENT_ID),
            "effectiveDateTime": _day(a.assessed_on),
            "valueInteger": value,
            "method": _mode(a.administration_mode),
            "derivedFrom": [ref("QuestionnaireResponse", qr_id)],
        }
        if author is not None:
            observation["performer"] = [author]
        yield observation


def _answer_values(kind_value: object) -> list[JSON]:
    if isinstance(kind_value, bool):
        return [{"valueBoolean": kind_value}]
    if isinstance(kind_value, int | float):
        return [{"valueDecimal": kind_value}]
    if isinstance(kind_value, list):
        return [{"valueString": str(v)} for v in kind_value]
    return [{"valueString": str(kind_value)}]


def _check_in(c: CheckIn, n: int, refs: _Refs) -> Iterable[JSON]:
    qr_id = f"check-in-{n}"
    values: dict[str, object] = dict(c.answers)
    values.update({k: getattr(c, k) for k in _MEASURE_SLUGS})
    values["question"] = c.question
    items: list[JSON] = []
    body_items: list[JSON] = []
    for link_id in check_in_item_ids():
        if link_id.startswith("body_map."):
            symptoms = c.body_map.get(link_id.removeprefix("body_map."), [])
            if symptoms:
                body_items.append(
                    {
                        "linkId": link_id,
                        "answer": [
                            {"valueCoding": _coding(f"{codes.BASE}/CodeSystem/body-symptom", s)} for s in symptoms
                        ],
                    }
                )
            continue
        value = values.get(link_id)
        if value is None or value == []:
            continue
        items.append({"linkId": link_id, "answer": _answer_values(value)})
    if body_items:
        items.append({"linkId": "body_map", "item": body_items})
    extension: list[JSON] = [
        {"url": codes.EXT_ADMINISTRATION_MODE, "valueCode": c.reporter},
        {"url": codes.EXT_TRIAGE_TIER, "valueCode": c.tier},
    ]
    extension.extend({"url": f"{codes.EXT_TRIAGE_TIER}-reason", "valueCode": r["rule"]} for r in c.reasons)
    response: JSON = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "extension": extension,
        "identifier": {"system": CLIENT_ID_SYSTEM, "value": c.client_id},
        "questionnaire": f"{codes.CHECK_IN_QUESTIONNAIRE}|{codes.CHECK_IN_VERSION}",
        "status": "completed",
        "subject": ref("Patient", PATIENT_ID),
        "authored": _at(c.submitted_at),
        "source": ref("Patient", PATIENT_ID),
    }
    if items:
        response["item"] = items
    author = refs.person(c.submitted_by_id)
    if author is not None:
        response["author"] = author
    yield response
    for measure in codes.MEASURES:
        value = getattr(c, measure.column)
        if value is None:
            continue
        observation: JSON = {
            "resourceType": "Observation",
            "id": f"{qr_id}-{_MEASURE_SLUGS[measure.column]}",
            "status": "final",
            "category": [_concept((codes.OBSERVATION_CATEGORY, measure.category, measure.category))],
            "code": _concept(*measure.codings, text=measure.display),
            "subject": ref("Patient", PATIENT_ID),
            "effectiveDateTime": _at(c.submitted_at),
            "valueQuantity": {"value": value, "unit": measure.unit, "system": codes.UCUM, "code": measure.unit_code},
            "method": _mode(c.reporter),
            "derivedFrom": [ref("QuestionnaireResponse", qr_id)],
        }
        if author is not None:
            observation["performer"] = [author]
        yield observation


def _alert(a: Alert, n: int, check_in_ids: dict[int, str]) -> JSON:
    extension: list[JSON] = [{"url": codes.EXT_ALERT_STATUS, "valueCode": a.status}]
    check_in_part, _, kind = a.source_id.partition(":")
    if check_in_part.isdigit() and int(check_in_part) in check_in_ids:
        extension.append(
            {"url": f"{codes.BASE}/StructureDefinition/alert-check-in",
             "valueReference": ref("QuestionnaireResponse", check_in_ids[int(check_in_part)])}
        )  # fmt: skip
    if kind:
        extension.append({"url": f"{codes.BASE}/StructureDefinition/alert-kind", "valueCode": kind})
    period: JSON = {"start": _at(a.created_at)}
    if a.resolved_at is not None:
        period["end"] = _at(a.resolved_at)
    return {
        "resourceType": "Flag",
        "id": f"alert-{n}",
        "extension": extension,
        "status": "inactive" if a.status == "resolved" else "active",
        "category": [_concept((codes.ALERT_CODES, a.source, a.source.replace("_", " ")))],
        "code": _concept((codes.ALERT_CODES, a.severity, a.severity.replace("_", " ")), text=a.summary),
        "subject": ref("Patient", PATIENT_ID),
        "period": period,
    }


def _programme(p: RehabProgramme, n: int, refs: _Refs) -> JSON:
    from alscare.clinical.rehabilitation import exercise

    active = p.stopped_at is None
    period: JSON = {"start": _day(p.starts_on)}
    if p.stopped_at is not None:
        period["end"] = _at(p.stopped_at)
    out: JSON = {
        "resourceType": "CarePlan",
        "id": f"programme-{n}",
        "status": "active" if active else "completed",
        "intent": "plan",
        "category": [_concept((f"{codes.BASE}/CodeSystem/care-plan", "rehabilitation", "Rehabilitation programme"))],
        "subject": ref("Patient", PATIENT_ID),
        "period": period,
        "created": _at(p.assigned_at),
        "activity": [
            {
                "detail": {
                    "code": _concept((codes.EXERCISE_CODES, e.exercise_id, exercise(e.exercise_id).title)),
                    "status": "scheduled" if active else "completed",
                    "scheduledTiming": {"repeat": {"frequency": e.times_per_week, "period": 1, "periodUnit": "wk"}},
                }
            }
            for e in p.exercises
        ],
    }
    author = refs.person(p.assigned_by_id)
    if author is not None:
        out["author"] = author
    if p.note:
        out["note"] = [{"text": p.note}]
    return out


def _medicine(m: MedicineEntry, n: int, refs: _Refs) -> JSON:
    concept: JSON = {"text": m.name}
    if m.catalogue_id:
        concept["coding"] = [_coding(codes.MEDICINE_CATALOGUE, m.catalogue_id, m.name)]
    out: JSON = {
        "resourceType": "MedicationStatement",
        "id": f"medicine-{n}",
        "status": "stopped" if m.stopped_on is not None else "active",
        "medicationCodeableConcept": concept,
        "subject": ref("Patient", PATIENT_ID),
        "dateAsserted": _at(m.entered_at),
    }
    period: JSON = {}
    if m.started_on is not None:
        period["start"] = _day(m.started_on)
    if m.stopped_on is not None:
        period["end"] = _day(m.stopped_on)
    if period:
        out["effectivePeriod"] = period
    if m.dose:
        out["dosage"] = [{"text": m.dose}]
    if m.prescriber:
        out["extension"] = [{"url": codes.EXT_PRESCRIBER, "valueString": m.prescriber}]
    source = refs.person(m.entered_by_id)
    if source is not None:
        out["informationSource"] = source
    return out


def _care_wishes(v: CareWishesVersion, refs: _Refs, *, last: bool) -> JSON:
    data = json.dumps(v.answers, sort_keys=True, ensure_ascii=False).encode("utf-8")
    out: JSON = {
        "resourceType": "DocumentReference",
        "id": f"care-wishes-{v.number}",
        "extension": [{"url": codes.EXT_AUTHOR_CAPACITY, "valueCode": v.author_capacity}],
        "status": "current" if last else "superseded",
        "docStatus": "final",
        "type": _concept((codes.DOCUMENT_TYPES, "care-wishes", "Care wishes")),
        "subject": ref("Patient", PATIENT_ID),
        "date": _at(v.saved_at),
        "content": [
            {
                "attachment": {
                    "contentType": "application/json",
                    "data": base64.b64encode(data).decode("ascii"),
                    "title": f"Care wishes, version {v.number}",
                    "creation": _at(v.saved_at),
                }
            }
        ],
    }
    if v.client_id:
        out["identifier"] = [{"system": CLIENT_ID_SYSTEM, "value": v.client_id}]
    author = refs.person(v.author_user_id)
    if author is not None:
        out["author"] = [author]
    if v.number > 1:
        out["relatesTo"] = [{"code": "replaces", "target": ref("DocumentReference", f"care-wishes-{v.number - 1}")}]
    return out


def _consent(g: ConsentGrant, n: int, refs: _Refs) -> JSON:
    grantee = refs.clinic(g.grantee_clinic_id) or refs.person(g.grantee_user_id)
    period: JSON = {"start": _at(g.granted_at)}
    if g.revoked_at is not None:
        period["end"] = _at(g.revoked_at)
    provision: JSON = {
        "type": "permit",
        "period": period,
        "code": [_concept((codes.CONSENT_SCOPES, g.scope, g.scope.replace("_", " ")))],
    }
    if grantee is not None:
        provision["actor"] = [{"role": _concept((codes.GRANTEE_ROLE, "grantee", "Grantee")), "reference": grantee}]
    out: JSON = {
        "resourceType": "Consent",
        "id": f"consent-{n}",
        "status": "active" if g.revoked_at is None else "inactive",
        "scope": _concept((codes.CONSENT_SCOPE, "patient-privacy", "Privacy Consent")),
        "category": [_concept((codes.CONSENT_SCOPES, "sharing-grant", "Sharing grant"))],
        "patient": ref("Patient", PATIENT_ID),
        "dateTime": _at(g.granted_at),
        "policyRule": _concept((codes.CONSENT_POLICY, "OPTIN", "opt-in")),
        "provision": provision,
    }
    granted_by = refs.person(g.granted_by_id)
    if granted_by is not None:
        out["performer"] = [granted_by]
    return out


__all__ = ["CONDITION_ID", "PATIENT_ID", "build_bundle", "ref"]

"""FHIR R4 export (issue 13, item 1): every demo person's Bundle validates with the fhir.resources R4B models,
holds one resource per record row, and every reference resolves inside the Bundle; the download from the
record page follows consent scopes and is audited; the CLI prints the Bundle."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner
from world import (
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    OWN,
    PROXY,
    World,
    build_world,
    freeze_clock,
    signed_in_client,
)

from alscare.actions.fhir_export import OPERATOR_DETAIL, RESOURCE, export_as_operator, export_for_user
from alscare.actions.records import RecordRefused
from alscare.demo import demo_people, seed_demo
from alscare.fhir import codes
from alscare.storage.models import Alert, AlsfrsAssessment, AuditEvent, CheckIn, ConsentGrant, Patient, User
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.medicines import MedicineEntry
from alscare.storage.models.rehabilitation import RehabProgramme

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BASE = "https://clinic.example"


def references(node: Any) -> list[str]:
    """Every ``reference`` string anywhere in a resource."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(references(value))
    return found


def check_bundle(bundle: dict[str, Any]) -> Counter[str]:
    """Validate with the R4B models; check fullUrls are unique and every reference resolves; count types."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    entries = bundle["entry"]
    full_urls = [e["fullUrl"] for e in entries]
    assert len(set(full_urls)) == len(full_urls)
    local = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries}
    for e in entries:
        # A relative reference resolves against the entry's base: fullUrl minus "<type>/<id>".
        base = e["fullUrl"].rsplit("/", 2)[0]
        assert e["fullUrl"] == f"{base}/{e['resource']['resourceType']}/{e['resource']['id']}"
        for r in references(e["resource"]):
            assert r in local, f"{r} in {e['fullUrl']} does not resolve"
    canonicals = {
        f"{e['resource']['url']}|{e['resource']['version']}"
        for e in entries
        if e["resource"]["resourceType"] == "Questionnaire"
    }
    for e in entries:
        if e["resource"]["resourceType"] == "QuestionnaireResponse":
            assert e["resource"]["questionnaire"] in canonicals
    return Counter(e["resource"]["resourceType"] for e in entries)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def count_of(db: Session, model: Any, patient_id: int) -> int:
    return int(db.execute(select(func.count()).select_from(model).where(model.patient_id == patient_id)).scalar_one())


@pytest.mark.slow
def test_every_demo_persons_bundle_validates_and_holds_their_whole_record(db: Session) -> None:
    seed_demo(db, now=NOW, default_emergency_number="999")
    db.commit()
    people = demo_people(db)
    patient_ids = list(db.execute(select(Patient.id).order_by(Patient.id)).scalars())
    assert set(people.values()) <= set(patient_ids) and len(people) == 5
    seen_measures: set[str] = set()
    for pid in patient_ids:
        bundle = export_as_operator(db, patient_id=pid, now=NOW, base_url=BASE)
        kinds = check_bundle(bundle)
        assessments = count_of(db, AlsfrsAssessment, pid)
        check_ins = list(db.execute(select(CheckIn).where(CheckIn.patient_id == pid)).scalars())
        measured = sum(
            1 for c in check_ins for v in (c.weight_kg, c.fvc_percent, c.snip_cmh2o, c.spo2_percent) if v is not None
        )
        height = 1 if db.get(Patient, pid).height_cm is not None else 0  # type: ignore[union-attr]
        assert kinds["Patient"] == 1 and kinds["Questionnaire"] == 2 and kinds["Condition"] == 1
        assert kinds["QuestionnaireResponse"] == assessments + len(check_ins)
        # Total and four domain subscores per assessment, one per measurement, and the height.
        assert kinds["Observation"] == 5 * assessments + measured + height
        assert kinds["MedicationStatement"] == count_of(db, MedicineEntry, pid)
        assert kinds["Consent"] == count_of(db, ConsentGrant, pid)
        assert kinds["DocumentReference"] == count_of(db, CareWishesVersion, pid)
        assert kinds["Flag"] == count_of(db, Alert, pid)
        assert kinds["CarePlan"] == count_of(db, RehabProgramme, pid)
        for qr in resources(bundle, "QuestionnaireResponse"):
            if qr["questionnaire"].startswith(codes.ALSFRS_R_QUESTIONNAIRE):
                # All twelve items answered, one linkId each (5a or 5b for item 5).
                link_ids = [i["linkId"] for i in qr["item"]]
                assert len(link_ids) == 12 and len(set(link_ids)) == 12
                assert all(len(i["answer"]) == 1 for i in qr["item"])
        for obs in resources(bundle, "Observation"):
            assert "effectiveDateTime" in obs or obs["id"] == "height"
            for coding in obs["code"]["coding"]:
                seen_measures.add(f"{coding['system']}|{coding['code']}")
            if obs["id"] != "height":
                assert obs["method"]["coding"][0]["system"] == codes.ADMINISTRATION_MODE
    # The demo has weights and FVCs: weight is coded with LOINC 29463-7, the ALSFRS-R total with 82953-1.
    assert f"{codes.LOINC}|29463-7" in seen_measures
    assert f"{codes.LOINC}|82953-1" in seen_measures
    assert f"{codes.OBSERVATION_CODES}|fvc-percent-predicted" in seen_measures
    exports = list(
        db.execute(select(AuditEvent).where(AuditEvent.resource == RESOURCE).order_by(AuditEvent.id)).scalars()
    )
    assert [(e.patient_id, e.actor_user_id, e.detail) for e in exports] == [
        (pid, None, OPERATOR_DETAIL) for pid in patient_ids
    ]


def test_alsfrs_response_answers_match_the_stored_scores(db: Session) -> None:
    seed_demo(db, now=NOW, default_emergency_number="999")
    pid = demo_people(db)["amira@demo.alscare.example"]
    bundle = export_as_operator(db, patient_id=pid, now=NOW, base_url=BASE)
    stored = list(
        db.execute(
            select(AlsfrsAssessment)
            .where(AlsfrsAssessment.patient_id == pid)
            .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.recorded_at, AlsfrsAssessment.id)
        ).scalars()
    )
    responses = [
        r
        for r in resources(bundle, "QuestionnaireResponse")
        if r["questionnaire"].startswith(codes.ALSFRS_R_QUESTIONNAIRE)
    ]
    assert len(responses) == len(stored) > 5
    observations = {o["id"]: o for o in resources(bundle, "Observation")}
    for a, qr in zip(stored, responses, strict=True):
        assert {i["linkId"]: int(i["answer"][0]["valueCoding"]["code"]) for i in qr["item"]} == a.answers
        total = observations[f"{qr['id']}-total"]
        assert total["valueInteger"] == a.total
        assert total["effectiveDateTime"] == a.assessed_on.isoformat()
        assert total["method"]["coding"][0]["code"] == a.administration_mode
        domains = sum(
            observations[f"{qr['id']}-{d}"]["valueInteger"]
            for d in ("bulbar", "fine-motor", "gross-motor", "respiratory")
        )
        assert domains == a.total
    # Amira has a gastrostomy part-way through: some responses answer 5b instead of 5a.
    assert any(any(i["linkId"] == "5b" for i in qr["item"]) for qr in responses)


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def _kinds(bundle: dict[str, Any]) -> set[str]:
    return {e["resource"]["resourceType"] for e in bundle["entry"]}


def test_download_follows_consent_scopes(app: FastAPI, world: World, db: Session) -> None:
    path = f"/patients/{world.patient_p_id}/record.fhir.json"
    bundles: dict[str, dict[str, Any]] = {}
    for actor in (OWN, PROXY, CAREGIVER_GRANTED, CLINICIAN_GRANTED_CLINIC):
        r = signed_in_client(app, world.users[actor]).get(path)
        assert r.status_code == 200, (actor, r.text)
        assert r.headers["content-type"].startswith("application/fhir+json")
        assert "attachment" in r.headers["content-disposition"]
        bundles[actor] = r.json()
        check_bundle(bundles[actor])
    full = {"Patient", "Questionnaire", "QuestionnaireResponse", "Observation", "MedicationStatement",
            "DocumentReference", "Consent", "CarePlan", "Condition"}  # fmt: skip
    assert full <= _kinds(bundles[OWN]) and full <= _kinds(bundles[PROXY])
    # The clinic holds the full record, which is not the sharing settings: no Consent.
    clinic = _kinds(bundles[CLINICIAN_GRANTED_CLINIC])
    assert full - {"Consent"} <= clinic and "Consent" not in clinic
    # G sees check-ins only: no medicines, care wishes, sharing, or profile details.
    caregiver = bundles[CAREGIVER_GRANTED]
    assert {"QuestionnaireResponse", "Observation"} <= _kinds(caregiver)
    assert not _kinds(caregiver) & {"MedicationStatement", "DocumentReference", "Consent", "Condition"}
    (patient,) = resources(caregiver, "Patient")
    assert "birthDate" not in patient and "gender" not in patient
    assert "birthDate" in resources(bundles[OWN], "Patient")[0]
    for actor in (CAREGIVER_NOT_GRANTED, CLINICIAN_OTHER_CLINIC):
        r = signed_in_client(app, world.users[actor]).get(path)
        assert r.status_code == 404
    events = list(
        db.execute(
            select(AuditEvent.actor_user_id, AuditEvent.action)
            .where(AuditEvent.resource == RESOURCE, AuditEvent.patient_id == world.patient_p_id)
            .order_by(AuditEvent.id)
        ).all()
    )
    users = world.users
    assert events == [
        (users[OWN], "read"),
        (users[PROXY], "read"),
        (users[CAREGIVER_GRANTED], "read"),
        (users[CLINICIAN_GRANTED_CLINIC], "read"),
        (users[CAREGIVER_NOT_GRANTED], "denied"),
        (users[CLINICIAN_OTHER_CLINIC], "denied"),
    ]


def test_export_for_a_stranger_is_refused_like_a_missing_record(world: World, db: Session) -> None:
    stranger = db.get(User, world.users[CAREGIVER_NOT_GRANTED])
    assert stranger is not None
    for pid in (world.patient_p_id, 10_000):
        with pytest.raises(RecordRefused):
            export_for_user(db, user=stranger, patient_id=pid, now=NOW, base_url=BASE)


def test_record_page_links_to_the_download(app: FastAPI, world: World) -> None:
    r = signed_in_client(app, world.users[OWN]).get(f"/patients/{world.patient_p_id}")
    assert f'href="/patients/{world.patient_p_id}/record.fhir.json"' in r.text


def test_cli_seeds_the_demo_and_exports_a_bundle(database_url: str, tmp_path: Any) -> None:
    env = {"ALSCARE_DATABASE_URL": database_url, "ALSCARE_DATA_DIR": str(tmp_path), "ALSCARE_SECRET_KEY": "x" * 48}
    from alscare.cli import app as cli

    seeded = CliRunner().invoke(cli, ["demo", "seed"], env=env)
    assert seeded.exit_code == 0, seeded.stderr
    logins = json.loads(seeded.stdout)["logins"]
    people = [login for login in logins if login["role"] == "patient"]
    assert len(people) == 5 and all(isinstance(p["patient_id"], int) for p in people)
    assert all(login["patient_id"] is None for login in logins if login["role"] != "patient")
    mei = next(p for p in people if p["name"] == "Mei Chen")
    exported = CliRunner().invoke(cli, ["fhir", "export", "--patient", str(mei["patient_id"])], env=env)
    assert exported.exit_code == 0, exported.stderr
    bundle = json.loads(exported.stdout)
    check_bundle(bundle)
    assert resources(bundle, "Patient")[0]["name"] == [{"text": "Mei Chen"}]
    missing = CliRunner().invoke(cli, ["fhir", "export", "--patient", "999999"], env=env)
    assert missing.exit_code == 2 and "patient" in missing.stderr


def test_bulk_export_writes_one_ndjson_file_per_type_with_unique_ids(database_url: str, tmp_path: Any) -> None:
    env = {"ALSCARE_DATABASE_URL": database_url, "ALSCARE_DATA_DIR": str(tmp_path), "ALSCARE_SECRET_KEY": "x" * 48}
    from fhir.resources.R4B import get_fhir_model_class

    from alscare.cli import app as cli

    assert CliRunner().invoke(cli, ["demo", "seed"], env=env).exit_code == 0
    out = tmp_path / "bulk"
    result = CliRunner().invoke(cli, ["fhir", "bulk-export", "--clinic", "1", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.stderr
    assert "exporting" in result.stderr  # the progress bar
    report = json.loads(result.stdout)
    assert report["people"] == 40  # everyone at the demo clinic; Sione has no clinic
    ids: set[str] = set()
    refs: list[str] = []
    for path in sorted(out.iterdir()):
        kind = path.name.removesuffix(".ndjson")
        lines = path.read_text().splitlines()
        assert len(lines) == report["resources"][kind]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == kind
            get_fhir_model_class(kind).model_validate(resource)
            key = f"{kind}/{resource['id']}"
            assert key not in ids
            ids.add(key)
            refs.extend(references(resource))
    assert report["resources"]["Questionnaire"] == 2 and report["resources"]["Patient"] == 40
    assert refs and all(r in ids for r in refs)

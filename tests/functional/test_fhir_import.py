"""FHIR import (issue 13, item 2): every demo person's Bundle, imported into an empty database and exported
again, gives the same Bundle; a malformed Bundle is refused naming where, and nothing is half-imported."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alscare.actions.fhir_export import export_as_operator
from alscare.actions.fhir_import import RESOURCE, import_bundle
from alscare.clinical.errors import InvalidInput
from alscare.demo import demo_people, seed_demo
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import AlsfrsAssessment, AuditEvent, CheckIn, Patient, User

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def empty_engine(backend: str, database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A second, empty, migrated database on the same backend as ``db``."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
        return
    name = f"alscare_fhir_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def comparable(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle without what differs by design: its own id and time, and the per-person base of fullUrls."""
    out = copy.deepcopy(bundle)
    del out["id"], out["timestamp"]
    for entry in out["entry"]:
        entry["fullUrl"] = entry["fullUrl"].split("/fhir/patients/", 1)[1].split("/", 1)[1]
    return out


@pytest.mark.slow
def test_round_trip_of_every_demo_person_gives_the_same_record(db: Session, empty_engine: Engine) -> None:
    seed_demo(db, now=NOW, default_emergency_number="999")
    db.commit()
    ids = list(db.execute(select(Patient.id).order_by(Patient.id)).scalars())
    # Through JSON text, as a file would carry it.
    bundles = [json.loads(json.dumps(export_as_operator(db, patient_id=p, now=NOW, base_url="https://a.example")))
               for p in ids]  # fmt: skip
    assert len(bundles) == 41 and set(demo_people(db).values()) <= set(ids)
    with make_sessionmaker(empty_engine)() as other:
        new_ids = []
        for bundle in bundles:
            new_ids.append(import_bundle(other, bundle=bundle, now=LATER).id)
        other.commit()
        for bundle, new_id in zip(bundles, new_ids, strict=True):
            again = export_as_operator(other, patient_id=new_id, now=LATER, base_url="https://b.example")
            assert comparable(again) == comparable(bundle)
        assert (
            other.execute(select(func.count()).select_from(AlsfrsAssessment)).scalar_one()
            == db.execute(select(func.count()).select_from(AlsfrsAssessment)).scalar_one()
        )
        imported = other.execute(select(AuditEvent).where(AuditEvent.resource == RESOURCE)).scalars().all()
        assert sorted(e.patient_id for e in imported) == sorted(new_ids)
        assert all(e.actor_user_id is None for e in imported)
        # Accounts made for the people named in the record cannot sign in.
        assert not other.execute(select(User).where(User.is_active.is_(True))).scalars().all()


def _demo_bundle(db: Session, email: str = "amira@demo.alscare.example") -> dict[str, Any]:
    seed_demo(db, now=NOW, default_emergency_number="999")
    db.commit()
    exported = export_as_operator(db, patient_id=demo_people(db)[email], now=NOW, base_url="https://a.example")
    return json.loads(json.dumps(exported))


def _entry(bundle: dict[str, Any], kind: str, nth: int = 0) -> tuple[int, dict[str, Any]]:
    found = [(n, e["resource"]) for n, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind]
    return found[nth]


def _nothing_imported(engine: Engine) -> None:
    with make_sessionmaker(engine)() as other:
        assert other.execute(select(func.count()).select_from(Patient)).scalar_one() == 0
        assert other.execute(select(func.count()).select_from(User)).scalar_one() == 0
        assert other.execute(select(func.count()).select_from(CheckIn)).scalar_one() == 0


def test_malformed_bundles_are_refused_naming_where(db: Session, empty_engine: Engine) -> None:
    good = _demo_bundle(db)
    cases: list[tuple[str, Any]] = []
    bad = copy.deepcopy(good)
    n, obs = _entry(bad, "Observation", 3)
    del obs["code"]
    cases.append((f"entry[{n}].resource.code", bad))
    bad = copy.deepcopy(good)
    _, qr = _entry(bad, "QuestionnaireResponse", 2)
    qr["item"][4]["answer"][0]["valueCoding"]["code"] = "7"
    cases.append((f"QuestionnaireResponse/{qr['id']}.items.", bad))
    bad = copy.deepcopy(good)
    _, med = _entry(bad, "MedicationStatement")
    med["informationSource"] = {"reference": "Practitioner/person-99"}
    cases.append((f"MedicationStatement/{med['id']}.informationSource", bad))
    cases.append(("type", {**copy.deepcopy(good), "type": "transaction"}))
    with make_sessionmaker(empty_engine)() as other:
        for where, bundle in cases:
            with pytest.raises(InvalidInput) as refused:
                import_bundle(other, bundle=bundle, now=LATER)
            assert refused.value.field.startswith(where), (refused.value.field, where)
            other.rollback()
    _nothing_imported(empty_engine)


def test_a_bundle_that_fails_part_way_leaves_nothing_behind(db: Session, empty_engine: Engine) -> None:
    """Two check-ins with the same client id pass the reading and fail at the database, after the person, the
    clinic, the accounts and the ALSFRS-R rows went in: the CLI rolls all of it back."""
    seed_demo(db, now=NOW, default_emergency_number="999")
    db.commit()
    # The hand-made demo people have no check-ins; the demo clinic's other people do.
    pid = db.execute(select(CheckIn.patient_id).order_by(CheckIn.id).limit(1)).scalar_one()
    bundle = json.loads(json.dumps(export_as_operator(db, patient_id=pid, now=NOW, base_url="https://a.example")))
    check_ins = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse" and "check-in" in e["resource"]["id"]
    ]
    assert len(check_ins) > 2
    check_ins[-1]["identifier"] = dict(check_ins[0]["identifier"])
    path = Path("/tmp") / f"fhir-bundle-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(bundle))
    env = {
        "ALSCARE_DATABASE_URL": empty_engine.url.render_as_string(hide_password=False),
        "ALSCARE_DATA_DIR": str(path.parent),
        "ALSCARE_SECRET_KEY": "x" * 48,
    }
    from alscare.cli import app as cli

    try:
        result = CliRunner().invoke(cli, ["fhir", "import", str(path)], env=env)
    finally:
        path.unlink()
    assert result.exit_code == 2, result.stdout
    assert json.loads(result.stderr)["error"]["field"] == "bundle"
    _nothing_imported(empty_engine)


def test_cli_import_prints_the_new_patient_id(db: Session, empty_engine: Engine, tmp_path: Path) -> None:
    bundle = _demo_bundle(db)
    path = tmp_path / "amira.fhir.json"
    path.write_text(json.dumps(bundle))
    env = {
        "ALSCARE_DATABASE_URL": empty_engine.url.render_as_string(hide_password=False),
        "ALSCARE_DATA_DIR": str(tmp_path),
        "ALSCARE_SECRET_KEY": "x" * 48,
    }
    from alscare.cli import app as cli

    result = CliRunner().invoke(cli, ["fhir", "import", str(path)], env=env)
    assert result.exit_code == 0, result.stderr
    patient_id = json.loads(result.stdout)["patient_id"]
    with make_sessionmaker(empty_engine)() as other:
        patient = other.get(Patient, patient_id)
        assert patient is not None and patient.full_name == "Amira Haddad"

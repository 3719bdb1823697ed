"""The demo's medicine lists: one person on riluzole with a liver test due, one still on the withdrawn medicine,
both raised to the clinic as prompts; a free-text entry is recognised as riluzole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from alscare.actions.medicines import current_medicines, medicine_prompts
from alscare.demo import seed_demo
from alscare.storage import migrate
from alscare.storage.db import make_engine, make_sessionmaker, transaction
from alscare.storage.models import Patient, User

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _patient(db: object, email: str) -> Patient:
    from sqlalchemy.orm import Session

    assert isinstance(db, Session)
    user = db.execute(select(User).where(User.email == email)).scalar_one()
    return db.execute(select(Patient).where(Patient.user_id == user.id)).scalar_one()


def test_demo_people_have_medicine_lists_that_raise_prompts(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as db:
        seed_demo(db, now=NOW, default_emergency_number="999")
    with transaction(factory) as db:
        mei = _patient(db, "mei@demo.alscare.example")
        tomas = _patient(db, "tomas@demo.alscare.example")
        sione = _patient(db, "sione@demo.alscare.example")
        mei_prompts = [p.id for p in medicine_prompts(db, patient_id=mei.id, today=NOW.date())]
        tomas_prompts = [p.id for p in medicine_prompts(db, patient_id=tomas.id, today=NOW.date())]
        sione_list = current_medicines(db, patient_id=sione.id, on=NOW.date())
    assert mei_prompts == ["riluzole_liver_test_due_2026-11-30"]
    assert tomas_prompts == ["withdrawn_medicine_pb_taurursodiol"]  # his riluzole tests are all done
    assert [(m.name, m.catalogue_id) for m in sione_list] == [("Rilutek 50mg", "riluzole")]
    engine.dispose()

"""The clinic dashboard: what it shows, who is on it, its filters and CSV, and a statement count that does
not grow with the number of people (5 and 50 people, both databases)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from helpers import counting
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from world import signed_in_client

from alscare.actions.clinic_dashboard import neutralise
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import AuditEvent, Patient
from alscare.storage.models.clinic_dashboard import AuditEventPatient
from alscare.synthetic_clinic import SyntheticClinic, build_synthetic_clinic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _build(engine: Engine, people: int, *, seed: int = 7, into: SyntheticClinic | None = None) -> SyntheticClinic:
    with transaction(make_sessionmaker(engine)) as db:
        return build_synthetic_clinic(
            db,
            people=people,
            now=NOW,
            seed=seed,
            clinic_id=into.clinic_id if into else None,
            clinician_id=into.clinician_id if into else None,
        )


def _frozen(app: FastAPI) -> None:
    app.state.ctx.clock = lambda: NOW


PAGES = ("/clinic", "/clinic?filter=fast&sort=slope&dir=asc", "/clinic?filter=overdue", "/clinic/export.csv")


def test_statement_count_does_not_grow_with_people(app: FastAPI, engine: Engine) -> None:
    _frozen(app)
    clinic = _build(engine, 5)
    client = signed_in_client(app, clinic.clinician_id)
    client.get("/clinic")  # the very first audit event also creates the chain's head row
    few: dict[str, int] = {}
    for page in PAGES:
        with counting(engine) as statements:
            r = client.get(page)
        assert r.status_code == 200, r.text
        few[page] = len(statements)
    _build(engine, 45, seed=8, into=clinic)
    many: dict[str, int] = {}
    for page in PAGES:
        with counting(engine) as statements:
            r = client.get(page)
        assert r.status_code == 200, r.text
        many[page] = len(statements)
    assert many == few
    assert max(few.values()) <= 20, few


def test_dashboard_lists_the_clinics_people_paged_and_audits_one_row_per_view(app: FastAPI, engine: Engine) -> None:
    _frozen(app)
    clinic = _build(engine, 30)
    other = _build(engine, 3, seed=99)  # another clinic: none of its people may show
    client = signed_in_client(app, clinic.clinician_id)
    assert client.get("/home").headers["location"] == "/clinic"
    with Session(engine) as s:
        before = s.execute(select(func.count(AuditEvent.id))).scalar_one()
        names = dict(s.execute(select(Patient.id, Patient.full_name)).all())
    r = client.get("/clinic?sort=name")
    assert r.status_code == 200
    assert "30 people, page 1 of 2" in r.text
    shown = [pid for pid in clinic.patient_ids if names[pid] in r.text]
    assert len(shown) == 25
    assert not any(names[pid] in r.text for pid in other.patient_ids)
    with Session(engine) as s:
        events = list(s.execute(select(AuditEvent).where(AuditEvent.id > before)).scalars())
        assert [e.resource for e in events] == ["clinic_dashboard"]
        listed = set(
            s.execute(
                select(AuditEventPatient.patient_id).where(AuditEventPatient.audit_event_id == events[0].id)
            ).scalars()
        )
    assert listed == set(shown)
    page2 = client.get("/clinic?sort=name&page=2")
    assert "page 2 of 2" in page2.text
    assert sum(names[pid] in page2.text for pid in clinic.patient_ids) == 5


def test_saved_filters_and_sorting(app: FastAPI, engine: Engine) -> None:
    _frozen(app)
    clinic = _build(engine, 40)
    client = signed_in_client(app, clinic.clinician_id)
    rows = list(csv.DictReader(io.StringIO(client.get("/clinic/export.csv?sort=slope&dir=asc").text)))
    assert len(rows) == 40
    slopes = [float(r["slope_points_per_month"]) for r in rows if r["slope_points_per_month"]]
    assert slopes == sorted(slopes)
    fast = list(csv.DictReader(io.StringIO(client.get("/clinic/export.csv?filter=fast").text)))
    assert fast and len(fast) < 40
    overdue = list(csv.DictReader(io.StringIO(client.get("/clinic/export.csv?filter=overdue").text)))
    assert overdue and all(r["overdue"] == "yes" for r in overdue)
    niv = list(csv.DictReader(io.StringIO(client.get("/clinic/export.csv?filter=niv_due").text)))
    assert all(int(r["open_alerts"]) >= 1 for r in niv)
    bad = client.get("/clinic?sort=nonsense")
    assert bad.status_code == 422 and "Sort by one of" in bad.text


def test_fast_filter_follows_its_definition(app: FastAPI, engine: Engine) -> None:
    from alscare.storage.models.clinic_dashboard import PatientSummary

    _frozen(app)
    clinic = _build(engine, 40)
    client = signed_in_client(app, clinic.clinician_id)
    fast_ids = {
        int(r["patient_id"]) for r in csv.DictReader(io.StringIO(client.get("/clinic/export.csv?filter=fast").text))
    }
    with Session(engine) as s:
        expected = {
            s_.patient_id
            for s_ in s.execute(select(PatientSummary)).scalars()
            if (s_.slope_per_month is not None and s_.slope_per_month <= -1.0)
            or (s_.delta_fs is not None and s_.delta_fs >= 1.0)
        }
    assert fast_ids == expected & set(clinic.patient_ids)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("Ann", "Ann")],
)  # fmt: skip
def test_csv_cells_are_neutralised(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_csv_neutralises_a_formula_in_a_name(app: FastAPI, engine: Engine) -> None:
    _frozen(app)
    clinic = _build(engine, 2)
    with transaction(make_sessionmaker(engine)) as db:
        db.get(Patient, clinic.patient_ids[0]).full_name = "=cmd|' /C calc'!A0"  # type: ignore[union-attr]
    client = signed_in_client(app, clinic.clinician_id)
    body = client.get("/clinic/export.csv").text
    assert "'=cmd|" in body
    assert "\n=cmd" not in body and ",=cmd" not in body


def test_only_clinicians_have_a_dashboard(app: FastAPI, engine: Engine) -> None:
    _frozen(app)
    clinic = _build(engine, 1)
    r = signed_in_client(app, None).get("/clinic")
    assert r.status_code == 303
    assert signed_in_client(app, clinic.clinician_id).get("/clinic").status_code == 200


def test_summary_rows_read_every_column_of_the_table() -> None:
    from alscare.actions.clinic_dashboard import _SUMMARY_COLUMNS, SummaryRow

    assert list(SummaryRow._fields) == [c.name for c in _SUMMARY_COLUMNS]


def test_unanswered_badge_counts_the_same_conversations_as_the_inbox(engine: Engine) -> None:
    """The navigation's one-statement count and the messages inbox's list agree, on a clinic whose
    conversations were answered, left unanswered, or answered and then written to again."""
    from alscare.actions.clinic_dashboard import unanswered_count_for_clinic
    from alscare.actions.messages import unanswered_for_clinic
    from alscare.storage.models import Message, User

    clinic = _build(engine, 50)
    with make_sessionmaker(engine)() as db:
        clinician = db.get(User, clinic.clinician_id)
        assert clinician is not None and clinician.clinic_id is not None
        listed = unanswered_for_clinic(db, actor=clinician, now=NOW)
        counted = unanswered_count_for_clinic(db, clinic_id=clinician.clinic_id)
        answered = db.execute(select(func.count(func.distinct(Message.patient_id))).where(Message.from_clinic)).scalar()
    assert counted == len(listed)
    assert counted > 0 and answered, "the synthetic clinic should hold both kinds of conversation"


def test_navigation_badges_show_the_clinics_counts_on_every_clinician_page(app: FastAPI, engine: Engine) -> None:
    """The badges (open alerts, unanswered conversations, overdue people) follow the clinic's counts on a
    page that is not the dashboard, and say in words what the number counts for screen readers."""
    import re

    from alscare.actions.clinic_dashboard import counts_for_clinic
    from alscare.storage.models import User

    _frozen(app)
    clinic = _build(engine, 20)
    client = signed_in_client(app, clinic.clinician_id)
    with make_sessionmaker(engine)() as db:
        clinician = db.get(User, clinic.clinician_id)
        assert clinician is not None
        counts = counts_for_clinic(db, actor=clinician, now=NOW)
    assert counts.open_alerts_total and counts.unanswered_messages and counts.overdue_people
    page = client.get(f"/patients/{clinic.patient_ids[0]}/timeline")
    assert page.status_code == 200, page.text
    badges = dict(
        (words.split(",")[0], int(n))
        for n, words in re.findall(
            r'<span class="nav-badge">(\d+)<span class="visually-hidden"> ([^<]+)</span>', page.text
        )
    )
    assert badges == {
        "open": counts.open_alerts_total,
        "unanswered": counts.unanswered_messages,
        "overdue": counts.overdue_people,
    }

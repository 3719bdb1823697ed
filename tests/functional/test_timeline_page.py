"""The timeline tab: charts with summaries and tables, consent scopes, audit, clinician figures, paging, and a
statement count that does not grow with the history. Built on the shared world (world.py): P has three
ALSFRS-R scores and one check-in, and shares the full record with clinic A; caregiver G has check-ins."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    CLINICIAN_OTHER_CLINIC,
    NOW,
    OWN,
    World,
    build_world,
    freeze_clock,
    signed_in_client,
)

from alscare.actions.assessments import record_alsfrs_assessment
from alscare.actions.checkins import record_check_in
from alscare.actions.timeline import CHECK_INS_PER_PAGE
from alscare.storage.models import AuditEvent, User


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def client_for(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def url(world: World) -> str:
    return f"/patients/{world.patient_p_id}/timeline"


def test_the_person_sees_charts_summaries_and_tables(app: FastAPI, world: World) -> None:
    page = client_for(app, world, OWN).get(url(world))
    assert page.status_code == 200
    html = page.text
    # The tab is the record's first, and marked current.
    tabs = re.search(r'<nav class="record-tabs".*?</nav>', html, re.S)
    assert tabs is not None
    assert tabs.group(0).index("Timeline") < tabs.group(0).index("Profile and scores")
    assert 'aria-current="page">Timeline' in tabs.group(0)
    # Four charts with data, each an SVG image with a title and a description, a summary and a table; weight
    # has none yet, so it is only its sentence.
    assert html.count('role="img" aria-labelledby="chart-') == 4
    assert 'id="chart-weight"' not in html
    for chart in ("alsfrs", "domains", "fvc", "snip"):
        assert f'<title id="chart-{chart}-title">' in html
        assert f'<desc id="chart-{chart}-desc">' in html
    # World: 48 (Mar 2025) → 42 (Sep 2025) → 39 (Feb 2026); today 1 Mar 2026: one score in the last 3 months.
    assert "Your score went from 48 in March 2025 to 39 in February 2026." in html
    assert "Your latest FVC is 92 % of the expected value, from 1 March 2026." in html
    assert "No weight recorded yet." in html
    assert '<caption id="alsfrs-caption">' in html
    # The person sees no clinician figures.
    assert "For the care team" not in html and "Kimura" not in html
    # The check-in history and the body-map grid.
    assert "Check-in history" in html and "1 check-in, newest first." in html
    assert "Cramps" in html
    assert "Where symptoms were felt, month by month" in html


def test_the_clinician_also_sees_progression_and_stage_history(app: FastAPI, world: World) -> None:
    html = client_for(app, world, CLINICIAN_GRANTED_CLINIC).get(url(world)).text
    assert "For the care team" in html
    assert "Kimura band" in html and "points per month ± " in html
    assert "King&#39;s and MiToS stage history" in html or "King's and MiToS stage history" in html
    assert "The score went from 48 in March 2025 to 39 in February 2026." in html


def test_a_stage_that_goes_down_after_a_change_of_mode_is_flagged(app: FastAPI, world: World, db: Session) -> None:
    clinician = db.get(User, world.users[CLINICIAN_GRANTED_CLINIC])
    assert clinician is not None
    # The latest world score (self-report) has items below 4 in three regions; a clinic score with only one
    # region below normal lowers King's stage: flagged, because the way of scoring changed.
    answers = {str(i): 4 for i in range(1, 13) if i != 5} | {"5a": 4, "1": 3}
    record_alsfrs_assessment(
        db,
        actor=clinician,
        patient_id=world.patient_p_id,
        answers=answers,
        assessed_on=NOW.date(),
        administration_mode="clinician_in_person",
        now=NOW,
    )
    db.commit()
    html = client_for(app, world, CLINICIAN_GRANTED_CLINIC).get(url(world)).text
    assert html.count('class="stage-flagged"') == 1
    assert "Stage went down after a change in how the score was taken (Self-report to Clinician, in person)" in html


def test_consent_scopes_and_the_audit_trail(app: FastAPI, world: World, engine: Engine) -> None:
    assert client_for(app, world, CAREGIVER_GRANTED).get(url(world)).status_code == 200
    assert client_for(app, world, CAREGIVER_NOT_GRANTED).get(url(world)).status_code == 404
    assert client_for(app, world, CLINICIAN_OTHER_CLINIC).get(url(world)).status_code == 404
    with Session(engine) as s:
        events = s.execute(
            select(AuditEvent.action, AuditEvent.resource, AuditEvent.actor_user_id).where(
                AuditEvent.resource == "timeline"
            )
        ).all()
    assert (("read", "timeline", world.users[CAREGIVER_GRANTED])) in events
    assert ("denied", "timeline", world.users[CAREGIVER_NOT_GRANTED]) in events


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _add_history(db: Session, world: World, n: int) -> None:
    """``n`` more assessments and ``n`` more check-ins for P, a week apart, going back from today."""
    patient_user = db.get(User, world.users[OWN])
    assert patient_user is not None
    answers = {str(i): 3 for i in range(1, 13) if i != 5} | {"5a": 3}
    for i in range(n):
        on = NOW - timedelta(days=7 * (i + 1))
        record_alsfrs_assessment(
            db,
            actor=patient_user,
            patient_id=world.patient_p_id,
            answers=answers,
            assessed_on=on.date(),
            administration_mode="self_report",
            now=NOW,
        )
        record_check_in(
            db,
            actor=patient_user,
            patient_id=world.patient_p_id,
            client_id=str(uuid.uuid4()),
            data={"weight_kg": 70 - i * 0.1, "body_map": {"left_arm": ["weakness"]}},
            now=on,
        )
    db.commit()


def test_statement_count_does_not_grow_with_the_history(
    app: FastAPI, world: World, db: Session, engine: Engine
) -> None:
    client = client_for(app, world, CLINICIAN_GRANTED_CLINIC)
    client.get(url(world))  # warm up: caches, session
    with counting(engine) as few:
        assert client.get(url(world)).status_code == 200
    _add_history(db, world, CHECK_INS_PER_PAGE + 10)
    with counting(engine) as many:
        page = client.get(url(world))
    assert page.status_code == 200
    assert "Page 1 of 2." in page.text
    print(f"timeline statements: {len(few)} with 3 assessments, {len(many)} with {3 + CHECK_INS_PER_PAGE + 10}")
    assert len(many) == len(few)


def test_the_check_in_history_is_paged(app: FastAPI, world: World, db: Session) -> None:
    _add_history(db, world, CHECK_INS_PER_PAGE + 2)
    client = client_for(app, world, OWN)
    first = client.get(url(world)).text
    second = client.get(url(world) + "?page=2").text
    assert first.count('class="check-in-entry') == CHECK_INS_PER_PAGE
    assert second.count('class="check-in-entry') == 3  # 23 in all
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert client.get(url(world) + "?page=abc").status_code == 200
    # The body-map grid shows weakness in the left arm in the months of the new check-ins.
    assert "Weakness" in first


def test_the_record_page_has_the_tabs(app: FastAPI, world: World) -> None:
    html = client_for(app, world, OWN).get(f"/patients/{world.patient_p_id}").text
    assert f'href="/patients/{world.patient_p_id}/timeline"' in html
    assert 'aria-current="page">Profile and scores' in html
    assert date(2026, 3, 1) == NOW.date()


# --- The visit summary PDF ------------------------------------------------------------------------------------


def _pdf_text_and_png(pdf: bytes, folder: Path) -> tuple[str, list[Path]]:
    source = folder / "visit-summary.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(source), str(folder / "page")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True)
    return text.stdout, sorted(folder.glob("page*.png"))


def test_the_visit_summary_pdf_has_its_sections(
    app: FastAPI, world: World, db: Session, engine: Engine, tmp_path: Path
) -> None:
    client = client_for(app, world, OWN)
    # A question for the clinic (the person's side of the conversation) and an open alert.
    record_check_in(
        db,
        actor=db.get(User, world.users[OWN]),  # type: ignore[arg-type]
        patient_id=world.patient_p_id,
        client_id=str(uuid.uuid4()),
        data={"fall": True, "question": "Can I still drive?"},
        now=NOW,
    )
    db.commit()
    r = client.get(f"/patients/{world.patient_p_id}/visit-summary.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store"
    text, pages = _pdf_text_and_png(r.content, tmp_path)
    assert pages and all(p.stat().st_size > 1000 for p in pages)
    kept = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
    kept.mkdir(parents=True, exist_ok=True)
    for page in pages:  # kept for people to look at, like the browser screenshots
        shutil.copy(page, kept / f"visit-summary-{page.stem}.png")
    for heading in (
        "Visit summary: Paula",
        "Progress",
        "ALSFRS-R total score over time",
        "Breathing test (FVC) over time",
        "Stages",
        "Open alerts",
        "Questions since the last visit",
        "Medicines",
        "Care wishes",
    ):
        assert heading in text, heading
    assert "Can I still drive?" in text
    assert "Contact today" in text  # the fall's alert
    # The world's P takes riluzole and wrote care wishes ("Ask CWLEAKMARKER yes or no questions").
    assert "Riluzole" in text and "CWLEAKMARKER" in text
    assert "Kimura" in text  # the stages and progression are printed for the person too
    with Session(engine) as s:
        resources = set(
            s.execute(select(AuditEvent.resource).where(AuditEvent.actor_user_id == world.users[OWN])).scalars()
        )
    assert {"visit_summary", "timeline", "message"} <= resources


def test_the_visit_summary_needs_the_check_ins_scope(app: FastAPI, world: World) -> None:
    assert (
        client_for(app, world, CAREGIVER_NOT_GRANTED)
        .get(f"/patients/{world.patient_p_id}/visit-summary.pdf")
        .status_code
        == 404
    )
    assert (
        client_for(app, world, CLINICIAN_GRANTED_CLINIC)
        .get(f"/patients/{world.patient_p_id}/visit-summary.pdf")
        .status_code
        == 200
    )

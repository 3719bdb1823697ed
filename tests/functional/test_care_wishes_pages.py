"""Care wishes over HTTP, on both databases: every save a new version, old versions unchanged, the diff, the
proxy recorded as such, "discussed with", access by consent scope, the audit trail, the emergency screen and
the two PDFs (rendered to PNG with pdftoppm, read back with pdftotext).

The world (see world.py): P wrote version 1 of their care wishes (CPR: no; "Ask CWLEAKMARKER yes or no
questions"). Proxy X acts for P; caregiver G holds check-ins only; clinic A holds P's full record; Q has no
care wishes.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import Clock, rows
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from world import (
    CAREGIVER_GRANTED,
    CAREGIVER_NOT_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OTHER_PATIENT,
    OWN,
    PROXY,
    World,
    build_world,
    csrf_of,
    signed_in_client,
)

from alscare.actions import care_wishes, consent
from alscare.storage.db import make_sessionmaker
from alscare.storage.models import AuditEvent, User
from alscare.storage.models.care_wishes import CareWishesVersion
from alscare.storage.models.security import RefusedProbeCount

MARKER = "CWLEAKMARKER"


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock(NOW)
    app.state.ctx.clock = clock
    return clock


@pytest.fixture
def world(app: FastAPI, db: Session, clock: Clock) -> World:
    return build_world(db)


def _as(app: FastAPI, world: World, actor: str) -> TestClient:
    return signed_in_client(app, world.users[actor])


def _save(client: TestClient, patient_id: int, form: dict[str, str | list[str]], client_id: str = "") -> str:
    """Send the care-wishes form as a browser would; return where it led."""
    data = {"csrf_token": csrf_of(client), "client_id": client_id, **form}
    r = client.post(f"/patients/{patient_id}/care-wishes/edit", data=data)
    assert r.status_code == 303, r.text[:2000]
    return r.headers["location"]


def _versions(engine: Engine, patient_id: int) -> list[CareWishesVersion]:
    return rows(engine, CareWishesVersion, CareWishesVersion.patient_id == patient_id)


def test_every_save_is_a_new_version_and_old_ones_never_change(
    app: FastAPI, world: World, engine: Engine, clock: Clock
) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    before = {v.number: (v.answers, v.saved_at) for v in _versions(engine, p)}
    assert list(before) == [1]

    clock.advance(hours=1)
    assert _save(person, p, {"resuscitation.cpr": "no", "breathing.niv": "yes"}).endswith("?done=saved")
    clock.advance(hours=1)
    assert _save(person, p, {"resuscitation.cpr": "undecided", "breathing.niv": "yes"}).endswith("?done=saved")
    # The same answers again, and the same form sent twice: no new version.
    assert _save(person, p, {"resuscitation.cpr": "undecided", "breathing.niv": "yes"}).endswith("?done=unchanged")
    form = {"hospital.hospital": "only_if", "hospital.hospital_condition": "I can come home the same week"}
    _save(person, p, form, client_id="a6f0c1de-7b8a-4c3d-9e2f-1a0b9c8d7e6f")
    _save(person, p, form, client_id="a6f0c1de-7b8a-4c3d-9e2f-1a0b9c8d7e6f")

    versions = _versions(engine, p)
    assert [v.number for v in versions] == [1, 2, 3, 4]
    assert (versions[0].answers, versions[0].saved_at) == before[1], "version 1 changed"
    assert versions[1].answers == {"breathing": {"niv": "yes"}, "resuscitation": {"cpr": "no"}}
    assert versions[2].answers == {"breathing": {"niv": "yes"}, "resuscitation": {"cpr": "undecided"}}
    assert versions[3].answers == {
        "hospital": {"hospital": "only_if", "hospital_condition": "I can come home the same week"}
    }
    assert {v.author_capacity for v in versions} == {"self"}

    api = person.get(f"/api/v1/patients/{p}/care-wishes/versions").json()
    assert [v["number"] for v in api] == [1, 2, 3, 4]
    assert api[0]["answers"] == {
        "resuscitation": {"cpr": "no"},
        "communication": {"how": f"Ask {MARKER} yes or no questions."},
    }


def test_the_form_keeps_unchanged_sections_and_refuses_a_missing_condition(
    app: FastAPI, world: World, engine: Engine
) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    form = person.get(f"/patients/{p}/care-wishes/edit").text
    # Version 1's answers are already in the form: a person changes only what they want to change.
    assert 'id="resuscitation.cpr-no" name="resuscitation.cpr" value="no" checked' in form
    assert f"Ask {MARKER} yes or no questions.</textarea>" in form

    r = person.post(
        f"/patients/{p}/care-wishes/edit",
        data={"csrf_token": csrf_of(person), "breathing.invasive_ventilation": "only_if", "resuscitation.cpr": "no"},
    )
    assert r.status_code == 422
    assert '<a href="#breathing.invasive_ventilation_condition">Say when, in a few words.</a>' in r.text
    assert 'name="breathing.invasive_ventilation" value="only_if" checked' in r.text  # what was chosen is kept
    assert [v.number for v in _versions(engine, p)] == [1], "a refused form saved something"


@pytest.mark.parametrize(
    ("older", "newer", "expected"),
    [
        # A small table: (section, what happened, the old answer shown, the new answer shown).
        (1, 2, [("If my heart or breathing stops (CPR)", "Was:", "No", "Now:", "Yes"),
                ("Help with breathing", "Added:", None, None, "Yes")]),
        (2, 3, [("Help with breathing", "Taken out:", "Yes", None, None)]),
    ],
)  # fmt: skip
def test_the_diff_of_two_versions(
    app: FastAPI, world: World, older: int, newer: int, expected: list[tuple[str, ...]]
) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    comm = {"communication.how": f"Ask {MARKER} yes or no questions."}
    _save(person, p, {"resuscitation.cpr": "yes", "breathing.niv": "yes", **comm})
    _save(person, p, {"resuscitation.cpr": "yes", **comm})
    page = person.get(f"/patients/{p}/care-wishes/compare?older={older}&newer={newer}").text
    assert f"From version {older} to version {newer}." in page
    for title, first, old, second, new in expected:
        assert f"<h2>{title} <span" in page
        if old is not None:
            assert f'<span class="cw-label">{first}</span> <del>{old}</del>' in page
        if new is not None:
            label = second if second is not None else first
            assert f'<span class="cw-label">{label}</span> {"<ins>" if second else ""}{new}' in page
    assert page.count("<h2>") == len(expected)
    assert "How I talk when speech is hard" not in page  # unchanged sections are left out


def test_a_proxy_writes_for_the_person_recorded_as_such(app: FastAPI, world: World, engine: Engine) -> None:
    p = world.patient_p_id
    proxy = _as(app, world, PROXY)
    form = proxy.get(f"/patients/{p}/care-wishes/edit")
    assert "You are writing for the person." in form.text
    _save(proxy, p, {"resuscitation.cpr": "undecided"})
    latest = _versions(engine, p)[-1]
    assert (latest.number, latest.author_user_id, latest.author_capacity) == (2, world.users[PROXY], "proxy")
    page = _as(app, world, OWN).get(f"/patients/{p}/care-wishes").text
    assert "Version 2, written by Xavier X for Paula PPLEAKMARKER, as their proxy" in page


def test_the_clinic_reads_but_does_not_write(app: FastAPI, world: World, engine: Engine) -> None:
    p = world.patient_p_id
    clinician = _as(app, world, CLINICIAN_GRANTED_CLINIC)
    page = clinician.get(f"/patients/{p}/care-wishes")
    assert page.status_code == 200 and MARKER in page.text
    assert "Change my care wishes" not in page.text
    r = clinician.post(
        f"/patients/{p}/care-wishes/edit", data={"csrf_token": csrf_of(clinician), "resuscitation.cpr": "yes"}
    )
    assert r.status_code == 404
    assert [v.number for v in _versions(engine, p)] == [1]


def test_sharing_follows_the_care_wishes_scope_and_every_read_is_audited(
    app: FastAPI, world: World, db: Session, engine: Engine
) -> None:
    p = world.patient_p_id
    owner = db.get(User, world.users[OWN])
    assert owner is not None
    consent.grant_access(
        db, actor=owner, patient_id=p, scope="care_wishes", now=NOW, grantee_user_id=world.users[CAREGIVER_NOT_GRANTED]
    )
    db.commit()
    only_wishes = _as(app, world, CAREGIVER_NOT_GRANTED)
    only_checkins = _as(app, world, CAREGIVER_GRANTED)

    for path, shows in (
        ("", MARKER),
        ("/history", "Version 1</a>"),
        ("/versions/1", MARKER),
        ("/emergency-card", MARKER),
        ("/compare", "only one version"),
    ):
        seen = only_wishes.get(f"/patients/{p}/care-wishes{path}")
        assert seen.status_code == 200 and shows in seen.text, path
        refused = only_checkins.get(f"/patients/{p}/care-wishes{path}")
        assert refused.status_code == 404 and shows not in refused.text, path
    assert only_wishes.get(f"/api/v1/patients/{p}/care-wishes").json()["latest"]["answers"]["resuscitation"] == {
        "cpr": "no"
    }
    assert only_checkins.get(f"/api/v1/patients/{p}/care-wishes").status_code == 404
    # Care wishes alone show no scores, and the emergency card then knows nothing of the ALSFRS-R.
    assert only_wishes.get(f"/api/v1/patients/{p}/alsfrs-r").status_code == 404
    assert "None recorded" in only_wishes.get(f"/patients/{p}/care-wishes/emergency-card").text
    # The record page links to the wishes but shows none of them to a check-ins grantee.
    record = only_checkins.get(f"/patients/{p}").text
    assert MARKER not in record and f'href="/patients/{p}/care-wishes"' in record

    audit = rows(engine, AuditEvent, AuditEvent.patient_id == p, AuditEvent.resource == "care_wishes")
    reads = [(e.actor_user_id, e.action) for e in audit]
    assert reads.count((world.users[CAREGIVER_NOT_GRANTED], "read")) >= 5
    # Refusals are counted, and the first of each hour is written to the trail (issue 14, finding 11).
    assert reads.count((world.users[CAREGIVER_GRANTED], "denied")) == 1
    probes = rows(
        engine,
        RefusedProbeCount,
        RefusedProbeCount.actor_user_id == world.users[CAREGIVER_GRANTED],
        RefusedProbeCount.resource == "care_wishes",
    )
    assert sum(r.count for r in probes) >= 6


def _emergency(client: TestClient, patient_id: int, client_id: str) -> str:
    data = {"csrf_token": csrf_of(client), "client_id": client_id, "breathing_sudden_trouble": "yes"}
    r = client.post(f"/patients/{patient_id}/check-in", data=data)
    assert r.status_code == 303, r.text[:1000]
    return html.unescape(client.get(r.headers["location"]).text)


def test_the_emergency_screen_shows_the_wishes_or_says_there_are_none(app: FastAPI, world: World) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    _save(
        person,
        p,
        {
            "resuscitation.cpr": "no",
            "breathing.niv": "yes",
            "proxy.name": "Xavier X",
            "proxy.phone": "+44 7700 900123",
            "communication.methods": ["letter_board", "eye_gaze"],
        },
    )
    screen = _emergency(person, p, "2b7d4c1e-8f9a-4b3c-9d2e-7f6a5b4c3d2e")
    assert "The person's care wishes" in screen
    for shown in (
        "<dt>CPR</dt><dd>No</dd>",
        "<dt>NIV (breathing mask)</dt><dd>Yes</dd>",
        'Xavier X, <a href="tel:+447700900123">+44 7700 900123</a>',
        "A letter or picture board; Eye gaze (I look at letters or words)",
    ):
        assert shown in screen, shown

    # Q has written no wishes: the screen says so plainly.
    q_screen = _emergency(_as(app, world, OTHER_PATIENT), world.patient_q_id, "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8")
    assert "No care wishes are written down in alscare." in q_screen
    # G may check in for P but may not see P's wishes, and is told so.
    g_screen = _emergency(_as(app, world, CAREGIVER_GRANTED), p, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
    assert "The person's care wishes are not shared with you." in g_screen and MARKER not in g_screen


def test_emergency_essentials_and_the_summary_for_other_screens(app: FastAPI, world: World, engine: Engine) -> None:
    with make_sessionmaker(engine)() as db:
        clinician = db.get(User, world.users[CLINICIAN_GRANTED_CLINIC])
        assert clinician is not None
        essentials = care_wishes.emergency_essentials(db, patient_id=world.patient_p_id, actor=clinician, now=NOW)
        assert essentials is not None
        assert essentials.wishes == (("CPR", "No"),)
        assert essentials.communication == f"Ask {MARKER} yes or no questions."
        # P's latest ALSFRS-R (world: item 12 = 4, no 5b): no breathing machine, no feeding tube.
        assert (essentials.in_use.breathing, essentials.in_use.feeding_tube) == ("No breathing machine", False)
        q = db.get(User, world.users[OTHER_PATIENT])
        assert q is not None
        assert care_wishes.emergency_essentials(db, patient_id=world.patient_q_id, actor=q, now=NOW) is None
        summary = care_wishes.latest_summary(db, patient_id=world.patient_p_id)
        assert summary is not None and summary.version_number == 1
        assert [s.title for s in summary.sections] == [
            "If my heart or breathing stops (CPR)",
            "How I talk when speech is hard",
        ]
        assert care_wishes.latest_summary(db, patient_id=world.patient_q_id) is None
        db.commit()


def test_discussed_with_is_noted_and_feeds_the_prompts(app: FastAPI, world: World, engine: Engine) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    with make_sessionmaker(engine)() as db:
        assert care_wishes.discussed_on(db, patient_id=p) is None
    form = person.get(f"/patients/{p}/care-wishes/versions/1/discussed").text
    assert "You can change your mind at any time." in form
    url = f"/patients/{p}/care-wishes/versions/1/discussed"
    refused = person.post(
        url, data={"csrf_token": csrf_of(person), "with_kind": "clinician", "discussed_on": "2026-02-20"}
    )
    assert refused.status_code == 422 and "Give the name of the person in your care team" in refused.text
    future = person.post(url, data={"csrf_token": csrf_of(person), "with_kind": "family", "discussed_on": "2026-04-01"})
    assert future.status_code == 422 and "cannot be in the future" in future.text
    for when, who, name in (("2026-01-10", "family", "Sara"), ("2026-02-20", "clinician", "Dr Lee")):
        r = person.post(
            url, data={"csrf_token": csrf_of(person), "with_kind": who, "with_name": name, "discussed_on": when}
        )
        assert r.status_code == 303, r.text[:500]
    page = person.get(f"/patients/{p}/care-wishes").text
    assert "Talked over with Dr Lee (care team) on 20 February 2026." in page
    assert "Talked over with Sara (family or friends) on 10 January 2026." in page
    with make_sessionmaker(engine)() as db:
        assert care_wishes.discussed_on(db, patient_id=p) == date(2026, 2, 20)


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> tuple[str, int]:
    """The PDF's text (pdftotext) and how many pages pdftoppm rendered to PNG."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(tmp_path / name)], check=True)
    pngs = sorted(tmp_path.glob(f"{name}-*.png"))
    assert all(png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for png in pngs)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split()), len(pngs)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm, pdftotext) not installed")
def test_the_pdfs_say_what_the_wishes_say(app: FastAPI, world: World, tmp_path: Path) -> None:
    p = world.patient_p_id
    person = _as(app, world, OWN)
    _save(
        person,
        p,
        {
            "resuscitation.cpr": "no",
            "breathing.niv": "yes",
            "breathing.invasive_ventilation": "no",
            "hospital.hospital": "only_if",
            "hospital.hospital_condition": "my family agree",
            "proxy.name": "Xavier X",
            "proxy.relationship": "my brother",
            "proxy.phone": "+44 7700 900123",
            "communication.methods": ["eye_gaze"],
            "what_matters.text": "Being at home with my dog.",
        },
    )
    card = person.get(f"/patients/{p}/care-wishes/emergency-card.pdf")
    assert card.headers["content-type"] == "application/pdf"
    text, pages = _pdf_text(card.content, tmp_path, "card")
    assert pages == 1, "the emergency card must fit on one page"
    for said in (
        "Emergency card: Paula PPLEAKMARKER",
        "I have ALS, also called motor neurone disease (MND).",
        "Breathing help now No breathing machine",
        "Oxygen: give only with great care.",
        "CPR No",
        "NIV (breathing mask) Yes",
        "Tracheostomy (neck tube) No",
        "Hospital Only if my family agree",
        "Xavier X (my brother), +44 7700 900123",
        "Eye gaze (I look at letters or words)",
    ):
        assert said in text, (said, text)

    wishes = person.get(f"/patients/{p}/care-wishes.pdf")
    text, pages = _pdf_text(wishes.content, tmp_path, "wishes")
    assert pages >= 1
    for said in (
        "My care wishes",
        "Paula PPLEAKMARKER",
        "Version 2, written by Paula PPLEAKMARKER",
        "You can change your mind at any time.",
        "What matters most to me Being at home with my dog.",
        "Do you want people to try CPR? No",
    ):
        assert said in text, (said, text)

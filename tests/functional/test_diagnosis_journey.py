"""The diagnosis journey over HTTP on both databases: tests with status, dates and notes; the MRI safety
checklist whose "yes" and "not sure" answers are flagged for the MRI team and printed (PDF checked as text with
pdftotext and rendered to PNG with pdftoppm); every read audited."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI
from helpers import rows
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from world import CAREGIVER_GRANTED, NOW, OWN, World, build_world, csrf_of, freeze_clock, signed_in_client

from alscare.clinical.mri_safety import ITEM_IDS
from alscare.storage.models import AuditEvent
from alscare.storage.models.diagnosis import DiagnosisTest, MriSafetyChecklist

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app, NOW)
    return build_world(db)


def _url(world: World, rest: str = "") -> str:
    return f"/patients/{world.patient_p_id}/diagnosis{rest}"


def test_the_journey_lists_every_test_with_what_to_expect(app: FastAPI, world: World) -> None:
    page = signed_in_client(app, world.users[OWN]).get(_url(world))
    assert page.status_code == 200
    for name in ("EMG (electromyography)", "Nerve conduction study", "MRI scan", "Lumbar puncture", "Blood tests"):
        assert name in page.text
    assert page.text.count("What to expect") == 6
    assert "Not recorded yet" in page.text
    assert 'href="/learn/diagnosis"' in page.text


def test_a_test_moves_from_planned_to_result_discussed(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[CAREGIVER_GRANTED])  # a carer with the check-ins scope
    token = csrf_of(client)
    planned = {
        "csrf_token": token,
        "status": "planned",
        "planned_on": "2026-03-20",
        "notes": "Bring a list of medicines.",
    }
    assert client.post(_url(world, "/tests/emg"), data=planned).status_code == 303
    page = client.get(_url(world)).text
    assert "Planned" in page and "20 March 2026" in page and "Bring a list of medicines." in page
    discussed = {
        "csrf_token": token,
        "status": "result_discussed",
        "done_on": "2026-02-20",
        "discussed_on": "2026-02-27",
    }
    sent = client.post(_url(world, "/tests/emg"), data=discussed)
    assert sent.status_code == 303 and sent.headers["location"].endswith("?saved=emg#test-emg")
    [row] = rows(engine, DiagnosisTest)
    assert (row.kind, row.status, str(row.done_on), str(row.discussed_on), row.notes) == (
        "emg",
        "result_discussed",
        "2026-02-20",
        "2026-02-27",
        None,
    )
    assert row.updated_by_user_id == world.users[CAREGIVER_GRANTED]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"status": "done", "done_on": "2026-03-05"}, "emg-done_on", "Date done: cannot be in the future"),
        ({"status": "finished"}, "emg-status", "must be planned, done or result discussed"),
        ({"status": "done", "done_on": "2026-02-31"}, "emg-done_on", "Enter a real date"),
        (
            {"status": "result_discussed", "done_on": "2026-02-20", "discussed_on": "2026-02-10"},
            "emg-discussed_on",
            "cannot be before",
        ),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    app: FastAPI, world: World, engine: Engine, form: dict[str, str], field: str, message: str
) -> None:
    client = signed_in_client(app, world.users[OWN])
    page = client.post(_url(world, "/tests/emg"), data={"csrf_token": csrf_of(client), **form})
    assert page.status_code == 422
    assert f'href="#{field}"' in page.text and message in page.text
    assert f'id="{field}"' in page.text
    assert rows(engine, DiagnosisTest) == []


def test_an_unknown_test_kind_is_refused(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    page = client.post(_url(world, "/tests/x_ray"), data={"csrf_token": csrf_of(client), "status": "planned"})
    assert page.status_code == 422
    assert rows(engine, DiagnosisTest) == []


def _fill(app: FastAPI, world: World, answers: dict[str, str], details: str = "") -> None:
    client = signed_in_client(app, world.users[OWN])
    sent = client.post(
        _url(world, "/mri-checklist"), data={"csrf_token": csrf_of(client), **answers, "details": details}
    )
    assert sent.status_code == 303, sent.text


def test_yes_and_not_sure_answers_are_flagged_for_the_mri_team(app: FastAPI, world: World, engine: Engine) -> None:
    answers = {i: "no" for i in ITEM_IDS} | {"pacemaker_or_defibrillator": "yes", "tattoos": "unsure"}
    _fill(app, world, answers, details="Pacemaker fitted 2019, left chest.")
    [row] = rows(engine, MriSafetyChecklist)
    assert row.answers == answers
    page = signed_in_client(app, world.users[OWN]).get(_url(world, "/mri-checklist")).text
    flagged = page.split('id="for-team"')[1].split("</section>")[0]
    assert "<strong>Yes:</strong> Do you have a heart pacemaker" in flagged
    assert "<strong>Not sure:</strong> Do you have tattoos" in flagged
    assert "metal in your eyes" not in flagged  # answered no
    assert 'value="yes" checked' in page  # the form shows the saved answers
    journey = signed_in_client(app, world.users[OWN]).get(_url(world)).text
    assert "2 answers for the MRI team to check." in journey


def test_a_bad_answer_names_the_question_and_changes_nothing(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    page = client.post(_url(world, "/mri-checklist"), data={"csrf_token": csrf_of(client), "cochlear_implant": "maybe"})
    assert page.status_code == 422 and 'href="#cochlear_implant"' in page.text
    assert rows(engine, MriSafetyChecklist) == []


def test_the_printout_flags_yes_answers_and_renders(app: FastAPI, world: World, tmp_path: Path) -> None:
    answers = {i: "no" for i in ITEM_IDS if i != "pregnant"} | {"aneurysm_clips": "yes"}
    _fill(app, world, answers)
    response = signed_in_client(app, world.users[OWN]).get(_url(world, "/mri-checklist.pdf"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "mri.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    squashed = " ".join(text.split())
    assert "FOR THE MRI TEAM: 1 answer to check" in squashed
    assert "YES: Do you have clips or coils in the blood vessels of your brain" in squashed
    assert "NOT ANSWERED (1): please ask these questions before the scan. • Are you pregnant" in squashed
    assert "Paula" in squashed
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    [png] = list(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, SCREENSHOTS / "mri-checklist-printout.png")


def test_reads_are_audited(app: FastAPI, world: World, engine: Engine) -> None:
    client = signed_in_client(app, world.users[OWN])
    client.get(_url(world))
    client.get(_url(world, "/mri-checklist"))
    client.get(_url(world, "/mri-checklist.pdf"))
    audited = [(e.action, e.resource) for e in rows(engine, AuditEvent) if e.patient_id == world.patient_p_id]
    assert ("read", "diagnosis_tests") in audited
    assert audited.count(("read", "mri_safety_checklist")) >= 2

"""Learn, the diagnosis journey, the MRI safety checklist and the criteria worksheet in a real browser at 390 px:
every page checked with axe-core (WCAG 2.x A/AA) and kept as a screenshot; the MRI checklist completed with the
keyboard alone, counting every key press (printed, and pinned below a ceiling)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from app_server import Server
from keyboard import KeyboardUser

from alscare.clinical.mri_safety import ITEM_IDS

PERSON = "tomas@demo.alscare.example"
CLINICIAN = "dr.okafor@demo.alscare.example"
# 12 questions × 2 keys (Tab into the group, Space or an arrow to answer), a few Tabs past the page's links
# and the details field, then Tab and Enter on "Save": a ceiling so that the form cannot quietly get harder.
MAX_CHECKLIST_KEYS = 2 * len(ITEM_IDS) + 20

pytestmark = pytest.mark.e2e


def count_keys(person: KeyboardUser) -> list[str]:
    """Record every key the person presses or types from now on."""
    pressed: list[str] = []
    keyboard = person.page.keyboard
    press, type_ = keyboard.press, keyboard.type

    def counting_press(key: str, **kwargs: Any) -> None:
        pressed.append(key)
        press(key, **kwargs)

    def counting_type(text: str, **kwargs: Any) -> None:
        pressed.extend(text)
        type_(text, **kwargs)

    keyboard.press = counting_press  # type: ignore[method-assign]
    keyboard.type = counting_type  # type: ignore[method-assign]
    return pressed


def sign_in(person: KeyboardUser, email: str, password: str) -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")


def test_learn_pages_signed_out(new_person: Callable[[str], KeyboardUser]) -> None:
    reader = new_person("learn")
    reader.open("/learn")
    assert reader.heading() == "Learn about ALS"
    reader.check_page("index")
    reader.fill_field("Search the articles", "breathing machine")
    reader.activate("Search")
    assert "/learn?q=breathing+machine" in reader.page.url
    assert re.match(r"\d+ articles? found", reader.text_of("#results"))
    reader.check_page("search")
    reader.activate("Help with breathing and eating")
    assert reader.heading() == "Help with breathing and eating"
    reader.check_page("article")
    reader.open("/learn/when-to-get-help")
    reader.check_page("when-to-get-help")
    reader.open("/learn/where-to-find-help")
    reader.check_page("where-to-find-help")
    # The print style sheet leaves the menus off.
    reader.page.emulate_media(media="print")
    assert not reader.page.locator(".site-header").is_visible()
    assert reader.page.locator("h1").is_visible()
    reader.page.emulate_media(media="screen")


def test_mri_checklist_by_keyboard_alone(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    tomas = new_person("diagnosis")
    sign_in(tomas, PERSON, server.password)
    tomas.open("/home")
    tomas.activate("My record")
    tomas.activate("Tests on the way to a diagnosis")
    assert re.search(r"/patients/\d+/diagnosis$", tomas.page.url), tomas.page.url
    tomas.check_page("journey")
    assert "Result discussed" in tomas.text_of("#test-emg")  # the demo's journey before diagnosis
    tomas.tab_to("Update this test: Genetic tests", where=lambda f: f["tag"] == "summary")
    tomas.page.keyboard.press("Enter")
    assert tomas.page.locator("#test-genetic_tests details").nth(1).get_attribute("open") is not None
    tomas.check_page("journey-update-open")
    tomas.activate("MRI safety checklist", backwards=True)
    assert tomas.heading() == "MRI safety checklist"
    tomas.check_page("checklist-empty")

    pressed = count_keys(tomas)
    for item in ITEM_IDS:
        info = tomas.tab_to(where=lambda f, item=item: f["id"] == f"{item}-no")
        assert not info["checked"]
        if item == "pacemaker_or_defibrillator":
            tomas.page.keyboard.press("ArrowDown")  # from "No" to "Yes"
            assert tomas.focused()["id"] == f"{item}-yes" and tomas.focused()["checked"]
        else:
            tomas.page.keyboard.press("Space")
            assert tomas.focused()["checked"]
    tomas.tab_to("Details for the MRI team (optional)", where=lambda f: f["tag"] == "textarea")
    tomas.type("Pacemaker")
    tomas.activate("Save the checklist")
    print(f"\nMRI safety checklist by keyboard: {len(pressed)} key presses for {len(ITEM_IDS)} questions")
    assert len(pressed) <= MAX_CHECKLIST_KEYS + len("Pacemaker"), pressed

    assert "Checklist saved." in tomas.text_of(".notice")
    flagged = tomas.text_of("#for-team + ul")
    assert "Yes: Do you have a heart pacemaker or defibrillator" in flagged
    assert flagged.count("Yes:") == 1
    tomas.check_page("checklist-flagged")
    link = tomas.page.get_by_role("link", name="Print for the MRI team (PDF)")
    pdf = tomas.page.request.get(server.url(link.get_attribute("href") or ""))
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"


def test_criteria_worksheet_for_clinicians(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    doctor = new_person("criteria")
    sign_in(doctor, CLINICIAN, server.password)
    assert doctor.page.url == server.url("/signin/code")
    doctor.fill_field("Sign-in code", server.code_for(CLINICIAN))
    doctor.activate("Continue")
    assert doctor.page.url == server.url("/clinic")
    doctor.activate("Criteria")
    assert doctor.heading() == "Diagnostic criteria worksheet"
    doctor.check_page("empty")
    for region in ("Cervical (neck and arms)", "Lumbosacral (legs and lower back)"):
        doctor.tick(f"{region}: UMN signs")
        doctor.tick(f"{region}: LMN signs on examination")
    doctor.tick("Progressive: the weakness has spread or worsened over time")
    doctor.tick("Other causes excluded by investigations")
    doctor.activate("Apply the criteria")
    result = doctor.text_of("#result")
    assert "Revised El Escorial\nProbable" in result or "Revised El Escorial Probable" in result.replace("\n", " ")
    doctor.check_page("result")

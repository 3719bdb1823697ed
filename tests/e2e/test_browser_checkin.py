"""The symptom check-in with the keyboard alone: a routine check-in (after fixing a weight the form refused),
an emergency sign that brings up the emergency screen with its call button first, and a sign that needs
the care team today, which shows the clinic's phone number and hours. Every form and result screen is
checked with axe-core and kept as a phone-width screenshot."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

PERSON = "tomas@demo.alscare.example"  # a person with ALS in the demo, sharing his record with the clinic
NAME = "Tomás Reyes"
EMERGENCY_SIGN = "Suddenly having trouble breathing"
CLINIC = "Riverside MND Clinic"
CLINIC_PHONE = "020 7946 0321"
CLINIC_HOURS = "Monday to Friday, 9am to 5pm"

pytestmark = pytest.mark.e2e


def sign_in(person: KeyboardUser, email: str, password: str) -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")
    assert person.page.url.endswith("/home"), person.page.url


def open_check_in(person: KeyboardUser) -> None:
    """From any page, the "Check in" link in the main navigation (the stepped check-in), then its link to the
    one-page form, which this test drives (the steps: test_browser_checkin_steps.py)."""
    person.activate("Check in")
    assert re.search(r"/patients/\d+/check-in/steps", person.page.url), person.page.url
    person.activate("Answer all the questions on one page instead")
    assert re.search(r"/patients/\d+/check-in$", person.page.url), person.page.url
    assert person.heading() == "How are you?"


def send_emergency_check_in(person: KeyboardUser) -> None:
    """Tick one emergency sign and send the check-in: the emergency screen follows."""
    open_check_in(person)
    person.tick(EMERGENCY_SIGN)
    person.activate("Send check-in")
    assert re.search(r"/patients/\d+/check-ins/\d+$", person.page.url), person.page.url


def test_check_ins_with_the_keyboard_alone(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    tomas = new_person("checkin")
    sign_in(tomas, PERSON, server.password)

    # --- The form, empty; then a weight it refuses, and the way back to the field from the error summary.
    open_check_in(tomas)
    emergency_number = tomas.text_of(".emergency-strip a")
    assert re.fullmatch(r"\d{3}", emergency_number), emergency_number
    tomas.check_page("form")
    tomas.fill_field("Weight today (kg)", "-5")
    tomas.activate("Send check-in")
    assert tomas.page.title().startswith("Error: ")
    links = tomas.page.locator(".error-summary a")
    assert links.count() == 1
    message = links.first.inner_text()
    assert message.startswith("Weight today (kg)"), message
    assert tomas.page.get_attribute("#weight_kg", "aria-invalid") == "true"
    assert "weight_kg-error" in (tomas.page.get_attribute("#weight_kg", "aria-describedby") or "")
    tomas.check_page("form-weight-error")
    tomas.tab_to(message, where=lambda f: f["tag"] == "a")
    tomas.page.keyboard.press("Enter")
    field = tomas.focused()
    assert (field["id"], field["value"]) == ("weight_kg", "-5"), "the error link did not lead to the weight field"
    tomas.page.keyboard.press("ControlOrMeta+A")
    tomas.type("72.4")

    # --- A routine check-in: two symptoms, one box of the body map, and the weight.
    tomas.tick("Cramps")
    tomas.tick("Twitching")
    tomas.tick("Weakness in the right leg")
    tomas.activate("Send check-in")
    assert re.search(r"/patients/\d+/check-ins/\d+$", tomas.page.url), tomas.page.url
    assert tomas.heading() == "Thank you for checking in"
    assert "This is the first check-in" in tomas.text_of("main")
    assert tomas.page.locator(".call-button").count() == 0
    tomas.tab_to("What was reported", where=lambda f: f["tag"] == "summary")
    tomas.page.keyboard.press("Enter")  # opens the details
    reported = tomas.text_of(".reported .summary-list")
    for said in ("Cramps", "Twitching", "Weakness in the right leg", "72.4 kg"):
        assert said in reported, reported
    tomas.check_page("routine-result")

    # --- An emergency sign: the emergency screen, with "Call <number>" as its first and main action.
    send_emergency_check_in(tomas)
    assert tomas.heading() == f"Call {emergency_number} now"
    assert tomas.page.title().startswith("Call the emergency number now")
    call = tomas.page.locator("main a").first
    assert call.get_attribute("class") == "call-button"
    assert call.inner_text() == f"Call {emergency_number}"
    assert call.get_attribute("href") == f"tel:{emergency_number}"
    box = call.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= tomas.page.evaluate("innerHeight"), "the call button is below the fold"
    assert f"Your care team has been alerted at {CLINIC}" in tomas.text_of(".team-status")
    assert "What to tell the operator" in tomas.text_of("main")
    # Skipping the header, the call button is the very next Tab stop.
    tomas.tab_to("Skip to main content", max_tabs=1)
    tomas.page.keyboard.press("Enter")
    assert tomas.focused()["id"] == "main"
    first = tomas.tab_to(where=lambda f: True, max_tabs=1)
    assert (first["name"], first["href"]) == (f"Call {emergency_number}", f"tel:{emergency_number}"), first
    tomas.check_page("emergency")

    # --- A sign for the care team today: the clinic's phone number and opening hours.
    open_check_in(tomas)
    tomas.tick("Fever (feeling hot, or a high temperature)")
    tomas.tick("Cough")
    tomas.activate("Send check-in")
    assert tomas.heading() == "Contact your care team today"
    assert tomas.text_of(".lead") == f"Phone {CLINIC}:"
    team_call = tomas.page.locator(".call-button-team")
    assert team_call.inner_text() == f"Call {CLINIC_PHONE}"
    assert (team_call.get_attribute("href") or "").startswith("tel:")
    assert f"Open: {CLINIC_HOURS}." in tomas.text_of("main")
    assert f"If things get worse quickly, call {emergency_number}." in tomas.text_of(".emergency-reminder")
    assert f"Your care team has been alerted at {CLINIC}" in tomas.text_of(".team-status")
    tomas.tab_to(f"Call {CLINIC_PHONE}", where=lambda f: f["tag"] == "a")
    tomas.check_page("contact-team")

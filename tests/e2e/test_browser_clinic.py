"""The clinic side with the keyboard alone: a clinician signs in with a two-step code, finds the emergency
alert from a check-in at the top of the alerts inbox, acknowledges it and resolves it with a note; answers
a message waiting in the messages inbox; looks at the overdue check-ins and a person's schedule. Every page
is checked with axe-core and kept as a phone-width screenshot."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser
from sqlalchemy import select
from test_browser_checkin import NAME, PERSON, send_emergency_check_in, sign_in

from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import Alert, Patient, User

CLINICIAN = "dr.okafor@demo.alscare.example"
CLINICIAN_NAME = "Dr Chidi Okafor"
QUESTION = "Could someone look at the settings of my breathing machine at the next visit?"
REPLY = "Yes: bring the machine and mask, and our respiratory physiotherapist will check it with you."

pytestmark = pytest.mark.e2e


def open_emergency_alerts(server: Server) -> int:
    """How many emergency alerts for the person are still open (straight from the server's database)."""
    engine = make_engine(f"sqlite:///{server.data_dir / 'alscare.db'}")
    try:
        with make_sessionmaker(engine)() as db:
            query = (
                select(Alert.id)
                .join(Patient, Patient.id == Alert.patient_id)
                .join(User, User.id == Patient.user_id)
                .where(User.email == PERSON, Alert.severity == "emergency", Alert.status == "open")
            )
            return len(db.execute(query).all())
    finally:
        engine.dispose()


def test_clinician_deals_with_an_alert_and_a_message(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    # The person asks a question that can wait; when this file runs on its own, they also report an
    # emergency sign (in the whole suite, the check-in test already has).
    tomas = new_person("clinic")
    sign_in(tomas, PERSON, server.password)
    if open_emergency_alerts(server) == 0:
        send_emergency_check_in(tomas)
    assert open_emergency_alerts(server) == 1
    tomas.activate("Messages")
    assert tomas.heading() == "Messages with Riverside MND Clinic"
    tomas.fill_field("Your message", QUESTION)
    tomas.activate("Send message")
    assert "Message sent." in tomas.text_of(".notice")
    tomas.check_page("person-asks")

    # --- Two-step sign-in.
    doctor = new_person("clinic")
    doctor.steps = tomas.steps  # one numbered sequence of screenshots for the flow
    doctor.open("/signin")
    doctor.fill_field("Email address", CLINICIAN)
    doctor.fill_field("Password", server.password)
    doctor.activate("Sign in")
    assert doctor.page.url == server.url("/signin/code")
    doctor.fill_field("Sign-in code", server.code_for(CLINICIAN))
    doctor.activate("Continue")
    assert doctor.page.url == server.url("/clinic")  # a clinician's home is the clinic dashboard
    assert doctor.heading() == "Clinic"
    doctor.check_page("home")

    # --- The alerts inbox: the emergency comes first.
    doctor.activate(re.compile(r"^Alerts\b"))
    assert doctor.heading() == "Alerts"
    first = doctor.page.locator("tbody tr.alert-row").first
    assert "severity-emergency" in (first.get_attribute("class") or "")
    cells = first.locator("td")
    assert cells.nth(0).inner_text().startswith("Emergency")
    assert cells.nth(1).inner_text() == NAME
    assert cells.nth(4).inner_text() == "Open"
    summary = cells.nth(2).inner_text()
    href = cells.nth(2).locator("a").get_attribute("href") or ""
    assert re.fullmatch(r"/clinic/alerts/\d+", href), href
    doctor.check_page("alerts-inbox")

    # --- Open it, acknowledge, resolve with a note.
    doctor.tab_to(where=lambda f: f["href"] == href)
    doctor.press("Enter")
    assert doctor.page.url == server.url(href)
    assert doctor.heading() == f"Emergency Alert for {NAME}"
    assert doctor.text_of(".lead") == summary
    doctor.check_page("alert-open")
    doctor.fill_field("Note (optional)", "Dr Okafor phoning Tomás now.")
    doctor.activate("Acknowledge: I am dealing with this")
    assert doctor.page.url == server.url(f"{href}?done=acknowledged")
    assert doctor.text_of(".notice") == "Alert acknowledged."
    assert f"by {CLINICIAN_NAME}" in doctor.text_of(".summary-list")
    assert doctor.page.locator("#ack_note").count() == 0  # acknowledged: only resolving is left
    doctor.check_page("alert-acknowledged")

    doctor.activate("Resolve alert")  # without saying what was done
    assert doctor.page.title().startswith("Error: ")
    error = doctor.page.locator(".error-summary a")
    assert error.count() == 1 and error.first.get_attribute("href") == "#note"
    doctor.check_page("alert-resolve-error")
    doctor.tab_to(error.first.inner_text(), where=lambda f: f["tag"] == "a")
    doctor.page.keyboard.press("Enter")
    assert doctor.focused()["id"] == "note", "the error link did not lead to the note"
    doctor.type("Phoned Tomás: breathing eased; ambulance not needed. Respiratory review booked for tomorrow.")
    doctor.activate("Resolve alert")
    assert doctor.page.url == server.url(f"{href}?done=resolved")
    assert doctor.text_of(".notice") == "Alert resolved."
    notes = doctor.text_of(".summary-list .note")
    assert "Dr Okafor phoning Tomás now." in notes and "Respiratory review booked" in notes, notes
    assert doctor.page.locator("form").filter(has=doctor.page.locator("#note")).count() == 0
    doctor.check_page("alert-resolved")
    doctor.activate("Back to all alerts")
    assert doctor.page.locator(f'a[href="{href}"]').count() == 0, "a resolved alert stays in the inbox"
    assert open_emergency_alerts(server) == 0

    # --- Messages waiting for an answer, and the conversation.
    doctor.activate(re.compile(r"^Messages\b"))
    assert doctor.page.url == server.url("/clinic/messages")
    assert doctor.heading() == "Messages waiting for an answer"
    waiting = doctor.page.locator("tbody tr", has_text=NAME)
    assert waiting.count() == 1
    doctor.check_page("messages-inbox")
    doctor.activate(NAME)
    assert doctor.heading() == f"Messages with {NAME}"
    assert QUESTION in doctor.text_of(".message-list")
    doctor.check_page("message-thread")
    doctor.fill_field("Your message", REPLY)
    doctor.activate("Send message")
    assert doctor.text_of(".notice") == "Message sent."
    last = doctor.page.locator(".message-list .message").last
    assert REPLY in last.inner_text() and "You" in last.locator(".message-meta").inner_text()
    doctor.check_page("message-answered")
    doctor.activate(re.compile(r"^Messages\b"))
    assert doctor.page.locator("tbody tr", has_text=NAME).count() == 0, "an answered conversation still waits"

    # --- Overdue check-ins, and one person's schedule.
    doctor.activate(re.compile(r"^Clinic\b"))
    doctor.activate("Overdue check-ins")
    assert doctor.heading() == "Overdue check-ins"
    rows = doctor.page.locator("tbody tr")
    assert rows.count() >= 1, "the demo has people whose check-ins are overdue"
    late_name = rows.first.locator("th").inner_text()
    assert rows.filter(has_text=NAME).filter(has_text="Symptom check-in").count() == 0, "Tomás checked in today"
    doctor.check_page("overdue")
    doctor.activate(late_name)
    assert doctor.heading() == late_name
    doctor.activate("Check-in schedule")
    assert doctor.heading() == f"Check-in schedule of {late_name}"
    assert "Due now" in doctor.text_of("table")
    doctor.check_page("schedule")
    field = doctor.tab_to("Symptom check-in: every how many days?", where=lambda f: f["tag"] == "input")
    assert field["value"].isdigit(), field
    doctor.page.keyboard.press("ControlOrMeta+A")
    doctor.type("14")
    doctor.activate("Save the schedule")
    assert doctor.text_of(".notice") == "Schedule saved."
    assert "Every 14 days" in doctor.text_of("table")
    doctor.check_page("schedule-saved")

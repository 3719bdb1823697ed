"""Rehabilitation and aids with the keyboard alone, at phone width: Mei logs an exercise session and asks her
clinic about an aid; the nurse finds the request in the clinic's list, moves it on, and looks at the list of
programmes that may have stopped and at Mei's programme with its assign form. Every page is checked with
axe-core and kept as a screenshot; the key presses of the two keyboard flows are counted and printed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser
from test_browser_checkin import sign_in

PERSON = "mei@demo.alscare.example"  # the demo gives her a programme and a request for writing aids
NAME = "Mei Chen"
NURSE = "nurse.lindqvist@demo.alscare.example"
AID = "Shower chair and bathroom aids"
NOTE = "Standing in the shower tires me out."

pytestmark = pytest.mark.e2e


def count_keys(person: KeyboardUser) -> list[str]:
    """From now on, every key the person presses or types is recorded in the returned list."""
    keyboard = person.page.keyboard
    pressed: list[str] = []
    press, type_ = keyboard.press, keyboard.type

    def counted_press(key: str, **kwargs: object) -> None:
        pressed.append(key)
        press(key, **kwargs)  # type: ignore[arg-type]

    def counted_type(text: str, **kwargs: object) -> None:
        pressed.extend(text)
        type_(text, **kwargs)  # type: ignore[arg-type]

    keyboard.press = counted_press  # type: ignore[method-assign]
    keyboard.type = counted_type  # type: ignore[method-assign]
    return pressed


def choose_option(person: KeyboardUser, label: str, typed: str, expected: str) -> None:
    """Tab to the drop-down with this label and type the start of an option, as a keyboard user does."""
    person.tab_to(label, where=lambda f: f["tag"] == "select")
    person.page.keyboard.type(typed)
    chosen = person.page.evaluate("() => document.activeElement.selectedOptions[0].textContent.trim()")
    assert chosen == expected, f"typing {typed!r} chose {chosen!r}"


def test_person_logs_a_session_and_asks_for_an_aid(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    mei = new_person("rehab")
    sign_in(mei, PERSON, server.password)

    # --- The programme: log a session done, tiring 3.
    keys = count_keys(mei)
    mei.activate("My exercise programme")
    assert mei.heading() == "Your exercise programme"
    assert "Do not wear yourself out" in mei.text_of(".rehab-caution")
    mei.check_page("programme")
    choose_option(mei, "Which exercise?", "Hand", "Hand and wrist stretch")
    assert mei.tab_to("Done", where=lambda f: f["type"] == "radio")["checked"]  # done is the default
    choose_option(mei, "How tiring was it, from 0 to 10?", "3", "3")
    mei.activate("Save the session")
    assert mei.text_of(".notice") == "Session saved. Thank you."
    latest = mei.page.locator("#recent-caption + thead + tbody tr").first.inner_text()
    assert "Hand and wrist stretch" in latest and "3 of 10" in latest and "You" in latest, latest
    print(f"\nprogramme log by keyboard: {len(keys)} key presses ({keys.count('Tab')} Tab)")
    mei.check_page("programme-logged")

    # --- Aids: from home, ask the clinic about an aid with a note.
    mei.open("/home")
    keys.clear()
    mei.activate("Aids worth asking about")
    assert mei.heading() == "Aids worth asking about"
    assert "Ordered" in mei.text_of("#requests ~ .card-list")  # the demo's request for writing aids
    mei.check_page("aids")
    # One press on a suggestion: the first aid worth asking about that has no request yet.
    button = mei.tab_to(re.compile("^Ask the clinic about "), where=lambda f: f["tag"] == "button")
    asked_for = button["name"].removeprefix("Ask the clinic about ")
    mei.press("Enter")
    assert mei.text_of(".notice").startswith("Your request was sent to the clinic.")
    newest = mei.page.locator("#requests ~ .card-list > li").first.inner_text()
    assert asked_for in newest.lower() and "Asked for" in newest, newest
    print(f"aid request from a suggestion by keyboard: {len(keys)} key presses ({keys.count('Tab')} Tab)")
    mei.check_page("aid-requested-one-press")

    # With a note, for an aid that is not suggested.
    keys.clear()
    choose_option(mei, "Which aid?", "Shower", AID)
    mei.fill_field("Your note (optional)", NOTE)
    mei.activate("Send the request")
    assert mei.text_of(".notice").startswith("Your request was sent to the clinic.")
    card = mei.page.locator("#requests ~ .card-list > li").first
    assert AID in card.inner_text() and "Asked for" in card.inner_text() and NOTE in card.inner_text()
    print(f"aid request with a note by keyboard: {len(keys)} key presses ({keys.count('Tab')} Tab)")
    mei.check_page("aid-requested")

    # --- The nurse: open requests, move the new one on, stopped programmes, Mei's programme.
    nurse = new_person("rehab")
    nurse.steps = mei.steps
    nurse.open("/signin")
    nurse.fill_field("Email address", NURSE)
    nurse.fill_field("Password", server.password)
    nurse.activate("Sign in")
    nurse.fill_field("Sign-in code", server.code_for(NURSE))
    nurse.activate("Continue")
    assert nurse.page.url == server.url("/clinic")
    nurse.activate("Open requests for aids")
    assert nurse.heading() == "Open requests for aids"
    row = nurse.page.locator("tbody tr", has_text=AID)
    assert row.count() == 1 and NAME in row.inner_text()
    nurse.check_page("clinic-aid-requests")
    nurse.activate(re.compile(f"^{re.escape(AID)} for {NAME}$"))
    assert nurse.heading() == f"Aids and equipment for {NAME}"
    assert nurse.page.locator(".aid-why").count() >= 1  # clinicians see why each aid is suggested
    nurse.check_page("clinic-aids-record")
    choose_option(nurse, f"New status: {AID}", "Assessed", "Assessed")
    nurse.activate(f"Save status: {AID}")
    assert nurse.text_of(".notice").startswith("Status saved.")
    nurse.check_page("clinic-aid-assessed")

    nurse.open("/home")
    nurse.activate("Exercise programmes that may have stopped")
    assert nurse.heading() == "Exercise programmes that may have stopped"
    assert "Kwame Mensah" in nurse.text_of("tbody")  # the demo's programme gone quiet
    nurse.check_page("clinic-programmes-stopped")
    nurse.open(mei.page.url.split("/aids")[0] + "/programme")
    assert nurse.heading() == f"Exercise programme of {NAME}"
    assert nurse.page.locator("#assign").count() == 1
    nurse.check_page("clinic-programme")

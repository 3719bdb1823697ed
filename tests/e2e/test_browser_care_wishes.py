"""Care wishes with the keyboard alone, at phone width: Amira (demo: two versions, the second written by her
son Yusuf as her proxy) opens her wishes from home, changes one answer by keyboard (few key presses: the
form keeps every other answer), sees the new version, the history, what changed, an old version, notes a
talk with her care team, and opens the emergency card sized for a phone's lock screen. Every page is checked
with axe-core (WCAG 2.2 A/AA) and kept as a 390 px screenshot; the key presses of the edit are counted and
printed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from app_server import Server
from keyboard import KeyboardUser

pytestmark = pytest.mark.e2e

PERSON = "amira@demo.alscare.example"


class KeyCount:
    """Counts the keys the test presses: one per press, one per character typed."""

    def __init__(self, person: KeyboardUser) -> None:
        self.count = 0
        keyboard: Any = person.page.keyboard
        press, type_ = keyboard.press, keyboard.type

        def counted_press(key: str, **kwargs: Any) -> None:
            self.count += 1
            press(key, **kwargs)

        def counted_type(text: str, **kwargs: Any) -> None:
            self.count += len(text)
            type_(text, **kwargs)

        keyboard.press = counted_press
        keyboard.type = counted_type


def sign_in(person: KeyboardUser, email: str, password: str) -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")
    assert person.page.url.endswith("/home"), person.page.url


def test_care_wishes_with_the_keyboard_alone(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    amira = new_person("care-wishes")
    sign_in(amira, PERSON, server.password)
    keys = KeyCount(amira)

    # --- From home to the wishes: the latest version, written by her proxy for her.
    amira.activate("My care wishes")
    assert re.search(r"/patients/\d+/care-wishes$", amira.page.url), amira.page.url
    assert amira.heading() == "My care wishes"
    main = amira.text_of("main")
    assert "You can change your mind at any time." in main
    assert "Version 2, written by Yusuf Haddad for Amira Haddad, as their proxy, on" in main
    amira.check_page("view")
    base = amira.page.url

    # --- Change one answer: jump to "Going to hospital", choose "No" with the arrow keys, save.
    start = keys.count
    amira.activate("Change my care wishes")
    assert amira.heading() == "Change my care wishes"
    amira.check_page("edit")
    amira.tab_to("Skip to main content", max_tabs=1)
    amira.page.keyboard.press("Enter")
    amira.tab_to("Going to hospital", where=lambda f: f["tag"] == "a")
    amira.page.keyboard.press("Enter")  # a link within the page: focus moves to that part of the form
    radio = amira.tab_to(where=lambda f: f["type"] == "radio", max_tabs=1)
    assert radio["name"] == "No answer" and radio["checked"], radio
    for _ in range(3):
        amira.page.keyboard.press("ArrowUp")
    chosen = amira.focused()
    assert (chosen["name"], chosen["checked"]) == ("No", True), chosen
    amira.activate("Save my care wishes", max_tabs=3)
    edit_keys = keys.count - start
    print(f"\ncare-wishes edit by keyboard: {edit_keys} key presses (open the form, change one answer, save)")
    assert amira.page.url == base + "?done=saved", amira.text_of("main")[:600]
    assert "Your care wishes are saved as a new version." in amira.text_of(".notice")
    main = amira.text_of("main")
    assert "Version 3, written by Amira Haddad on" in main
    assert "Do you want to go to hospital if you get very ill?\nNo" in main
    assert "I use a speech app on my tablet." in main, "an unchanged section lost its answer"
    amira.check_page("saved")
    assert edit_keys <= 40, f"{edit_keys} key presses to change one answer"

    # --- What changed, the history, an old version.
    amira.activate("What changed last time")
    assert amira.heading() == "Care wishes: what changed"
    changed = amira.text_of("main")
    assert "From version 2 to version 3." in changed and "Going to hospital (new)" in changed
    amira.check_page("compare")
    amira.activate("All versions")
    assert amira.heading() == "Care wishes: all versions"
    assert amira.page.locator(".cw-versions > li").count() == 3
    amira.check_page("history")
    amira.activate("Version 1")
    assert amira.heading() == "Care wishes: version 1"
    assert "This is an old version: the latest is version 3." in amira.text_of("main")
    amira.check_page("old-version")

    # --- "Discussed with" a named clinician, on today's date (already filled in).
    amira.activate("I have talked version 1 over")
    assert amira.heading() == "Note a talk about version 1"
    amira.check_page("discussed-form")
    radio = amira.tab_to(where=lambda f: f["type"] == "radio")
    assert radio["name"] == "Family or friends" and radio["checked"]
    amira.page.keyboard.press("ArrowDown")
    assert amira.focused()["name"] == "A member of my care team"
    amira.fill_field("Their name", "Elin Lindqvist")
    amira.activate("Save this note")
    assert "We have noted that you talked about these wishes." in amira.text_of(".notice")

    # --- The emergency card, one phone screen.
    amira.activate("Emergency card")
    assert amira.heading() == "Emergency card: Amira Haddad"
    card = amira.text_of("main")
    for said in ("I have ALS, also called motor neurone disease (MND).", "Oxygen: give only with great care.",
                 "CPR\nNo", "Hospital\nNo", "Yusuf Haddad (my son), 07700 900318",
                 "Feeding tube in place"):  # fmt: skip
        assert said in card, (said, card)
    amira.check_page("emergency-card")
    height = amira.page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= 844, f"the card is {height}px tall: more than one phone screen"

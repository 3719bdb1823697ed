"""Switch scanning and read-aloud (issue 7, items 2 and 3), in a real browser.

With one switch (mapped to Space), the controls light up in turn and a press chooses the lit one; with two
(Space moves the light, Enter chooses). The three journeys of test_browser_checkin_steps.py are done again
by switch from the home page, and the switch presses are printed. Read-aloud is tested with the page's
``speechSynthesis`` replaced by a stub that records what it was asked to say.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from demo_state import clear_check_in_drafts, set_reading
from keyboard import KeyboardUser
from playwright.sync_api import Page

from alscare.clinical.alsfrs_r import item

pytestmark = pytest.mark.e2e

LIT_TIMEOUT_MS = 30_000
SPEECH_STUB = """
window.__said = [];
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
  speak: u => window.__said.push(u.text), cancel: () => {}, speaking: false, pending: false,
  getVoices: () => [], addEventListener: () => {}}});
"""


def sign_in(person: KeyboardUser, email: str, password: str) -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")
    assert person.page.url.endswith("/home"), person.page.url


class OneSwitch:
    """One switch: wait for the wanted control to light up, then press. Counts the presses."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.presses = 0

    def choose(self, selector: str, *, navigates: bool = False) -> None:
        self.page.wait_for_selector(f"{selector}.scan-lit", timeout=LIT_TIMEOUT_MS)
        self.presses += 1
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press("Space")
        else:
            self.page.keyboard.press("Space")


class TwoSwitches:
    """Two switches: Space moves the light on, Enter chooses. Counts both."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.presses = 0

    def choose(self, selector: str, *, navigates: bool = False) -> None:
        for _ in range(200):
            if self.page.locator(f"{selector}.scan-lit").count():
                break
            self.page.keyboard.press("Space")
            self.presses += 1
        else:
            raise AssertionError(f"{selector} never lit")
        self.presses += 1
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press("Enter")
        else:
            self.page.keyboard.press("Enter")


def emergency_journey(switch: OneSwitch | TwoSwitches) -> None:
    switch.choose('nav a[href="/check-in"]', navigates=True)
    switch.choose('label[for="breathing_sudden_trouble"]')
    assert switch.page.is_checked("#breathing_sudden_trouble")
    switch.choose('button[value="next"]', navigates=True)
    assert re.search(r"/patients/\d+/check-ins/\d+$", switch.page.url), switch.page.url
    assert switch.page.title().startswith("Call the emergency number now")


@pytest.mark.parametrize("switches", ["one", "two"])
def test_emergency_report_by_switch(server: Server, new_person: Callable[[str], KeyboardUser], switches: str) -> None:
    email = "kwame@demo.alscare.example"
    clear_check_in_drafts(server, email)  # an earlier test may have left Kwame's check-in at a later step
    set_reading(server, email, scanning=switches)
    try:
        kwame = new_person(f"switch-{switches}-emergency")
        sign_in(kwame, email, server.password)
        switch = OneSwitch(kwame.page) if switches == "one" else TwoSwitches(kwame.page)
        emergency_journey(switch)
        kwame.check_page("emergency")
        print(
            f"\nswitch presses ({switches} switch{'es' if switches == 'two' else ''}), emergency report: "
            f"{switch.presses}"
        )
    finally:
        set_reading(server, email)  # scanning off again, whatever happened: later tests press Space and Enter


def test_nothing_has_changed_check_in_by_one_switch(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    email = "tomas@demo.alscare.example"
    tomas = new_person("switch-one-nothing-changed")
    sign_in(tomas, email, server.password)
    # Last time (by keyboard, not counted): cramps, on the one-page form.
    tomas.activate("Check in")
    tomas.activate("Answer all the questions on one page instead")
    tomas.tick("Cramps")
    tomas.activate("Send check-in")
    set_reading(server, email, scanning="one")
    try:
        tomas.open("/home")
        switch = OneSwitch(tomas.page)
        switch.choose('nav a[href="/check-in"]', navigates=True)
        assert tomas.page.url.endswith("/check-in/steps"), tomas.page.url
        tomas.check_page("now-scanning")
        switch.choose('button[value="same_rest"]', navigates=True)
        assert re.search(r"/patients/\d+/check-ins/\d+$", tomas.page.url), tomas.page.url
        print(f"\nswitch presses (one switch), 'nothing has changed' check-in: {switch.presses}")
    finally:
        set_reading(server, email)


def test_full_alsfrs_r_by_one_switch(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    # Sione: no clinic and no feeding tube. Every answer is "normal" (48/48), so not Mei, whose aid
    # suggestions (tests/e2e/test_browser_rehabilitation.py) come from her latest scores on the shared server.
    email = "sione@demo.alscare.example"
    set_reading(server, email, scanning="one")
    try:
        alsfrs_by_one_switch(server, new_person, email)
    finally:
        set_reading(server, email)


def alsfrs_by_one_switch(server: Server, new_person: Callable[[str], KeyboardUser], email: str) -> None:
    mei = new_person("switch-one-alsfrs")
    sign_in(mei, email, server.password)
    switch = OneSwitch(mei.page)
    switch.choose('main a[href$="/alsfrs-r/new"]', navigates=True)
    if not mei.page.is_checked("#gastrostomy-no"):
        switch.choose('label[for="gastrostomy-no"]')
    switch.choose("main form button", navigates=True)
    asked = 0
    while "/items/" in mei.page.url:
        n = int(mei.page.url.rsplit("/", 1)[1])
        assert mei.heading() == item(("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")[n - 1]).question
        switch.choose('label[for="answer-4"]')
        switch.choose('button[value="next"]', navigates=True)
        asked += 1
    assert asked == 12 and mei.page.url.endswith("/review"), mei.page.url
    switch.choose("main form button", navigates=True)
    assert mei.page.url.endswith("/done"), mei.page.url
    assert "48 out of 48" in mei.text_of(".alsfrs-total")
    print(f"\nswitch presses (one switch), full ALSFRS-R: {switch.presses}")


def test_read_aloud_says_the_question_and_answers(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    email = "sione@demo.alscare.example"
    sione = new_person("read-aloud")
    sione.page.add_init_script(SPEECH_STUB)
    sign_in(sione, email, server.password)
    sione.activate("Check in")
    said = sione.page.evaluate("window.__said")
    assert said == [], "nothing is read aloud unless asked, with the setting off"
    # One key: R reads the question and every answer, numbered as the number keys choose them.
    sione.page.keyboard.press("r")
    (spoken,) = sione.page.evaluate("window.__said")
    assert spoken.startswith("Right now, do you have any of these?. 1. Suddenly having trouble breathing. 2. ")
    assert "7. Breathless while resting" in spoken
    # The Read aloud button does the same; it is after the step's own buttons, so it costs no key presses.
    buttons = sione.page.locator("form .actions button")
    assert buttons.last.inner_text() == "Read aloud"
    buttons.last.click()
    assert len(sione.page.evaluate("window.__said")) == 2
    sione.check_page("now-read-aloud-button")
    # With the setting on, each question is read as it opens; when scanning, each lit control as it lights.
    set_reading(server, email, read_aloud=True)
    sione.page.reload()
    assert sione.page.evaluate("window.__said")[0].startswith("Right now, do you have any of these?")
    set_reading(server, email, scanning="one", read_aloud=True)
    sione.page.reload()
    for _ in range(100):  # (wait_for_function evaluates a string, which the page's CSP refuses)
        if sione.page.evaluate("window.__said.length") >= 2:
            break
        sione.page.wait_for_timeout(100)
    assert sione.page.evaluate("window.__said")[:2] == [
        "Suddenly having trouble breathing",
        "Choking that does not clear (cannot speak or cough)",
    ]
    set_reading(server, email)

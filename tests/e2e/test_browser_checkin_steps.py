"""The stepped check-in and the ALSFRS-R with the keyboard alone, counting key presses (issue 7).

From the person's home page, using only Tab, Shift+Tab, the arrows, Space and Enter: an emergency report
("suddenly having trouble breathing") reaches the emergency screen in at most 12 presses; a "nothing has
changed" check-in is sent in at most 20; the full ALSFRS-R in at most 60. Each count is printed. A session
that ends in the middle of a check-in loses nothing. Every step page is checked with axe-core and kept as a
phone-width screenshot (and one in forced colours).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from app_server import Server
from demo_state import clear_check_in_drafts
from keyboard import SCREENSHOTS, KeyboardUser
from sqlalchemy import select, update

from alscare.actions.alsfrs_drafts import draft_item_ids
from alscare.clinical.alsfrs_r import item
from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import User, WebSession

pytestmark = pytest.mark.e2e

ALLOWED_KEYS = {"Tab", "Shift+Tab", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Space", "Enter"}


class CountingKeyboard:
    """The page's keyboard, counting every key pressed and refusing any key the journeys may not use."""

    def __init__(self, keyboard: Any) -> None:
        self._keyboard = keyboard
        self.presses: list[str] = []
        self.counting = False

    def press(self, key: str, **kwargs: Any) -> None:
        if self.counting:
            assert key in ALLOWED_KEYS, f"{key} is not one of the keys the journey may use"
            self.presses.append(key)
        self._keyboard.press(key, **kwargs)

    def type(self, text: str, **kwargs: Any) -> None:
        assert not self.counting, "the journey may not type"
        self._keyboard.type(text, **kwargs)


class CountingPage:
    """A Playwright page whose keyboard counts; everything else is the page itself."""

    def __init__(self, page: Any) -> None:
        self._page = page
        self.keyboard = CountingKeyboard(page.keyboard)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._page, name)


def counting(person: KeyboardUser) -> CountingKeyboard:
    page = CountingPage(person.page)
    person.page = page  # type: ignore[assignment]
    return page.keyboard


def sign_in(person: KeyboardUser, email: str, password: str, *, lands: str = "/home") -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")
    assert person.page.url.endswith(lands), person.page.url


def forced_colours_shot(person: KeyboardUser, name: str) -> None:
    person.page.emulate_media(forced_colors="active")
    person.page.screenshot(path=str(SCREENSHOTS / f"{person.flow}-forced-colours-{name}.png"), full_page=True)
    person.page.emulate_media(forced_colors="none")


def expire_sessions_of(server: Server, email: str) -> None:
    """The person's session ends a minute ago (its hours ran out), without their browser knowing."""
    engine = make_engine(f"sqlite:///{server.data_dir / 'alscare.db'}")
    with make_sessionmaker(engine)() as db:
        user_id = db.execute(select(User.id).where(User.email == email)).scalar_one()
        db.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.commit()
    engine.dispose()


def go_to_check_in(person: KeyboardUser) -> None:
    person.activate("Check in")
    assert re.search(r"/patients/\d+/check-in/steps", person.page.url), person.page.url
    assert person.heading() == "Right now, do you have any of these?"
    assert person.focused()["id"] == "question", "focus did not move to the question"


def test_emergency_report_reaches_the_emergency_screen_in_at_most_12_presses(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    kwame = new_person("steps-emergency")
    sign_in(kwame, "kwame@demo.alscare.example", server.password)
    keys = counting(kwame)
    keys.counting = True
    go_to_check_in(kwame)
    kwame.check_page("now")
    forced_colours_shot(kwame, "now")
    kwame.tick("Suddenly having trouble breathing")
    kwame.press("Enter")  # Enter on the ticked box sends the step
    keys.counting = False
    assert re.search(r"/patients/\d+/check-ins/\d+$", kwame.page.url), kwame.page.url
    assert kwame.page.title().startswith("Call the emergency number now")
    kwame.check_page("emergency")
    print(f"\nkey presses, emergency report from home to the emergency screen: {len(keys.presses)} ({keys.presses})")
    assert len(keys.presses) <= 12


def test_nothing_has_changed_check_in_is_sent_in_at_most_20_presses(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    sione = new_person("steps-nothing-changed")
    sign_in(sione, "sione@demo.alscare.example", server.password)
    # Last time (not counted): cramps, on the one-page form.
    go_to_check_in(sione)
    sione.activate("Answer all the questions on one page instead")
    sione.tick("Cramps")
    sione.activate("Send check-in")
    sione.open("/home")
    keys = counting(sione)
    keys.counting = True
    go_to_check_in(sione)
    sione.activate("None of these, and nothing else has changed: send")
    keys.counting = False
    assert re.search(r"/patients/\d+/check-ins/\d+$", sione.page.url), sione.page.url
    assert sione.heading() in ("Thank you for checking in", "Contact your care team today"), sione.heading()
    sione.check_page("sent")
    sione.tab_to("What was reported", where=lambda f: f["tag"] == "summary")
    sione.page.keyboard.press("Enter")
    assert "Cramps" in sione.text_of(".reported .summary-list")  # carried over from last time
    print(f"\nkey presses, 'nothing has changed' check-in from home to sent: {len(keys.presses)}")
    assert len(keys.presses) <= 20


def test_every_step_by_keyboard_and_a_session_that_ends_loses_nothing(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    email = "amira@demo.alscare.example"
    amira = new_person("steps-all")
    sign_in(amira, email, server.password)
    go_to_check_in(amira)
    amira.activate("Send")  # none of the emergency signs
    # Step 2: focus is on the question; the arrow keys move between the boxes, a number key ticks one.
    assert amira.heading() == "Since your last check-in, have you had any of these?"
    assert amira.focused()["id"] == "question"
    amira.page.keyboard.press("Tab")
    assert amira.focused()["id"] == "orthopnea"
    amira.page.keyboard.press("ArrowDown")
    assert amira.focused()["id"] == "morning_headache"
    amira.page.keyboard.press("3")
    assert (amira.focused()["id"], amira.focused()["checked"]) == ("daytime_sleepiness", True)
    amira.check_page("breathing")
    forced_colours_shot(amira, "breathing")
    amira.activate("Next")
    # Step 3: a weight out of range is asked again, naming the field and giving an example.
    amira.fill_field("Weight today (kg)", "0.5")
    amira.activate("Next")
    message = amira.text_of(".error-summary a")
    assert message == "Weight today (kg): enter a number from 20 to 300 kg, for example 68.5.", message
    amira.check_page("eating-error")
    amira.tab_to(message, where=lambda f: f["tag"] == "a")
    amira.page.keyboard.press("Enter")
    assert amira.focused()["id"] == "weight_kg"
    amira.page.keyboard.press("ControlOrMeta+A")
    amira.type("61.5")
    amira.tick("Drooling")
    # The session ends before Next is pressed: signing in again brings back the step with what was typed.
    expire_sessions_of(server, email)
    amira.activate("Next")
    assert "/signin" in amira.page.url, amira.page.url
    amira.fill_field("Email address", email)
    amira.fill_field("Password", server.password)
    amira.activate("Sign in")
    assert amira.page.url.endswith("/check-in/steps/eating"), amira.page.url
    assert amira.page.input_value("#weight_kg") == "61.5"
    assert amira.page.is_checked("#drooling")
    assert amira.text_of(".notice") == "Welcome back. Your answers so far are kept."
    amira.check_page("eating-resumed")
    amira.activate("Next")
    # The rest: every step page passes axe; the body map, measurements, medicines and question pages too.
    for expected in ("infection", "mood", "other", "body", "measurements", "medicines"):
        assert amira.page.url.endswith(f"/steps/{expected}"), amira.page.url
        assert amira.focused()["id"] == "question"
        amira.check_page(expected)
        amira.activate("Skip this question")
    assert amira.page.url.endswith("/steps/question")
    amira.check_page("question")
    forced_colours_shot(amira, "question")
    amira.activate("Send check-in")
    assert re.search(r"/patients/\d+/check-ins/\d+$", amira.page.url), amira.page.url
    amira.tab_to("What was reported", where=lambda f: f["tag"] == "summary")
    amira.page.keyboard.press("Enter")
    reported = amira.text_of(".reported .summary-list")
    for said in ("Sleepy during the day", "Drooling", "61.5 kg"):
        assert said in reported, reported


def test_full_alsfrs_r_in_at_most_60_presses(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    """Every answer 4 except one 3: Tab into the answers, Space (or an arrow), Enter sends each question."""
    sione = new_person("steps-alsfrs")
    sign_in(sione, "sione@demo.alscare.example", server.password)
    keys = counting(sione)
    keys.counting = True
    sione.activate("Fill in the ALSFRS-R")
    assert sione.heading() == "Your daily activities"
    assert sione.focused()["id"] == "question"
    tube = sione.tab_to(where=lambda f: f["id"].startswith("gastrostomy-"))
    if not tube["checked"]:
        sione.page.keyboard.press("ArrowRight")  # "No"
    sione.press("Enter")  # Enter on the chosen answer starts
    asked = 0
    while "/items/" in sione.page.url:
        n = int(sione.page.url.rsplit("/", 1)[1])
        it = item(draft_item_ids(gastrostomy=False)[n - 1])
        assert sione.heading() == it.question
        assert sione.focused()["id"] == "question", "focus did not move to the question"
        first = sione.tab_to(where=lambda f: f["type"] == "radio", max_tabs=1)
        assert first["id"] == "answer-4", first
        sione.page.keyboard.press("ArrowDown" if n == 9 else "Space")
        sione.press("Enter")
        asked += 1
    assert asked == 12
    assert sione.page.url.endswith("/review"), sione.page.url
    sione.activate("Send the answers")
    keys.counting = False
    assert sione.page.url.endswith("/done"), sione.page.url
    assert sione.text_of(".alsfrs-total") == "Total today: 47 out of 48"
    print(f"\nkey presses, full ALSFRS-R from home to the result: {len(keys.presses)} ({keys.presses})")
    assert len(keys.presses) <= 60


# Every control a person presses on these pages: buttons, answers (the whole label is the target), fields.
_TARGETS = """() => [...document.querySelectorAll('main button, main .answer-option, main input:not([type=hidden]), '
  + 'main textarea, .skip-link')]
  .filter(el => !(el.tagName === 'INPUT' && el.closest('.answer-option')))
  .map(el => { const r = el.getBoundingClientRect();
    return {what: el.tagName + '#' + el.id + ' ' + (el.textContent || '').trim().slice(0, 40),
            w: r.width, h: r.height, shown: !el.classList.contains('skip-link')}; })
  .filter(t => t.shown)"""


def small_targets(person: KeyboardUser) -> list[str]:
    targets = person.page.evaluate(_TARGETS)
    assert targets, "no targets measured"
    return [f"{t['what']} {t['w']:.0f}x{t['h']:.0f}" for t in targets if t["w"] < 44 or t["h"] < 44]


def test_step_pages_with_largest_text_and_high_contrast(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    """axe, no sideways scroll and targets of at least 44 x 44 px, with the person's own settings on."""
    yusuf = new_person("steps-settings")
    sign_in(yusuf, "kwame@demo.alscare.example", server.password)
    yusuf.open("/account/reading")
    yusuf.tab_to("Normal", where=lambda f: f["type"] == "radio")
    for _ in range(3):
        yusuf.page.keyboard.press("ArrowDown")  # to "Largest", chosen as focus moves
    assert yusuf.focused()["name"] == "Largest (twice the normal size)" and yusuf.focused()["checked"]
    yusuf.tick("High contrast: black and white, with thick outlines")
    yusuf.activate("Save settings")
    assert "text-200" in (yusuf.page.get_attribute("html", "class") or "")
    assert "high-contrast" in (yusuf.page.get_attribute("html", "class") or "")
    yusuf.check_page("settings-saved")
    go_to_check_in(yusuf)
    assert small_targets(yusuf) == []
    yusuf.check_page("now-largest-high-contrast")
    forced_colours_shot(yusuf, "now-largest-high-contrast")
    yusuf.activate("Send")
    assert small_targets(yusuf) == []
    yusuf.check_page("breathing-largest-high-contrast")
    yusuf.open("/account/reading")
    yusuf.tab_to("Largest (twice the normal size)", where=lambda f: f["type"] == "radio")
    for _ in range(3):
        yusuf.page.keyboard.press("ArrowUp")
    yusuf.tab_to("High contrast: black and white, with thick outlines", where=lambda f: f["type"] == "checkbox")
    yusuf.page.keyboard.press("Space")
    yusuf.activate("Save settings")
    assert not yusuf.page.get_attribute("html", "class")
    clear_check_in_drafts(server, "kwame@demo.alscare.example")  # "Send" above left a draft at step two

"""The carer's weekly check in a real browser: the form and the result with its suggestions and the question
whether to tell the care team pass axe-core at 390 px and do not scroll sideways; the answers are given with
the keyboard alone (Tab to the group, arrows within it), and the key presses are printed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

pytestmark = pytest.mark.e2e

CARER = "rosa@demo.alscare.example"


def test_a_carer_answers_the_weekly_check_with_the_keyboard(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    rosa = new_person("carer-check")
    rosa.open("/signin")
    rosa.fill_field("Email address", CARER)
    rosa.fill_field("Password", server.password)
    rosa.activate("Sign in")
    rosa.check_page("home")
    presses = 0
    press = rosa.page.keyboard.press

    def counted(key: str, **kwargs: object) -> None:
        nonlocal presses
        presses += 1
        press(key, **kwargs)  # type: ignore[arg-type]

    rosa.page.keyboard.press = counted  # type: ignore[method-assign]
    before = len(rosa.steps)
    rosa.activate("How are you doing?")
    assert rosa.heading() == "How are you doing?"
    rosa.check_page("form")
    # Each question: Tab to its group (focus lands on the first answer), ArrowDown three times to the last.
    for question in ("sleep", "strain", "support", "own_time", "coping"):
        rosa.tab_to(where=lambda f, q=question: f["type"] == "radio" and f["id"].startswith(q + "-"))
        for _ in range(3):
            rosa.page.keyboard.press("ArrowDown")
    rosa.tab_to("Send my answers")
    rosa.press("Enter")
    assert rosa.page.url.endswith("/carer-check/result")
    assert "Do you want the care team to know?" in rosa.text_of("main")
    assert "respite care" in rosa.text_of("main")
    rosa.check_page("result-cannot-cope")
    rosa.activate("Yes, tell the care team")
    assert "We have told the care team at Riverside MND Clinic." in rosa.text_of("main")
    rosa.check_page("team-told")
    print(f"\ncarer check: {presses} key presses from home to the team told ({len(rosa.steps) - before} pages)")

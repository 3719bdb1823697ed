"""The ALSFRS-R self-report with the keyboard alone: from home, through the start screen and twelve
questions (answered with the arrow keys and Space), back once to check an answer is kept, the review, and
the result with its total. Every screen is checked with axe-core and kept as a phone-width screenshot."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

from alscare.actions.alsfrs_drafts import draft_item_ids
from alscare.clinical.alsfrs_r import item

PERSON = "mei@demo.alscare.example"  # a person with ALS in the demo, at the clinic, with no feeding tube
NAME = "Mei Chen"
ITEM_IDS = draft_item_ids(gastrostomy=False)  # 1, 2, 3, 4, 5a, 6 … 12
# Mei's answers today (upper-limb onset, slowly progressing): every score from 4 down to 1 is used.
ANSWERS = {"1": 4, "2": 4, "3": 4, "4": 1, "5a": 2, "6": 3, "7": 3, "8": 4, "9": 3, "10": 4, "11": 4, "12": 4}
TOTAL = sum(ANSWERS.values())  # 40
BACK_FROM = 6  # on question 6 the person goes Back once, to question 5

pytestmark = pytest.mark.e2e


def sign_in(person: KeyboardUser, email: str, password: str) -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")
    assert person.page.url.endswith("/home"), person.page.url


def tab_into_answers(person: KeyboardUser) -> dict[str, object]:
    """Tab to the radio group: focus lands on the chosen answer, or on the first when none is chosen."""
    return person.tab_to(where=lambda f: f["type"] == "radio")


def choose(person: KeyboardUser, score: int) -> None:
    """With focus on the first answer (score 4, none chosen yet), choose ``score`` from the keyboard:
    Space chooses the focused answer; each Down arrow moves to the next answer and chooses it."""
    first = person.focused()
    assert (first["id"], first["checked"]) == ("answer-4", False), f"expected the first, unchosen answer: {first}"
    if score == 4:
        person.page.keyboard.press("Space")
    for _ in range(4 - score):
        person.page.keyboard.press("ArrowDown")
    now = person.focused()
    assert (now["value"], now["checked"]) == (str(score), True), f"wanted {score} chosen, focus is on {now}"


def test_alsfrs_self_report_with_the_keyboard_alone(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    mei = new_person("alsfrs")
    sign_in(mei, PERSON, server.password)
    assert mei.heading() == f"Hello, {NAME}"
    mei.check_page("home")

    # --- Start: who is answering (already "I am answering for myself"), and the feeding tube question.
    mei.activate("Fill in the ALSFRS-R")
    assert mei.heading() == "Your daily activities"
    mei.check_page("start")
    mode = tab_into_answers(mei)
    assert (mode["id"], mode["checked"]) == ("mode-self_report", True), mode
    tube = mei.tab_to(where=lambda f: True, max_tabs=1)  # Tab leaves the group for the next one
    assert (tube["id"], tube["checked"]) == ("gastrostomy-yes", False), tube
    mei.page.keyboard.press("ArrowRight")  # "No", chosen as focus moves to it
    assert (mei.focused()["id"], mei.focused()["checked"]) == ("gastrostomy-no", True)
    mei.check_page("start-answered")
    mei.activate("Start")

    # --- Twelve questions, one per screen.
    n = 1
    while n <= len(ITEM_IDS):
        it = item(ITEM_IDS[n - 1])
        assert re.search(rf"/alsfrs-r/drafts/\d+/items/{n}$", mei.page.url), mei.page.url
        assert mei.heading() == it.question
        assert mei.text_of(".alsfrs-progress label") == f"Question {n} of 12"
        tab_into_answers(mei)
        choose(mei, ANSWERS[it.id])
        mei.check_page(f"question-{n:02d}")
        if n == BACK_FROM:
            # Back saves this answer too, and shows question 5 again with its answer still chosen.
            mei.activate("Back")
            assert mei.page.url.endswith(f"/items/{n - 1}"), mei.page.url
            kept = tab_into_answers(mei)
            assert kept["checked"] and kept["value"] == str(ANSWERS[ITEM_IDS[n - 2]]), kept
            mei.check_page(f"question-{n - 1:02d}-kept")
            mei.activate("Next")
            kept = tab_into_answers(mei)
            assert kept["checked"] and kept["value"] == str(ANSWERS[it.id]), kept
        last = n == len(ITEM_IDS)
        mei.activate("Next: check the answers" if last else "Next")
        n += 1

    # --- Review: every answer in words, then send.
    assert mei.page.url.endswith("/review"), mei.page.url
    assert mei.heading() == "Check the answers"
    rows = mei.page.locator(".check-row")
    assert rows.count() == 2 + len(ITEM_IDS)
    assert "Answered by the person themselves" in rows.nth(0).inner_text()
    assert rows.nth(1).locator("dd").first.inner_text() == "No"
    for n, item_id in enumerate(ITEM_IDS, start=1):
        it = item(item_id)
        row = rows.nth(n + 1)
        assert row.locator("dt").inner_text() == f"{n}. {it.name}"
        wanted = next(o.label for o in it.options if o.score == ANSWERS[item_id])
        assert row.locator("dd").first.inner_text() == wanted, (n, row.inner_text())
    mei.check_page("review")
    mei.activate("Send the answers")

    # --- Done: the total.
    assert mei.page.url.endswith("/done"), mei.page.url
    assert mei.heading() == "Thank you: the answers are saved"
    assert mei.text_of(".alsfrs-total") == f"Total today: {TOTAL} out of 48"
    mei.check_page("done")

"""Signing in and out with the keyboard alone, and recovering from an empty sign-in form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

PERSON = "mei@demo.alscare.example"  # a person with ALS in the demo, at the clinic
NAME = "Mei Chen"

pytestmark = pytest.mark.e2e


def test_sign_in_and_out(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    mei = new_person("signin")
    mei.open("/signin")
    mei.check_page("signin-page")

    # The first Tab stop is the skip link; it moves focus past the header to the main content.
    first = mei.tab_to(where=lambda f: True, max_tabs=1)
    assert (first["tag"], first["name"]) == ("a", "Skip to main content")
    mei.page.keyboard.press("Enter")
    assert mei.focused()["id"] == "main"
    after_skip = mei.tab_to(where=lambda f: True, max_tabs=1)
    assert after_skip["id"] == "email", f"after the skip link, Tab went to {after_skip}"

    mei.type(PERSON)
    mei.fill_field("Password", server.password)
    mei.activate("Sign in")
    assert mei.page.url == server.url("/home")
    assert mei.heading() == f"Hello, {NAME}"
    mei.check_page("home")

    mei.activate("Sign out")
    assert mei.page.url == server.url("/signin?signed_out=1")
    assert "You have signed out." in mei.text_of(".notice")
    mei.check_page("signed-out")

    mei.open("/home")  # the session is gone: home sends the person back to sign in
    assert mei.page.url == server.url("/signin")


def test_empty_sign_in_shows_errors_that_lead_to_the_fields(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    mei = new_person("signin-errors")
    mei.open("/signin")
    mei.activate("Sign in")  # past the empty email and password fields

    assert mei.page.title().startswith("Error: ")
    summary = mei.page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert summary.locator("a").all_inner_texts() == ["Enter your email address.", "Enter your password."]
    assert mei.page.get_attribute("#email", "aria-invalid") == "true"
    assert "email-error" in (mei.page.get_attribute("#email", "aria-describedby") or "")
    mei.check_page("empty-form-errors")

    # From the top of the page, the error summary's links come straight after the header (skip link, home, Learn).
    mei.tab_to("Enter your email address.", max_tabs=4)
    mei.page.keyboard.press("Enter")
    assert mei.focused()["id"] == "email", "the error link did not move focus to the email field"
    mei.type(PERSON)

    mei.tab_to("Enter your password.", backwards=True, max_tabs=1)
    mei.page.keyboard.press("Enter")
    assert mei.focused()["id"] == "password", "the error link did not move focus to the password field"
    mei.type(server.password)

    mei.activate("Sign in")
    assert mei.page.url == server.url("/home")
    assert mei.heading() == f"Hello, {NAME}"

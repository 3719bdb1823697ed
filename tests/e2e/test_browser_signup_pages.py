"""Self sign-up by keyboard, with its two email-confirmation pages checked by axe (issue 14, finding 5): the
"check your email" page and the page behind the emailed link, plus a link that no longer works."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

pytestmark = pytest.mark.e2e


def test_sign_up_pages_pass_axe_and_work_by_keyboard(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    lea = new_person("signup")
    lea.open(server.url("/signup"))
    lea.fill_field("Your name", "Lea Moreau")
    lea.fill_field("Email address", "lea.moreau@family.example")
    lea.fill_field("Choose a password", "a long and easy sentence")
    lea.activate("Create account")
    assert lea.heading() == "Check your email"
    assert "lea.moreau@family.example" in lea.text_of("main")
    assert "/signup/confirm/" not in lea.page.content()  # the link goes only by email
    lea.check_page("signup-sent")

    link = server.link_to("lea.moreau@family.example")
    assert link.startswith(server.url("/signup/confirm/"))
    lea.open(link)
    assert lea.heading() == "Finish creating your account"
    lea.check_page("signup-confirm")
    lea.activate("Create my account")
    assert lea.page.url.startswith(server.url("/home"))

    # The link worked once: opened again, it says so, and that page passes too.
    other = new_person("signup")
    other.steps = lea.steps
    other.open(link)
    assert other.heading() == "Link not valid"
    other.check_page("signup-link-used")

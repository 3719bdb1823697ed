"""Two-step sign-in with the keyboard alone: the clinic administrator signs in with a code and invites a
clinician, who accepts and must set up two-step sign-in before reaching home."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from app_server import Server
from keyboard import KeyboardUser

from alscare.security.totp import current_code

ADMIN = "admin@demo.alscare.example"
NEW_CLINICIAN = "dr.new@riverside.example"

pytestmark = pytest.mark.e2e


def test_new_clinician_must_enrol_in_two_step_sign_in(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    admin = new_person("two-factor")
    admin.open("/signin")
    admin.fill_field("Email address", ADMIN)
    admin.fill_field("Password", server.password)
    admin.activate("Sign in")
    assert admin.page.url == server.url("/signin/code")
    admin.check_page("admin-code")

    admin.fill_field("Sign-in code", server.code_for(ADMIN))
    admin.activate("Continue")
    assert admin.page.url == server.url("/home")
    admin.check_page("admin-home")

    admin.activate("Invite")
    assert admin.heading() == "Invite someone"
    admin.fill_field("Their email address", NEW_CLINICIAN)
    admin.activate("Send invitation")
    assert "/invite/" not in admin.text_of(".notice")  # the link goes only by email
    link = server.link_to(NEW_CLINICIAN)
    assert link.startswith(server.url("/invite/"))
    admin.check_page("invitation-sent")

    clinician = new_person("two-factor")
    clinician.steps = admin.steps  # one numbered sequence of screenshots for the flow
    clinician.open(link)
    assert clinician.heading() == "Accept your invitation"
    clinician.check_page("clinician-invitation")
    clinician.fill_field("Your name", "Dr Sam New")
    clinician.fill_field("Choose a password", "a long enough password")
    clinician.activate("Create my account")

    # Staff cannot reach home before two-step sign-in is on.
    assert clinician.page.url == server.url("/account/two-factor")
    clinician.check_page("enrol")
    secret = clinician.text_of(".secret")
    assert len(secret) == 32
    clinician.fill_field("Code from your app", current_code(secret, datetime.now(UTC)))
    clinician.activate("Turn on two-step sign-in")
    assert clinician.page.url == server.url("/account?two_factor=on")
    assert "Two-step sign-in is on." in clinician.text_of(".notice")
    clinician.check_page("enrolled")

    # A clinician's home is the clinic dashboard; its nav link carries the clinic's counts ("Clinic 3 overdue").
    clinician.activate(re.compile(r"^Clinic\b"))
    assert clinician.page.url == server.url("/clinic")

"""The clinic administrator's pages with the keyboard alone, at phone width (390 px): sign in with a
two-step code, open Clinic from the main navigation, read the staff list, the people in the clinic's care
and the clinic's details, save the details, and reach the password and email forms of the account page.
Every page is checked with axe-core (no WCAG 2.x A/AA violation) and kept as a screenshot.

The demo server is shared by the browser tests, so nobody is deactivated here and the details are saved as
they are (the deactivation and reset flows are covered over HTTP in tests/functional/test_clinic_accounts.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

ADMIN = "admin@demo.alscare.example"

pytestmark = pytest.mark.e2e


def test_admin_runs_the_clinic_by_keyboard(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    admin = new_person("clinic-admin")
    admin.open("/signin")
    admin.fill_field("Email address", ADMIN)
    admin.fill_field("Password", server.password)
    admin.activate("Sign in")
    assert admin.page.url == server.url("/signin/code")
    admin.fill_field("Sign-in code", server.code_for(ADMIN))
    admin.activate("Continue")
    assert admin.page.url == server.url("/home")

    admin.activate("Clinic")
    assert admin.heading() == "Clinic staff"
    staff_text = admin.text_of("main")
    assert "Hannah Brooks (you)" in staff_text and "Deactivate Dr Chidi Okafor" in staff_text
    admin.check_page("staff")

    admin.activate("People in your care")
    assert admin.heading() == "People in your clinic's care"
    people = admin.text_of("main")
    assert "ALSFRS" not in people and "check-in" not in people.lower()
    admin.check_page("people")

    admin.activate("Clinic details")
    assert admin.heading() == "Clinic details"
    assert admin.page.input_value("#name") == "Riverside MND Clinic"
    admin.check_page("details")
    admin.activate("Save the details")
    assert "The clinic's details are saved." in admin.text_of(".notice")
    admin.check_page("details-saved")

    admin.activate("Account")
    assert admin.heading() == "Your account"
    admin.tab_to("Current password", where=lambda f: f["tag"] == "input")
    admin.tab_to("New email address", where=lambda f: f["tag"] == "input")
    admin.check_page("account")

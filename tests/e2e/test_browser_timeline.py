"""The timeline with the keyboard alone, for the person and for a clinician: reached from the record's tabs,
its charts' number tables reachable and opened from the keyboard, no axe-core WCAG 2.x A/AA violation, and
screenshots at 390 px and 1280 px wide."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser
from test_browser_checkin import NAME, PERSON, sign_in
from test_browser_clinic import CLINICIAN

pytestmark = pytest.mark.e2e
WIDE = {"width": 1280, "height": 900}


def open_table_of_first_chart(user: KeyboardUser) -> None:
    """Tab to the first chart's "Show the numbers" control, open it with Enter, Tab into its table."""
    info = user.tab_to(
        re.compile(r"^Show the numbers as a table: ALSFRS-R total"), where=lambda f: f["tag"] == "summary"
    )
    assert info["tag"] == "summary"
    user.page.keyboard.press("Enter")
    assert user.page.locator("details.chart-data").first.get_attribute("open") is not None
    region = user.tab_to(re.compile("ALSFRS-R total score over time, newest first"))
    assert region["tag"] == "div"  # the scrollable table region, focusable so it scrolls by keyboard


def test_the_person_reads_their_timeline(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    tomas = new_person("timeline-person")
    sign_in(tomas, PERSON, server.password)
    tomas.activate("My record")
    tomas.activate("Timeline")
    assert tomas.heading() == "Your timeline"
    assert "Your score" in tomas.text_of(".chart-summary")
    assert tomas.page.locator("svg.chart[role=img]").count() >= 2  # the ALSFRS-R total and its areas at least
    assert "For the care team" not in tomas.page.content()
    tomas.check_page("phone")
    open_table_of_first_chart(tomas)
    tomas.check_page("phone-table-open")
    tomas.page.set_viewport_size(WIDE)
    tomas.check_page("wide")


def test_a_clinician_reads_the_timeline(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    doctor = new_person("timeline-clinician")
    doctor.open("/signin")
    doctor.fill_field("Email address", CLINICIAN)
    doctor.fill_field("Password", server.password)
    doctor.activate("Sign in")
    doctor.fill_field("Sign-in code", server.code_for(CLINICIAN))
    doctor.activate("Continue")
    assert doctor.page.url == server.url("/clinic")
    # Find the person with the dashboard's search rather than tabbing through the whole clinic's table.
    doctor.fill_field("Find a person by name", NAME)
    doctor.press("Enter")
    doctor.activate(NAME)
    doctor.activate("Timeline")
    assert doctor.heading() == f"Timeline of {NAME}"
    assert "Kimura band" in doctor.text_of(".clinical-figures")
    doctor.page.set_viewport_size(WIDE)
    doctor.check_page("wide")
    open_table_of_first_chart(doctor)
    doctor.page.set_viewport_size({"width": 390, "height": 844})
    doctor.check_page("phone")

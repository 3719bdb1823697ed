"""The clinic dashboard, the clinician's view of an alert and the outlook page, in a real browser with the
keyboard alone: axe-core finds no WCAG 2.x A/AA violation, and each page is kept as a screenshot at 390 px
and at 1280 px (test-artifacts/screenshots/)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser
from sqlalchemy import select

from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import Alert

CLINICIAN = "dr.okafor@demo.alscare.example"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
_USED_STEPS: list[int] = []

pytestmark = pytest.mark.e2e


def _both_widths(user: KeyboardUser, step: str) -> None:
    user.check_page(f"{step}-390")
    user.page.set_viewport_size(DESKTOP)
    user.check_page(f"{step}-1280")
    user.page.set_viewport_size(PHONE)


def _sign_in(server: Server, doctor: KeyboardUser, then: str | None = None) -> None:
    doctor.open(then or "/signin")
    doctor.fill_field("Email address", CLINICIAN)
    doctor.fill_field("Password", server.password)
    doctor.activate("Sign in")
    assert doctor.page.url.startswith(server.url("/signin/code"))
    # The same clinician signs in in every test: a code is good once, so wait for a fresh 30-second step.
    step = int(time.time()) // 30
    if _USED_STEPS and _USED_STEPS[-1] >= step:
        time.sleep(30 - time.time() % 30 + 0.5)
    _USED_STEPS.append(int(time.time()) // 30)
    doctor.fill_field("Sign-in code", server.code_for(CLINICIAN))
    doctor.activate("Continue")


def test_dashboard_filters_sorts_and_pages_by_keyboard(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    doctor = new_person("dashboard")
    _sign_in(server, doctor)
    assert doctor.page.url == server.url("/clinic")
    assert doctor.heading() == "Clinic"
    assert doctor.page.locator(".dash-count").count() == 5
    _both_widths(doctor, "dashboard")

    doctor.activate("Fast progressors")
    assert "filter=fast" in doctor.page.url
    current = doctor.page.locator('nav[aria-label="Saved filters"] a[aria-current="page"]')
    assert current.inner_text() == "Fast progressors"
    doctor.tab_to("Sort by", where=lambda f: f["tag"] == "select")
    doctor.page.keyboard.type("Slope")
    doctor.tab_to("Order", where=lambda f: f["tag"] == "select")
    doctor.page.keyboard.type("Highest")
    doctor.activate("Show")
    assert "sort=slope" in doctor.page.url and "dir=desc" in doctor.page.url and "filter=fast" in doctor.page.url
    assert doctor.page.locator('th[aria-sort="descending"]').inner_text().startswith("Slope")
    _both_widths(doctor, "dashboard-fast-by-slope")

    doctor.activate("Everyone")
    if doctor.page.locator('a[rel="next"]').count():
        doctor.activate("Next page")
        assert "page=2" in doctor.page.url
        _both_widths(doctor, "dashboard-page-2")


def test_alert_view_and_outlook_by_keyboard(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    doctor = new_person("clinician-alert")
    _sign_in(server, doctor)
    doctor.activate(re.compile(r"^Alerts\b"))
    link = doctor.page.locator("tbody tr.alert-row td:nth-child(3) a").first
    href = link.get_attribute("href") or ""
    assert re.fullmatch(r"/clinic/alerts/\d+", href), href
    doctor.tab_to(where=lambda f: f["href"] == href)
    doctor.press("Enter")
    assert doctor.page.url == server.url(href)
    body = doctor.text_of("main")
    assert "Latest ALSFRS-R and trend" in body and "Contact" in body and "Care wishes" in body
    assert "Call the emergency number now" not in body
    _both_widths(doctor, "alert-view")

    # The person's record, then their outlook (the clinic holds the full record).
    doctor.tab_to(where=lambda f: f["tag"] == "a" and f["name"] == "Open the record")
    doctor.press("Enter")
    doctor.activate("Outlook (ENCALS prognosis)")
    assert doctor.heading().startswith("Outlook (ENCALS) for ")
    assert "Inputs used and missing" in doctor.text_of("main")
    _both_widths(doctor, "prognosis")


def test_alert_email_link_returns_to_the_alert_after_two_step_sign_in(
    server: Server, new_person: Callable[[str], KeyboardUser]
) -> None:
    # The alert the email would link to (read from the server's database: signing in twice within one
    # 30-second step would replay the same two-step code, which is refused).
    engine = make_engine(f"sqlite:///{server.data_dir / 'alscare.db'}")
    try:
        with make_sessionmaker(engine)() as db:
            alert_id = db.execute(select(Alert.id).where(Alert.status == "open").limit(1)).scalar_one()
    finally:
        engine.dispose()
    href = f"/clinic/alerts/{alert_id}"
    doctor = new_person("alert-link")
    _sign_in(server, doctor, then=href)  # as if following the link in the email
    assert doctor.page.url == server.url(href)

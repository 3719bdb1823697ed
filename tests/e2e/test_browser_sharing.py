"""Consent with the keyboard alone: inviting a family member with chosen scopes, and sharing (an invitation the
person accepts) then revoking access on the sharing page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_server import Server
from keyboard import KeyboardUser

pytestmark = pytest.mark.e2e


def sign_in(person: KeyboardUser, email: str, password: str) -> None:
    person.open("/signin")
    person.fill_field("Email address", email)
    person.fill_field("Password", password)
    person.activate("Sign in")
    assert person.page.url.endswith("/home"), person.page.url


def test_person_invites_a_family_member_who_accepts(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    kwame = new_person("invitation")
    sign_in(kwame, "kwame@demo.alscare.example", server.password)
    kwame.activate("Invite")
    assert kwame.heading() == "Invite someone"
    kwame.check_page("invite-form")
    kwame.fill_field("Their email address", "ama.mensah@family.example")
    kwame.tick("Check-ins and scores")
    kwame.tick("Care wishes")
    kwame.activate("Send invitation")
    assert "/invite/" not in kwame.text_of(".notice")  # the link goes only by email
    link = server.link_to("ama.mensah@family.example")
    assert link.startswith(server.url("/invite/"))
    assert "ama.mensah@family.example" in kwame.text_of("table")
    kwame.check_page("invitation-sent")

    ama = new_person("invitation")
    ama.steps = kwame.steps
    ama.open(link)
    assert "as a family member or caregiver" in ama.text_of(".lead")
    seen = ama.text_of("form")
    assert "Check-ins and scores" in seen and "Care wishes" in seen, seen
    ama.check_page("accept-form")
    ama.fill_field("Your name", "Ama Mensah")
    ama.fill_field("Choose a password", "another long password")
    ama.activate("Create my account")
    assert ama.page.url == server.url("/home?welcome=1")
    assert "Your account is ready." in ama.text_of(".notice")
    ama.check_page("family-home")

    # The check-ins scope lets her open Kwame's record and see his scores.
    ama.activate("Kwame Mensah")
    assert ama.heading() == "Kwame Mensah"
    assert ama.page.locator("table caption", has_text="All scores").count() == 1
    # The wide table of scores scrolls sideways in its own region, which the keyboard can reach and scroll.
    ama.tab_to("All scores, newest first", where=lambda f: f["tag"] == "div")
    assert ama.page.evaluate("() => document.activeElement.scrollWidth > document.activeElement.clientWidth")
    for _ in range(5):
        ama.page.keyboard.press("ArrowRight")
    ama.page.wait_for_function("() => document.activeElement.scrollLeft > 0", timeout=3000)  # scrolls smoothly
    ama.check_page("family-sees-record")


def test_grant_and_revoke_on_the_sharing_page(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    """Sharing with a person is an invitation they accept (issue 14, finding 5): Sione sees "waiting" whether or
    not the email has an account; Yusuf, who has one, accepts after signing in; then Sione stops sharing."""
    sione = new_person("sharing")
    sign_in(sione, "sione@demo.alscare.example", server.password)
    sione.activate("Who can see my record")
    assert sione.heading() == "Who can see your record"
    assert "Nobody else can see this record." in sione.text_of("main")
    sione.check_page("nobody")

    # "A person, by email" is already chosen; Tab passes over the radio group.
    sione.fill_field("The person's email address", "yusuf@demo.alscare.example")
    sione.tick("Check-ins and scores")
    sione.activate("Share")
    assert "They will see your record only once they accept." in sione.text_of(".notice")
    assert "/invite/" not in sione.text_of("main")  # the link goes only by email
    sharing_url = sione.page.url.split("?")[0]
    waiting = sione.page.locator("table", has_text="Invitations not accepted yet").locator("tbody tr")
    assert waiting.count() == 1 and "yusuf@demo.alscare.example" in waiting.first.inner_text()
    assert "Nobody else can see this record." in sione.text_of("main")
    sione.check_page("invited")

    yusuf = new_person("sharing")
    yusuf.steps = sione.steps
    yusuf.open(server.link_to("yusuf@demo.alscare.example"))
    assert yusuf.heading() == "Sign in"  # he has an account: sign in first, then back to the invitation
    assert "Sign in to see it and accept." in yusuf.text_of(".lead")
    yusuf.fill_field("Email address", "yusuf@demo.alscare.example")
    yusuf.fill_field("Password", server.password)
    yusuf.activate("Sign in")
    assert yusuf.heading() == "Accept what is shared with you"
    assert "Sione Taufa" in yusuf.text_of(".lead") and "Check-ins and scores" in yusuf.text_of("main")
    yusuf.check_page("accept-share")
    yusuf.activate("Accept")
    assert "Invitation accepted." in yusuf.text_of(".notice")
    yusuf.check_page("accepted")

    sione.open(sharing_url)
    rows = sione.page.locator("table", has_text="People and clinics who can see").locator("tbody tr")
    assert rows.count() == 1
    assert "Yusuf Haddad (yusuf@demo.alscare.example)" in rows.first.inner_text()
    assert "Check-ins and scores" in rows.first.inner_text()
    sione.check_page("granted")

    sione.activate("Stop sharing Check-ins and scores with Yusuf Haddad")
    assert "Sharing stopped. It took effect straight away." in sione.text_of(".notice")
    assert "Nobody else can see this record." in sione.text_of("main")
    stopped = sione.page.locator("table", has_text="Earlier sharing").locator("tbody tr")
    assert stopped.count() == 1
    assert "Yusuf Haddad" in stopped.first.inner_text()
    sione.check_page("revoked")

"""Medicines and sharing in a real browser at 390 px, keyboard alone (issue 9): every page of this work passes
axe-core (WCAG 2.2 A/AA) and leaves a screenshot in test-artifacts/screenshots/.

- Mei adds a medicine by keyboard (the key presses are counted and printed), opens it, changes its dose,
  and the check-in form shows her list without asking her to tick riluzole.
- Tomás's page for the withdrawn medicine says plainly what it means; the leaflets read as pages.
- Tomás asks to stop sharing with his clinic, reads what will stop on the confirmation page (no JavaScript),
  and keeps sharing; the sharing page says what each scope shows.
- The clinician sees the riluzole liver-test status on Mei's list and marks a test done.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from app_server import Server
from demo_state import clear_check_in_drafts
from keyboard import KeyboardUser
from test_browser_sharing import sign_in

pytestmark = pytest.mark.e2e
NURSE = "nurse.lindqvist@demo.alscare.example"


class _Counter:
    """Counts every key the person presses (Tab, Enter, Space, arrows) and every character they type."""

    def __init__(self, person: KeyboardUser) -> None:
        self.presses = 0
        self.typed = 0
        keyboard = person.page.keyboard
        press, type_ = keyboard.press, keyboard.type

        def counted_press(key: str, **kwargs: object) -> None:
            self.presses += 1
            press(key, **kwargs)  # type: ignore[arg-type]

        def counted_type(text: str, **kwargs: object) -> None:
            self.typed += len(text)
            type_(text, **kwargs)  # type: ignore[arg-type]

        keyboard.press = counted_press  # type: ignore[method-assign]
        keyboard.type = counted_type  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return self.presses + self.typed


def test_a_medicine_added_by_keyboard_alone(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    mei = new_person("medicines")
    sign_in(mei, "mei@demo.alscare.example", server.password)
    keys = _Counter(mei)
    mei.activate("My medicines")
    assert mei.heading() == "Your medicines"
    assert "Riluzole" in mei.text_of(".medicine-cards") and "Due" in mei.text_of(".medicine-cards")
    mei.check_page("list")
    at_list = keys.total

    # Choose from the catalogue by type-ahead on the focused select, then fill the dose and start date.
    mei.tab_to("Medicine", where=lambda f: f["tag"] == "select")
    mei.page.keyboard.type("Carbo")
    assert mei.focused()["value"] == "carbocisteine"
    mei.fill_field("Dose (optional)", "375 mg three times a day")
    mei.fill_field("Date started (optional)", "01112026")  # a date field takes the digits in order
    mei.activate("Add medicine")
    added = keys.total - at_list
    print(f"\nkeyboard: adding a medicine took {added} keys ({keys.presses} presses so far, {keys.typed} typed)")
    assert "Medicine added." in mei.text_of(".notice")
    assert "Carbocisteine" in mei.text_of(".medicine-cards") and "375 mg three times a day" in mei.text_of("main")
    mei.check_page("added")

    mei.activate("Change, stop or see history for Carbocisteine")
    assert mei.heading() == "Carbocisteine"
    mei.check_page("entry")
    mei.tab_to("Dose", where=lambda f: f["tag"] == "input")
    mei.page.keyboard.press("Control+A")
    mei.type("250 mg twice a day")
    mei.activate("Save changes")
    assert "Medicine updated." in mei.text_of(".notice")
    assert "Dose: 375 mg three times a day → 250 mg twice a day" in mei.text_of("table")
    mei.check_page("changed")

    mei.activate("Check in")  # the stepped check-in; its medicines step reads the list
    patient_path = re.match(r"^https?://[^/]+(/patients/\d+)/check-in/steps", mei.page.url)
    assert patient_path, mei.page.url
    try:
        mei.activate("Send")  # nothing ticked on the first step: the check-in goes on, kept as a draft
        mei.open(f"{patient_path.group(1)}/check-in/steps/medicines")
        medicines = mei.text_of(".medicine-list-readonly")
        assert "Riluzole" in medicines and "Carbocisteine" in medicines
        assert mei.page.locator("#medicines-riluzole").count() == 0  # no box to re-tick
        mei.check_page("checkin-reads-list")
    finally:
        clear_check_in_drafts(server, "mei@demo.alscare.example")
    print(f"keyboard: whole medicines flow {keys.total} keys ({keys.presses} presses, {keys.typed} typed)")


def test_withdrawn_medicine_and_leaflets(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    tomas = new_person("withdrawn")
    sign_in(tomas, "tomas@demo.alscare.example", server.password)
    tomas.activate("My medicines")
    assert "Withdrawn" in tomas.text_of(".medicine-cards")
    tomas.activate("Change, stop or see history for Sodium phenylbutyrate and taurursodiol (Relyvrio, Albrioza)")
    assert "Withdrawn in 2024." in tomas.text_of(".medicine-warning")
    tomas.check_page("withdrawn-entry")
    tomas.activate("Back to all medicines")
    tomas.activate("Read about ALS medicines")
    assert tomas.heading() == "About ALS medicines"
    tomas.check_page("leaflets")
    tomas.activate("Riluzole")
    assert "every three months" in tomas.text_of("main")
    tomas.check_page("leaflet-riluzole")


def test_stopping_clinic_sharing_asks_first(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    tomas = new_person("stop-clinic")
    sign_in(tomas, "tomas@demo.alscare.example", server.password)
    tomas.activate("Who can see my record")
    shows = tomas.text_of(".scope-shows")
    assert "Only your medicine list" in shows and "For example" in shows
    tomas.check_page("sharing-explained")
    tomas.activate("Stop sharing Full record with Riverside MND Clinic")
    assert tomas.heading() == "Stop sharing with Riverside MND Clinic?"
    assert "stop getting alerts" in tomas.text_of("main")
    tomas.check_page("confirm-stop")
    tomas.activate("No, keep sharing")
    assert tomas.heading() == "Who can see your record"
    assert "Riverside MND Clinic" in tomas.text_of("table")


def test_clinician_marks_a_liver_test_done(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    nurse = new_person("liver-test")
    nurse.open("/signin")
    nurse.fill_field("Email address", NURSE)
    nurse.fill_field("Password", server.password)
    nurse.activate("Sign in")
    nurse.fill_field("Sign-in code", server.code_for(NURSE))
    nurse.activate("Continue")
    nurse.activate("Mei Chen")
    nurse.activate("Medicines")
    assert "Liver blood test" in nurse.text_of(".medicine-cards")
    nurse.check_page("clinic-list")
    nurse.activate(
        "Change, stop or see history for Riluzole (Rilutek, Teglutik, Tiglutik, Exservan)",
    )
    nurse.tab_to("Liver test done on", where=lambda f: f["tag"] == "input")
    nurse.page.keyboard.type("01122026")
    nurse.activate("Mark liver test done")
    assert "Liver test recorded." in nurse.text_of(".notice")
    nurse.check_page("liver-test-done")


def test_a_pending_invitation_is_cancelled(server: Server, new_person: Callable[[str], KeyboardUser]) -> None:
    amira = new_person("cancel-invitation")
    sign_in(amira, "amira@demo.alscare.example", server.password)
    amira.activate("Invite")
    amira.fill_field("Their email address", "sami.haddad@family.example")
    amira.tick("Medicines")
    amira.activate("Send invitation")
    assert "Waiting" in amira.text_of("table")
    amira.check_page("invitation-waiting")
    amira.activate("Home")
    amira.activate("Who can see my record")
    pending = amira.text_of("#pending-caption")
    assert pending == "Invitations not accepted yet, whose link still works"
    amira.check_page("sharing-pending")
    amira.activate("Cancel invitation to sami.haddad@family.example")
    assert "Invitation cancelled. Its link no longer works." in amira.text_of(".notice")
    assert amira.page.locator("#pending-caption").count() == 0
    amira.check_page("invitation-cancelled")

"""Reading and switch settings (issue 7, item 2): saved per person, applied on every page they open."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from helpers import csrf_from
from sqlalchemy.orm import Session
from world import CAREGIVER_GRANTED, OWN, World, build_world, freeze_clock, signed_in_client


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app)
    return build_world(db)


def test_settings_are_saved_per_person_and_shape_every_page(app: FastAPI, world: World) -> None:
    person = signed_in_client(app, world.users[OWN])
    page = person.get("/account/reading")
    assert page.status_code == 200 and 'id="text_size-100" name="text_size" value="100" checked' in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "text_size": "200",
        "high_contrast": "yes",
        "scanning": "two",
        "scan_seconds": "2,5",
        "read_aloud": "yes",
    }
    saved = person.post("/account/reading", data=form)
    assert (saved.status_code, saved.headers["location"]) == (303, "/account/reading?saved=1")
    home = person.get("/home").text
    assert '<html lang="en" class="text-200 high-contrast">' in home
    assert 'data-scanning="two" data-scan-seconds="2.5" data-read-aloud="on"' in home
    # Another person's pages are untouched.
    carer = signed_in_client(app, world.users[CAREGIVER_GRANTED]).get("/home").text
    assert '<html lang="en">' in carer and 'data-scanning="off"' in carer


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text_size", "175", "Choose one of the text sizes shown."),
        ("scanning", "three", "Choose how you use switches."),
        ("scan_seconds", "fast", "Scanning speed: enter seconds from 0.5 to 5, for example 1.5."),
        ("scan_seconds", "0.1", "Scanning speed: enter seconds from 0.5 to 5, for example 1.5."),
    ],
)
def test_a_setting_not_offered_is_refused_by_name_and_changes_nothing(
    app: FastAPI, world: World, field: str, value: str, message: str
) -> None:
    person = signed_in_client(app, world.users[OWN])
    page = person.get("/account/reading")
    form = {"csrf_token": csrf_from(page.text), "text_size": "150", "scanning": "off", "scan_seconds": "1.5"}
    refused = person.post("/account/reading", data=form | {field: value})
    assert refused.status_code == 422 and message in refused.text
    assert "text-150" not in person.get("/home").text

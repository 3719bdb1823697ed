"""Issue 7, item 4: emergency for people who cannot speak. The emergency screen offers the locale's text route
(declared as data with its source) and a one-press card to show the operator or paramedic; the account page
prompts the person to register with the text service in advance, and the registration is their own note."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import replace

from fastapi import FastAPI
from world import (
    CAREGIVER_GRANTED,
    CLINICIAN_GRANTED_CLINIC,
    NOW,
    OWN,
    World,
    csrf_of,
    signed_in_client,
    world_once_per_database,
)

from alscare.actions.checkins import record_check_in
from alscare.storage.models import User
from alscare.storage.models.access import EmergencyTextRegistration

_world_database, _world, _module_app, conn, app, world = world_once_per_database("emergency-text")


def _emergency_check_in(app: FastAPI, world: World, actor: str) -> str:
    with app.state.ctx.sessions() as db:
        user = db.get(User, world.users[actor])
        assert user is not None
        outcome = record_check_in(
            db,
            actor=user,
            patient_id=world.patient_p_id,
            client_id=str(uuid.uuid4()),
            data={"breathing_sudden_trouble": True},
            now=NOW,
        )
        db.commit()
        return f"/patients/{world.patient_p_id}/check-ins/{outcome.check_in.id}"


def _main(page: str) -> str:
    return html.unescape(page.split('<main id="main"', 1)[1].split("</main>", 1)[0])


def test_the_emergency_screen_offers_the_text_route_and_the_card_in_one_press(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    main = _main(client.get(_emergency_check_in(app, world, OWN)).text)
    # Right after the call button: the card, one link away, and the UK's text route (the app's locale is en-GB).
    call = main.index('class="call-button"')
    card_link = f'<a class="button show-card-button" href="/patients/{world.patient_p_id}/emergency/card">'
    assert call < main.index(card_link) < main.index("What to tell the operator")
    assert "Show this to the operator or paramedic</a>" in main
    assert "emergencySMS" in main and '<a class="button" href="sms:999">Text 999</a>' in main
    assert "This works only if your phone was registered before." in main


def test_the_text_route_follows_the_locale(app: FastAPI, world: World) -> None:
    settings = app.state.ctx.settings
    try:
        app.state.ctx.settings = replace(settings, locale="de-DE")
        main = _main(signed_in_client(app, world.users[OWN]).get(_emergency_check_in(app, world, OWN)).text)
        assert "nora, the official emergency app of the German states" in main
        assert "sms:" not in main  # nora is an app, not a text number
        app.state.ctx.settings = replace(settings, locale="it-IT")
        main = _main(signed_in_client(app, world.users[OWN]).get(_emergency_check_in(app, world, OWN)).text)
        assert "We could not check this for your country." in main
    finally:
        app.state.ctx.settings = settings


def test_the_operator_card_shows_als_breathing_oxygen_and_the_care_wishes(app: FastAPI, world: World) -> None:
    page = signed_in_client(app, world.users[OWN]).get(f"/patients/{world.patient_p_id}/emergency/card")
    assert page.status_code == 200
    main = _main(page.text)
    assert "Please read this. I may not be able to speak." in main
    assert "Paula PPLEAKMARKER" in main
    assert "I have ALS, also called motor neurone disease (MND)." in main
    assert "Extra oxygen can make my breathing worse" in main
    # World's latest ALSFRS-R says item 12 = 4: no machine, so no "keep it on".
    assert re.search(r"<h2>Breathing support</h2>\s*<p>No breathing machine\.</p>", main)
    # P's care wishes (world: CPR "no", communication noted) are on the card for P.
    assert "<dt>CPR</dt><dd>No</dd>" in main and "How I communicate:" in main
    assert 'href="tel:+44 7700 900417"' in main
    assert "<nav" not in page.text  # the whole screen is the card


def test_the_card_shows_care_wishes_only_to_those_they_are_shared_with(app: FastAPI, world: World) -> None:
    carer = _main(
        signed_in_client(app, world.users[CAREGIVER_GRANTED]).get(f"/patients/{world.patient_p_id}/emergency/card").text
    )
    assert "My care wishes are not shared with this account." in carer and "<dt>CPR</dt>" not in carer
    clinician = _main(
        signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
        .get(f"/patients/{world.patient_p_id}/emergency/card")
        .text
    )
    assert "Extra oxygen" in clinician


def test_the_account_page_prompts_and_the_registration_is_noted_and_taken_back(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    account = client.get("/account").text
    assert "Can you text the emergency services if you cannot speak?" in account
    assert 'href="/account/emergency-text"' in account
    page = html.unescape(client.get("/account/emergency-text").text)
    assert "Text the word register to 999." in page and "I have registered my phone" in page
    assert 'href="https://www.emergencysms.co.uk"' in page

    done = client.post(
        "/account/emergency-text",
        data={"csrf_token": csrf_of(client), "registered": "yes", "route_id": "gb_emergency_sms"},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/account/emergency-text?done=registered")
    with app.state.ctx.sessions() as db:
        row = db.get(EmergencyTextRegistration, world.users[OWN])
        assert row is not None and (row.route_id, row.registered_on) == ("gb_emergency_sms", NOW.date())
    page = html.unescape(client.get(done.headers["location"]).text)
    assert "You told us you registered this service on 1 March 2026." in page
    assert "The emergency screen will remind you that you registered." in page

    client.post("/account/emergency-text", data={"csrf_token": csrf_of(client), "registered": "no"})
    with app.state.ctx.sessions() as db:
        assert db.get(EmergencyTextRegistration, world.users[OWN]) is None


def test_an_unknown_service_is_refused_and_nothing_is_stored(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    r = client.post(
        "/account/emergency-text", data={"csrf_token": csrf_of(client), "registered": "yes", "route_id": "xx"}
    )
    assert r.status_code == 422 and "Choose the emergency text service" in r.text
    with app.state.ctx.sessions() as db:
        assert db.get(EmergencyTextRegistration, world.users[OWN]) is None

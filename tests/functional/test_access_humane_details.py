"""Issue 7, item 8: an unknown address or a bad id on a page gives the HTML "page not found" page (the API keeps
JSON), and the access log speaks plain words in the clinic's time zone, marked up for the browser's own."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi import FastAPI
from world import OWN, World, signed_in_client, world_once_per_database

from alscare.actions.audit import AccessLogEntry
from alscare.settings import SettingsError, load_settings
from alscare.web.access_log_view import access_log_rows, zone_for

_world_database, _world, _module_app, conn, app, world = world_once_per_database("humane")

INTERNAL_LABELS = ("alsfrs_r", "check_in", "access_log", "caregiver)", "clinician)", "(patient)", "read", "write")


@pytest.mark.parametrize(
    "path", ["/patients/abc", "/patients/abc/sharing", "/patients/1.5/access-log", "/alerts/xyz", "/no-such-page"]
)
def test_a_bad_address_on_a_page_is_an_html_page_not_found(app: FastAPI, world: World, path: str) -> None:
    r = signed_in_client(app, world.users[OWN]).get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in r.text
    assert "Input should be" not in r.text and "{" not in r.text.split("<main", 1)[1].split("</main>", 1)[0]
    # The same security headers as every other page (strict CSP, no framing).
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_api_keeps_json_for_a_bad_id(app: FastAPI, world: World) -> None:
    r = signed_in_client(app, world.users[OWN]).get("/api/v1/patients/abc")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "patient_id"]


def test_the_access_log_is_in_plain_words_and_the_clinic_time_zone(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    client.get(f"/patients/{world.patient_p_id}")  # the person's own look is on the list as "You"
    page = client.get(f"/patients/{world.patient_p_id}/access-log")
    assert page.status_code == 200
    table = page.text.split("<table>", 1)[1].split("</table>", 1)[0]
    for label in INTERNAL_LABELS:
        assert label not in table.replace("datetime=", ""), label
    assert "UTC" not in table
    assert "Newest first. Times are shown in Europe/London time." in table
    assert "<td>You</td>" in table and "Looked at the profile (name and details)" in table
    # World's clock is 1 March 2026, 12:00 UTC: London is on GMT then, so the same hour; marked up for scripts.
    assert re.search(r'<time datetime="2026-03-01T12:00:00\+00:00" data-local-time>1 Mar 2026, 12:00</time>', table)
    assert '<script src="/static/local-time.js" defer></script>' in page.text
    assert "<script>" not in page.text  # no inline script: the CSP stays strict


def test_times_follow_the_configured_zone_and_unknown_labels_get_generic_words() -> None:
    from datetime import UTC, datetime

    entry = AccessLogEntry(
        at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC), who="Dr Ng", role="clinician", action="read", resource="new_x"
    )
    (row,) = access_log_rows([entry], viewer_id=1, owner_id=2, zone=zone_for("Europe/London"))
    assert row.when_text == "2 Jul 2026, 00:30"  # British Summer Time
    assert row.when_iso == "2026-07-01T23:30:00+00:00"
    assert row.who == "Dr Ng (a member of the care team)"
    assert row.what == "Looked at a part of the record"
    system = replace(entry, role="system", action="alert", resource="check_in", who="system")
    (row,) = access_log_rows([system], viewer_id=1, owner_id=2, zone=zone_for("UTC"))
    assert (row.who, row.what) == ("alscare itself", "Sent an alert about a check-in")


def test_the_time_zone_setting_is_checked() -> None:
    base = {"ALSCARE_SECRET_KEY": "x" * 48, "ALSCARE_DATABASE_URL": "sqlite://"}
    assert load_settings(base).display_time_zone == "Europe/London"
    assert load_settings({**base, "ALSCARE_LOCALE": "de-DE"}).display_time_zone == "UTC"
    assert load_settings({**base, "ALSCARE_TIME_ZONE": "America/Chicago"}).display_time_zone == "America/Chicago"
    with pytest.raises(SettingsError, match="ALSCARE_TIME_ZONE"):
        load_settings({**base, "ALSCARE_TIME_ZONE": "Mars/Olympus"})


def test_error_pages_take_their_words_from_the_wording_file() -> None:
    from alscare.clinical.wording import load_wording
    from alscare.web import app as web_app

    words = load_wording("errors.en")
    assert words["not_found"]["title"] == web_app.NOT_FOUND_TITLE
    assert words["not_found"]["message"] == web_app.NOT_FOUND_MESSAGE
    # The last-resort page (drawn when the error template itself fails) says the same as the error page.
    assert f"<h1>{words['server_error']['title']}</h1>" in web_app._PLAIN_ERROR
    assert words["server_error"]["message"] in web_app._PLAIN_ERROR


def test_error_page_words_read_at_grade_8_or_below() -> None:
    import textstat

    from alscare.clinical.wording import load_wording

    words = load_wording("errors.en")
    text = " ".join([words["not_found"]["message"], words["server_error"]["message"]])
    assert textstat.flesch_kincaid_grade(text) <= 8.0

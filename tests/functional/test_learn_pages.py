"""Learn pages over HTTP: open to everyone, searchable on the server, escaped, printable; the associations for
the server's locale; the check-in result links to the article; the clinicians' criteria worksheet."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from world import CLINICIAN_GRANTED_CLINIC, NOW, OWN, World, build_world, csrf_of, freeze_clock, signed_in_client

from alscare.content import articles as learn
from alscare.web.render import TEMPLATES


@pytest.fixture
def world(app: FastAPI, db: Session) -> World:
    freeze_clock(app, NOW)
    return build_world(db)


def test_learn_is_open_to_signed_out_readers(client: TestClient) -> None:
    page = client.get("/learn")
    assert page.status_code == 200
    for a in learn.all_articles():
        assert f'href="/learn/{a.id}"' in page.text
    assert '<a href="/learn" aria-current="page">Learn</a>' in page.text  # signed-out readers get the link too
    assert "In an emergency, call" in page.text  # the emergency number for everyone


def test_search_runs_on_the_server(client: TestClient) -> None:
    page = client.get("/learn", params={"q": "lumbar puncture"})
    assert page.status_code == 200
    results = page.text.split('id="results"')[1].split("All articles")[0]
    assert 'href="/learn/diagnosis"' in results
    assert 'href="/learn/caring-for-the-carer"' not in results
    nothing = client.get("/learn", params={"q": "zebra"})
    assert "0 articles found" in nothing.text


def test_search_query_is_escaped(client: TestClient) -> None:
    page = client.get("/learn", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_an_article_shows_its_sources_review_date_and_prints(client: TestClient) -> None:
    page = client.get("/learn/diagnosis")
    assert page.status_code == 200
    assert "<h1>How ALS is diagnosed</h1>" in page.text
    assert "Sources" in page.text and "Brooks" in page.text
    assert '<time datetime="2026-12-02">2 December 2026</time>' in page.text
    assert "use your browser's Print command" in page.text
    css = client.get("/static/alscare.css").text
    assert "@media print" in css.split("/* --- learn --- */")[1]  # menus and forms left off the printout


def test_unknown_article_is_404(client: TestClient) -> None:
    assert client.get("/learn/no-such-article").status_code == 404


def test_article_content_is_escaped_never_raw_html() -> None:
    hostile = learn.Article(
        id="x",
        title="<b>bold</b>",
        summary="s",
        sections=(learn.Section(heading="<i>h</i>", paragraphs=("<script>x()</script>",), bullets=("<u>u</u>",)),),
        sources=("<a href=x>src</a>",),
        reviewed_on=NOW.date(),
    )
    html = TEMPLATES.get_template("learn_article.html").render(
        article=hostile, user=None, errors={}, title="t", show_associations=False
    )
    assert not re.search(r"<(b|i|u|script|a href=x)>", html)
    assert "&lt;script&gt;" in html


def test_where_to_find_help_lists_the_locale_first_and_marks_unchecked_numbers(client: TestClient) -> None:
    page = client.get("/learn/where-to-find-help").text  # the test settings' locale is en-GB
    local = page.split("Where you live")[1].split("In any country")[0]
    assert "MND Association" in local and "ALS Canada" not in local
    assert "0808 802 6262" in local and "not checked: please confirm it on the website" in local
    others = page.split("Other countries")[1]
    assert "The ALS Association" in others and "1-800-782-4747" in others
    assert "International Alliance of ALS/MND Associations" in page


def test_signed_in_people_see_learn_in_the_navigation(app: FastAPI, world: World) -> None:
    page = signed_in_client(app, world.users[OWN]).get("/learn/what-is-als")
    assert page.status_code == 200
    assert '<a href="/learn" aria-current="page">Learn</a>' in page.text


def test_a_check_in_result_links_to_the_articles_that_explain_it(app: FastAPI, world: World) -> None:
    client = signed_in_client(app, world.users[OWN])
    form = {"csrf_token": csrf_of(client), "client_id": "3f0e8d4a-1b2c-4d5e-8f90-a1b2c3d4e5f6", "orthopnea": "yes"}
    sent = client.post(f"/patients/{world.patient_p_id}/check-in", data=form)
    assert sent.status_code == 303
    result = client.get(sent.headers["location"])
    assert 'href="/learn/when-to-get-help"' in result.text
    assert 'href="/learn/breathing-and-eating-support"' in result.text


def test_criteria_worksheet_is_for_clinicians_and_uses_the_same_rules(app: FastAPI, world: World) -> None:
    assert signed_in_client(app, world.users[OWN]).get("/clinic/criteria").status_code == 403
    clinician = signed_in_client(app, world.users[CLINICIAN_GRANTED_CLINIC])
    page = clinician.get("/clinic/criteria")
    assert page.status_code == 200 and "Decision support, not a diagnosis" in page.text
    assert page.text.count('type="checkbox"') == 4 * 3 + 2
    ticked = {f"{r}.{f}": "yes" for r in ("cervical", "thoracic", "lumbosacral") for f in ("umn", "lmn_clinical")}
    form = {"csrf_token": csrf_of(clinician), **ticked, "progressive": "yes", "other_causes_excluded": "yes"}
    result = clinician.post("/clinic/criteria", data=form)
    assert result.status_code == 200
    assert re.search(r"<dt>Revised El Escorial</dt><dd>Definite</dd>", result.text)
    assert re.search(r"<dt>Gold Coast</dt><dd>Met</dd>", result.text)
    assert 'name="thoracic.umn" value="yes" checked' in result.text  # the form keeps what was ticked
    unticked = clinician.post("/clinic/criteria", data={"csrf_token": csrf_of(clinician), **ticked})
    assert re.search(r"<dt>Awaji–Shima</dt><dd>Not met</dd>", unticked.text)  # not progressive, not excluded

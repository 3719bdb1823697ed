"""Every clinic-wide page and API list (issue 11): the same number of SQL statements for 5 and for 50 people,
25 a page with the shared pager, a clear message for a bad ``?page=``, the API's ``page``/``limit`` with
``X-Total-Count`` and an RFC 8288 ``Link`` header, and one audit event per view naming the people shown.
Both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import counting, listed_in
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from world import signed_in_client

from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Alert, AuditEvent, Patient
from alscare.synthetic_clinic import SyntheticClinic, build_synthetic_clinic

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# Every clinic-wide page and API list a clinician has.
CLINIC_LISTS = (
    "/clinic",
    "/clinic/alerts",
    "/clinic/alerts?show=all",
    "/clinic/overdue",
    "/clinic/messages",
    "/home",
    "/check-in",
    "/api/v1/patients",
    "/api/v1/alerts",
    "/api/v1/alerts?include_resolved=true",
)


def _clinic(engine: Engine, people: int, *, seed: int = 11, into: SyntheticClinic | None = None) -> SyntheticClinic:
    with transaction(make_sessionmaker(engine)) as db:
        return build_synthetic_clinic(
            db,
            people=people,
            now=NOW,
            seed=seed,
            clinic_id=into.clinic_id if into else None,
            clinician_id=into.clinician_id if into else None,
            name_prefix=f"S{seed} " if into else "",
        )


def _client(app: FastAPI, clinic: SyntheticClinic) -> TestClient:
    app.state.ctx.clock = lambda: NOW
    return signed_in_client(app, clinic.clinician_id)


def _statements(client: TestClient, engine: Engine) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in CLINIC_LISTS:
        with counting(engine) as statements:
            r = client.get(path)
        assert r.status_code in (200, 303), (path, r.status_code, r.text[:300])
        found[path] = len(statements)
    return found


def test_every_clinic_list_sends_as_many_statements_for_50_people_as_for_5(app: FastAPI, engine: Engine) -> None:
    clinic = _clinic(engine, 5)
    client = _client(app, clinic)
    client.get("/clinic")  # the very first audit event also creates the chain's head row
    few = _statements(client, engine)
    _clinic(engine, 45, seed=12, into=clinic)
    many = _statements(client, engine)
    assert many == few
    assert max(few.values()) <= 25, few


def _alert_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/clinic/alerts/(\d+)"', html)]


def test_the_alerts_inbox_pages_in_the_same_order_as_the_whole_list(app: FastAPI, engine: Engine) -> None:
    clinic = _clinic(engine, 25)
    client = _client(app, clinic)
    whole = client.get("/api/v1/alerts?include_resolved=true&limit=100")
    assert whole.status_code == 200
    total = int(whole.headers["X-Total-Count"])
    with Session(engine) as s:
        assert total == s.execute(select(func.count(Alert.id)).where(Alert.clinic_id == clinic.clinic_id)).scalar()
    assert 50 < total <= 100, total  # a synthetic clinic of 25 has this many: three or four pages, all in one API page
    ids = [a["id"] for a in whole.json()]
    # Most severe first, then oldest; resolved ones last.
    ranks = [
        (a["status"] == "resolved", ["emergency", "contact_team", "prompt"].index(a["severity"]), a["created_at"])
        for a in whole.json()
    ]
    assert ranks == sorted(ranks)

    first = client.get("/clinic/alerts?show=all")
    assert _alert_ids(first.text) == ids[:25]
    second = client.get("/clinic/alerts?show=all&page=2")
    assert second.status_code == 200
    assert _alert_ids(second.text) == ids[25:50]  # page 2 starts with the 26th alert
    pages = -(-total // 25)
    assert f"Page 2 of {pages}" in second.text and f"All alerts ({total})" in second.text
    assert 'href="/clinic/alerts?show=all&amp;page=3" rel="next"' in second.text
    assert 'href="/clinic/alerts?show=all" rel="prev"' in second.text
    assert '<nav aria-label="Pages of the list" class="pager">' in second.text

    api2 = client.get("/api/v1/alerts?include_resolved=true&page=2&limit=25")
    assert [a["id"] for a in api2.json()] == ids[25:50]
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', api2.headers["Link"]))
    assert set(links) == {"first", "prev", "next", "last"}
    assert "page=3" in links["next"] and "page=1" in links["prev"] and f"page={pages}" in links["last"]
    assert "include_resolved=true" in links["next"] and "limit=25" in links["next"]
    assert [a["id"] for a in client.get(links["next"]).json()] == ids[50:75]

    # Open ones only: the same order without the resolved.
    open_ids = [a["id"] for a in whole.json() if a["status"] != "resolved"]
    assert _alert_ids(client.get("/clinic/alerts").text) == open_ids[:25]


def test_one_audit_event_per_list_view_naming_the_people_shown(app: FastAPI, engine: Engine) -> None:
    clinic = _clinic(engine, 40)
    client = _client(app, clinic)
    for path, resource in (
        ("/clinic/alerts?show=all&page=2", "alerts"),
        ("/clinic/overdue", "overdue"),
        ("/clinic/messages", "messages_inbox"),
        ("/api/v1/patients?page=2&limit=10", "patient_list"),
    ):
        with Session(engine) as s:
            before = s.execute(select(func.max(AuditEvent.id))).scalar() or 0
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        with Session(engine) as s:
            events = list(s.execute(select(AuditEvent).where(AuditEvent.id > before)).scalars())
            names = dict(s.execute(select(Patient.id, Patient.full_name)).all())
        assert [(e.resource, e.patient_id) for e in events] == [(resource, None)], path
        named = listed_in(engine, events[0].id)
        if path.startswith("/api/"):
            shown = {p["id"] for p in r.json()}
        else:
            shown = {int(pid) for pid in re.findall(r'href="/patients/(\d+)[/"]', r.text)}
        assert named == shown and named, path
        assert all(names[pid] in r.text for pid in named), path


def test_the_api_patient_list_pages_by_name(app: FastAPI, engine: Engine) -> None:
    clinic = _clinic(engine, 30)
    client = _client(app, clinic)
    whole = client.get("/api/v1/patients?limit=100")
    names = [(p["full_name"], p["id"]) for p in whole.json()]
    assert len(names) == 30 and names == sorted(names)
    assert whole.headers["X-Total-Count"] == "30"
    assert 'rel="next"' not in whole.headers["Link"] and 'rel="last"' in whole.headers["Link"]
    first = client.get("/api/v1/patients")
    assert len(first.json()) == 25 and first.headers["X-Total-Count"] == "30"
    assert 'rel="prev"' not in first.headers["Link"]
    second = client.get("/api/v1/patients?page=2")
    assert [(p["full_name"], p["id"]) for p in second.json()] == names[25:]
    assert client.get("/api/v1/patients?page=3").json() == []


def test_overdue_and_messages_page_with_the_shared_pager(app: FastAPI, engine: Engine) -> None:
    clinic = _clinic(engine, 60)
    client = _client(app, clinic)
    overdue = client.get("/clinic/overdue")
    total = int(re.search(r"Overdue now \((\d+)\)", overdue.text).group(1))  # type: ignore[union-attr]
    assert total > 25, total
    assert overdue.text.count("<tr>") - 1 == 25  # the header row and 25 rows
    assert 'href="/clinic/overdue?page=2" rel="next"' in overdue.text
    last = client.get(f"/clinic/overdue?page={-(-total // 25)}")
    assert last.text.count("<tr>") - 1 == total - 25 * (-(-total // 25) - 1)
    assert 'rel="next"' not in last.text
    # Longest overdue first, across the pages.
    days = [
        int(d)
        for page in (1, 2)
        for d in re.findall(r"<td>(\d+) days</td>", client.get(f"/clinic/overdue?page={page}").text)
    ]
    assert days == sorted(days, reverse=True)
    messages = client.get("/clinic/messages")
    assert "Unanswered conversations (" in messages.text


def test_a_bad_page_number_is_refused_naming_the_field(app: FastAPI, engine: Engine) -> None:
    clinic = _clinic(engine, 5)
    client = _client(app, clinic)
    for path in ("/clinic/alerts", "/clinic/alerts?show=all", "/clinic/overdue", "/clinic/messages", "/clinic"):
        for bad in ("0", "-1", "two"):
            sep = "&" if "?" in path else "?"
            r = client.get(f"{path}{sep}page={bad}")
            assert r.status_code == 422, (path, bad)
            assert 'id="page"' in r.text and ("Pages start at 1." in r.text or "Enter a whole number." in r.text)
    for path in ("/api/v1/patients", "/api/v1/alerts"):
        for query in ("page=0", "page=x", "limit=0", "limit=101"):
            r = client.get(f"{path}?{query}")
            assert r.status_code == 422, (path, query)
            assert r.json()["detail"][0]["loc"] == ["query", query.split("=")[0]]


def test_a_person_sees_the_clinic_lists_that_showed_them_in_their_access_log(app: FastAPI, engine: Engine) -> None:
    from alscare.actions.audit import access_log

    clinic = _clinic(engine, 5)
    client = _client(app, clinic)
    shown = {p["id"] for p in client.get("/api/v1/patients?limit=2").json()}
    assert len(shown) == 2
    listed, unlisted = sorted(shown)[0], next(p for p in clinic.patient_ids if p not in shown)
    with Session(engine) as s:
        assert "patient_list" in [e.resource for e in access_log(s, patient_id=listed)]
        assert "patient_list" not in [e.resource for e in access_log(s, patient_id=unlisted)]

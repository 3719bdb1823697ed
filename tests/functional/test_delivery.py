"""Delivery end to end, against real servers on 127.0.0.1: an SMTP server (aiosmtpd) and a webhook receiver
(``http.server`` in a thread) that checks signatures the way a clinic's system would.

The worker runs in the test's thread with a fixed clock, so retries and back-off are checked to the second.
Setup and reads use short transactions: on SQLite an open transaction holds the write lock.
"""

from __future__ import annotations

import json
import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import Clock
from loopback import Receiver, SmtpSink, free_port, smtp_sink, webhook_receiver
from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from alscare.delivery.outbox import (
    enqueue_alert_notifications,
    enqueue_email,
    enqueue_escalation_notifications,
)
from alscare.delivery.transports import EmailTransport, Envelope, TransientError, WebhookTransport
from alscare.delivery.worker import (
    Transports,
    claim_next,
    deliver_due,
    deliver_one,
    prune_delivered,
    run_once,
)
from alscare.settings import Settings, SmtpSettings
from alscare.storage.db import make_sessionmaker, transaction
from alscare.storage.models import Alert, Clinic, Notification, Patient, User, WebhookEndpoint

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BASE_URL = "https://testserver"
PATIENT_NAME = "Zebedee Quillfeather"
SUMMARY = "Choking on food and breathless at night"
# The tier ("emergency") is named in alert emails on purpose (issue 8); symptoms never are.
SYMPTOM_WORDS = ("choking", "breath", "food", "night", "swallow")
WEBHOOK_SECRET = "whsec-receiver-secret-0123456789"


# --- Real servers on 127.0.0.1 (see loopback.py) ----------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def receiver_clock() -> Clock:
    """The receiver checks each call's signature at this clock's time; tests move it with the worker's."""
    return Clock(NOW)


@pytest.fixture
def receiver(receiver_clock: Clock) -> Iterator[Receiver]:
    with webhook_receiver(now=receiver_clock, secret=WEBHOOK_SECRET) as state:
        yield state


# --- The clinic, its people, one alert ---------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    alert_id: int
    clinic_id: int
    clinicians: tuple[str, ...]  # active clinicians of the alert's clinic
    admin: str
    endpoint_id: int | None


def _user(db: Session, email: str, role: str, clinic_id: int | None, active: bool = True) -> None:
    db.add(
        User(
            email=email,
            display_name=email.split("@")[0].title(),
            role=role,
            password_hash="x",
            clinic_id=clinic_id,
            is_active=active,
            created_at=NOW,
        )
    )


def make_world(
    sessions: sessionmaker[Session], *, webhook_url: str | None = None, severity: str = "emergency"
) -> World:
    with transaction(sessions) as db:
        clinic = Clinic(name="Northgate MND Clinic", phone="0113 496 0000", hours="9-5", created_at=NOW)
        other = Clinic(name="Southport Clinic", phone="0151 496 0000", hours="9-5", created_at=NOW)
        db.add_all([clinic, other])
        db.flush()
        _user(db, "ines@northgate.example", "clinician", clinic.id)
        _user(db, "omar@northgate.example", "clinician", clinic.id)
        _user(db, "gone@northgate.example", "clinician", clinic.id, active=False)
        _user(db, "admin@northgate.example", "admin", clinic.id)
        _user(db, "elsewhere@southport.example", "clinician", other.id)
        patient = Patient(full_name=PATIENT_NAME, emergency_number="999", clinic_id=clinic.id, created_at=NOW)
        db.add(patient)
        db.flush()
        endpoint_id = None
        if webhook_url:
            endpoint = WebhookEndpoint(
                clinic_id=clinic.id, url=webhook_url, secret=WEBHOOK_SECRET, active=True, created_at=NOW
            )
            db.add(endpoint)
            db.add(
                WebhookEndpoint(clinic_id=other.id, url=webhook_url + "/other", secret="s", active=True, created_at=NOW)
            )
            db.add(WebhookEndpoint(clinic_id=clinic.id, url=webhook_url, secret="s", active=False, created_at=NOW))
            db.flush()
            endpoint_id = endpoint.id
        alert = Alert(
            patient_id=patient.id,
            clinic_id=clinic.id,
            source="check_in",
            source_id="c-1",
            severity=severity,
            summary=SUMMARY,
            status="open",
            created_at=NOW,
        )
        db.add(alert)
        db.flush()
        enqueue_alert_notifications(db, alert=alert, now=NOW, base_url=BASE_URL)
        return World(
            alert.id,
            clinic.id,
            ("ines@northgate.example", "omar@northgate.example"),
            "admin@northgate.example",
            endpoint_id,
        )


def notifications(sessions: sessionmaker[Session], **where: Any) -> list[Notification]:
    with sessions() as db:
        rows = list(db.execute(select(Notification).filter_by(**where).order_by(Notification.id)).scalars())
        db.commit()
        return rows


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def smtp_transports(smtp_port: int, tmp_path: Path) -> Transports:
    return Transports(
        email=EmailTransport(
            SmtpSettings(host="127.0.0.1", port=smtp_port, starttls=False, sender="alscare@test.example"),
            tmp_path / "outbox-unused",
        ),
        webhook=WebhookTransport(timeout=5, allow_private=True),
    )


def at(moment: datetime) -> Any:
    return lambda: moment


# --- Tests -------------------------------------------------------------------------------------------------


def test_alert_reaches_clinicians_by_email_and_the_clinic_by_signed_webhook_without_clinical_details(
    sessions: sessionmaker[Session], smtp: SmtpSink, receiver: Receiver, tmp_path: Path
) -> None:
    world = make_world(sessions, webhook_url=receiver.url)

    handled = deliver_due(sessions, worker_id="w1", transports=smtp_transports(smtp.port, tmp_path), clock=at(NOW))

    assert handled == 3  # two active clinicians + one active endpoint of this clinic
    assert sorted(m["To"] for m in smtp.messages) == sorted(world.clinicians)
    link = f"{BASE_URL}/clinic/alerts/{world.alert_id}"
    for msg in smtp.messages:
        text = f"{msg['Subject']}\n{msg.get_content()}"
        assert msg["Subject"] == "alscare: emergency alert at Northgate MND Clinic"
        assert "Tier: emergency." in text
        assert link in text
        assert PATIENT_NAME not in text and "Zebedee" not in text
        for word in SYMPTOM_WORDS:
            assert word not in text.lower(), word

    [call] = receiver.calls
    assert call.signature_ok
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["X-Alscare-Event"] == "alert.raised"
    body = json.loads(call.body)
    assert body == {
        "event": "alert.raised",
        "alert_id": world.alert_id,
        "severity": "emergency",
        "clinic_id": world.clinic_id,
        "created_at": NOW.isoformat(),
        "url": link,
        "tier": "emergency",
        "clinic": "Northgate MND Clinic",
    }
    assert PATIENT_NAME.encode() not in call.body
    rows = notifications(sessions)
    assert {(n.status, n.attempts, n.sent_at) for n in rows} == {("sent", 1, NOW)}
    assert call.headers["X-Alscare-Delivery"] in {str(n.id) for n in rows if n.channel == "webhook"}


def test_queuing_twice_adds_nothing_and_escalation_adds_admins_per_level(
    sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    world = make_world(sessions, webhook_url=receiver.url)
    with transaction(sessions) as db:
        alert = db.get(Alert, world.alert_id)
        assert alert is not None
        assert enqueue_alert_notifications(db, alert=alert, now=NOW, base_url=BASE_URL) == []
        alert.escalation_level = 1
        escalated = enqueue_escalation_notifications(db, alert=alert, now=NOW, base_url=BASE_URL)
        assert sorted(n.target for n in escalated if n.channel == "email") == sorted([*world.clinicians, world.admin])
        assert [n.target for n in escalated if n.channel == "webhook"] == [str(world.endpoint_id)]
        assert enqueue_escalation_notifications(db, alert=alert, now=NOW, base_url=BASE_URL) == []
        alert.escalation_level = 2
        assert len(enqueue_escalation_notifications(db, alert=alert, now=NOW, base_url=BASE_URL)) == 4
    rows = notifications(sessions)
    assert len(rows) == 3 + 4 + 4
    assert f"alert:{world.alert_id}:email:ines@northgate.example" in {n.dedupe_key for n in rows}
    hook = next(n for n in rows if n.kind == "escalation" and n.channel == "webhook")
    assert json.loads(hook.body)["event"] == "alert.escalated" and hook.subject == "alert.escalated"
    for n in rows:
        assert PATIENT_NAME not in n.body and "choking" not in n.body.lower()


def test_an_alert_without_a_clinic_queues_nothing(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as db:
        patient = Patient(full_name=PATIENT_NAME, emergency_number="999", created_at=NOW)
        db.add(patient)
        db.flush()
        alert = Alert(
            patient_id=patient.id, source="check_in", source_id="x", severity="prompt", summary="s", created_at=NOW
        )
        db.add(alert)
        assert enqueue_alert_notifications(db, alert=alert, now=NOW) == []


def test_generic_email_is_deduplicated(sessions: sessionmaker[Session], smtp: SmtpSink, tmp_path: Path) -> None:
    with transaction(sessions) as db:
        first = enqueue_email(
            db, kind="reminder", to="p@example.org", subject="Time for a check-in", body="b", dedupe_key="r:1", now=NOW
        )
        again = enqueue_email(
            db, kind="reminder", to="p@example.org", subject="Time for a check-in", body="b", dedupe_key="r:1", now=NOW
        )
        assert first is not None and first.status == "pending" and again is None
    assert deliver_due(sessions, worker_id="w", transports=smtp_transports(smtp.port, tmp_path), clock=at(NOW)) == 1
    assert [m["Subject"] for m in smtp.to("p@example.org")] == ["Time for a check-in"]


def test_transient_webhook_failure_is_retried_after_back_off_then_sent(
    sessions: sessionmaker[Session], smtp: SmtpSink, receiver: Receiver, receiver_clock: Clock, tmp_path: Path
) -> None:
    make_world(sessions, webhook_url=receiver.url)
    receiver.script = [503]
    transports = smtp_transports(smtp.port, tmp_path)

    deliver_due(sessions, worker_id="w1", transports=transports, clock=at(NOW))
    [hook] = notifications(sessions, channel="webhook")
    assert (hook.status, hook.attempts, hook.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=30))
    assert hook.last_error == "HTTP 503 Service Unavailable"
    assert hook.claimed_by is None

    receiver_clock.now = NOW + timedelta(seconds=29)
    assert deliver_due(sessions, worker_id="w1", transports=transports, clock=at(receiver_clock.now)) == 0
    receiver_clock.now = NOW + timedelta(seconds=30)
    assert deliver_due(sessions, worker_id="w2", transports=transports, clock=at(receiver_clock.now)) == 1

    [hook] = notifications(sessions, channel="webhook")
    assert (hook.status, hook.attempts, hook.sent_at) == ("sent", 2, NOW + timedelta(seconds=30))
    assert [c.signature_ok for c in receiver.calls] == [True, True]
    assert len({c.headers["X-Alscare-Delivery"] for c in receiver.calls}) == 1
    [key] = {c.headers["Idempotency-Key"] for c in receiver.calls}  # the same on the retry: receivers drop repeats
    assert key.startswith(f"alscare-notification-{hook.id}.")


def test_retries_back_off_exponentially_for_a_day_then_fail_and_tell_the_admin(
    sessions: sessionmaker[Session], smtp: SmtpSink, receiver: Receiver, receiver_clock: Clock, tmp_path: Path
) -> None:
    world = make_world(sessions, webhook_url=receiver.url)
    receiver.script = [503] * 100
    transports = smtp_transports(smtp.port, tmp_path)
    moment = NOW
    waits = []
    for _ in range(100):
        receiver_clock.now = moment
        deliver_due(sessions, worker_id="w", transports=transports, clock=at(moment), base_url=BASE_URL)
        [hook] = notifications(sessions, channel="webhook")
        if hook.status != "pending":
            break
        waits.append((hook.next_attempt_at - moment).total_seconds())
        moment = hook.next_attempt_at
    # 30 s doubling to the 1 h cap, then hourly, the last try exactly 24 h after the alert was queued.
    assert waits[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert set(waits[8:-1]) == {3600} and 0 < waits[-1] <= 3600
    assert moment == NOW + timedelta(hours=24)
    assert (hook.status, hook.last_error) == ("failed", "HTTP 503 Service Unavailable")
    assert hook.attempts == len(receiver.calls) == len(waits) + 1
    # The administrator's notice was queued with the failure and sent in the same run; nothing is left.
    assert deliver_due(sessions, worker_id="w", transports=transports, clock=at(moment + timedelta(days=1))) == 0
    [notice] = notifications(sessions, kind="undelivered")
    assert (notice.target, notice.status) == (world.admin, "sent")
    [mail] = smtp.to(world.admin)
    assert "could not be delivered" in mail["Subject"]
    assert "a call to the clinic's webhook" in mail.get_content()
    assert f"{BASE_URL}/clinic/alerts" in mail.get_content()
    assert PATIENT_NAME not in mail.get_content()


def test_permanent_webhook_failure_fails_at_once(
    sessions: sessionmaker[Session], smtp: SmtpSink, receiver: Receiver, tmp_path: Path
) -> None:
    make_world(sessions, webhook_url=receiver.url)
    receiver.script = [400]
    deliver_due(sessions, worker_id="w", transports=smtp_transports(smtp.port, tmp_path), clock=at(NOW))
    [hook] = notifications(sessions, channel="webhook")
    assert (hook.status, hook.attempts, hook.last_error) == ("failed", 1, "HTTP 400 Bad Request")


def test_smtp_550_fails_at_once_and_451_is_retried(
    sessions: sessionmaker[Session], smtp: SmtpSink, tmp_path: Path
) -> None:
    world = make_world(sessions)
    refused, busy = world.clinicians
    smtp.refuse.add(refused)
    smtp.busy.add(busy)
    deliver_due(sessions, worker_id="w", transports=smtp_transports(smtp.port, tmp_path), clock=at(NOW))
    by_target = {n.target: n for n in notifications(sessions)}
    assert by_target[refused].status == "failed"
    assert by_target[refused].last_error == "SMTP 550 5.1.1 Mailbox unavailable"
    assert by_target[busy].status == "pending"
    assert by_target[busy].last_error == "SMTP 451 4.3.0 Try again later"

    smtp.busy.clear()
    later = NOW + timedelta(seconds=30)
    deliver_due(sessions, worker_id="w", transports=smtp_transports(smtp.port, tmp_path), clock=at(later))
    # The refused alert email is reported to the clinic's administrator, once.
    assert {n.target: n.status for n in notifications(sessions)} == {
        refused: "failed",
        busy: "sent",
        world.admin: "sent",
    }
    assert [m["To"] for m in smtp.messages] == [world.admin, busy]
    assert [n.kind for n in notifications(sessions, target=world.admin)] == ["undelivered"]


def test_unreachable_servers_are_transient(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    closed = free_port()  # nothing listens here
    make_world(sessions, webhook_url=f"http://127.0.0.1:{closed}/hook")
    deliver_due(sessions, worker_id="w", transports=smtp_transports(closed, tmp_path), clock=at(NOW))
    rows = notifications(sessions)
    assert {n.status for n in rows} == {"pending"}
    assert all(n.last_error and "connection" in n.last_error.lower() for n in rows)


def test_deactivated_endpoint_fails_its_queued_notification(
    sessions: sessionmaker[Session], smtp: SmtpSink, receiver: Receiver, tmp_path: Path
) -> None:
    world = make_world(sessions, webhook_url=receiver.url)
    with transaction(sessions) as db:
        endpoint = db.get(WebhookEndpoint, world.endpoint_id)
        assert endpoint is not None
        endpoint.active = False
    deliver_due(sessions, worker_id="w", transports=smtp_transports(smtp.port, tmp_path), clock=at(NOW))
    [hook] = notifications(sessions, channel="webhook")
    assert (hook.status, hook.last_error) == ("failed", "webhook endpoint removed or deactivated")
    assert receiver.calls == []


def test_a_crashed_workers_claim_expires_and_another_worker_delivers(
    sessions: sessionmaker[Session], smtp: SmtpSink, tmp_path: Path
) -> None:
    with transaction(sessions) as db:
        enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key="m:1", now=NOW)
    with sessions() as db:
        crashed = claim_next(db, worker_id="crashed", now=NOW)  # ...and never comes back
        assert crashed is not None and crashed.claimed_until == NOW + timedelta(minutes=2)
    with sessions() as db:
        assert claim_next(db, worker_id="b", now=NOW + timedelta(minutes=1)) is None
        assert claim_next(db, worker_id="b", now=NOW + timedelta(minutes=1, seconds=59)) is None
    later = NOW + timedelta(minutes=2, seconds=1)
    with sessions() as db:
        taken = claim_next(db, worker_id="b", now=later)
        assert taken is not None and (taken.claimed_by, taken.attempts, taken.status) == ("b", 2, "sending")
        outcome = deliver_one(db, taken, transports=smtp_transports(smtp.port, tmp_path), now=later)
    assert outcome == "sent"
    [row] = notifications(sessions)
    assert (row.status, row.sent_at, row.claimed_by) == ("sent", later, None)
    assert len(smtp.to("a@example.org")) == 1


def test_a_late_failure_from_a_worker_whose_claim_was_taken_over_is_not_recorded(
    sessions: sessionmaker[Session], smtp: SmtpSink, tmp_path: Path
) -> None:
    with transaction(sessions) as db:
        enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key="m:1", now=NOW)
    with sessions() as db:
        slow = claim_next(db, worker_id="slow", now=NOW)
        assert slow is not None
    later = NOW + timedelta(minutes=5)
    with sessions() as db:
        assert claim_next(db, worker_id="fast", now=later) is not None
    closed = free_port()
    with sessions() as db:
        assert deliver_one(db, slow, transports=smtp_transports(closed, tmp_path), now=later) == "lost"
    [row] = notifications(sessions)
    assert (row.status, row.claimed_by) == ("sending", "fast")


def test_without_smtp_emails_are_written_to_the_outbox_folder(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    make_world(sessions)
    transports = Transports(
        email=EmailTransport(None, tmp_path / "outbox"), webhook=WebhookTransport(allow_private=True)
    )
    assert deliver_due(sessions, worker_id="w", transports=transports, clock=at(NOW)) == 2
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    assert all(b"An alert needs attention at Northgate MND Clinic" in f.read_bytes() for f in files)


def test_run_once_runs_escalation_and_reminders_when_those_actions_exist(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import alscare.actions.clinic_summary
    import alscare.actions.prompts  # noqa: F401 - bound to the real alerts module before it is replaced below

    seen: list[tuple[str, dict[str, Any]]] = []
    alerts = types.ModuleType("alscare.actions.alerts")
    schedules = types.ModuleType("alscare.actions.schedules")

    def escalate_unacknowledged(db: Session, *, now: datetime, after: timedelta, levels: int) -> None:
        seen.append(("escalate", {"now": now, "after": after, "levels": levels}))

    def send_due_reminders(db: Session, *, now: datetime, base_url: str) -> None:
        seen.append(("remind", {"now": now, "base_url": base_url}))

    alerts.escalate_unacknowledged = escalate_unacknowledged  # type: ignore[attr-defined]
    schedules.send_due_reminders = send_due_reminders  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "alscare.actions.alerts", alerts)
    monkeypatch.setitem(sys.modules, "alscare.actions.schedules", schedules)

    transports = Transports(email=EmailTransport(None, tmp_path / "o"), webhook=WebhookTransport(allow_private=True))
    run_once(sessions, settings=settings, worker_id="w", transports=transports, clock=at(NOW))

    minutes = getattr(settings, "alert_escalate_minutes", 30)
    assert seen == [
        ("escalate", {"now": NOW, "after": timedelta(minutes=minutes), "levels": settings.alert_escalation_levels}),
        ("remind", {"now": NOW, "base_url": settings.base_url}),
    ]


# --- Issue 11: claims by index, a day of retries, pruning, a stable id in every email ---------------------


def _claim_statement(engine: Engine, sessions: sessionmaker[Session]) -> tuple[str, Any]:
    """The statement (and parameters) ``claim_next`` picks its candidate with, as sent to the database."""
    seen: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, parameters: Any, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "notifications" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions() as db:
            assert claim_next(db, worker_id="plan", now=NOW) is not None
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen[0]


def test_a_claim_is_one_ordered_range_of_the_queue_index_on_both_databases(
    engine: Engine, sessions: sessionmaker[Session], backend: str
) -> None:
    with transaction(sessions) as db:
        for i in range(300):
            enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key=f"p:{i}", now=NOW)
        db.execute(update(Notification).where(Notification.id <= 290).values(status="sent", sent_at=NOW))
    statement, parameters = _claim_statement(engine, sessions)
    with engine.connect() as conn:
        if backend == "sqlite":
            plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "USING COVERING INDEX ix_notifications_queue" in plan or "USING INDEX ix_notifications_queue" in plan
            assert "TEMP B-TREE" not in plan, plan  # no sort of every due row for the ORDER BY
            assert "SCAN" not in plan, plan
        else:
            conn.execute(text("ANALYZE notifications"))
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # a table this small would be read whole
            plan = " | ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert (
                "Index Scan using ix_notifications_queue" in plan
                or "Index Only Scan using ix_notifications_queue" in plan
            )
            assert "Sort" not in plan, plan
            assert "LockRows" in plan  # FOR UPDATE SKIP LOCKED: concurrent workers take different rows


class _SmtpDown:
    """An email transport for which the mail server refuses these addresses for now (4xx), and records the rest."""

    def __init__(self, down: set[str]) -> None:
        self.down = down
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope, *, now: datetime) -> None:
        if envelope.to in self.down:
            raise TransientError("SMTP 421 4.3.2 Service not available")
        self.sent.append(envelope)


def test_a_day_of_retries_then_one_notice_to_the_clinic_admin_however_many_failed(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    world = make_world(sessions)  # one alert: an email to each of two clinicians
    email = _SmtpDown(set(world.clinicians))
    transports = Transports(email=email, webhook=WebhookTransport(allow_private=True))
    moment = NOW
    while moment < NOW + timedelta(hours=23):
        deliver_due(sessions, worker_id="w", transports=transports, clock=at(moment), base_url=BASE_URL)
        moment = min(n.next_attempt_at for n in notifications(sessions, status="pending"))
    # Failing for 23 hours: still retried, nobody told yet.
    assert {n.status for n in notifications(sessions)} == {"pending"}
    assert notifications(sessions, kind="undelivered") == []
    deliver_due(sessions, worker_id="w", transports=transports, clock=at(moment), base_url=BASE_URL)
    assert moment < NOW + timedelta(hours=24) and {n.status for n in notifications(sessions)} == {"pending"}

    moment = min(n.next_attempt_at for n in notifications(sessions, status="pending"))
    assert moment == NOW + timedelta(hours=24)  # the last try is exactly when the day is over
    deliver_due(sessions, worker_id="w", transports=transports, clock=at(moment), base_url=BASE_URL)
    alert_rows = notifications(sessions, kind="alert")
    assert {(n.status, n.last_error) for n in alert_rows} == {("failed", "SMTP 421 4.3.2 Service not available")}
    [notice] = notifications(sessions, kind="undelivered")  # two given up, one notice
    assert (notice.target, notice.status, notice.alert_id) == (world.admin, "sent", None)
    [sent] = email.sent
    assert sent.to == world.admin and "Northgate MND Clinic" in sent.subject
    assert f"{BASE_URL}/clinic/alerts\n" in sent.body and "an email to a member of the care team" in sent.body
    for word in (PATIENT_NAME, "Zebedee", *SYMPTOM_WORDS):
        assert word.lower() not in f"{sent.subject} {sent.body}".lower(), word
    assert deliver_due(sessions, worker_id="w", transports=transports, clock=at(moment + timedelta(days=2))) == 0


def test_delivered_notifications_are_pruned_in_batches_after_the_retention_and_failed_ones_kept(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as db:
        for key, status, age_days in [
            ("old1", "sent", 31),
            ("old2", "sent", 40),
            ("old3", "sent", 90),
            ("recent", "sent", 29),
            ("failed", "failed", 90),
            ("waiting", "pending", 90),
        ]:
            then = NOW - timedelta(days=age_days)
            row = enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key=key, now=then)
            assert row is not None
            row.status = status
            row.sent_at = then if status == "sent" else None
    assert prune_delivered(sessions, now=NOW, keep=timedelta(days=30), batch=2) == 3
    assert sorted(n.dedupe_key for n in notifications(sessions)) == ["failed", "recent", "waiting"]
    assert prune_delivered(sessions, now=NOW, keep=timedelta(days=30), batch=2) == 0


@dataclass
class _HangingUpSmtp(SmtpSink):
    """Takes the whole message, then hangs up before its "250 accepted" reply ``hang_ups`` times."""

    hang_ups: int = 1

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await super().handle_DATA(server, session, envelope)
        if self.hang_ups > 0:
            self.hang_ups -= 1
            server.transport.close()  # accepted and kept, but the client never hears so
        return "250 Message accepted"


class _Killed(BaseException):
    """The worker process dying: nothing after it in the worker runs (not an Exception it could catch)."""


class _DiesAfterSending:
    def __init__(self, inner: EmailTransport) -> None:
        self.inner = inner

    def send(self, envelope: Envelope, *, now: datetime) -> None:
        try:
            self.inner.send(envelope, now=now)
        finally:
            raise _Killed


@pytest.mark.parametrize("how", ["the connection drops", "the worker is killed"])
def test_a_repeat_after_the_server_accepted_but_before_it_replied_has_the_same_notification_id(
    sessions: sessionmaker[Session], tmp_path: Path, how: str
) -> None:
    sink = _HangingUpSmtp(port=free_port())
    from aiosmtpd.controller import Controller

    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        with transaction(sessions) as db:
            enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key="m:1", now=NOW)
        real = smtp_transports(sink.port, tmp_path)
        if how == "the worker is killed":
            dying = Transports(email=_DiesAfterSending(real.email), webhook=real.webhook)  # type: ignore[arg-type]
            with pytest.raises(_Killed):
                deliver_due(sessions, worker_id="dies", transports=dying, clock=at(NOW))
            [row] = notifications(sessions)
            assert (row.status, row.claimed_by) == ("sending", "dies")  # nothing recorded: the claim must expire
            again = NOW + timedelta(minutes=2)
        else:
            deliver_due(sessions, worker_id="w", transports=real, clock=at(NOW))
            [row] = notifications(sessions)
            assert row.status == "pending" and "SMTP connection" in (row.last_error or "")
            again = row.next_attempt_at
        assert deliver_due(sessions, worker_id="w2", transports=real, clock=at(again)) == 1
    finally:
        controller.stop()
    [row] = notifications(sessions)
    assert (row.status, row.attempts) == ("sent", 2)
    first, repeat = sink.messages
    assert first["Message-ID"] == repeat["Message-ID"]
    assert first["Message-ID"].startswith(f"<alscare-notification-{row.id}.")
    assert first["Message-ID"].endswith("@test.example>")  # the sender's domain
    assert first["X-Alscare-Notification"] == repeat["X-Alscare-Notification"] == str(row.id)


def test_message_ids_differ_between_notifications_and_installations(sessions: sessionmaker[Session]) -> None:
    from alscare.delivery.outbox import notification_key

    with transaction(sessions) as db:
        a = enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key="k:1", now=NOW)
        b = enqueue_email(db, kind="message", to="a@example.org", subject="s", body="b", dedupe_key="k:2", now=NOW)
        assert a is not None and b is not None
        keys = {notification_key(a), notification_key(b)}
        elsewhere = Notification(id=a.id, dedupe_key=a.dedupe_key, created_at=NOW + timedelta(microseconds=1))
        assert notification_key(a) == notification_key(a)
    assert len(keys) == 2 and notification_key(elsewhere) not in keys


# --- The command line --------------------------------------------------------------------------------------


def _cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    outbox = tmp_path / "cli-outbox"
    for name, value in {
        "ALSCARE_DATABASE_URL": database_url,
        "ALSCARE_DATA_DIR": str(tmp_path / "data"),
        "ALSCARE_SECRET_KEY": "k" * 48,
        "ALSCARE_OUTBOX_DIR": str(outbox),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALSCARE_SMTP_HOST", raising=False)
    return outbox


def test_cli_worker_once_delivers_what_is_due(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from alscare.cli import app

    outbox = _cli_env(monkeypatch, database_url, tmp_path)
    with transaction(sessions) as db:
        due = datetime.now(UTC) - timedelta(minutes=1)  # the command reads the real clock
        enqueue_email(db, kind="message", to="a@example.org", subject="Hello", body="b", dedupe_key="cli:1", now=due)

    result = CliRunner().invoke(app, ["worker", "--once", "--worker-id", "cli-test"])

    assert result.exit_code == 0, result.output
    assert "1 notification(s) handled" in result.output
    assert len(list(outbox.glob("*.eml"))) == 1
    assert [n.status for n in notifications(sessions)] == ["sent"]


@pytest.mark.parametrize("flag", [[], ["--no-worker"]])
def test_serve_runs_the_worker_thread_unless_told_not_to_and_stops_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: list[str]
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from alscare.cli import app

    _cli_env(monkeypatch, database_url, tmp_path)
    seen: list[threading.Thread] = []

    def fake_run(*args: Any, **kwargs: Any) -> None:
        seen.extend(t for t in threading.enumerate() if t.name == "alscare-delivery")

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(app, ["serve", *flag])

    assert result.exit_code == 0, result.output
    assert len(seen) == (0 if flag else 1)
    assert all(t.daemon and not t.is_alive() for t in seen)  # stopped when the server returned

"""The delivery worker: claim one due notification, send it, record what happened; repeat.

Claiming is healthchecks' conditional update. A worker picks a candidate id — the most overdue row still in the
queue (pending or sending) whose ``next_attempt_at`` has passed; for a sending row that column holds its claim's
expiry, so a dead worker's row is due again — then runs

    UPDATE notifications SET status='sending', claimed_by=:me, claimed_until=next_attempt_at=:now+lease,
           attempts=attempts+1
    WHERE id=:id AND (the same condition) RETURNING *

and commits. The row comes back only if the UPDATE matched; a worker that lost the race gets nothing and tries
the next candidate. The condition is one range over the partial index ``ix_notifications_queue`` (only rows
still to deliver), so a claim is an index seek on both databases however many delivered rows there are. On
SQLite every write transaction holds the write lock, which serialises claims anyway; on PostgreSQL the
candidate is picked ``FOR UPDATE SKIP LOCKED`` so workers do not queue behind each other, and the WHERE
clause is re-checked after any wait.

No transaction is open while a transport talks to the network. Outcomes: sent; transient error → pending
again after 30 s · 2^(attempts−1) (at most 1 h), for ``ALSCARE_NOTIFICATION_RETRY_HOURS`` (24) after it was
queued (the last try at that moment), then ``failed``; permanent error → ``failed`` at once. When an alert's
notification fails, the clinic's administrators get one email a day saying so (``outbox.
enqueue_undelivered_notice``). ``last_error`` keeps the error text, never content.

Delivery is at least once: a worker that dies after sending but before recording it leaves a claim that
expires, and the next worker sends again. Every email carries the same ``Message-ID`` and
``X-Alscare-Notification`` on each try and every webhook the same ``Idempotency-Key`` (``outbox.
notification_key``), so receivers can drop repeats.

Delivered rows are deleted ``ALSCARE_NOTIFICATION_RETENTION_DAYS`` (30) after they were sent, by the worker
in batches of ``PRUNE_BATCH`` (each its own short transaction). Failed rows are kept: they are the record
of what could not be delivered, and few.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Executable, and_, bindparam, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from alscare.delivery.outbox import DEFAULT_BASE_URL, enqueue_undelivered_notice, notification_key
from alscare.delivery.transports import (
    EmailTransport,
    Envelope,
    PermanentError,
    TransientError,
    Transport,
    WebhookTransport,
)
from alscare.security.secretbox import use_key
from alscare.settings import Settings
from alscare.storage.models import NOTIFICATION_QUEUE, Notification, UTCDateTime, WebhookEndpoint

log = logging.getLogger("alscare.delivery")

# How long a notification is retried after it was queued (ALSCARE_NOTIFICATION_RETRY_HOURS): an SMTP outage
# over a night or a weekend morning must not lose an alert (issue 11: it was 63.5 minutes, 8 attempts).
DEFAULT_RETRY: Final = timedelta(hours=24)
# Delivered rows are deleted this long after they were sent (ALSCARE_NOTIFICATION_RETENTION_DAYS).
DEFAULT_RETENTION: Final = timedelta(days=30)
# Rows deleted per transaction, and transactions per pruning run: short write locks, bounded work per cycle.
PRUNE_BATCH: Final = 1000
PRUNE_BATCHES: Final = 20
BACKOFF_BASE: Final = timedelta(seconds=30)
BACKOFF_CAP: Final = timedelta(hours=1)
DEFAULT_LEASE: Final = timedelta(minutes=2)
# Used when settings have no ``alert_escalate_minutes``.
DEFAULT_ESCALATE_MINUTES: Final = 30
# Notifications one cycle of ``run_worker`` delivers before it runs the periodic tasks again.
BATCH: Final = 100
_CLAIM_TRIES: Final = 5
_ERROR_MAX: Final = 500  # notifications.last_error

Outcome = Literal["sent", "pending", "failed", "lost"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` tries: 30 s, 1 min, 2 min, … capped at 1 h."""
    doublings = min(max(attempts - 1, 0), 20)  # 2^20 · 30 s is far past the cap already
    return min(BACKOFF_BASE * (1 << doublings), BACKOFF_CAP)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[-100:]


@dataclass(frozen=True)
class Transports:
    """The transport for each channel."""

    email: Transport
    webhook: Transport

    def for_channel(self, channel: str) -> Transport:
        if channel == "email":
            return self.email
        if channel == "webhook":
            return self.webhook
        raise PermanentError(f"unknown channel {channel!r}")

    def close(self) -> None:
        """Release what the transports hold open (the webhook transport's connection pool)."""
        for transport in {id(t): t for t in (self.email, self.webhook)}.values():
            close = getattr(transport, "close", None)
            if callable(close):
                close()


def transports_for(settings: Settings) -> Transports:
    return Transports(
        email=EmailTransport(settings.smtp, settings.outbox_dir),
        webhook=WebhookTransport(allow_private=settings.webhook_allow_private),
    )


# --- Claiming ---------------------------------------------------------------------------------------------


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Still to deliver, and due (a sending row's ``next_attempt_at`` is its claim's expiry).

    The status term is the index's own literal text: SQLite uses a partial index only for a query that
    repeats its WHERE term, and a bound parameter would not."""
    return and_(text(f"notifications.{NOTIFICATION_QUEUE}"), Notification.next_attempt_at <= now)


# SQLite's planner, without statistics, prefers ``ix_notifications_due`` (status, next_attempt_at) for the
# status term and then sorts every due row for the ORDER BY; ``INDEXED BY`` names the queue index, whose order
# is the ORDER BY (and fails loudly if the index were ever missing). SQLAlchemy has no SQLite table hints.
_SQLITE_PICK: Final = (
    f"SELECT notifications.id FROM notifications INDEXED BY ix_notifications_queue "
    f"WHERE notifications.{NOTIFICATION_QUEUE} AND notifications.next_attempt_at <= :now "
    "ORDER BY notifications.next_attempt_at, notifications.id LIMIT 1"
)


def claim_query(dialect: str, now: datetime) -> Executable:
    """The statement that picks the next candidate: the most overdue row still to deliver.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so concurrent workers take different rows without waiting.
    """
    if dialect == "sqlite":
        return text(_SQLITE_PICK).bindparams(bindparam("now", now, type_=UTCDateTime())).columns(Notification.id)
    pick = (
        select(Notification.id).where(_claimable(now)).order_by(Notification.next_attempt_at, Notification.id).limit(1)
    )
    return pick.with_for_update(skip_locked=True) if dialect == "postgresql" else pick


def claim_next(db: Session, *, worker_id: str, now: datetime, lease: timedelta = DEFAULT_LEASE) -> Notification | None:
    """Claim the most overdue notification for ``worker_id`` and commit; None when nothing is due."""
    pick = claim_query(db.get_bind().dialect.name, now)
    for _ in range(_CLAIM_TRIES):
        candidate = db.execute(pick).scalar_one_or_none()
        if candidate is None:
            db.commit()
            return None
        claim = (
            update(Notification)
            .where(Notification.id == candidate, _claimable(now))
            .values(
                status="sending",
                claimed_by=worker_id,
                claimed_until=now + lease,
                next_attempt_at=now + lease,
                attempts=Notification.attempts + 1,
            )
            .returning(Notification)
        )
        claimed = (
            db.execute(claim, execution_options={"synchronize_session": False, "populate_existing": True})
            .scalars()
            .one_or_none()
        )
        db.commit()
        if claimed is not None:
            return claimed
    return None


# --- Delivering -------------------------------------------------------------------------------------------


def _envelope(db: Session, n: Notification) -> Envelope:
    if n.channel == "email":
        return Envelope(
            notification_id=n.id, channel="email", to=n.target, subject=n.subject, body=n.body, key=notification_key(n)
        )
    if n.channel == "webhook":
        endpoint = db.get(WebhookEndpoint, int(n.target)) if n.target.isdigit() else None
        if endpoint is None or not endpoint.active:
            raise EndpointGone("webhook endpoint removed or deactivated")
        return Envelope(
            notification_id=n.id,
            channel="webhook",
            to=endpoint.url,
            subject=n.subject,
            body=n.body,
            secret=endpoint.secret,
            key=notification_key(n),
        )
    raise PermanentError(f"unknown channel {n.channel!r}")


class EndpointGone(PermanentError):
    """The clinic deactivated the webhook endpoint: fail its queued calls without telling the administrators
    (they did it)."""


def _error_text(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text[:_ERROR_MAX]


def deliver_one(
    db: Session,
    notification: Notification,
    *,
    transports: Transports,
    now: datetime,
    retry_for: timedelta = DEFAULT_RETRY,
    base_url: str = DEFAULT_BASE_URL,
) -> Outcome:
    """Send a notification this worker has claimed and record the outcome (committed).

    Returns ``sent``, ``pending`` (will retry), ``failed``, or ``lost`` when the claim expired and another
    worker took the row over before a failure could be recorded. A transient failure is retried until
    ``retry_for`` after the row was queued (the last try exactly then); a failed alert notification queues
    the administrators' notice in the same transaction as the outcome.
    """
    n_id, attempts, holder = notification.id, notification.attempts, notification.claimed_by
    give_up_at = notification.created_at + retry_for
    error: Exception | None = None
    try:
        envelope = _envelope(db, notification)
    except PermanentError as e:
        error = e
    db.commit()  # no transaction stays open while we talk to the network (on SQLite it holds the write lock)
    if error is None:
        try:
            transports.for_channel(envelope.channel).send(envelope, now=now)
        except (TransientError, PermanentError) as e:
            error = e
        except Exception as e:  # a bug in a transport: keep the row moving, retry like a transient error
            log.warning(
                "notification %s: unexpected %s from the %s transport", n_id, type(e).__name__, envelope.channel
            )
            error = TransientError(f"unexpected {type(e).__name__}")

    row = Notification.id == n_id
    if error is None:
        # Success wins even if the claim was taken over meanwhile: the other worker's outcome then no longer
        # matches, and nobody sends again.
        values: dict[str, Any] = {
            "status": "sent",
            "sent_at": now,
            "next_attempt_at": now,
            "claimed_by": None,
            "claimed_until": None,
        }
        where = and_(row, Notification.status.in_(("pending", "sending")))
        outcome: Outcome = "sent"
    else:
        give_up = isinstance(error, PermanentError) or now >= give_up_at
        outcome = "failed" if give_up else "pending"
        values = {
            "status": outcome,
            "last_error": _error_text(error),
            "claimed_by": None,
            "claimed_until": None,
            "next_attempt_at": now if give_up else min(now + backoff(attempts), give_up_at),
        }
        where = and_(row, Notification.status == "sending", Notification.claimed_by == holder)
    result = db.execute(
        update(Notification).where(where).values(**values), execution_options={"synchronize_session": False}
    )
    if result.rowcount == 1 and outcome == "failed" and not isinstance(error, EndpointGone):  # type: ignore[attr-defined]
        failed = db.get(Notification, n_id, populate_existing=True)
        if failed is not None:
            hours = int(retry_for.total_seconds() // 3600)
            enqueue_undelivered_notice(db, given_up=failed, now=now, retry_hours=hours, base_url=base_url)
    db.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("notification %s: claim lost before the outcome (%s) was recorded", n_id, outcome)
        return "lost"
    if outcome == "sent":
        log.info("notification %s sent (attempt %s)", n_id, attempts)
    else:
        log.warning("notification %s %s after attempt %s: %s", n_id, outcome, attempts, type(error).__name__)
    return outcome


# --- Periodic tasks written elsewhere ---------------------------------------------------------------------


def _optional_action(module: str, name: str) -> Callable[..., object] | None:
    """``module.name`` if that module and function exist (they are written separately), else None."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            return None
        raise
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def _accepts(fn: Callable[..., object], name: str) -> bool:
    return name in inspect.signature(fn).parameters


# Tasks that need not run every cycle: the least time between two runs in one process. Guideline prompts are
# refreshed once a day per person (``alscare.actions.prompts``) in batches, so a run every few minutes keeps up
# with a large clinic without a query every 2 s.
THROTTLED: Final[dict[str, timedelta]] = {
    "refresh_due_prompts": timedelta(minutes=5),
    "refresh_stale_summaries": timedelta(minutes=5),
    "prune_delivered": timedelta(minutes=10),
    # Rows for records made without the models (bulk loads, records older than migration 0018).
    "schedule_new_people": timedelta(minutes=5),
}
_last_run: dict[str, datetime] = {}
_last_run_lock = threading.Lock()


def _due_now(name: str, now: datetime) -> bool:
    """Whether a throttled task may run at ``now`` in this process (always, for tasks that are not throttled)."""
    every = THROTTLED.get(name)
    if every is None:
        return True
    with _last_run_lock:
        last = _last_run.get(name)
        if last is not None and last <= now < last + every:
            return False
        _last_run[name] = now
        return True


def run_periodic(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> None:
    """Escalate unacknowledged alerts, queue due check-in reminders and (throttled) refresh guideline prompts,
    each in its own transaction, if those actions exist. A failure is logged (its type only: no patient data in
    logs) and does not stop delivery."""
    minutes = int(getattr(settings, "alert_escalate_minutes", DEFAULT_ESCALATE_MINUTES))
    tasks: list[tuple[str, str, dict[str, Any]]] = [
        (
            "alscare.actions.alerts",
            "escalate_unacknowledged",
            {"after": timedelta(minutes=minutes), "levels": int(getattr(settings, "alert_escalation_levels", 3))},
        ),
        ("alscare.actions.schedules", "schedule_new_people", {}),
        ("alscare.actions.schedules", "send_due_reminders", {}),
        ("alscare.actions.prompts", "refresh_due_prompts", {}),
        ("alscare.actions.clinic_summary", "refresh_stale_summaries", {}),
    ]
    for module, name, kwargs in tasks:
        fn = _optional_action(module, name)
        if fn is None or not _due_now(name, now):
            continue
        if _accepts(fn, "base_url"):
            kwargs = {**kwargs, "base_url": settings.base_url}
        try:
            with sessions() as db:
                fn(db, now=now, **kwargs)
                db.commit()
        except Exception as e:
            log.error("%s.%s failed: %s", module, name, type(e).__name__)
    _prune(sessions, settings=settings, now=now)
    _checkpoint_audit_trail(sessions, settings=settings, now=now)
    _heartbeat(sessions, now=now)


def _prune(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> None:
    """Delete delivered notifications past their retention (throttled: ``THROTTLED["prune_delivered"]``)."""
    if not _due_now("prune_delivered", now):
        return
    days = int(getattr(settings, "notification_retention_days", 30))
    try:
        deleted = prune_delivered(sessions, now=now, keep=timedelta(days=days))
    except Exception as e:
        log.error("pruning delivered notifications failed: %s", type(e).__name__)
        return
    if deleted:
        log.info("deleted %s delivered notifications older than %s days", deleted, days)


def _heartbeat(sessions: sessionmaker[Session], *, now: datetime) -> None:
    """Tell ``/healthz`` this worker is alive (actions/health.py); a failure is logged like any task's."""
    from alscare.actions.health import beat

    try:
        beat(sessions, now=now)
    except Exception as e:
        log.error("heartbeat failed: %s", type(e).__name__)


def _checkpoint_audit_trail(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> None:
    """Anchor the audit trail outside the database every few minutes (see actions/audit_anchor.py)."""
    from alscare.actions.audit import seal_pending
    from alscare.actions.audit_anchor import CHECKPOINT_FILE, checkpoint_if_due

    try:  # rows are appended unsealed (no lock per request): link them into the chain every cycle
        with sessions() as db:
            seal_pending(db)
            db.commit()
    except Exception as e:
        log.error("audit sealing failed: %s", type(e).__name__)
    try:
        with sessions() as db:
            checkpoint_if_due(db, path=settings.data_dir / CHECKPOINT_FILE, secret_key=settings.secret_key, now=now)
    except Exception as e:
        log.error("audit checkpoint failed: %s", type(e).__name__)


# --- Loops ------------------------------------------------------------------------------------------------


def deliver_due(
    sessions: sessionmaker[Session],
    *,
    worker_id: str,
    transports: Transports,
    clock: Clock = utc_now,
    limit: int | None = None,
    stop: threading.Event | None = None,
    retry_for: timedelta = DEFAULT_RETRY,
    base_url: str = DEFAULT_BASE_URL,
) -> int:
    """Claim and deliver due notifications until none is due (or ``limit``, or ``stop``). Returns how many."""
    done = 0
    while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
        with sessions() as db:
            notification = claim_next(db, worker_id=worker_id, now=clock())
            if notification is None:
                break
            deliver_one(db, notification, transports=transports, now=clock(), retry_for=retry_for, base_url=base_url)
        done += 1
    return done


def prune_delivered(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    keep: timedelta = DEFAULT_RETENTION,
    batch: int = PRUNE_BATCH,
    batches: int = PRUNE_BATCHES,
) -> int:
    """Delete notifications sent more than ``keep`` ago, ``batch`` rows per transaction, at most ``batches``
    transactions (the next run goes on). Failed rows are kept for audit. Returns how many were deleted.

    A sent row's ``next_attempt_at`` is when it was settled (never later than ``sent_at`` for rows sent before
    this rule, never much later for new ones), so the rows are found by a range of ``ix_notifications_due``
    and checked against ``sent_at`` exactly.
    """
    cutoff = now - keep
    deleted = 0
    for _ in range(batches):
        with sessions() as db:
            ids = list(
                db.execute(
                    select(Notification.id)
                    .where(
                        Notification.status == "sent",
                        Notification.next_attempt_at < cutoff,
                        Notification.sent_at < cutoff,
                    )
                    .order_by(Notification.next_attempt_at)
                    .limit(batch)
                ).scalars()
            )
            if ids:
                db.execute(delete(Notification).where(Notification.id.in_(ids)))
            db.commit()
        deleted += len(ids)
        if len(ids) < batch:
            break
    return deleted


def settings_retry(settings: Settings) -> timedelta:
    return timedelta(hours=int(getattr(settings, "notification_retry_hours", 24)))


def run_once(
    sessions: sessionmaker[Session],
    *,
    settings: Settings,
    worker_id: str,
    transports: Transports | None = None,
    clock: Clock = utc_now,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> int:
    """One cycle: the periodic tasks, then deliver what is due. Returns how many notifications were handled."""
    use_key(settings.secret_key)  # webhook secrets are sealed at rest
    run_periodic(sessions, settings=settings, now=clock())
    own = transports is None
    transports = transports or transports_for(settings)
    try:
        return deliver_due(
            sessions,
            worker_id=worker_id,
            transports=transports,
            clock=clock,
            limit=limit,
            stop=stop,
            retry_for=settings_retry(settings),
            base_url=settings.base_url,
        )
    finally:
        if own:
            transports.close()


def run_worker(
    sessions: sessionmaker[Session],
    *,
    settings: Settings,
    worker_id: str,
    stop: threading.Event,
    poll_seconds: float = 2,
    clock: Clock = utc_now,
    transports: Transports | None = None,
) -> None:
    """Run cycles until ``stop`` is set; sleep ``poll_seconds`` whenever a cycle found the queue drained.

    A failing cycle (say, the database is briefly unreachable) is logged and retried after the pause.
    """
    use_key(settings.secret_key)  # webhook secrets are sealed at rest
    own = transports is None
    transports = transports or transports_for(settings)
    log.info("delivery worker %s started", worker_id)
    try:
        _loop(
            sessions,
            settings=settings,
            worker_id=worker_id,
            stop=stop,
            poll_seconds=poll_seconds,
            clock=clock,
            transports=transports,
        )
    finally:
        if own:
            transports.close()
    log.info("delivery worker %s stopped", worker_id)


def _loop(
    sessions: sessionmaker[Session],
    *,
    settings: Settings,
    worker_id: str,
    stop: threading.Event,
    poll_seconds: float,
    clock: Clock,
    transports: Transports,
) -> None:
    while not stop.is_set():
        try:
            handled = run_once(
                sessions,
                settings=settings,
                worker_id=worker_id,
                transports=transports,
                clock=clock,
                limit=BATCH,
                stop=stop,
            )
        except Exception as e:
            log.error("delivery cycle failed: %s", type(e).__name__)
            handled = 0
        if handled < BATCH:
            stop.wait(poll_seconds)


def start_worker_thread(
    sessions: sessionmaker[Session], *, settings: Settings, worker_id: str | None = None, poll_seconds: float = 2
) -> tuple[threading.Thread, threading.Event]:
    """The embedded default: the worker as a daemon thread of ``serve``. Set the event and join to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        kwargs={
            "sessions": sessions,
            "settings": settings,
            "worker_id": worker_id or new_worker_id(),
            "stop": stop,
            "poll_seconds": poll_seconds,
        },
        name="alscare-delivery",
        daemon=True,
    )
    thread.start()
    return thread, stop

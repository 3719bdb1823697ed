"""Alerts: raising them, the clinic's inbox, acknowledging and resolving, and escalating the forgotten.

An alert is a stored event (decision 0001): one per ``(source, source_id)`` — a check-in above routine, or
one clinical prompt of one check-in. Only the person's own clinic gets alerts, and only while it holds a
grant covering check-ins (``checkins``, ``full_record`` or ``proxy``). Notifications are queued in the same
transaction (the outbox pattern) by ``alscare.delivery.outbox``; a separate worker sends them, and calls
``escalate_unacknowledged`` every cycle (``alscare.delivery.worker.run_periodic``).

Life of an alert: open → acknowledged → resolved (or open → resolved), each step with who and when.
Open alerts escalate: an alert ``k`` × ``after`` old is at level ``k``, up to ``levels`` (issue 11: once per
level at those times, and one set of notifications per level reached, never one per worker cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from alscare.access import Action, Scope
from alscare.actions.audit import record_event, record_list_view
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.paging import PAGE_SIZE, Page, check_page, offset_of
from alscare.actions.records import RecordRefused, active_grants, open_record
from alscare.storage.models import Alert, Patient, User

# Most urgent first: the inbox sorts by this, then oldest first.
SEVERITY_ORDER: Final = ("emergency", "contact_team", "prompt")
STATUSES: Final = ("open", "acknowledged", "resolved")
# A clinic gets a person's alerts only while it holds one of these grants.
ALERT_SCOPES: Final = frozenset({Scope.CHECKINS.value, Scope.FULL_RECORD.value, Scope.PROXY.value})
SUMMARY_MAX_CHARS: Final = 300
NOTE_MAX_CHARS: Final = 4000
# How many times an unacknowledged alert escalates at most (``ALSCARE_ALERT_ESCALATION_LEVELS``).
DEFAULT_ESCALATION_LEVELS: Final = 3


def clinic_receiving_alerts(db: Session, *, patient: Patient) -> int | None:
    """The person's clinic, if it holds an active grant covering check-ins; otherwise None."""
    if patient.clinic_id is None:
        return None
    for grant in active_grants(db, patient_id=patient.id):
        if grant.grantee_clinic_id == patient.clinic_id and grant.scope in ALERT_SCOPES:
            return patient.clinic_id
    return None


def _existing(db: Session, source: str, source_id: str) -> Alert | None:
    return db.execute(select(Alert).where(Alert.source == source, Alert.source_id == source_id)).scalar_one_or_none()


def raise_alert(
    db: Session,
    *,
    patient: Patient,
    source: str,
    source_id: str,
    severity: str,
    summary: str,
    now: datetime,
    base_url: str | None = None,
) -> Alert | None:
    """Raise one alert for ``(source, source_id)`` and queue its notifications (links start with ``base_url``,
    the app's ``settings.base_url``).

    Returns the stored alert (the earlier one if it was already raised), or None when no clinic may receive
    it: the person has no clinic, or has not shared check-ins with it. Nothing is stored then.
    """
    if severity not in SEVERITY_ORDER:
        raise InvalidInput("severity", f"must be one of: {', '.join(SEVERITY_ORDER)}")
    existing = _existing(db, source, source_id)
    if existing is not None:
        return existing
    clinic_id = clinic_receiving_alerts(db, patient=patient)
    if clinic_id is None:
        return None
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[: SUMMARY_MAX_CHARS - 1] + "…"
    alert = Alert(
        patient_id=patient.id,
        clinic_id=clinic_id,
        source=source,
        source_id=source_id,
        severity=severity,
        summary=summary,
        status="open",
        created_at=now,
        escalation_level=0,
    )
    try:
        with db.begin_nested():
            db.add(alert)
            db.flush()
    except IntegrityError:
        # Raised at the same moment by another transaction: theirs stands, and they queue the notifications.
        raced = _existing(db, source, source_id)
        if raced is None:
            raise
        return raced
    from alscare.delivery.outbox import enqueue_alert_notifications  # imported here: delivery is optional

    enqueue_alert_notifications(db, alert=alert, now=now, **_link_base(base_url))
    return alert


def _link_base(base_url: str | None) -> dict[str, str]:
    return {} if base_url is None else {"base_url": base_url}


def alerts_for_check_in(
    db: Session, *, check_in_id: int, patient_id: int | None = None, submitted_at: datetime | None = None
) -> list[Alert]:
    """The alerts raised by one check-in: its triage alert and its prompts (the caller opened the record).

    Guideline prompts from the whole history (``source = "history_prompt"``, alscare.actions.prompts) belong
    to no check-in by id; those raised by this one are the person's raised at the moment it was stored, in the
    same transaction (``patient_id`` and ``submitted_at``). Older per-check-in prompts carry the check-in id.
    """
    condition = ((Alert.source == "check_in") & (Alert.source_id == str(check_in_id))) | (
        (Alert.source == "prompt") & Alert.source_id.startswith(f"{check_in_id}:")
    )
    if patient_id is not None and submitted_at is not None:
        condition = condition | (
            (Alert.source == "history_prompt") & (Alert.patient_id == patient_id) & (Alert.created_at == submitted_at)
        )
    return list(db.execute(select(Alert).where(condition).order_by(Alert.id)).scalars())


# --- The clinic's side ------------------------------------------------------------------------------


def _is_clinician_of(actor: User, clinic_id: int | None) -> bool:
    return actor.role == "clinician" and actor.clinic_id is not None and actor.clinic_id == clinic_id


def _open_alert(
    db: Session, *, actor: User, alert_id: int, now: datetime, action: Action, source_ip: str | None, lock: bool
) -> tuple[Alert, Patient]:
    """The alert, if ``actor`` is a clinician of its clinic who may see the person's check-ins; audited."""
    alert = db.get(Alert, alert_id, with_for_update=lock, populate_existing=lock)
    if alert is None:
        # The same answer as a refused alert (RecordRefused), so that alert ids cannot be probed.
        raise NotFound("record not found")
    if not _is_clinician_of(actor, alert.clinic_id):
        # The same answer as a missing alert; the refusal stays on the audit trail (see RecordRefused).
        event: dict[str, Any] = {
            "now": now,
            "actor_user_id": actor.id,
            "patient_id": alert.patient_id,
            "action": "denied",
            "resource": "alert",
            "source_ip": source_ip,
        }
        record_event(db, **event)
        raise RecordRefused(event)
    patient = open_record(
        db,
        user=actor,
        patient_id=alert.patient_id,
        scope=Scope.CHECKINS,
        action=action,
        now=now,
        resource="alert",
        source_ip=source_ip,
    )
    return alert, patient


def _note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if required and not text:
        raise InvalidInput("note", "Write what was done before resolving the alert.")
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidInput("note", f"Use at most {NOTE_MAX_CHARS} characters.")
    return text or None


def acknowledge_alert(
    db: Session, *, actor: User, alert_id: int, now: datetime, note: str | None = None, source_ip: str | None = None
) -> Alert:
    """Someone at the clinic has seen the alert and is dealing with it. Only an open alert can be acknowledged."""
    alert, _ = _open_alert(
        db, actor=actor, alert_id=alert_id, now=now, action=Action.WRITE, source_ip=source_ip, lock=True
    )
    text = _note(note, required=False)
    if alert.status != "open":
        raise InvalidInput("status", f"This alert is already {alert.status}.")
    alert.status = "acknowledged"
    alert.acknowledged_by_id = actor.id
    alert.acknowledged_at = now
    if text:
        alert.note = text
    db.flush()
    return alert


def resolve_alert(
    db: Session, *, actor: User, alert_id: int, now: datetime, note: str, source_ip: str | None = None
) -> Alert:
    """Close the alert with a note of what was done. An open or acknowledged alert can be resolved, once."""
    alert, _ = _open_alert(
        db, actor=actor, alert_id=alert_id, now=now, action=Action.WRITE, source_ip=source_ip, lock=True
    )
    text = _note(note, required=True)
    if alert.status == "resolved":
        raise InvalidInput("status", "This alert is already resolved.")
    alert.status = "resolved"
    alert.resolved_by_id = actor.id
    alert.resolved_at = now
    alert.note = f"{alert.note}\n\n{text}" if alert.note else text
    db.flush()
    return alert


@dataclass(frozen=True)
class AlertView:
    """One alert as a clinician sees it: with the person's name, its age and who handled it."""

    alert: Alert
    patient_id: int
    patient_name: str
    age: timedelta
    acknowledged_by: str | None
    resolved_by: str | None


def _name_of(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return user.display_name if user is not None else None


def _view(db: Session, alert: Alert, patient: Patient, now: datetime) -> AlertView:
    return AlertView(
        alert=alert,
        patient_id=patient.id,
        patient_name=patient.full_name,
        age=now - alert.created_at,
        acknowledged_by=_name_of(db, alert.acknowledged_by_id),
        resolved_by=_name_of(db, alert.resolved_by_id),
    )


def alert_detail(db: Session, *, actor: User, alert_id: int, now: datetime, source_ip: str | None = None) -> AlertView:
    alert, patient = _open_alert(
        db, actor=actor, alert_id=alert_id, now=now, action=Action.READ, source_ip=source_ip, lock=False
    )
    return _view(db, alert, patient, now)


def _inbox_order(include_resolved: bool) -> list[Any]:
    """Most severe first, then oldest first (then id, so pages never overlap); resolved ones last."""
    severity = case({s: i for i, s in enumerate(SEVERITY_ORDER)}, value=Alert.severity, else_=len(SEVERITY_ORDER))
    order: list[Any] = [severity, Alert.created_at, Alert.id]
    if include_resolved:
        order.insert(0, case((Alert.status == "resolved", 1), else_=0))
    return order


def alert_inbox(
    db: Session,
    *,
    actor: User,
    now: datetime,
    include_resolved: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    source_ip: str | None = None,
) -> Page[AlertView]:
    """One page of the clinician's clinic's alerts: most severe first, then oldest first (resolved ones last,
    if asked for), and the total.

    Only clinicians have an inbox (anyone else: NotFound). Alerts of people who have since stopped sharing
    check-ins with the clinic are left out, decided for the whole list in one subquery
    (``clinic_dashboard.visible_patient_ids``). Two statements whatever the clinic's size — the total, and the
    page with the person's name and who acknowledged or resolved joined in — and one audit event naming the
    people shown (``audit.record_list_view``), not one per person.
    """
    from alscare.actions.clinic_dashboard import visible_patient_ids

    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("No such page.")
    check_page(page)
    conditions = [Alert.clinic_id == actor.clinic_id, Alert.patient_id.in_(visible_patient_ids(actor.clinic_id))]
    if not include_resolved:
        conditions.append(Alert.status != "resolved")
    total = db.execute(select(func.count(Alert.id)).where(*conditions)).scalar_one()
    acknowledger, resolver = aliased(User), aliased(User)
    rows = db.execute(
        select(Alert, Patient.full_name, acknowledger.display_name, resolver.display_name)
        .join(Patient, Patient.id == Alert.patient_id)
        .outerjoin(acknowledger, acknowledger.id == Alert.acknowledged_by_id)
        .outerjoin(resolver, resolver.id == Alert.resolved_by_id)
        .where(*conditions)
        .order_by(*_inbox_order(include_resolved))
        .limit(page_size)
        .offset(offset_of(page, page_size))
    ).all()
    views = [
        AlertView(
            alert=alert,
            patient_id=alert.patient_id,
            patient_name=name,
            age=now - alert.created_at,
            acknowledged_by=acknowledged_by,
            resolved_by=resolved_by,
        )
        for alert, name, acknowledged_by, resolved_by in rows
    ]
    record_list_view(
        db,
        now=now,
        actor_user_id=actor.id,
        resource="alerts",
        patient_ids=[v.patient_id for v in views],
        source_ip=source_ip,
    )
    return Page(items=views, total=int(total), page=page, page_size=page_size)


def escalate_unacknowledged(
    db: Session,
    *,
    now: datetime,
    after: timedelta,
    levels: int = DEFAULT_ESCALATION_LEVELS,
    base_url: str | None = None,
) -> list[Alert]:
    """Escalate open alerts nobody has acknowledged to the level their age has reached: ``k`` × ``after``
    old is level ``k``, and never above ``levels``.

    Why a jump and not one level per call: the worker calls this every few seconds, and an alert found late
    (after the worker was down, or with many levels due) used to climb one level per cycle, an email set per
    step (the "escalation storm" of issue 11). Now each call moves an alert straight to its due level and
    queues one set of notifications for it, so every level is notified at most once and an alert is never
    notified more than ``levels`` times. Each step is a conditional UPDATE (still open, still at the level
    read), so two workers running at once escalate an alert once, and only the one whose UPDATE matched queues
    the notification.
    """
    if after <= timedelta(0):
        raise ValueError("after must be a positive time")
    if levels < 1:
        raise ValueError("levels must be at least 1")
    candidates = db.execute(
        select(Alert.id, Alert.escalation_level, Alert.created_at)
        .where(
            Alert.status == "open",
            Alert.clinic_id.is_not(None),
            Alert.escalation_level < levels,
            Alert.created_at <= now - after,
        )
        .order_by(Alert.created_at, Alert.id)
    ).all()
    due = [
        (alert_id, level, target)
        for alert_id, level, created_at in candidates
        if (target := min(levels, (now - created_at) // after)) > level
    ]
    from alscare.delivery.outbox import enqueue_escalation_notifications

    escalated: list[Alert] = []
    for alert_id, level, target in due:
        result = cast(
            CursorResult[Any],
            db.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.status == "open", Alert.escalation_level == level)
                .values(escalation_level=target, escalated_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:
            continue
        alert = db.get(Alert, alert_id, populate_existing=True)
        assert alert is not None
        enqueue_escalation_notifications(db, alert=alert, now=now, **_link_base(base_url))
        escalated.append(alert)
    db.flush()
    return escalated

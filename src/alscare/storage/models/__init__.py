"""Database tables. Names follow the glossary (docs/glossary.md): a clinician would recognise each one.

Models hold data only; rules about who may see what live in ``alscare.access``, and every change goes
through a function in ``alscare.actions``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    insert,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from alscare.storage.sealed import SealedString

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always returned timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    hours: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The emergency number shown to people who join through this clinic (migration 0010); None: the locale's.
    emergency_number: Mapped[str | None] = mapped_column(String(20))


class User(Base):
    """An account: a person with ALS, a caregiver or family member, a clinician, or a clinic administrator."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('patient','caregiver','clinician','admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    # Sealed at rest with a key outside the database (alscare.security.secretbox).
    totp_secret: Mapped[str | None] = mapped_column(SealedString(255))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A carer's (or clinician's) phone number, shown to the care team as a tel: link (migration 0008).
    phone: Mapped[str | None] = mapped_column(String(40))
    # A clinic system's account behind an API token (migration 0020, ``models/api_tokens.py``): it never signs
    # in, is never emailed and is not listed as staff.
    is_service: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    clinic: Mapped[Clinic | None] = relationship()

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in ("clinician", "admin")


class Patient(Base):
    """The record of a person with ALS: their profile. Clinical data hangs off it."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "onset_region IS NULL OR onset_region IN ('bulbar','upper_limb','lower_limb','respiratory','trunk')",
            name="onset_region",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(20))
    height_cm: Mapped[float | None]
    onset_date: Mapped[date | None] = mapped_column(Date)
    onset_region: Mapped[str | None] = mapped_column(String(20))
    diagnosis_date: Mapped[date | None] = mapped_column(Date)
    emergency_number: Mapped[str] = mapped_column(String(20))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The person's own phone number, for the care team (migration 0008).
    phone: Mapped[str | None] = mapped_column(String(40))
    # The person has chosen to see their own outlook (prognosis) page; off until they turn it on (0008).
    prognosis_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User | None] = relationship()
    clinic: Mapped[Clinic | None] = relationship()


class ConsentGrant(Base):
    """The person with ALS lets one person, or one clinic, see one part of their record.

    Exactly one of grantee_user_id / grantee_clinic_id is set. Revoking sets revoked_at; the row is kept so
    the history of who could see what stays visible.
    """

    __tablename__ = "consent_grants"
    __table_args__ = (
        CheckConstraint("(grantee_user_id IS NULL) <> (grantee_clinic_id IS NULL)", name="one_grantee"),
        Index("ix_consent_grants_patient_active", "patient_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    grantee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    grantee_clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    scope: Mapped[str] = mapped_column(String(30))
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    grantee_user: Mapped[User | None] = relationship(foreign_keys=[grantee_user_id])
    grantee_clinic: Mapped[Clinic | None] = relationship(foreign_keys=[grantee_clinic_id])


class Invitation(Base):
    """A single-use invitation link: admin → clinician, clinician → patient, patient → family member."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the inviter cancels a pending invitation (migration 0004); a cancelled link no longer works.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who accepted it (migration 0017): a new account, or an existing one that signed in to accept a share.
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
    clinic: Mapped[Clinic | None] = relationship()
    patient: Mapped[Patient | None] = relationship()


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A browser session. Only the digest of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Password checked but second factor still owed: the session is not yet signed in.
    pending_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class AlsfrsAssessment(Base):
    """One ALSFRS-R assessment: the twelve answers, how it was taken and by whom."""

    __tablename__ = "alsfrs_assessments"
    __table_args__ = (
        CheckConstraint("total BETWEEN 0 AND 48", name="total_range"),
        Index("ix_alsfrs_assessments_patient_date", "patient_id", "assessed_on"),
        UniqueConstraint("patient_id", "client_id", name="uq_alsfrs_assessments_patient_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    administration_mode: Mapped[str] = mapped_column(String(30))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The submitting form's own id: a retried submit finds the stored row instead of adding another.
    client_id: Mapped[str | None] = mapped_column(String(64))

    # Who entered it: shown on the record beside how it was taken (issue 14, finding 2).
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class AuditEvent(Base):
    """Append-only, hash-chained record of every read and write of patient data.

    Database triggers (see the migration) refuse UPDATE and DELETE. Each row's hash covers the previous
    row's hash, so an edited, deleted or reordered row breaks the chain (``alscare audit verify``).
    Holds no clinical content: only who, whose record, which kind of data, what action, when, from where.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(10))
    resource: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(String(200))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    # Empty until the row is sealed into the chain (``actions/audit.seal_pending``): appending takes no lock.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The row's place in the chain, given when it is sealed (rows are sealed in the order they became visible).
    seq: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)

    def chain_fields(self) -> dict[str, Any]:
        """The fields the hash covers, in the canonical form used by ``alscare.security.hashchain``."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor_user_id": self.actor_user_id,
            "patient_id": self.patient_id,
            "action": self.action,
            "resource": self.resource,
            "detail": self.detail,
            "source_ip": self.source_ip,
        }


class AuditHead(Base):
    """One row holding the newest sealed entry (its ``seq`` as ``last_id``, and its hash); the sealer locks it,
    so two sealers never fork the chain. Writers of audit rows never touch it."""

    __tablename__ = "audit_head"
    __table_args__ = (UniqueConstraint("singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    singleton: Mapped[int] = mapped_column(Integer, default=1)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


__all__ = [
    "DEFAULT_SCHEDULE_DAYS",
    "NOTIFICATION_QUEUE",
    "Alert",
    "AlsfrsAssessment",
    "AlsfrsDraft",
    "AuditEvent",
    "AuditHead",
    "Base",
    "CheckIn",
    "CheckInSchedule",
    "Clinic",
    "ConsentGrant",
    "Invitation",
    "Message",
    "Notification",
    "PasswordReset",
    "Patient",
    "User",
    "WebSession",
    "WebhookEndpoint",
]


# --- Check-ins, alerts, delivery, schedules, messages (issue 4) -------------------------------------------


class CheckIn(Base):
    """A symptom check-in, stored exactly once per ``client_id`` (the form's own id), with its triage."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("patient_id", "client_id", name="uq_check_ins_patient_client"),
        CheckConstraint("tier IN ('routine','contact_team','emergency')", name="tier"),
        Index("ix_check_ins_patient_submitted", "patient_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reporter: Mapped[str] = mapped_column(String(20))  # self, caregiver, clinician
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    body_map: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    weight_kg: Mapped[float | None]
    fvc_percent: Mapped[float | None]
    snip_cmh2o: Mapped[float | None]
    spo2_percent: Mapped[float | None]
    question: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class AlsfrsDraft(Base):
    """An ALSFRS-R self-report in progress: saved after every answer so it can be resumed."""

    __tablename__ = "alsfrs_drafts"
    __table_args__ = (UniqueConstraint("patient_id", "client_id", name="uq_alsfrs_drafts_patient_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    administration_mode: Mapped[str] = mapped_column(String(30))
    gastrostomy: Mapped[bool | None] = mapped_column(Boolean)
    answers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("alsfrs_assessments.id"))


class Alert(Base):
    """Something the care team must look at: a triage result above routine, or a clinical prompt.

    Life: open → acknowledged → resolved, each step with who and when. Unacknowledged alerts escalate.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("severity IN ('emergency','contact_team','prompt')", name="severity"),
        CheckConstraint("status IN ('open','acknowledged','resolved')", name="status"),
        UniqueConstraint("source", "source_id", name="uq_alerts_source"),
        Index("ix_alerts_clinic_status", "clinic_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    source: Mapped[str] = mapped_column(String(30))  # check_in, prompt
    source_id: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[Patient] = relationship()


class WebhookEndpoint(Base):
    """A clinic's own system that receives signed alert notifications."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(SealedString(255))  # sealed at rest (alscare.security.secretbox)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The rows a worker may still claim, written literally: SQLite uses a partial index only when the query has
# the very same term (a bound parameter would not match), and PostgreSQL proves it from the same text.
NOTIFICATION_QUEUE = "status IN ('pending','sending')"


class Notification(Base):
    """One message to deliver (an email or a webhook call), claimed by exactly one worker at a time.

    A worker claims a row with a conditional UPDATE (pending or sending, and due); only the worker whose UPDATE
    matched sends it. Retries back off for ``ALSCARE_NOTIFICATION_RETRY_HOURS``; then the row is ``failed``.
    Carries no clinical details: the text says only that something needs attention, with a link.

    ``next_attempt_at`` is when a worker next has to act on the row: a pending row's next try, a sending row's
    claim expiry (so a dead worker's claim is due again), a settled (sent or failed) row's settling time. The
    claim query is then one range over one column of the partial index ``ix_notifications_queue``, which holds
    only the rows still to deliver (issue 11: the former OR of two conditions made SQLite scan and sort).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sending','sent','failed')", name="status"),
        UniqueConstraint("dedupe_key", name="uq_notifications_dedupe_key"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index(
            "ix_notifications_queue",
            "next_attempt_at",
            "id",
            sqlite_where=text(NOTIFICATION_QUEUE),
            postgresql_where=text(NOTIFICATION_QUEUE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))  # alert, escalation, reminder, message
    channel: Mapped[str] = mapped_column(String(20))  # email, webhook
    target: Mapped[str] = mapped_column(String(500))  # email address, or webhook endpoint id
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CheckInSchedule(Base):
    """How often a person's check-ins are due, and when they were last reminded."""

    __tablename__ = "check_in_schedules"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", name="uq_check_in_schedules_patient_kind"),
        CheckConstraint("kind IN ('symptom_check_in','alsfrs_r')", name="kind"),
        CheckConstraint("interval_days BETWEEN 1 AND 365", name="interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(30))
    interval_days: Mapped[int] = mapped_column(Integer)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the reminder task next looks at this row: never later than the next reminder could be due (a lower
    # bound: the task recomputes and moves it on), so one indexed range finds the rows to look at, not a scan.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


# How often each kind is due for a person who chose nothing else (``actions.schedules`` says why these).
DEFAULT_SCHEDULE_DAYS: dict[str, int] = {"symptom_check_in": 7, "alsfrs_r": 28}


@event.listens_for(Patient, "after_insert")
def _schedule_new_person(mapper: Any, connection: Any, target: Patient) -> None:
    """Give every new record one schedule row per kind, first looked at when it first falls due.

    Why here: the reminder task finds what is due with one indexed range over ``remind_at`` (issue 11: it read
    everyone's check-ins every cycle), which needs a row for every person; records are made in several places
    (sign-up, the clinic, FHIR import, tests), and every one of them goes through this insert. Rows missing
    for any other reason (bulk loads, records older than migration 0018) are added by
    ``actions.schedules.schedule_new_people``, which the worker runs now and then.
    """
    connection.execute(
        insert(CheckInSchedule),
        [
            {
                "patient_id": target.id,
                "kind": kind,
                "interval_days": days,
                "remind_at": target.created_at + timedelta(days=days),
            }
            for kind, days in DEFAULT_SCHEDULE_DAYS.items()
        ],
    )


class Message(Base):
    """A secure message between a person with ALS (or their caregiver) and their clinic.

    Each person has one conversation with their clinic; ``from_clinic`` says which side wrote. ``read_at``
    is set when the other side first opens it.
    """

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_patient_created", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_clinic: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("check_ins.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[User] = relationship()


# --- Domain modules --------------------------------------------------------------------------------
# Tables of newer domains live in their own modules beside this one (``storage/models/<domain>.py``), so no
# file grows into a god module. Importing them here registers every table on ``Base.metadata`` whoever
# imports this package first (Alembic, the app, the tests). New code imports a domain's models from its
# own module, e.g. ``from alscare.storage.models.care_wishes import CareWishesVersion``.
def _register_domain_modules() -> None:
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        importlib.import_module(f"{__name__}.{info.name}")


_register_domain_modules()

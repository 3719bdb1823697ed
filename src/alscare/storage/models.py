"""Database tables. Names follow the glossary (docs/glossary.md): a clinician would recognise each one.

Models hold data only; rules about who may see what live in ``alscare.access``, and every change goes
through a function in ``alscare.actions``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

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
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    administration_mode: Mapped[str] = mapped_column(String(30))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


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
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

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
    """One row holding the newest audit hash; locking it serialises writers so the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (UniqueConstraint("singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    singleton: Mapped[int] = mapped_column(Integer, default=1)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


__all__ = [
    "AlsfrsAssessment",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Clinic",
    "ConsentGrant",
    "Invitation",
    "PasswordReset",
    "Patient",
    "User",
    "WebSession",
]

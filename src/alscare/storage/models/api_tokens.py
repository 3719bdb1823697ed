"""API tokens for a clinic's own systems (issue 13: "an API token per clinic system").

A clinic's electronic health record or registry reads from alscare with a bearer token instead of a signed-in
person. Each token acts through its own *service account* (``users.is_service``): a clinician of the clinic
who cannot sign in, is never emailed, and is not listed as staff. Reusing the account model means the token
reads exactly what the clinic's consent grants open to a clinician — the one access policy in
``alscare.access`` — and every read it makes is audited under a name the person sees in their access log.
Only the token's SHA-256 digest is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alscare.storage.models import Base, User, UTCDateTime


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_clinic", "clinic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    # What the clinic calls the system, e.g. "Ward EHR": shown to the person as who read their record.
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    service_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    # The clinician who received the token by email and answers for the system; the administrator who asked.
    responsible_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    service_user: Mapped[User] = relationship(foreign_keys=[service_user_id])
    responsible: Mapped[User] = relationship(foreign_keys=[responsible_user_id])

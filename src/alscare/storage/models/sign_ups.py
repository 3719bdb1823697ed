"""Sign-ups waiting for their email to be confirmed (issue 14, finding 5).

Self sign-up answers "check your email" whether or not the address already has an account, so the page never
tells a stranger who uses alscare (and so who has ALS in the family). What the person typed waits here,
with the password already hashed, until the link in the email is used; only the link's digest is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class PendingSignUp(Base):
    __tablename__ = "pending_sign_ups"
    __table_args__ = (Index("ix_pending_sign_ups_email", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The profile fields of the sign-up form (``accounts.PatientProfile``), dates as ISO strings.
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

"""Shared security state: sign-in throttles and counts of refused probes, in the database.

In the database (not process memory) so that several app processes behind a load balancer count each guess
once and agree on every delay (issue 14, "shared state for several processes").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class SignInThrottle(Base):
    """Consecutive failures for one throttle key (account and address, address, account, ...).

    The key is stored as its SHA-256 digest: the table names no email address and no IP address.
    """

    __tablename__ = "sign_in_throttles"

    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the per-account ceiling last alerted the clinic's administrators (one alert per window).
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefusedProbeCount(Base):
    """How many refused attempts one actor made at one kind of one person's record (or at missing records,
    ``patient_id`` NULL) in one hour.

    One row per (actor, resource, hour) that grows a counter, instead of one audit row per refusal: a script
    probing thousands of record ids cannot flood the audit trail, and the count still shows it happened. The
    first refusal in each window is still written to the audit trail, so the trail shows who probed and when.
    """

    __tablename__ = "refused_probe_counts"
    __table_args__ = (
        UniqueConstraint(
            "actor_user_id", "patient_id", "resource", "window_start", name="uq_refused_probe_counts_window"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    resource: Mapped[str] = mapped_column(String(60))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())

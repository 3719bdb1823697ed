"""Service health (issue 11, item 5): the delivery worker's heartbeat, read by ``/healthz``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from alscare.storage.models import Base, UTCDateTime


class ServiceHeartbeat(Base):
    """One row per kind of process (``worker``): when one of them last finished a cycle."""

    __tablename__ = "service_heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Which process beat last (the worker's id): no patient data.
    detail: Mapped[str | None] = mapped_column(String(100))

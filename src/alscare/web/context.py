"""What every request needs: settings, the database, the clock, the throttle — held on ``app.state``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alscare.mail import Mailer
from alscare.security.ratelimit import ThrottleStore
from alscare.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    mailer: Mailer
    throttle: ThrottleStore
    clock: Callable[[], datetime] = utc_now

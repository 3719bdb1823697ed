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
    # Sessions for web requests: they start read-only and never take SQLite's write lock unless
    # they write (storage/db.py). None: every request gets a write session.
    read_sessions: sessionmaker[Session] | None = None

    def __post_init__(self) -> None:
        self._read_pair = self.sessions

    def sessions_for(self, *, write: bool) -> sessionmaker[Session]:
        """The session factory for a request that may write, or one that (mostly) reads.

        Whoever replaces ``sessions`` (a test binding every session to its own transaction) gets it for
        reads too: the read factory is used only alongside the write factory it was made with.
        """
        if write or self.read_sessions is None or self._read_pair is not self.sessions:
            return self.sessions
        return self.read_sessions

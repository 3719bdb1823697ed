"""Put a demo person back as other browser tests expect them.

The browser tests share one server (and one demo database) per session, so a test that leaves a check-in
draft half-way or switch scanning on changes what the next test of the same person sees (a check-in that
resumes at step two; Space and Enter taken by the scanner). Tests that change such state call these in a
``finally``; tests that need a clean start call them first. Both write the server's SQLite file directly.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app_server import Server
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alscare.storage.db import make_engine, make_sessionmaker
from alscare.storage.models import User
from alscare.storage.models.checkin_steps import CheckInDraft, ReadingPreferences


def _user_id(db: Session, email: str) -> int:
    return int(db.execute(select(User.id).where(User.email == email)).scalar_one())


def set_reading(
    server: Server, email: str, *, scanning: str = "off", seconds: float = 1.0, read_aloud: bool = False
) -> None:
    """The person's reading settings: normal text, no high contrast, scanning as given (default off)."""
    engine = make_engine(f"sqlite:///{server.data_dir / 'alscare.db'}")
    with make_sessionmaker(engine)() as db:
        user_id = _user_id(db, email)
        row = db.get(ReadingPreferences, user_id) or ReadingPreferences(user_id=user_id)
        row.text_size, row.high_contrast, row.scanning, row.scan_seconds = 100, False, scanning, seconds
        row.read_aloud, row.updated_at = read_aloud, datetime.now(UTC)
        db.add(row)
        db.commit()
    engine.dispose()


def clear_check_in_drafts(server: Server, email: str) -> None:
    """Drop every check-in draft the person started, so their next check-in begins at the first step."""
    engine = make_engine(f"sqlite:///{server.data_dir / 'alscare.db'}")
    with make_sessionmaker(engine)() as db:
        db.execute(delete(CheckInDraft).where(CheckInDraft.author_id == _user_id(db, email)))
        db.commit()
    engine.dispose()

"""Each person's reading and switch settings: text size, high contrast, switch scanning, read-aloud.

Saved per account (issue 7, item 2), so a person who needs large text or a single switch has it on any
browser they sign in from. Nothing here is health data; it is read on every page, with one primary-key
lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from alscare.actions.errors import InvalidInput
from alscare.storage.models.checkin_steps import ReadingPreferences

TEXT_SIZES: Final = (100, 125, 150, 200)  # per cent; 200 % is the WCAG 1.4.4 resize-text mark
SCANNING_MODES: Final = ("off", "one", "two")  # no scanning; one switch (Space); two switches (Space, Enter)
SCAN_SECONDS_MIN: Final = 0.5
SCAN_SECONDS_MAX: Final = 5.0


@dataclass(frozen=True)
class Reading:
    text_size: int = 100
    high_contrast: bool = False
    scanning: str = "off"
    scan_seconds: float = 1.5
    read_aloud: bool = False


DEFAULT: Final = Reading()


def reading_of(db: Session, user_id: int) -> Reading:
    row = db.get(ReadingPreferences, user_id)
    if row is None:
        return DEFAULT
    return Reading(row.text_size, row.high_contrast, row.scanning, row.scan_seconds, row.read_aloud)


def parse_reading(
    *, text_size: str, high_contrast: bool, scanning: str, scan_seconds: str, read_aloud: bool
) -> Reading:
    """The settings form's values, each refused by name when it is not one of the offered choices."""
    try:
        size = int(text_size)
    except ValueError:
        size = 0
    if size not in TEXT_SIZES:
        raise InvalidInput("text_size", "Choose one of the text sizes shown.")
    if scanning not in SCANNING_MODES:
        raise InvalidInput("scanning", "Choose how you use switches.")
    try:
        seconds = float(scan_seconds.replace(",", "."))
    except ValueError:
        seconds = -1.0
    if not SCAN_SECONDS_MIN <= seconds <= SCAN_SECONDS_MAX:
        raise InvalidInput(
            "scan_seconds",
            f"Scanning speed: enter seconds from {SCAN_SECONDS_MIN:g} to {SCAN_SECONDS_MAX:g}, for example 1.5.",
        )
    return Reading(size, high_contrast, scanning, seconds, read_aloud)


def save_reading(db: Session, *, user_id: int, reading: Reading, now: datetime) -> None:
    row = db.get(ReadingPreferences, user_id)
    if row is None:
        row = ReadingPreferences(user_id=user_id)
        db.add(row)
    row.text_size = reading.text_size
    row.high_contrast = reading.high_contrast
    row.scanning = reading.scanning
    row.scan_seconds = reading.scan_seconds
    row.read_aloud = reading.read_aloud
    row.updated_at = now

"""Demo data for rehabilitation and aids: a programme with logs over several weeks, one that has gone quiet,
and an aid request in progress. Called from ``alscare.demo._plan`` with one line.

Everything goes through the actions, queued with ``add(at, action)`` so it runs in time order with the rest
of the demo (the audit trail reads in time order). The pattern of sessions is fixed, not random, so the same
``now`` always gives the same weeks: a good first fortnight, a week with nothing logged, a partial week.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions import aids, rehabilitation
from alscare.actions.records import own_patient
from alscare.storage.models import User

Add = Callable[[datetime, Callable[[datetime], object]], None]

MEI: Final = "mei@demo.alscare.example"
KWAME: Final = "kwame@demo.alscare.example"
NURSE: Final = "nurse.lindqvist@demo.alscare.example"
BASE_URL: Final = "http://127.0.0.1:8000"

# Mei's programme: days from the start on which she logs, as (day, exercise, outcome, tiring).
_MEI_PLAN: Final = {"hand_stretch": 5, "shoulder_range": 3, "energy_pacing": 7}
_MEI_LOGS: Final[tuple[tuple[int, str, str, int | None], ...]] = (
    *((d, "hand_stretch", "done", 3) for d in (0, 1, 2, 4, 5)),
    *((d, "shoulder_range", "done", 4) for d in (0, 2, 4)),
    *((d, "energy_pacing", "done", 2) for d in range(0, 7)),
    *((d, "hand_stretch", "done", 3) for d in (7, 8, 10, 11)),
    (9, "hand_stretch", "skipped", None),
    (8, "shoulder_range", "done", 5),
    (11, "shoulder_range", "done", 8),  # too tiring: flagged on the page
    *((d, "energy_pacing", "done", 2) for d in (7, 9, 11, 13)),
    # days 14-20: nothing logged (a gap week)
    *((d, "hand_stretch", "done", 3) for d in (21, 23, 25, 26)),
    *((d, "energy_pacing", "done", 3) for d in (21, 22, 24, 26)),
    (22, "shoulder_range", "done", 4),
    (28, "hand_stretch", "done", 2),
    (28, "energy_pacing", "done", 2),
)
MEI_START_DAYS_AGO: Final = 30
KWAME_START_DAYS_AGO: Final = 45
KWAME_QUIET_AFTER_DAY: Final = 12


def _user(db: Session, email: str) -> User:
    return db.execute(select(User).where(User.email == email)).scalar_one()


def _patient_id(db: Session, email: str) -> int:
    patient = own_patient(db, user=_user(db, email))
    assert patient is not None
    return patient.id


def plan_rehabilitation(add: Add, db: Session, *, now: datetime) -> None:
    """Queue the rehabilitation and aids demo (see the module docstring)."""
    mei_start = now.date() - timedelta(days=MEI_START_DAYS_AGO)

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)

    def assign(moment: datetime, email: str, plan: dict[str, int], note: str) -> None:
        rehabilitation.assign_programme(
            db,
            actor=_user(db, NURSE),
            patient_id=_patient_id(db, email),
            exercises=dict(plan),
            starts_on=moment.date(),
            note=note,
            now=moment,
        )

    def log(moment: datetime, email: str, exercise_id: str, outcome: str, tiring: int | None, n: int) -> None:
        rehabilitation.log_session(
            db,
            actor=_user(db, email),
            patient_id=_patient_id(db, email),
            exercise_id=exercise_id,
            outcome=outcome,
            tiring=tiring,
            done_on=moment.date(),
            client_id=f"demo-{email}-{n}",
            now=moment,
        )

    add(
        at(mei_start, 11),
        lambda m: assign(m, MEI, _MEI_PLAN, "Little and often. Stop before your hands tire."),
    )
    for n, (day, exercise_id, outcome, tiring) in enumerate(_MEI_LOGS):
        moment = at(mei_start + timedelta(days=day), 17, n % 50)
        add(moment, partial(log, email=MEI, exercise_id=exercise_id, outcome=outcome, tiring=tiring, n=n))

    kwame_start = now.date() - timedelta(days=KWAME_START_DAYS_AGO)
    add(
        at(kwame_start, 12),
        lambda m: assign(m, KWAME, {"deep_breathing": 7, "assisted_cough": 3}, "With Ama's help for the cough."),
    )
    for n, day in enumerate(range(0, KWAME_QUIET_AFTER_DAY + 1, 2)):
        moment = at(kwame_start + timedelta(days=day), 18)
        add(moment, partial(log, email=KWAME, exercise_id="deep_breathing", outcome="done", tiring=4, n=n))

    # An aid request in progress: Mei asks about writing aids; the nurse assesses, then orders.
    asked = at(now.date() - timedelta(days=12), 19)
    add(
        asked,
        lambda m: aids.request_aid(
            db,
            actor=_user(db, MEI),
            patient_id=_patient_id(db, MEI),
            aid_id="writing_aids",
            note="Typing is getting slow too.",
            now=m,
            base_url=BASE_URL,
        ),
    )

    def move(moment: datetime, status: str, note: str | None) -> None:
        request = aids.open_request(db, patient_id=_patient_id(db, MEI), aid_id="writing_aids")
        aids.change_status(
            db, actor=_user(db, NURSE), request_id=request.id, status=status, note=note, now=moment, base_url=BASE_URL
        )

    add(at(now.date() - timedelta(days=10), 10), lambda m: move(m, "assessed", "Our OT will bring pen grips to try."))
    add(at(now.date() - timedelta(days=5), 14), lambda m: move(m, "ordered", None))

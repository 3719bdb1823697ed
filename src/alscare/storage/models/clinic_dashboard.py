"""Tables of the clinic dashboard (issue 8): one summary row per person, and who a list view showed.

``PatientSummary`` holds the figures the dashboard sorts and filters on (latest ALSFRS-R, slope, stages,
FVC, weight, due dates), computed by the clinical core whenever a person's data change (see
``alscare.actions.clinic_summary``), so a page over 10,000 people is one indexed query instead of
10,000 recomputations. It is derived data: ``alscare.actions.clinic_summary.refresh_summaries`` can
rebuild any row from the record at any time.

``AuditEventPatient`` names the people one clinic-wide page view showed: the page writes one audit event
(whose ``detail`` carries the count and a digest of the ids, so the hash chain covers the list) and one
row here per person shown, inserted in a single statement.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from alscare.storage.models import Base, UTCDateTime


class PatientSummary(Base):
    """The dashboard's figures for one person, as of ``refreshed_at``."""

    __tablename__ = "patient_summaries"
    __table_args__ = (
        Index("ix_patient_summaries_next_due_at", "next_due_at"),
        Index("ix_patient_summaries_refreshed_at", "refreshed_at"),
    )

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_check_in_tier: Mapped[str | None] = mapped_column(String(20))
    last_alsfrs_on: Mapped[date | None] = mapped_column(Date)
    last_alsfrs_total: Mapped[int | None] = mapped_column(Integer)
    # Latest total minus the earliest total within the 92 days before it (negative: function lost).
    alsfrs_change_3m: Mapped[int | None] = mapped_column(Integer)
    slope_per_month: Mapped[float | None] = mapped_column(Float)
    slope_se: Mapped[float | None] = mapped_column(Float)
    delta_fs: Mapped[float | None] = mapped_column(Float)
    kings_stage: Mapped[str | None] = mapped_column(String(4))  # "1", "2", "3", "4A", "4B", "4AB"
    kings_rank: Mapped[int | None] = mapped_column(Integer)  # 1-4, for sorting
    mitos_stage: Mapped[int | None] = mapped_column(Integer)
    latest_fvc_percent: Mapped[float | None] = mapped_column(Float)
    latest_fvc_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    latest_weight_kg: Mapped[float | None] = mapped_column(Float)
    # Latest weight against the first weight recorded in alscare, in % (negative: weight lost).
    weight_change_percent: Mapped[float | None] = mapped_column(Float)
    symptom_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alsfrs_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The forecast's "expected to cross" ranges (``clinical.forecast.expected_crossings``) as of the refresh:
    # ``_from``/``_to`` the 80 % interval's edges (``_to`` None: after the 12-month horizon), ``_reached`` the
    # latest measurement is already there. All None: no forecast for that threshold.
    speech_at_most_2_from: Mapped[date | None] = mapped_column(Date)
    speech_at_most_2_to: Mapped[date | None] = mapped_column(Date)
    speech_at_most_2_reached: Mapped[bool | None] = mapped_column(Boolean)
    fvc_below_50_from: Mapped[date | None] = mapped_column(Date)
    fvc_below_50_to: Mapped[date | None] = mapped_column(Date)
    fvc_below_50_reached: Mapped[bool | None] = mapped_column(Boolean)
    total_at_most_24_from: Mapped[date | None] = mapped_column(Date)
    total_at_most_24_to: Mapped[date | None] = mapped_column(Date)
    total_at_most_24_reached: Mapped[bool | None] = mapped_column(Boolean)


class AuditEventPatient(Base):
    """One person shown by one clinic-wide page view (the audit event names the view)."""

    __tablename__ = "audit_event_patients"
    __table_args__ = (Index("ix_audit_event_patients_patient_id", "patient_id"),)

    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(Integer, primary_key=True)


# --- Keeping summaries fresh -------------------------------------------------------------------------------
# Session listeners, registered wherever the models are imported (app, CLI, worker, tests): people whose
# assessments, check-ins or schedules were written are noted at each flush, and their summary rows are
# recomputed in the same transaction just before it commits (``alscare.actions.clinic_summary``).

_PENDING_KEY: Final = "clinic_summary_pending"
# People whose only change is new check-ins without FVC or weight: {patient id: (newest submitted_at, tier)}.
_CHECK_INS_KEY: Final = "clinic_summary_check_ins"


def _watched() -> tuple[type[Base], ...]:
    from alscare.storage.models import AlsfrsAssessment, CheckIn, CheckInSchedule

    return (AlsfrsAssessment, CheckIn, CheckInSchedule)


def note_new_check_in(session: Session, check_in: Any) -> None:
    """Note a check-in just written, for its person's summary row at commit. A flush notes those added to the
    session by itself; a check-in written by an INSERT statement (``actions.checkins``) is noted by its writer.
    One without FVC or weight takes the short path (``clinic_summary.note_new_check_ins``)."""
    if check_in.fvc_percent is not None or check_in.weight_kg is not None:
        session.info.setdefault(_PENDING_KEY, set()).add(check_in.patient_id)
        return
    check_ins: dict[int, tuple[datetime, str]] = session.info.setdefault(_CHECK_INS_KEY, {})
    newest = check_ins.get(check_in.patient_id)
    if newest is None or newest[0] <= check_in.submitted_at:
        check_ins[check_in.patient_id] = (check_in.submitted_at, check_in.tier)


@event.listens_for(Session, "after_flush")
def _note_changed_people(session: Session, _context: object) -> None:
    from alscare.storage.models import CheckIn, Patient

    watched = _watched()
    pending: set[int] = session.info.setdefault(_PENDING_KEY, set())
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, CheckIn) and obj in session.new:
            note_new_check_in(session, obj)
        elif isinstance(obj, watched):
            pending.add(obj.patient_id)  # type: ignore[attr-defined]
        elif isinstance(obj, Patient) and obj.id is not None:
            pending.add(obj.id)


@event.listens_for(Session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    # SQLAlchemy calls this for a savepoint's release too. Summaries are refreshed at the real commit only: a
    # refresh locks the person's row, and taking that lock at a savepoint, before the alerts that follow it,
    # let two check-ins of one person deadlock (one holding the lock and waiting on the other's alert).
    if session.in_nested_transaction():
        return
    if session.new or session.dirty:
        session.flush()
    pending: set[int] = session.info.get(_PENDING_KEY) or set()
    check_ins: dict[int, tuple[datetime, str]] = session.info.get(_CHECK_INS_KEY) or {}
    if not pending and not check_ins:
        return
    session.info[_PENDING_KEY] = set()
    session.info[_CHECK_INS_KEY] = {}
    from alscare.actions.clinic_summary import note_new_check_ins, refresh_summaries

    quick = {pid: newest for pid, newest in check_ins.items() if pid not in pending}
    full = pending | set(note_new_check_ins(session, check_ins=quick) if quick else ())
    if full:
        # ``refreshed_at`` only says when the row was computed; every figure depends on the data alone.
        refresh_summaries(session, patient_ids=sorted(full), now=datetime.now(UTC))
    session.flush()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_CHECK_INS_KEY, None)

"""The dashboard's per-person figures (``patient_summaries``), kept up to date as data arrive.

Why a stored summary: the dashboard sorts and filters every person of a clinic by slope, stage, FVC or due
date. Recomputing those from 150,000 assessments on every page view cannot meet 300 ms; reading one row per
person, sorted by an indexed column in SQL, can. The figures come from the clinical core (``progression``,
``staging``) exactly as the record page computes them.

How it stays fresh: a session listener notes the people whose ALSFRS-R assessments, check-ins or schedules
were written in a transaction, and refreshes their rows just before that transaction commits, in it — so a
summary is never newer or older than the data it summarises. Bulk loads that bypass the ORM (the bench,
the demo) call ``refresh_summaries`` themselves afterwards.

Definitions (each with its source):
- ALSFRS-R change over 3 months: latest total minus the earliest total dated within the 92 days before the
  latest assessment (the window of ``alscare prompts``' ``alsfrs_fall_4_in_3_months``; NICE NG42 asks for
  review every 2-3 months). None with no earlier assessment in that window.
- Slope: least-squares ALSFRS-R points/month over all assessments, with its SE (``progression.ls_slope``).
- ΔFS: (48 - latest total) / months from onset (Kimura 2006), when the onset date is known.
- King's and MiToS: from the latest assessment (``staging``; Balendra 2014, Chiò 2015).
- Latest FVC and weight: the newest check-in that reported one. Weight change: latest weight against the
  first weight recorded in alscare, in % (the usual pre-illness weight is not stored per person yet).
- Due dates: as ``actions.schedules`` (last done + interval, or record creation + interval).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from alscare.actions.forecast import crossing_values
from alscare.actions.schedules import DEFAULT_INTERVAL_DAYS, Kind
from alscare.clinical.alsfrs_r import Assessment
from alscare.clinical.errors import InvalidInput
from alscare.clinical.progression import DatedTotal, delta_fs, ls_slope
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.storage.models import AlsfrsAssessment, CheckIn, CheckInSchedule, Patient
from alscare.storage.models.clinic_dashboard import PatientSummary

CHANGE_WINDOW_DAYS: Final = 92
# The forecast's crossing ranges run from the day they were computed: rows older than this are recomputed by
# the worker (``refresh_stale_summaries``) even when nothing in the record changed.
STALE_AFTER: Final = timedelta(days=1)
STALE_BATCH: Final = 500
_CHUNK: Final = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def kings_label(stage: int, nutritional: bool, respiratory: bool) -> str:
    if stage == 4:
        return "4" + ("A" if nutritional else "") + ("B" if respiratory else "")
    return str(stage)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def symptom_due_at(last: datetime, interval_days: int | None) -> datetime:
    """When the next symptom check-in is due: ``last`` (the latest check-in, else the record's creation) plus the
    person's interval, or the default one. Shared by the full row and the short path after a check-in."""
    return last + timedelta(days=interval_days or DEFAULT_INTERVAL_DAYS[Kind.SYMPTOM_CHECK_IN])


def summary_values(
    patient: Patient,
    assessments: Sequence[tuple[Any, ...]],
    check_ins: Sequence[tuple[Any, ...]],
    intervals: dict[Kind, int],
    *,
    now: datetime,
) -> dict[str, Any]:
    """The summary row of one person.

    ``assessments``: (assessed_on, total, answers, recorded_at), oldest first. ``check_ins``: (submitted_at,
    tier, fvc_percent, weight_kg), oldest first. ``intervals``: days per schedule kind.
    """
    values: dict[str, Any] = {"patient_id": patient.id, "refreshed_at": now}
    ordered = sorted(assessments, key=lambda a: a[0])
    if ordered:
        latest_on, latest_total, latest_answers, _ = ordered[-1]
        values["last_alsfrs_on"] = latest_on
        values["last_alsfrs_total"] = latest_total
        window = [a for a in ordered if latest_on - timedelta(days=CHANGE_WINDOW_DAYS) <= a[0] < latest_on]
        values["alsfrs_change_3m"] = latest_total - window[0][1] if window else None
        points = [DatedTotal(on=a[0], total=a[1]) for a in ordered]
        if len({p.on for p in points}) >= 2:
            slope = ls_slope(points)
            values["slope_per_month"] = round(slope.per_month, 4)
            values["slope_se"] = None if slope.standard_error is None else round(slope.standard_error, 4)
        if patient.onset_date is not None and latest_on > patient.onset_date:
            values["delta_fs"] = round(delta_fs(latest_total, patient.onset_date, latest_on), 4)
        try:
            a = Assessment.from_answers(latest_answers)
        except InvalidInput:
            a = None
        if a is not None:
            k = kings_stage(a)
            values["kings_stage"] = kings_label(k.stage, k.nutritional_failure, k.respiratory_failure)
            values["kings_rank"] = k.stage
            values["mitos_stage"] = mitos_stage(a).stage
    if check_ins:
        values["last_check_in_at"] = check_ins[-1][0]
        values["last_check_in_tier"] = check_ins[-1][1]
        fvcs = [(c[0], c[2]) for c in check_ins if c[2] is not None]
        if fvcs:
            values["latest_fvc_at"], values["latest_fvc_percent"] = fvcs[-1]
        weights = [c[3] for c in check_ins if c[3] is not None]
        if weights:
            values["latest_weight_kg"] = weights[-1]
            if len(weights) >= 2 and weights[0] > 0:
                values["weight_change_percent"] = round((weights[-1] - weights[0]) / weights[0] * 100, 1)
    last_alsfrs_recorded = max((a[3] for a in assessments), default=None)
    symptom_due = symptom_due_at(
        values.get("last_check_in_at") or patient.created_at, intervals.get(Kind.SYMPTOM_CHECK_IN)
    )
    alsfrs_due = (last_alsfrs_recorded or patient.created_at) + timedelta(
        days=intervals.get(Kind.ALSFRS_R, DEFAULT_INTERVAL_DAYS[Kind.ALSFRS_R])
    )
    values["symptom_due_at"] = symptom_due
    values["alsfrs_due_at"] = alsfrs_due
    values["next_due_at"] = min(symptom_due, alsfrs_due)
    values.update(
        crossing_values(
            patient,
            [(a[0], a[1], a[2]) for a in ordered],
            [(c[0].date(), c[2]) for c in check_ins if c[2] is not None],
            today=now.date(),
        )
    )
    return values


def refresh_summaries(db: Session, *, patient_ids: Iterable[int] | None, now: datetime) -> int:
    """Recompute the summary rows of these people (None: everyone), in the caller's transaction.

    A few bulk queries per 500 people, whatever their history's length. Returns the number of rows written.
    """
    if patient_ids is None:
        ids = list(db.execute(select(Patient.id).order_by(Patient.id)).scalars())
    else:
        ids = sorted(set(patient_ids))
    written = 0
    for chunk in _chunks(ids):
        # Lock these people's rows (in id order, FOR NO KEY UPDATE, which a check-in's own foreign-key lock does
        # not conflict with): two check-ins of one person commit one after the other here, or both would delete
        # and re-insert the same summary row. The audit head lock used to serialise them by accident.
        patients = list(
            db.execute(
                select(Patient).where(Patient.id.in_(chunk)).order_by(Patient.id).with_for_update(key_share=True)
            ).scalars()
        )
        assessments: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in db.execute(
            select(
                AlsfrsAssessment.patient_id,
                AlsfrsAssessment.assessed_on,
                AlsfrsAssessment.total,
                AlsfrsAssessment.answers,
                AlsfrsAssessment.recorded_at,
            )
            .where(AlsfrsAssessment.patient_id.in_(chunk))
            .order_by(AlsfrsAssessment.patient_id, AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
        ):
            assessments[row[0]].append(tuple(row[1:]))
        check_ins: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for c_row in db.execute(
            select(CheckIn.patient_id, CheckIn.submitted_at, CheckIn.tier, CheckIn.fvc_percent, CheckIn.weight_kg)
            .where(CheckIn.patient_id.in_(chunk))
            .order_by(CheckIn.patient_id, CheckIn.submitted_at, CheckIn.id)
        ):
            check_ins[c_row[0]].append(tuple(c_row[1:]))
        intervals: dict[int, dict[Kind, int]] = defaultdict(dict)
        for pid, kind, days in db.execute(
            select(CheckInSchedule.patient_id, CheckInSchedule.kind, CheckInSchedule.interval_days).where(
                CheckInSchedule.patient_id.in_(chunk)
            )
        ):
            intervals[pid][Kind(kind)] = days
        rows = [
            summary_values(p, assessments[p.id], check_ins[p.id], intervals[p.id], now=now)
            for p in sorted(patients, key=lambda p: p.id)
        ]
        db.execute(delete(PatientSummary).where(PatientSummary.patient_id.in_(chunk)))
        if rows:
            columns = [c.name for c in PatientSummary.__table__.columns]
            db.execute(insert(cast(Table, PatientSummary.__table__)), [{c: r.get(c) for c in columns} for r in rows])
        written += len(rows)
    return written


# Built once (its cache key is then worked out once): run on every check-in.
_LOCKED_SUMMARY: Final = (
    select(PatientSummary.last_check_in_at, PatientSummary.alsfrs_due_at, CheckInSchedule.interval_days)
    .select_from(Patient)
    .join(PatientSummary, PatientSummary.patient_id == Patient.id)
    .outerjoin(
        CheckInSchedule,
        (CheckInSchedule.patient_id == Patient.id) & (CheckInSchedule.kind == Kind.SYMPTOM_CHECK_IN.value),
    )
    .where(Patient.id == bindparam("patient_id"))
    .with_for_update(of=Patient, key_share=True)
)


def note_new_check_ins(db: Session, *, check_ins: dict[int, tuple[datetime, str]]) -> list[int]:
    """Bring summaries up to date after new check-ins that carry no FVC and no weight; return the people whose
    row must be recomputed in full instead (no row yet, or a check-in dated before their latest).

    ``check_ins``: per person, the newest such check-in's (submitted_at, tier). Why a short path: such a
    check-in changes only four figures of ``summary_values`` (the latest check-in's time and tier and the
    symptom and next due dates: FVC, weight and the forecast read check-ins with measurements only), and a
    check-in is the commonest write in a clinic. Recomputing the row re-read the person's whole history in
    six statements; this is two, whatever its length. ``refreshed_at`` is left alone: it dates the forecast's
    crossing ranges, which this does not recompute. The person's row is locked first, as in
    ``refresh_summaries``, so it and this never interleave on one person.
    """
    full: list[int] = []
    for patient_id, (at, tier) in sorted(check_ins.items()):
        row = db.execute(_LOCKED_SUMMARY, {"patient_id": patient_id}).one_or_none()
        if row is None or (row.last_check_in_at is not None and row.last_check_in_at > at):
            full.append(patient_id)
            continue
        symptom_due = symptom_due_at(at, row.interval_days)
        alsfrs_due = row.alsfrs_due_at
        db.execute(
            update(PatientSummary)
            .where(PatientSummary.patient_id == patient_id)
            .values(
                last_check_in_at=at,
                last_check_in_tier=tier,
                symptom_due_at=symptom_due,
                next_due_at=symptom_due if alsfrs_due is None else min(symptom_due, alsfrs_due),
            )
        )
    return full


def refresh_stale_summaries(db: Session, *, now: datetime, batch: int = STALE_BATCH) -> int:
    """Recompute up to ``batch`` summary rows computed more than ``STALE_AFTER`` ago, oldest first, and rows
    for people who have none yet. Run by the worker every few minutes, so a clinic of 10,000 is refreshed
    within the day in small transactions. Returns the number of rows written."""
    stale = list(
        db.execute(
            select(PatientSummary.patient_id)
            .where(PatientSummary.refreshed_at < now - STALE_AFTER)
            .order_by(PatientSummary.refreshed_at, PatientSummary.patient_id)
            .limit(batch)
        ).scalars()
    )
    missing = list(
        db.execute(
            select(Patient.id)
            .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
            .where(PatientSummary.patient_id.is_(None))
            .order_by(Patient.id)
            .limit(max(batch - len(stale), 0))
        ).scalars()
    )
    ids = stale + missing
    return refresh_summaries(db, patient_ids=ids, now=now) if ids else 0

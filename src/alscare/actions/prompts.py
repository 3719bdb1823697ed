"""Guideline prompts from the stored record: build the history, run the pure rules, raise each prompt once.

``refresh_prompts`` is called after every check-in and every ALSFRS-R assessment (measurements arrive with
check-ins), and by the worker once a day per person (``refresh_due_prompts``), because some prompts fire with
the passage of time alone (a review overdue). The rules are ``alscare.clinical.history_prompts``, the same
function ``alscare prompts`` runs.

Raised once
    Each prompt becomes an alert of severity ``prompt`` with ``source = "history_prompt"`` and
    ``source_id = "<patient id>:<prompt id>:<n>"``. While an alert for the same (person, prompt id) is open or
    acknowledged nothing new is raised; once it is resolved, the next refresh in which the rule still fires
    raises it again with the next ``n``. Two refreshes racing compute the same ``n``; the unique
    ``(source, source_id)`` keeps one (``raise_alert``).

Where the stored record comes from
    assessments → ``assessments`` (date, total); the latest assessment also says whether the person has a
    gastrostomy (item 5b answered; Cedarbaum 1999) and uses NIV (item 12 "respiratory insufficiency" below 4
    means BiPAP or ventilation; Cedarbaum 1999, as King's 4B reads it). Check-ins → ``measurements`` (weight,
    FVC, SNIP; dated by the day they were submitted, UTC) and ``symptoms`` (their yes/no answers); the usual
    weight is the latest one reported with a check-in. ``diagnosis`` is the profile's diagnosis date.

Other domains
    ``care_wishes_discussed_on`` is the latest "discussed with" mark (``actions.care_wishes``).
    ``EXTRA_PROMPT_SOURCES`` are callables ``(db, patient_id, today) -> list[clinical.prompts.Prompt]`` whose
    prompts are raised the same way: today the medicine list's (riluzole liver tests, withdrawn medicines).
    They are imported where used: those domains' actions import this module's callers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alscare.actions.alerts import clinic_receiving_alerts, raise_alert
from alscare.clinical.alsfrs_r import GASTROSTOMY_ITEM, SCORE_MAX
from alscare.clinical.history_prompts import (
    CARE_WISHES_ID,
    RECENT_DAYS,
    RULE_SYMPTOM_FIELDS,
    AssessmentEntry,
    History,
    MeasurementEntry,
    SymptomEntry,
    history_prompts,
)
from alscare.clinical.prompts import Prompt
from alscare.storage.models import Alert, AlsfrsAssessment, CheckIn, Patient, UTCDateTime
from alscare.storage.models.history_prompts import PromptRefresh

ALERT_SOURCE: Final = "history_prompt"
# ALSFRS-R item 12 (respiratory insufficiency): 4 = none; 3 and below = BiPAP or ventilation (Cedarbaum 1999).
NIV_ITEM: Final = "12"
# The worker refreshes each person at most once a day, this many people per run.
REFRESH_EVERY: Final = timedelta(days=1)
REFRESH_BATCH: Final = 200

PromptSource = Callable[[Session, int, date], list[Prompt]]


# --- Seams for the lead -----------------------------------------------------------------------------------


def care_wishes_discussed_on(db: Session, *, patient_id: int) -> date | None:
    """When care wishes were last discussed (the latest "discussed with" mark on any version)."""
    from alscare.actions.care_wishes import discussed_on

    return discussed_on(db, patient_id=patient_id)


def _medicine_prompts(db: Session, patient_id: int, today: date) -> list[Prompt]:
    """Riluzole liver tests due or overdue, and withdrawn medicines on the list (``actions.medicines``)."""
    from alscare.actions.medicines import medicine_prompts

    return medicine_prompts(db, patient_id=patient_id, today=today)


# Prompt sources beyond the history table, raised the same way (once while open).
EXTRA_PROMPT_SOURCES: tuple[PromptSource, ...] = (_medicine_prompts,)


# --- The history, from the stored record -------------------------------------------------------------------


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _day_start(on: date) -> datetime:
    return datetime.combine(on, time.min, tzinfo=UTC)


# The three statements every check-in runs, built once: SQLAlchemy then works out each one's cache key once
# rather than walking its expression (six CASE expressions here) on every call.
_RECENT_SYMPTOMS: Final = select(
    *(
        func.max(case((CheckIn.answers[name].as_boolean().is_(True), CheckIn.submitted_at)), type_=UTCDateTime())
        for name in RULE_SYMPTOM_FIELDS
    )
).where(
    CheckIn.patient_id == bindparam("patient_id"),
    CheckIn.submitted_at >= bindparam("window_from"),
    CheckIn.submitted_at < bindparam("window_to"),
)
_ASSESSMENTS: Final = (
    select(AlsfrsAssessment.assessed_on, AlsfrsAssessment.total, AlsfrsAssessment.answers)
    .where(AlsfrsAssessment.patient_id == bindparam("patient_id"), AlsfrsAssessment.assessed_on <= bindparam("today"))
    .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
)
_USUAL_WEIGHT: Final = CheckIn.answers["usual_weight_kg"].as_float()
_MEASURED: Final = (
    select(CheckIn.submitted_at, CheckIn.weight_kg, CheckIn.fvc_percent, CheckIn.snip_cmh2o, _USUAL_WEIGHT)
    .where(
        CheckIn.patient_id == bindparam("patient_id"),
        CheckIn.submitted_at < bindparam("window_to"),
        or_(
            CheckIn.weight_kg.is_not(None),
            CheckIn.fvc_percent.is_not(None),
            CheckIn.snip_cmh2o.is_not(None),
            _USUAL_WEIGHT.is_not(None),
        ),
    )
    .order_by(CheckIn.submitted_at, CheckIn.id)
)


_EARLIER_PROMPTS: Final = select(Alert.source_id, Alert.status).where(
    Alert.patient_id == bindparam("patient_id"), Alert.source == ALERT_SOURCE
)


def _recent_symptoms(db: Session, *, patient_id: int, today: date) -> tuple[SymptomEntry, ...]:
    """The symptoms the rules can see: for each answer a rule reads (``RULE_SYMPTOM_FIELDS``) said "yes"
    within the ``RECENT_DAYS`` up to today, one entry dated the latest such day.

    The rules only ask whether such an answer was "yes" on a day within that window (``history_prompts.
    _recent_reports``), so one entry per answer gives them the same result as every check-in would, and the
    database works it out in one aggregate whatever the number of check-ins (a person checking in many times
    a day costs no more Python than one checking in weekly).
    """
    window = {
        "patient_id": patient_id,
        "window_from": _day_start(today - timedelta(days=RECENT_DAYS)),
        "window_to": _day_start(today + timedelta(days=1)),
    }
    row = db.execute(_RECENT_SYMPTOMS, window).one()
    entries = [(at.date(), name) for name, at in zip(RULE_SYMPTOM_FIELDS, row, strict=True) if at is not None]
    return tuple(SymptomEntry(on, {name: True}) for on, name in sorted(entries))


def history_of(db: Session, *, patient: Patient, today: date, care_wishes: bool = True) -> History:
    """The person's history as the prompt rules read it, in four queries whatever its length.

    Read in full: assessments, and check-ins that carry a measurement or a usual weight (the rules want the
    latest of each and any breathing test in the last 92 days). Symptoms: only what the rules can see of the
    last ``RECENT_DAYS`` (``_recent_symptoms``). Check-ins dated after ``today`` are left out.
    ``care_wishes=False`` leaves out when care wishes were last discussed (``current_prompts`` reads it only
    when it matters).
    """
    assessments = db.execute(_ASSESSMENTS, {"patient_id": patient.id, "today": today}).all()
    measured = db.execute(
        _MEASURED, {"patient_id": patient.id, "window_to": _day_start(today + timedelta(days=1))}
    ).all()
    latest_answers = assessments[-1].answers if assessments else {}
    measurements: list[MeasurementEntry] = []
    usual: float | None = None
    for row in measured:
        if row[4] is not None:
            usual = float(row[4])
        if row.weight_kg is not None or row.fvc_percent is not None or row.snip_cmh2o is not None:
            measurements.append(
                MeasurementEntry(
                    row.submitted_at.date(),
                    fvc_percent=_decimal(row.fvc_percent),
                    snip_cmh2o=_decimal(row.snip_cmh2o),
                    weight_kg=_decimal(row.weight_kg),
                )
            )
    return History(
        today=today,
        diagnosis=patient.diagnosis_date if patient.diagnosis_date and patient.diagnosis_date <= today else None,
        usual_weight_kg=_decimal(usual),
        gastrostomy=GASTROSTOMY_ITEM in latest_answers,
        niv=int(latest_answers.get(NIV_ITEM, SCORE_MAX)) < SCORE_MAX,
        care_wishes_discussed_on=care_wishes_discussed_on(db, patient_id=patient.id) if care_wishes else None,
        assessments=tuple(AssessmentEntry(a.assessed_on, a.total) for a in assessments),
        measurements=tuple(measurements),
        symptoms=_recent_symptoms(db, patient_id=patient.id, today=today),
    )


@dataclass(frozen=True)
class NewCheckIn:
    """A check-in about to be stored, so its prompts can be worked out before anything is written (SQLite's
    write lock is then held only for the writes; ``actions.checkins.record_check_in``)."""

    on: date
    answers: Mapping[str, object]
    weight_kg: float | None = None
    fvc_percent: float | None = None
    snip_cmh2o: float | None = None


def with_check_in(history: History, new: NewCheckIn) -> History:
    """``history`` with ``new`` added as its latest check-in, as ``history_of`` would read it once stored.

    Nothing changes for a check-in dated after the history's today (``history_of`` leaves those out).
    """
    if new.on > history.today:
        return history
    usual = new.answers.get("usual_weight_kg")
    measurements = history.measurements
    if new.weight_kg is not None or new.fvc_percent is not None or new.snip_cmh2o is not None:
        entry = MeasurementEntry(
            new.on,
            fvc_percent=_decimal(new.fvc_percent),
            snip_cmh2o=_decimal(new.snip_cmh2o),
            weight_kg=_decimal(new.weight_kg),
        )
        measurements = (*measurements, entry)
    said = {name: True for name in RULE_SYMPTOM_FIELDS if new.answers.get(name) is True}
    return replace(
        history,
        usual_weight_kg=_decimal(float(usual)) if isinstance(usual, int | float) else history.usual_weight_kg,
        measurements=measurements,
        symptoms=(*history.symptoms, SymptomEntry(new.on, said)) if said else history.symptoms,
    )


def current_prompts(
    db: Session, *, patient: Patient, today: date, new_check_in: NewCheckIn | None = None
) -> tuple[Prompt, ...]:
    """Every prompt that applies today: the history table's, then the extra sources'.

    When care wishes were last discussed matters to one rule only, and only by keeping its prompt from firing
    (``history_prompts._care_wishes_due``): so the rules run first without it, and the date is read, and the
    rules run again, only when that prompt fired. The result is the same as reading it every time.
    """
    history = history_of(db, patient=patient, today=today, care_wishes=False)
    if new_check_in is not None:
        history = with_check_in(history, new_check_in)
    found = list(history_prompts(history))
    if any(p.id == CARE_WISHES_ID for p in found):
        discussed = care_wishes_discussed_on(db, patient_id=patient.id)
        found = list(history_prompts(replace(history, care_wishes_discussed_on=discussed)))
    for source in EXTRA_PROMPT_SOURCES:
        found.extend(source(db, patient.id, today))
    return tuple(found)


# --- Raising -------------------------------------------------------------------------------------------------


def _prompt_id(source_id: str) -> str:
    parts = source_id.split(":")
    return parts[1] if len(parts) == 3 else ""


@dataclass(frozen=True)
class DuePrompts:
    """What ``due_prompts`` read: the prompts to raise, each with its alert's ``source_id``."""

    patient: Patient
    to_raise: tuple[tuple[Prompt, str], ...]
    # The person's ``PromptRefresh`` row as read (None: none yet), held so that the session keeps it (its
    # identity map holds rows weakly) and marking the person checked needs no second read.
    checked: PromptRefresh | None = None


def due_prompts(db: Session, *, patient: Patient, now: datetime, new_check_in: NewCheckIn | None = None) -> DuePrompts:
    """The prompts to raise now, worked out by reading only (``raise_prompts`` writes them).

    None when no clinic may receive the person's alerts (no clinic, or check-ins not shared with it). A prompt
    whose alert is open or acknowledged is not raised again; after it was resolved, the next one gets the next
    number. ``PromptRefresh`` is read here so that marking the person checked writes without another read.
    """
    checked = db.get(PromptRefresh, patient.id)
    if clinic_receiving_alerts(db, patient=patient) is None:
        return DuePrompts(patient, (), checked)
    earlier = db.execute(_EARLIER_PROMPTS, {"patient_id": patient.id}).all()
    still_open = {_prompt_id(s) for s, status in earlier if status != "resolved"}
    raised_before: dict[str, int] = {}
    for source_id, _status in earlier:
        key = _prompt_id(source_id)
        raised_before[key] = raised_before.get(key, 0) + 1
    to_raise: list[tuple[Prompt, str]] = []
    for prompt in current_prompts(db, patient=patient, today=now.date(), new_check_in=new_check_in):
        if prompt.id in still_open:
            continue
        to_raise.append((prompt, f"{patient.id}:{prompt.id}:{raised_before.get(prompt.id, 0) + 1}"))
        still_open.add(prompt.id)
    return DuePrompts(patient, tuple(to_raise), checked)


def _mark_checked(db: Session, *, patient_id: int, now: datetime) -> None:
    row = db.get(PromptRefresh, patient_id)
    if row is not None:
        row.checked_at = now
        return
    try:
        with db.begin_nested():
            db.add(PromptRefresh(patient_id=patient_id, checked_at=now))
    except IntegrityError:  # another refresh of the same person got there first: its time stands
        pass


def raise_prompts(db: Session, due: DuePrompts, *, now: datetime, base_url: str | None = None) -> list[Alert]:
    """Mark the person checked and raise each of ``due`` as a ``prompt`` alert; return those raised now.

    Two refreshes racing raise the same ``source_id``; the unique ``(source, source_id)`` keeps one.
    """
    _mark_checked(db, patient_id=due.patient.id, now=now)  # ``due.checked`` keeps the row in the identity map
    raised: list[Alert] = []
    for prompt, source_id in due.to_raise:
        alert = raise_alert(
            db,
            patient=due.patient,
            source=ALERT_SOURCE,
            source_id=source_id,
            severity="prompt",
            summary=prompt.message,
            now=now,
            base_url=base_url,
        )
        if alert is not None and alert.created_at == now:
            raised.append(alert)
    return raised


def refresh_prompts(db: Session, *, patient_id: int, now: datetime, base_url: str | None = None) -> list[Alert]:
    """Work out the person's prompts and raise each new one as a ``prompt`` alert; return those raised now.

    Nothing is raised when no clinic may receive the person's alerts (no clinic, or check-ins not shared with
    it). The caller holds the transaction and has already opened the record (or is the worker).
    """
    patient = db.get(Patient, patient_id)
    if patient is None:
        return []
    return raise_prompts(db, due_prompts(db, patient=patient, now=now), now=now, base_url=base_url)


def refresh_due_prompts(db: Session, *, now: datetime, base_url: str | None = None, batch: int = REFRESH_BATCH) -> int:
    """The worker's task: refresh people with a clinic who were not refreshed in the last day, ``batch`` at a
    time (the rest wait for the next run). Returns how many people were refreshed."""
    due = (
        db.execute(
            select(Patient.id)
            .outerjoin(PromptRefresh, PromptRefresh.patient_id == Patient.id)
            .where(
                Patient.clinic_id.is_not(None),
                or_(PromptRefresh.checked_at.is_(None), and_(PromptRefresh.checked_at <= now - REFRESH_EVERY)),
            )
            .order_by(Patient.id)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    for patient_id in due:
        refresh_prompts(db, patient_id=patient_id, now=now, base_url=base_url)
    return len(due)

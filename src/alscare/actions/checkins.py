"""Symptom check-ins: parse, triage, store exactly once, raise alerts and guideline prompts (decision 0001).

``parse_check_in`` is pure: pages and the API call it first so triage can run before anything is saved.
``record_check_in`` is the one action that stores a check-in; a retried submit with the same ``client_id``
returns the stored row and creates nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.alerts import alerts_for_check_in, raise_alert
from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.actions.prompts import NewCheckIn, due_prompts, raise_prompts
from alscare.actions.records import open_record
from alscare.clinical import triage as triage_core
from alscare.clinical.prompts import Measurements
from alscare.clinical.triage import CHECK_IN_FIELDS, QUESTIONS_MAX_CHARS, Reason, Tier, TriageResult
from alscare.storage.models import Alert, CheckIn, Patient, User
from alscare.storage.models.clinic_dashboard import note_new_check_in

# The body map: where a symptom is felt. Regions and symptoms are alscare's choice of plain categories.
BODY_REGIONS: Final = ("bulbar", "left_arm", "right_arm", "left_leg", "right_leg", "trunk_breathing")
BODY_SYMPTOMS: Final = ("weakness", "stiffness", "cramps", "twitching")
MEASUREMENT_FIELDS: Final = ("fvc_percent", "snip_cmh2o", "spo2_percent")
# The "other symptoms" asked together, in this order, by the stepped check-in and the one-page form alike.
OTHER_SYMPTOM_FIELDS: Final = (
    "weakness_new",
    "slurred_speech",
    "cramps",
    "stiffness",
    "twitching",
    "fatigue",
    "headache_new",
    "vision_change",
    "back_pain_new",
)
# Fields a check-in takes besides the triage fields. ``question`` is the triage field ``questions``.
EXTRA_FIELDS: Final = ("body_map", *MEASUREMENT_FIELDS, "question")
QUESTION_MAX_CHARS: Final = QUESTIONS_MAX_CHARS
# Triage fields stored in their own columns rather than in ``answers``.
_OWN_COLUMNS: Final = ("weight_kg", "questions")


@dataclass(frozen=True)
class ParsedCheckIn:
    """A check-in as validated values, before it is stored."""

    check_in: triage_core.CheckIn
    measurements: Measurements
    body_map: Mapping[str, tuple[str, ...]]
    question: str | None


def without_nul(value: object) -> object:
    """``value`` with every NUL character removed from its strings (keys included), at any depth.

    A check-in is never refused for a NUL in it (issue 14, finding 10): PostgreSQL cannot store one in text,
    and an emergency must be stored and alerted whatever its free text holds, so the NUL goes instead.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def parse_check_in(data: Mapping[str, object]) -> ParsedCheckIn:
    """Validate untrusted input (form or JSON); every refusal is ``InvalidInput`` naming the field."""
    cleaned = without_nul(data)
    assert isinstance(cleaned, dict)
    data = cleaned
    core: dict[str, object] = {}
    for key, value in data.items():
        if key in EXTRA_FIELDS:
            continue
        if key not in CHECK_IN_FIELDS:
            raise InvalidInput(str(key), "unknown field")
        core[key] = value
    question = _question(data)
    if question is not None:
        if "questions" in core and core["questions"] not in (None, question):
            raise InvalidInput("questions", "send the question once, as 'question'")
        core["questions"] = question
    check_in = triage_core.CheckIn.from_mapping(core)
    measured: dict[str, Any] = {k: data[k] for k in MEASUREMENT_FIELDS if data.get(k) is not None}
    measurements = Measurements(**measured)  # validates each value, naming the field
    return ParsedCheckIn(
        check_in=check_in,
        measurements=measurements,
        body_map=parse_body_map(data.get("body_map")),
        question=check_in.questions if check_in.questions and check_in.questions.strip() else None,
    )


def _question(data: Mapping[str, object]) -> str | None:
    value = data.get("question")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("question", "must be text")
    if len(value) > QUESTION_MAX_CHARS:
        raise InvalidInput("question", f"must be at most {QUESTION_MAX_CHARS} characters")
    return value


def parse_body_map(value: object) -> dict[str, tuple[str, ...]]:
    """``{region: [symptom, ...]}`` → the same with known names only, in table order, empty regions dropped."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("body_map", "must map body regions to lists of symptoms")
    parsed: dict[str, tuple[str, ...]] = {}
    for region, symptoms in value.items():
        name = f"body_map.{region}"
        if region not in BODY_REGIONS:
            raise InvalidInput(name, f"unknown body region; choose from {', '.join(BODY_REGIONS)}")
        if not isinstance(symptoms, list | tuple):
            raise InvalidInput(name, "must be a list of symptoms")
        for symptom in symptoms:
            if symptom not in BODY_SYMPTOMS:
                raise InvalidInput(name, f"unknown symptom; choose from {', '.join(BODY_SYMPTOMS)}")
        chosen = tuple(s for s in BODY_SYMPTOMS if s in symptoms)
        if chosen:
            parsed[region] = chosen
    return {region: parsed[region] for region in BODY_REGIONS if region in parsed}


def with_listed_medicines(db: Session, parsed: ParsedCheckIn, *, patient_id: int, on: date) -> ParsedCheckIn:
    """The check-in with the medicines on the person's list added to those reported with it, so the triage's
    medicine rules (riluzole with fever, cough or breathlessness; tofersen's warning signs) use the list and
    nobody re-ticks their medicines at every check-in.

    The list is read whoever submits the check-in, also a carer granted check-ins but not medicines: a missed
    riluzole warning is the worse harm, so a rule's message may name the listed medicine that fired it. The
    stored answers keep only the medicines *reported* with the check-in (the list itself stays under the
    ``medicines`` scope; what it held on any day is in its history). Not audited here: ``record_check_in``
    has opened the record.
    """
    from alscare.actions.medicines import listed_medicine_names  # medicines imports records, like this module

    listed = listed_medicine_names(db, patient_id=patient_id, on=on)
    if not listed:
        return parsed
    names = tuple(dict.fromkeys((*listed, *parsed.check_in.medicines)))[: triage_core.MEDICINES_MAX_ITEMS]
    return replace(parsed, check_in=replace(parsed.check_in, medicines=names))


def normalise_client_id(client_id: object) -> str:
    """The form's own id, as a canonical UUID string."""
    if not isinstance(client_id, str):
        raise InvalidInput("client_id", "must be a UUID")
    try:
        return str(uuid.UUID(client_id.strip()))
    except ValueError:
        raise InvalidInput("client_id", "must be a UUID") from None


def check_in_of(row: CheckIn) -> triage_core.CheckIn:
    """The triage view of a stored check-in."""
    return triage_core.CheckIn.from_mapping({**row.answers, "weight_kg": row.weight_kg, "questions": row.question})


def triage_of(row: CheckIn) -> TriageResult:
    """The triage stored with the check-in (as it was computed when submitted)."""
    return TriageResult(Tier(row.tier), tuple(Reason(**reason) for reason in row.reasons))


def _answers(check_in: triage_core.CheckIn) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for name in CHECK_IN_FIELDS:
        value = getattr(check_in, name)
        if name in _OWN_COLUMNS or value is None or value == ():
            continue
        answers[name] = list(value) if isinstance(value, tuple) else value
    return answers


def reporter_for(actor: User, patient: Patient) -> str:
    """Who reported: the person themselves, someone caring for them, or a clinician."""
    if patient.user_id is not None and patient.user_id == actor.id:
        return "self"
    if actor.role in ("clinician", "admin"):
        return "clinician"
    return "caregiver"


@dataclass(frozen=True)
class CheckInOutcome:
    """What ``record_check_in`` did. ``created`` is False when the same form had already been stored."""

    check_in: CheckIn
    triage: TriageResult
    created: bool
    alerts: list[Alert]


# Built once (its cache key is then worked out once): run on every check-in.
_STORED: Final = select(CheckIn).where(
    CheckIn.patient_id == bindparam("patient_id"), CheckIn.client_id == bindparam("client_id")
)


def _stored(db: Session, patient_id: int, client_id: str) -> CheckIn | None:
    return db.execute(_STORED, {"patient_id": patient_id, "client_id": client_id}).scalar_one_or_none()


def _alerts_of(db: Session, row: CheckIn) -> list[Alert]:
    return alerts_for_check_in(db, check_in_id=row.id, patient_id=row.patient_id, submitted_at=row.submitted_at)


def _already(db: Session, row: CheckIn) -> CheckInOutcome:
    return CheckInOutcome(row, triage_of(row), created=False, alerts=_alerts_of(db, row))


def _insert_once(db: Session, values: dict[str, Any]) -> CheckIn | None:
    """Insert the check-in unless its ``(patient_id, client_id)`` is stored already; the new row, or None.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL and SQLite alike): a duplicate is not an
    error to recover from in a savepoint (two more round trips on every check-in) but simply no row.
    """
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(CheckIn)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["patient_id", "client_id"])
        .returning(CheckIn)
    )
    return db.scalars(statement).first()


def alert_summary(result: TriageResult) -> str:
    """A short summary for the clinic: the tier and the names of the rules that fired (no free text)."""
    heading = "Emergency signs reported" if result.tier is Tier.EMERGENCY else "Needs contact today"
    titles = [
        CHECK_IN_FIELDS[r.rule].label if r.rule in CHECK_IN_FIELDS else r.rule.replace("_", " ").capitalize()
        for r in result.reasons
        if not r.rule.startswith("noted_")  # routine notes are not what the alert is about
    ]
    return f"{heading}: {'; '.join(titles)}" if titles else heading


def record_check_in(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    client_id: str,
    data: Mapping[str, object],
    now: datetime,
    source_ip: str | None = None,
    base_url: str | None = None,
) -> CheckInOutcome:
    """Validate, triage and store one check-in, raise its alerts and pass on its question.

    Idempotent on ``(patient_id, client_id)``: a retry returns the stored check-in with ``created=False`` and
    creates nothing, also when two submits race (the insert does nothing on a conflict; a duplicate becomes a
    read).

    Everything is read first (access, the medicine list, an earlier submit, the prompts' history with this
    check-in added in memory), then everything is written together. On SQLite the first write takes the
    database's one write lock until commit, so a check-in holds it for its handful of writes only, not for
    its reads: that is what lets check-ins from many people go through one after another quickly.
    """
    with db.no_autoflush:  # the audit row waits for the writes below
        patient = open_record(
            db,
            user=actor,
            patient_id=patient_id,
            scope=Scope.CHECKINS,
            action=Action.WRITE,
            now=now,
            resource="check_in",
            source_ip=source_ip,
            flush=False,
        )
        client_id = normalise_client_id(client_id)
        reported = parse_check_in(data)
        parsed = with_listed_medicines(db, reported, patient_id=patient.id, on=now.date())
        earlier = _stored(db, patient.id, client_id)
        if earlier is not None:
            return _already(db, earlier)
        result = triage_core.triage(parsed.check_in)
        answers = _answers(reported.check_in)
        # Guideline prompts from the whole history, this check-in included (each raised once until resolved).
        due = due_prompts(
            db,
            patient=patient,
            now=now,
            new_check_in=NewCheckIn(
                on=now.date(),
                answers=answers,
                weight_kg=parsed.check_in.weight_kg,
                fvc_percent=parsed.measurements.fvc_percent,
                snip_cmh2o=parsed.measurements.snip_cmh2o,
            ),
        )
    values: dict[str, Any] = {
        "patient_id": patient.id,
        "client_id": client_id,
        "submitted_by_id": actor.id,
        "reporter": reporter_for(actor, patient),
        "submitted_at": now,
        "answers": answers,
        "body_map": {region: list(symptoms) for region, symptoms in parsed.body_map.items()},
        "weight_kg": parsed.check_in.weight_kg,
        "fvc_percent": parsed.measurements.fvc_percent,
        "snip_cmh2o": parsed.measurements.snip_cmh2o,
        "spo2_percent": parsed.measurements.spo2_percent,
        "question": parsed.question,
        "tier": result.tier.value,
        "reasons": [{"rule": r.rule, "message": r.message, "source": r.source} for r in result.reasons],
    }
    db.flush()  # the audit row: the first write
    row = _insert_once(db, values)
    if row is None:  # the same form, stored by a submit that raced this one: theirs stands
        raced = _stored(db, patient.id, client_id)
        if raced is None:
            raise RuntimeError("a check-in's insert conflicted, but no stored check-in has its client_id")
        return _already(db, raced)
    note_new_check_in(db, row)

    alerts: list[Alert] = []
    if result.tier.rank > Tier.ROUTINE.rank:
        alert = raise_alert(
            db,
            patient=patient,
            source="check_in",
            source_id=str(row.id),
            severity=result.tier.value,
            summary=alert_summary(result),
            now=now,
            base_url=base_url,
        )
        if alert is not None:
            alerts.append(alert)
    alerts.extend(raise_prompts(db, due, now=now, base_url=base_url))
    if parsed.question is not None and row.reporter != "clinician":  # the clinic does not message itself
        _pass_on_question(db, actor=actor, patient=patient, row=row, now=now, source_ip=source_ip, base_url=base_url)
    return CheckInOutcome(row, result, created=True, alerts=alerts)


def _pass_on_question(
    db: Session,
    *,
    actor: User,
    patient: Patient,
    row: CheckIn,
    now: datetime,
    source_ip: str | None,
    base_url: str | None,
) -> None:
    """Post the question to the person's conversation with their clinic, if they have one.

    The question is kept on the check-in either way, so a refusal here (no clinic connected, say) never loses
    it nor fails the check-in: the message is written in a savepoint that is rolled back on refusal.
    """
    from alscare.actions.messages import post_message  # imported here: messages imports the delivery outbox

    if row.question is None:
        return
    try:
        with db.begin_nested():
            post_message(
                db,
                actor=actor,
                patient_id=patient.id,
                body=row.question,
                now=now,
                check_in_id=row.id,
                source_ip=source_ip,
                **({} if base_url is None else {"base_url": base_url}),
            )
    except (InvalidInput, NotFound, PermissionDenied):
        pass


# --- Reading ---------------------------------------------------------------------------------------


def check_ins_of(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None, limit: int = 200
) -> list[CheckIn]:
    """A person's check-ins, newest first."""
    open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource="check_in",
        source_ip=source_ip,
    )
    return list(
        db.execute(
            select(CheckIn)
            .where(CheckIn.patient_id == patient_id)
            .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class CheckInView:
    """One stored check-in with what its result screen needs."""

    patient: Patient
    check_in: CheckIn
    triage: TriageResult
    previous: CheckIn | None
    alerts: list[Alert]

    @property
    def team_alerted(self) -> bool:
        """Whether the clinic got an alert for this check-in's triage (prompts aside)."""
        return any(a.source == "check_in" and a.clinic_id is not None for a in self.alerts)


def check_in_result(
    db: Session, *, actor: User, patient_id: int, check_in_id: int, now: datetime, source_ip: str | None = None
) -> CheckInView:
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource="check_in",
        source_ip=source_ip,
    )
    row = db.get(CheckIn, check_in_id)
    if row is None or row.patient_id != patient.id:
        raise NotFound("No such check-in.")
    previous = db.execute(
        select(CheckIn)
        .where(
            CheckIn.patient_id == patient.id,
            (CheckIn.submitted_at < row.submitted_at)
            | ((CheckIn.submitted_at == row.submitted_at) & (CheckIn.id < row.id)),
        )
        .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return CheckInView(patient, row, triage_of(row), previous, _alerts_of(db, row))

"""The stepped check-in: emergency signs first, then short steps, each saved as a draft on the server.

Why steps: on one long page the send button was 64 tab stops below the emergency signs (issue 7). Here the
emergency signs stand alone on the first step with the button right after them, and any step whose answers
triage as an emergency is sent at once. Every step is saved to a ``CheckInDraft`` (its author's own, for one
record), so leaving, tiring or a session ending loses nothing. Sending goes through
``checkins.record_check_in`` with the draft's ``client_id``: stored, triaged and alerted exactly as the
one-page form and the API are, and stored once however often it is sent.

"Nothing has changed since last time" copies the previous check-in's answers for a step. Emergency signs
(the first step, and thoughts of self-harm) are never copied: they are asked afresh every time. Weights and
measurements are never copied either: a copied number would look like a new measurement.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions import checkins as checkin_actions
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import open_record
from alscare.clinical.triage import Tier, TriageResult, triage
from alscare.security.tokens import token_digest
from alscare.storage.models import CheckIn, Patient, User, WebSession
from alscare.storage.models.checkin_steps import CheckInDraft

RESOURCE: Final = "check_in_draft"
# A draft older than this is not offered to continue: symptoms are asked about "now" and "since the last
# check-in", so answers from days ago may no longer hold. alscare's choice, not from a source.
RESUME_WITHIN: Final = timedelta(days=3)
# Answers posted just after a session ended are kept for the same person for this long (see
# ``keep_after_session_ended``). alscare's choice.
KEEP_AFTER_SESSION_ENDED: Final = timedelta(hours=24)


@dataclass(frozen=True)
class Step:
    """One screen of the check-in: its id and the check-in fields it asks."""

    id: str
    fields: tuple[str, ...]
    copyable: bool = True  # offers "nothing has changed since last time"


EMERGENCY_NOW: Final = (
    "breathing_sudden_trouble",
    "choking_not_clearing",
    "blue_lips",
    "confused_or_drowsy",
    "ventilator_problem",
    "chest_pain_severe",
    "breathless_at_rest",
)
# Fields never carried over by "nothing has changed": asked afresh at every check-in.
NEVER_COPIED: Final = frozenset({*EMERGENCY_NOW, "self_harm_thoughts", "weight_kg", "usual_weight_kg", "question"})

STEPS: Final = (
    Step("now", EMERGENCY_NOW, copyable=False),
    Step("breathing", ("orthopnea", "morning_headache", "daytime_sleepiness")),
    Step("eating", ("choking_on_food", "cannot_take_food_fluids_meds", "drooling", "weight_kg", "usual_weight_kg")),
    Step("infection", ("fever", "chills", "cough", "weak_achy")),
    Step("mood", ("depressed_cannot_cope", "self_harm_thoughts", "fall")),
    Step("other", checkin_actions.OTHER_SYMPTOM_FIELDS),
    Step("body", ("body_map",)),
    Step("measurements", checkin_actions.MEASUREMENT_FIELDS, copyable=False),
    Step("medicines", ("medicines",)),
    Step("question", ("question",), copyable=False),
)
STEP_IDS: Final = tuple(s.id for s in STEPS)
_BY_ID: Final = {s.id: s for s in STEPS}


def step(step_id: str) -> Step:
    try:
        return _BY_ID[step_id]
    except KeyError:
        raise NotFound("There is no such step in the check-in.") from None


def next_step(step_id: str) -> str | None:
    i = STEP_IDS.index(step(step_id).id)
    return STEP_IDS[i + 1] if i + 1 < len(STEP_IDS) else None


def previous_step(step_id: str) -> str | None:
    i = STEP_IDS.index(step(step_id).id)
    return STEP_IDS[i - 1] if i > 0 else None


def _open(db: Session, actor: User, patient_id: int, now: datetime, source_ip: str | None) -> Patient:
    return open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )


def open_draft(db: Session, *, author_id: int, patient_id: int, now: datetime) -> CheckInDraft | None:
    """The author's newest unsent draft for this record, if recent enough to continue."""
    row: CheckInDraft | None = db.execute(
        select(CheckInDraft)
        .where(
            CheckInDraft.author_id == author_id,
            CheckInDraft.patient_id == patient_id,
            CheckInDraft.sent_check_in_id.is_(None),
            CheckInDraft.updated_at >= now - RESUME_WITHIN,
        )
        .order_by(CheckInDraft.updated_at.desc(), CheckInDraft.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row


def draft_by_client_id(db: Session, patient_id: int, client_id: str) -> CheckInDraft | None:
    row: CheckInDraft | None = db.execute(
        select(CheckInDraft).where(CheckInDraft.patient_id == patient_id, CheckInDraft.client_id == client_id)
    ).scalar_one_or_none()
    return row


def resume(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> tuple[Patient, CheckInDraft | None]:
    """Open the record (audited) and find the draft to continue, if any."""
    patient = _open(db, actor, patient_id, now, source_ip)
    return patient, open_draft(db, author_id=actor.id, patient_id=patient.id, now=now)


def draft_for_form(
    db: Session, *, actor: User, patient: Patient, client_id: object, step_id: str, now: datetime
) -> CheckInDraft:
    """The draft a step's form belongs to (by the form's own ``client_id``), made on the first step sent.

    A draft is its author's: another person's ``client_id`` is refused, as an expired form.
    """
    cid = checkin_actions.normalise_client_id(client_id)
    draft = draft_by_client_id(db, patient.id, cid)
    if draft is None:
        draft = CheckInDraft(
            patient_id=patient.id,
            author_id=actor.id,
            client_id=cid,
            step=step_id,
            answers={},
            typed={},
            started_at=now,
            updated_at=now,
        )
        db.add(draft)
        db.flush()
    elif draft.author_id != actor.id:
        raise InvalidInput("client_id", "This form has expired. Start the check-in again.")
    return draft


def new_client_id() -> str:
    return str(uuid.uuid4())


def merged(answers: Mapping[str, Any], step_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` with this step's fields replaced by ``values`` (a skipped step: ``values`` empty)."""
    fields = step(step_id).fields
    result = {k: v for k, v in answers.items() if k not in fields}
    result.update({k: v for k, v in values.items() if k in fields and v is not None})
    return result


def validated(answers: Mapping[str, Any]) -> checkin_actions.ParsedCheckIn:
    """The draft's answers checked as a whole, as ``record_check_in`` will check them (names the field)."""
    return checkin_actions.parse_check_in(answers)


def save_step(draft: CheckInDraft, *, answers: Mapping[str, Any], go_to: str, now: datetime) -> None:
    """Keep the answers (checked as a whole first: bad input changes nothing) and move on to ``go_to``."""
    validated(answers)
    draft.answers = dict(answers)
    draft.typed = {}
    draft.step = go_to
    draft.updated_at = now


def is_emergency(answers: Mapping[str, Any]) -> bool:
    """Whether the answers so far triage as an emergency: such a check-in is sent at once."""
    result: TriageResult = triage(validated(answers).check_in)
    return result.tier is Tier.EMERGENCY


def previous_check_in(db: Session, *, patient_id: int) -> CheckIn | None:
    """The record's newest check-in, whoever sent it: "since last time" is the record's last time."""
    row: CheckIn | None = db.execute(
        select(CheckIn)
        .where(CheckIn.patient_id == patient_id)
        .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row


def copied_from(previous: CheckIn, step_id: str) -> dict[str, Any]:
    """The previous check-in's answers for this step's fields, leaving out what is never copied."""
    values: dict[str, Any] = {}
    for name in step(step_id).fields:
        if name in NEVER_COPIED:
            continue
        if name == "body_map":
            if previous.body_map:
                values["body_map"] = {r: list(s) for r, s in previous.body_map.items()}
        elif name == "medicines":
            medicines = previous.answers.get("medicines")
            if medicines:
                values["medicines"] = list(medicines)
        elif name in previous.answers:
            values[name] = previous.answers[name]
        elif name in checkin_actions.MEASUREMENT_FIELDS:
            continue
        else:
            values[name] = False
    return values


def copied_rest(previous: CheckIn, after: str) -> dict[str, Any]:
    """The previous check-in's answers for every step after ``after``: "nothing else has changed"."""
    values: dict[str, Any] = {}
    start = STEP_IDS.index(after) + 1
    for s in STEPS[start:]:
        if s.copyable:
            values.update(copied_from(previous, s.id))
    return values


def mark_sent(draft: CheckInDraft, check_in_id: int, now: datetime) -> None:
    draft.sent_check_in_id = check_in_id
    draft.updated_at = now


def sent_check_in(db: Session, *, patient_id: int, client_id: str) -> int | None:
    """The id of the check-in already stored for this form, so a resent last step shows it again."""
    row = db.execute(
        select(CheckIn.id).where(CheckIn.patient_id == patient_id, CheckIn.client_id == client_id)
    ).scalar_one_or_none()
    return int(row) if row is not None else None


def keep_after_session_ended(
    db: Session,
    *,
    session_token: str,
    patient_id: int,
    client_id: object,
    step_id: str,
    typed: Mapping[str, list[str]],
    now: datetime,
) -> bool:
    """Keep what was typed on a step that arrived just after its session ended, for the same person.

    Only into that person's own open draft for this record, found by the form's own ``client_id`` and the
    ended session's owner; nothing is sent or shown until they sign in again, when the step opens with
    what they typed (issue 7: "never lost when a session expires"). The caller has checked the form's CSRF
    token against the ended session's token. Returns whether anything was kept.
    """
    session = db.execute(
        select(WebSession).where(WebSession.token_digest == token_digest(session_token))
    ).scalar_one_or_none()
    if session is None or session.user_id is None or session.expires_at < now - KEEP_AFTER_SESSION_ENDED:
        return False
    try:
        cid = checkin_actions.normalise_client_id(client_id)
    except InvalidInput:
        return False
    draft = draft_by_client_id(db, patient_id, cid)
    if draft is None or draft.author_id != session.user_id or draft.sent_check_in_id is not None:
        return False
    step(step_id)
    draft.step = step_id
    draft.typed = {k: list(v) for k, v in typed.items()}
    draft.updated_at = now
    return True

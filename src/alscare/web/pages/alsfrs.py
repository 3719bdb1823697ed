"""ALSFRS-R pages: the self-report one question per screen, and the clinician's one-page form.

Self-report: a start screen (who is answering; feeding tube or not, which decides 5a or 5b), then twelve
screens of one question each, a review, and a result. Every answer is saved to the draft as it is given, so
the person can stop and come back. Submitting stores one assessment however often the form is sent.

Every route opens the record for writing check-ins (through the actions); nothing here decides access.
A link to a draft that is not the signed-in person's (or no longer exists) leads back to the start screen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions import alsfrs_drafts as drafts
from alscare.actions.assessments import record_alsfrs_assessment
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import RecordRefused, open_record, refuse_record
from alscare.clinical.alsfrs_r import (
    GASTROSTOMY_ITEM,
    ITEMS,
    NO_GASTROSTOMY_ITEM,
    SCORE_MAX,
    SCORE_MIN,
    AdministrationMode,
    Assessment,
    Domain,
    Item,
    item,
)
from alscare.clinical.wording import load_wording
from alscare.storage.models import AlsfrsAssessment, AlsfrsDraft, Patient, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import optional_date, read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

_WORDING = load_wording("alsfrs_r.en")
DOMAIN_WORDS: dict[str, str] = _WORDING["domains"]
MODE_WORDS: dict[str, str] = _WORDING["administration_modes"]
INSTRUCTIONS: str = _WORDING["meta"]["instructions"].strip()
CLINIC_MODES = (AdministrationMode.CLINICIAN_IN_PERSON, AdministrationMode.CLINICIAN_PHONE)


def _base(patient_id: int) -> str:
    return f"/patients/{patient_id}/alsfrs-r"


def _draft_base(patient_id: int, draft_id: int) -> str:
    return f"{_base(patient_id)}/drafts/{draft_id}"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock()
    return now


def _patient(db: Session, patient_id: int) -> Patient:
    """The record, already opened (and so already in the session) by an action."""
    patient = db.get(Patient, patient_id)
    assert patient is not None
    return patient


def _draft(request: Request, db: Session, user: User, patient_id: int, draft_id: int) -> AlsfrsDraft | None:
    """The draft, or None when it is not this person's (the record itself was opened and audited)."""
    try:
        return drafts.draft_of(
            db, actor=user, patient_id=patient_id, draft_id=draft_id, now=_now(request), source_ip=client_ip(request)
        )
    except RecordRefused:
        raise
    except NotFound:
        return None


def _item_ids(draft: AlsfrsDraft) -> tuple[str, ...]:
    return drafts.draft_item_ids(bool(draft.gastrostomy))


# --- Start ---------------------------------------------------------------------------------------------


def _default_mode(user: User, patient: Patient) -> str:
    own = patient.user_id == user.id
    return (AdministrationMode.SELF_REPORT if own else AdministrationMode.CAREGIVER).value


def _start_page(
    request: Request,
    db: Session,
    user: User,
    patient: Patient,
    *,
    action: str,
    values: dict[str, str],
    resume: AlsfrsDraft | None = None,
    errors: dict[str, str] | None = None,
    back: str | None = None,
) -> Response:
    return render(
        request,
        "alsfrs_start.html",
        title="Your daily activities: before you start",
        user=user,
        db=db,
        patient=patient,
        own=patient.user_id == user.id,
        action=action,
        values=values,
        resume=resume,
        resume_answered=len(set(resume.answers) & set(_item_ids(resume))) if resume else 0,
        resume_url=_resume_url(resume) if resume else None,
        question_count=drafts.QUESTION_COUNT,
        mode_options=[(m.value, MODE_WORDS[m.value]) for m in drafts.SELF_REPORT_MODES],
        instructions=INSTRUCTIONS,
        errors=errors,
        back=back,
        emergency_number=patient.emergency_number,
    )


def _resume_url(draft: AlsfrsDraft) -> str:
    """The first question not answered yet, or the review when all are."""
    here = _draft_base(draft.patient_id, draft.id)
    for n, item_id in enumerate(_item_ids(draft), start=1):
        if item_id not in draft.answers:
            return f"{here}/items/{n}"
    return f"{here}/review"


def _setup_errors(values: dict[str, str]) -> dict[str, str]:
    """Both start-screen questions checked at once, so every problem shows together."""
    errors = {}
    if values["administration_mode"] not in {m.value for m in drafts.SELF_REPORT_MODES}:
        errors["administration_mode"] = "Choose who is answering the questions."
    if values["gastrostomy"] not in ("yes", "no"):
        errors["gastrostomy"] = "Say whether there is a feeding tube: yes or no."
    return errors


def _setup_values(form: Any) -> dict[str, str]:
    return {
        "administration_mode": text(form, "administration_mode", max_length=30),
        "gastrostomy": text(form, "gastrostomy", max_length=5),
        "client_id": text(form, "client_id", max_length=64),
        "return": text(form, "return", max_length=10),
    }


@router.get("/patients/{patient_id}/alsfrs-r/new")
def start(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    resume = drafts.resumable_draft(
        db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request)
    )
    patient = _patient(db, patient_id)
    db.commit()
    values = {"administration_mode": _default_mode(user, patient), "gastrostomy": "", "client_id": str(uuid.uuid4())}
    return _start_page(request, db, user, patient, action=f"{_base(patient_id)}/new", values=values, resume=resume)


@router.post("/patients/{patient_id}/alsfrs-r/new")
async def start_post(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = _setup_values(form)
    errors = _setup_errors(values)
    if not errors:
        try:
            draft = drafts.start_draft(
                db,
                actor=user,
                patient_id=patient_id,
                administration_mode=values["administration_mode"],
                gastrostomy=values["gastrostomy"] == "yes",
                client_id=values["client_id"] or None,
                now=_now(request),
                source_ip=client_ip(request),
            )
        except InvalidInput as e:
            db.rollback()
            errors = {e.field: e.message}
        else:
            db.commit()
            return _see_other(f"{_draft_base(patient_id, draft.id)}/items/1")
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=_now(request),
        resource=drafts.RESOURCE,
        source_ip=client_ip(request),
    )
    db.commit()
    if "client_id" in errors or not values["client_id"]:
        values["client_id"] = str(uuid.uuid4())  # a fresh form
    return _start_page(request, db, user, patient, action=f"{_base(patient_id)}/new", values=values, errors=errors)


@router.get("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/setup")
def setup(request: Request, patient_id: int, draft_id: int, user: PageUser, db: Db) -> Response:
    draft = _draft(request, db, user, patient_id, draft_id)
    db.commit()
    if draft is None or draft.submitted_assessment_id is not None:
        return _see_other(f"{_base(patient_id)}/new" if draft is None else f"{_draft_base(patient_id, draft_id)}/done")
    values = {
        "administration_mode": draft.administration_mode,
        "gastrostomy": "yes" if draft.gastrostomy else "no",
        "return": "review" if request.query_params.get("return") == "review" else "",
    }
    return _start_page(
        request,
        db,
        user,
        _patient(db, patient_id),
        action=f"{_draft_base(patient_id, draft_id)}/setup",
        values=values,
        back=f"{_draft_base(patient_id, draft_id)}/review" if values["return"] else None,
    )


@router.post("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/setup")
async def setup_post(request: Request, patient_id: int, draft_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = _setup_values(form)
    draft = _draft(request, db, user, patient_id, draft_id)
    if draft is None or draft.submitted_assessment_id is not None:
        db.commit()
        return _see_other(f"{_base(patient_id)}/new" if draft is None else f"{_draft_base(patient_id, draft_id)}/done")
    errors = _setup_errors(values)
    if not errors:
        drafts.change_setup(
            db,
            actor=user,
            patient_id=patient_id,
            draft_id=draft_id,
            administration_mode=values["administration_mode"],
            gastrostomy=values["gastrostomy"] == "yes",
            now=_now(request),
            source_ip=client_ip(request),
        )
        db.commit()
        after = "review" if values["return"] == "review" else "items/1"
        return _see_other(f"{_draft_base(patient_id, draft_id)}/{after}")
    db.commit()
    return _start_page(
        request,
        db,
        user,
        _patient(db, patient_id),
        action=f"{_draft_base(patient_id, draft_id)}/setup",
        values=values,
        errors=errors,
    )


# --- One question per screen ---------------------------------------------------------------------------


def _item_page(
    request: Request,
    db: Session,
    user: User,
    draft: AlsfrsDraft,
    n: int,
    *,
    selected: str | None,
    return_to: str,
    errors: dict[str, str] | None = None,
) -> Response:
    it = item(_item_ids(draft)[n - 1])
    patient = _patient(db, draft.patient_id)
    return render(
        request,
        "alsfrs_item.html",
        title=f"Question {n} of {drafts.QUESTION_COUNT}: {it.name}",
        user=user,
        db=db,
        patient=patient,
        own=patient.user_id == user.id,
        draft=draft,
        item=it,
        n=n,
        question_count=drafts.QUESTION_COUNT,
        selected=selected,
        return_to=return_to,
        action=f"{_draft_base(draft.patient_id, draft.id)}/items/{n}",
        errors=errors,
        emergency_number=patient.emergency_number,
    )


def _check_n(n: int) -> None:
    if not 1 <= n <= drafts.QUESTION_COUNT:
        raise NotFound("page not found")


def _return_to(raw: str | None) -> str:
    return "review" if raw == "review" else ""


@router.get("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/items/{n}")
def question(request: Request, patient_id: int, draft_id: int, n: int, user: PageUser, db: Db) -> Response:
    draft = _draft(request, db, user, patient_id, draft_id)
    db.commit()
    if draft is None:
        return _see_other(f"{_base(patient_id)}/new")
    if draft.submitted_assessment_id is not None:
        return _see_other(f"{_draft_base(patient_id, draft_id)}/done")
    _check_n(n)
    saved = draft.answers.get(_item_ids(draft)[n - 1])
    return _item_page(
        request,
        db,
        user,
        draft,
        n,
        selected=None if saved is None else str(saved),
        return_to=_return_to(request.query_params.get("return")),
    )


def _score(raw: str) -> object:
    """A whole number if the answer is one; anything else goes to the action as it came, to be refused."""
    try:
        return int(raw)
    except ValueError:
        return raw


@router.post("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/items/{n}")
async def answer(request: Request, patient_id: int, draft_id: int, n: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    try:
        raw = text(form, "answer", max_length=10)
    except InvalidInput:
        raw = "(too long)"  # refused below, naming the item, like any other answer that is not 0-4
    go = "back" if text(form, "go", max_length=10) == "back" else "next"
    return_to = _return_to(text(form, "return", max_length=10))
    draft = _draft(request, db, user, patient_id, draft_id)
    if draft is None or draft.submitted_assessment_id is not None:
        db.commit()
        return _see_other(f"{_base(patient_id)}/new" if draft is None else f"{_draft_base(patient_id, draft_id)}/done")
    _check_n(n)
    item_id = _item_ids(draft)[n - 1]
    error: str | None = None
    if raw:
        try:
            drafts.save_answer(
                db,
                actor=user,
                patient_id=patient_id,
                draft_id=draft_id,
                item_id=item_id,
                score=_score(raw),
                now=_now(request),
                source_ip=client_ip(request),
            )
        except InvalidInput as e:
            error = e.message
    elif go == "next" and item_id not in draft.answers:
        it = item(item_id)
        error = f"Question {it.number} ({it.name}): choose the answer that fits best, or go back."
    if error is not None:
        db.rollback()
        draft = _draft(request, db, user, patient_id, draft_id)  # audit the attempt again after the rollback
        db.commit()
        assert draft is not None
        saved = draft.answers.get(item_id)
        return _item_page(
            request,
            db,
            user,
            draft,
            n,
            selected=None if saved is None else str(saved),
            return_to=return_to,
            errors={"answer": error},
        )
    db.commit()
    here = _draft_base(patient_id, draft_id)
    if return_to == "review" or (go == "next" and n == drafts.QUESTION_COUNT):
        return _see_other(f"{here}/review")
    if go == "back":
        return _see_other(f"{here}/setup" if n == 1 else f"{here}/items/{n - 1}")
    return _see_other(f"{here}/items/{n + 1}")


# --- Review, submit, result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    n: int
    item: Item
    answer: str | None  # the answer's words, or None when not answered yet


def _review_rows(draft: AlsfrsDraft) -> list[ReviewRow]:
    rows = []
    for n, item_id in enumerate(_item_ids(draft), start=1):
        it = item(item_id)
        score = draft.answers.get(item_id)
        label = next((o.label for o in it.options if o.score == score), None)
        rows.append(ReviewRow(n=n, item=it, answer=label))
    return rows


def _review_page(
    request: Request, db: Session, user: User, draft: AlsfrsDraft, *, errors: dict[str, str] | None = None
) -> Response:
    patient = _patient(db, draft.patient_id)
    return render(
        request,
        "alsfrs_review.html",
        title="Check your answers",
        user=user,
        db=db,
        patient=patient,
        own=patient.user_id == user.id,
        draft=draft,
        rows=_review_rows(draft),
        mode_words=MODE_WORDS.get(draft.administration_mode, draft.administration_mode),
        here=_draft_base(draft.patient_id, draft.id),
        errors=errors,
        emergency_number=patient.emergency_number,
    )


@router.get("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/review")
def review(request: Request, patient_id: int, draft_id: int, user: PageUser, db: Db) -> Response:
    draft = _draft(request, db, user, patient_id, draft_id)
    db.commit()
    if draft is None:
        return _see_other(f"{_base(patient_id)}/new")
    if draft.submitted_assessment_id is not None:
        return _see_other(f"{_draft_base(patient_id, draft_id)}/done")
    return _review_page(request, db, user, draft)


@router.post("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/submit")
async def submit(request: Request, patient_id: int, draft_id: int, user: PageUser, db: Db) -> Response:
    await read_form(request)
    draft = _draft(request, db, user, patient_id, draft_id)
    if draft is None:
        db.commit()
        return _see_other(f"{_base(patient_id)}/new")
    try:
        drafts.submit_draft(
            db, actor=user, patient_id=patient_id, draft_id=draft_id, now=_now(request), source_ip=client_ip(request)
        )
    except InvalidInput as e:
        db.rollback()
        draft = _draft(request, db, user, patient_id, draft_id)
        db.commit()
        assert draft is not None
        ids = _item_ids(draft)
        item_id = e.field.removeprefix("items.")
        key = f"item-{ids.index(item_id) + 1}" if item_id in ids else e.field
        return _review_page(request, db, user, draft, errors={key: e.message})
    db.commit()
    return _see_other(f"{_draft_base(patient_id, draft_id)}/done")


@dataclass(frozen=True)
class DomainChange:
    words: str
    score: int
    previous: int | None


@dataclass(frozen=True)
class ResultView:
    total: int
    assessed_on: date
    domains: list[DomainChange]
    previous_total: int | None
    previous_on: date | None
    mode_changed: bool
    previous_mode_words: str | None


def result_view(result: drafts.AssessmentResult) -> ResultView:
    """Total, domains in plain words, and the change since the assessment before this one."""
    now = Assessment.from_answers(result.assessment.answers)
    before = Assessment.from_answers(result.previous.answers) if result.previous is not None else None
    domains = [
        DomainChange(
            words=DOMAIN_WORDS[d.value],
            score=now.domains[d],
            previous=before.domains[d] if before is not None else None,
        )
        for d in Domain
    ]
    prev: AlsfrsAssessment | None = result.previous
    return ResultView(
        total=now.total,
        assessed_on=result.assessment.assessed_on,
        domains=domains,
        previous_total=before.total if before is not None else None,
        previous_on=prev.assessed_on if prev is not None else None,
        mode_changed=prev is not None and prev.administration_mode != result.assessment.administration_mode,
        previous_mode_words=MODE_WORDS.get(prev.administration_mode) if prev is not None else None,
    )


@router.get("/patients/{patient_id}/alsfrs-r/drafts/{draft_id}/done")
def done(request: Request, patient_id: int, draft_id: int, user: PageUser, db: Db) -> Response:
    draft = _draft(request, db, user, patient_id, draft_id)
    if draft is None or draft.submitted_assessment_id is None:
        db.commit()
        return _see_other(
            f"{_base(patient_id)}/new" if draft is None else f"{_draft_base(patient_id, draft_id)}/review"
        )
    result = drafts.assessment_result(db, patient_id=patient_id, assessment_id=draft.submitted_assessment_id)
    db.commit()
    assert result is not None  # the draft points at it
    patient = _patient(db, patient_id)
    return render(
        request,
        "alsfrs_done.html",
        title="Thank you: your answers are saved",
        user=user,
        db=db,
        patient=patient,
        own=patient.user_id == user.id,
        result=result_view(result),
        total_max=SCORE_MAX * drafts.QUESTION_COUNT,
        domain_max=SCORE_MAX * 3,
        emergency_number=patient.emergency_number,
    )


# --- Clinician-scored, all on one page -----------------------------------------------------------------


def _clinic_page(
    request: Request,
    db: Session,
    user: User,
    patient: Patient,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    saved: ResultView | None = None,
) -> Response:
    return render(
        request,
        "alsfrs_clinic.html",
        title="Record an ALSFRS-R",
        user=user,
        db=db,
        patient=patient,
        sections=_clinic_sections(),
        values=values,
        mode_options=[(m.value, MODE_WORDS[m.value]) for m in CLINIC_MODES],
        saved=saved,
        errors=errors,
        total_max=SCORE_MAX * drafts.QUESTION_COUNT,
        emergency_number=patient.emergency_number,
    )


@dataclass(frozen=True)
class ClinicQuestion:
    field: str
    label: str
    hint: str
    options: list[tuple[str, str]]


def _clinic_sections() -> list[tuple[str, list[ClinicQuestion]]]:
    """The items by domain, each as a select: a blank choice, then 4 (normal) down to 0."""
    sections: list[tuple[str, list[ClinicQuestion]]] = []
    for domain in Domain:
        questions = []
        for it in ITEMS:
            if it.domain is not domain:
                continue
            hint = it.question
            if it.id in (NO_GASTROSTOMY_ITEM, GASTROSTOMY_ITEM):
                hint += " Answer 5a or 5b, not both."
            options = [("", "Choose an answer")] + [(str(o.score), f"{o.score}: {o.label}") for o in it.options]
            questions.append(ClinicQuestion(_clinic_field(it.id), f"{it.id}. {it.name}", hint, options))
        sections.append((DOMAIN_WORDS[domain.value], questions))
    return sections


def _open_for_clinic_form(request: Request, db: Session, user: User, patient_id: int) -> Patient:
    """The clinician's form: for a clinician of a clinic with access only; anyone else sees "not found"."""
    if user.role != "clinician":
        raise refuse_record(
            db, user=user, patient_id=patient_id, resource="alsfrs_r", now=_now(request), source_ip=client_ip(request)
        )
    return open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.CHECKINS,
        action=Action.WRITE,
        now=_now(request),
        resource="alsfrs_r",
        source_ip=client_ip(request),
    )


def _fresh_clinic_values(request: Request) -> dict[str, str]:
    return {
        "client_id": str(uuid.uuid4()),
        "assessed_on": _now(request).date().isoformat(),
        "administration_mode": AdministrationMode.CLINICIAN_IN_PERSON.value,
    }


@router.get("/patients/{patient_id}/alsfrs-r/clinic")
def clinic_form(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    patient = _open_for_clinic_form(request, db, user, patient_id)
    saved: ResultView | None = None
    saved_id = request.query_params.get("saved", "")
    if saved_id.isdigit() and len(saved_id) < 10:
        result = drafts.assessment_result(db, patient_id=patient_id, assessment_id=int(saved_id))
        saved = result_view(result) if result is not None else None
    db.commit()
    return _clinic_page(request, db, user, patient, values=_fresh_clinic_values(request), saved=saved)


def _clinic_field(item_id: str) -> str:
    return f"item_{item_id}"


def _item_label(it: Item) -> str:
    return f"Question {it.id} ({it.name})"


def _read_clinic_answers(form: Any, values: dict[str, str], errors: dict[str, str]) -> dict[str, int]:
    """Every item's answer, with every problem named by its item at once (not only the first)."""
    answers: dict[str, int] = {}
    for it in ITEMS:
        field = _clinic_field(it.id)
        raw = text(form, field, max_length=10)
        values[field] = raw
        if not raw:
            if it.id not in (NO_GASTROSTOMY_ITEM, GASTROSTOMY_ITEM):
                errors[field] = f"{_item_label(it)}: choose an answer."
            continue
        try:
            score = int(raw)
        except ValueError:
            score = -1
        if not SCORE_MIN <= score <= SCORE_MAX:
            errors[field] = f"{_item_label(it)}: choose one of the five answers (0 to 4), not {raw!r}."
            continue
        answers[it.id] = score
    fives = [i for i in (NO_GASTROSTOMY_ITEM, GASTROSTOMY_ITEM) if values[_clinic_field(i)]]
    if not fives:
        errors[_clinic_field(NO_GASTROSTOMY_ITEM)] = (
            "Question 5: answer 5a (no feeding tube) or 5b (with a feeding tube)."
        )
    elif len(fives) == 2:
        errors[_clinic_field(GASTROSTOMY_ITEM)] = (
            "Question 5: answer 5a or 5b, not both: 5a without a feeding tube, 5b with one."
        )
    return answers


@router.post("/patients/{patient_id}/alsfrs-r/clinic")
async def clinic_submit(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values: dict[str, str] = {
        "client_id": text(form, "client_id", max_length=64) or str(uuid.uuid4()),
        "administration_mode": text(form, "administration_mode", max_length=30),
        "assessed_on": text(form, "assessed_on", max_length=20),
    }
    errors: dict[str, str] = {}
    answers = _read_clinic_answers(form, values, errors)
    if values["administration_mode"] not in {m.value for m in CLINIC_MODES}:
        errors["administration_mode"] = "Choose how the questions were asked."
    assessed_on: date | None = None
    try:
        assessed_on = optional_date(form, "assessed_on")
        if assessed_on is None:
            errors["assessed_on"] = "Enter the date the questions were asked, for example 2026-03-01."
    except InvalidInput as e:
        errors[e.field] = e.message
    if not errors and assessed_on is not None:
        try:
            row = record_alsfrs_assessment(
                db,
                actor=user,
                patient_id=patient_id,
                answers=answers,
                assessed_on=assessed_on,
                administration_mode=values["administration_mode"],
                now=_now(request),
                source_ip=client_ip(request),
                client_id=values["client_id"],
                base_url=request.app.state.ctx.settings.base_url,
            )
        except InvalidInput as e:
            db.rollback()
            field = e.field
            errors[_clinic_field(field.removeprefix("items.")) if field.startswith("items.") else field] = e.message
        else:
            db.commit()
            return _see_other(f"{_base(patient_id)}/clinic?saved={row.id}")
    patient = _open_for_clinic_form(request, db, user, patient_id)
    db.commit()
    return _clinic_page(request, db, user, patient, values=values, errors=errors)

"""The stepped check-in's pages: one short question per screen, emergency signs first (issue 7, item 1).

Every step posts to itself; its answers are saved to the draft (``actions.checkin_steps``) before moving on,
and a step whose answers triage as an emergency sends the check-in at once, through the same
``send_check_in`` as the one-page form (stored once, alerted as before). A step that arrives just after the
session ended keeps what was typed for the same person and asks them to sign in again; if what was typed is
an emergency sign, the emergency screen is shown first (not saved, and saying so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from alscare.actions import checkin_steps as steps
from alscare.actions import checkins as checkin_actions
from alscare.actions.errors import InvalidInput
from alscare.clinical import prompts as measurement_limits
from alscare.clinical.triage import CHECK_IN_FIELDS, WEIGHT_KG_MAX, WEIGHT_KG_MIN, triage
from alscare.clinical.wording import load_wording
from alscare.security.tokens import csrf_valid
from alscare.storage.models import CheckIn, Patient, User
from alscare.storage.models.checkin_steps import CheckInDraft
from alscare.web.deps import Db, PageUser, app_context, check_csrf, client_ip, optional_user
from alscare.web.next_path import with_next
from alscare.web.pages.checkins import (
    MEASUREMENT_LABELS,
    REGION_LABELS,
    SYMPTOM_LABELS,
    WEIGHT_HINTS,
    _medicine_section,
    body_label,
    contacts_of,
    field_label,
    result_screen,
    send_check_in,
)
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

WORDING: Final = load_wording("checkin_steps.en")
# Number fields: (lowest, highest, unit, a typical example). The limits are the core's (triage, prompts).
NUMBER_RANGES: Final[Mapping[str, tuple[float, float, str, str]]] = {
    "weight_kg": (WEIGHT_KG_MIN, WEIGHT_KG_MAX, "kg", "68.5"),
    "usual_weight_kg": (WEIGHT_KG_MIN, WEIGHT_KG_MAX, "kg", "72"),
    "fvc_percent": (measurement_limits.FVC_PERCENT_MIN, measurement_limits.FVC_PERCENT_MAX, "%", "85"),
    "snip_cmh2o": (measurement_limits.SNIP_CMH2O_MIN, measurement_limits.SNIP_CMH2O_MAX, "cmH₂O", "60"),
    "spo2_percent": (measurement_limits.SPO2_PERCENT_MIN, measurement_limits.SPO2_PERCENT_MAX, "%", "96"),
}
OptionalUser = Annotated[User | None, Depends(optional_user)]


def _clock(request: Request) -> Any:
    return request.app.state.ctx.clock()


def _base(patient_id: int) -> str:
    return f"/patients/{patient_id}/check-in/steps"


# --- Reading a step's form ----------------------------------------------------------------------------


def number_error(name: str) -> str:
    low, high, unit, example = NUMBER_RANGES[name]
    return f"{field_label(name)}: enter a number from {low:g} to {high:g} {unit}, for example {example}."


def parse_number(name: str, raw: str) -> float | None:
    """A typed number (a comma as the decimal mark is fine), or ``InvalidInput`` naming the field, its range
    and an example: "abc" and 0.5 as a weight are both asked again."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    low, high, _unit, _example = NUMBER_RANGES[name]
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(name, number_error(name)) from None
    if not low <= value <= high:
        raise InvalidInput(name, number_error(name))
    return value


def raw_values(form: FormData, step_id: str) -> dict[str, list[str]]:
    """This step's form fields as typed, to keep or to show again."""
    names = set(steps.step(step_id).fields) | {"medicines_other"}
    return {
        key: [v for v in form.getlist(key) if isinstance(v, str)]
        for key in form
        if key in names or key.startswith("body_map.")
    }


def step_values(step_id: str, raw: Mapping[str, list[str]]) -> dict[str, Any]:
    """A step's answers in the API shape. An unticked box on an answered step is a "no"."""
    values: dict[str, Any] = {}
    for name in steps.step(step_id).fields:
        spec = CHECK_IN_FIELDS.get(name)
        first = (raw.get(name) or [""])[0]
        if spec is not None and spec.kind == "bool":
            values[name] = first == "yes"
        elif name in NUMBER_RANGES:
            values[name] = parse_number(name, first)
        elif name == "body_map":
            body = {
                key.removeprefix("body_map."): list(v) for key, v in raw.items() if key.startswith("body_map.") and v
            }
            values["body_map"] = checkin_actions.parse_body_map(body) or None
            if values["body_map"]:
                values["body_map"] = {r: list(s) for r, s in values["body_map"].items()}
        elif name == "medicines":
            chosen = [v for v in raw.get("medicines", []) if v]
            other = (raw.get("medicines_other") or [""])[0]
            chosen += [m.strip() for m in other.replace(";", ",").replace("\n", ",").split(",") if m.strip()]
            values["medicines"] = chosen or None
        elif name == "question":
            values["question"] = first.strip() or None
    return values


def kept_from(answers: Mapping[str, Any], typed: Mapping[str, list[str]] | None) -> dict[str, Any]:
    """What the step's boxes and fields show: typed text first (after an error or an ended session), else
    the draft's answers."""
    if typed:
        return {
            "checked": {k for k, v in typed.items() if "yes" in v},
            "body": {
                f"{k.removeprefix('body_map.')}:{s}" for k, v in typed.items() if k.startswith("body_map.") for s in v
            },
            "medicines": set(typed.get("medicines", [])),
            "text": {
                k: v[0] for k, v in typed.items() if v and k not in ("medicines",) and not k.startswith("body_map.")
            },
        }
    text: dict[str, str] = {
        k: f"{v:g}" for k, v in answers.items() if k in NUMBER_RANGES and isinstance(v, float | int)
    }
    if isinstance(answers.get("question"), str):
        text["question"] = answers["question"]
    return {
        "checked": {k for k, v in answers.items() if v is True},
        "body": {f"{r}:{s}" for r, ss in (answers.get("body_map") or {}).items() for s in ss},
        "medicines": set(answers.get("medicines") or []),
        "text": text,
    }


# --- Pages ----------------------------------------------------------------------------------------


def _render_step(
    request: Request,
    db: Session,
    user: User,
    patient: Patient,
    step_id: str,
    *,
    draft: CheckInDraft | None,
    client_id: str,
    errors: dict[str, str] | None = None,
    typed: Mapping[str, list[str]] | None = None,
    notice: str | None = None,
) -> Response:
    the_step = steps.step(step_id)
    wording = WORDING["steps"][step_id]
    previous = steps.previous_check_in(db, patient_id=patient.id)
    listed, choices = (
        _medicine_section(db, user, patient, _clock(request).date()) if step_id == "medicines" else (None, [])
    )
    n = steps.STEP_IDS.index(step_id) + 1
    db.commit()
    return render(
        request,
        "checkin_step.html",
        title=f"{wording['title']} – check in",
        user=user,
        db=db,
        active="check_in",
        errors=errors,
        notice=notice,
        patient=patient,
        own=patient.user_id == user.id,
        step=the_step,
        wording=wording,
        buttons=WORDING["buttons"],
        text=WORDING["text"],
        n=n,
        count=len(steps.STEPS),
        last=steps.next_step(step_id) is None,
        client_id=client_id,
        can_copy=previous is not None and the_step.copyable,
        can_copy_rest=previous is not None,
        labels={name: spec.label for name, spec in CHECK_IN_FIELDS.items()},
        regions=[(r, REGION_LABELS[r]) for r in checkin_actions.BODY_REGIONS],
        symptoms=[(s, SYMPTOM_LABELS[s]) for s in checkin_actions.BODY_SYMPTOMS],
        body_label=body_label,
        measurements=MEASUREMENT_LABELS,
        weight_hints=WEIGHT_HINTS,
        listed=listed,
        medicine_choices=choices,
        kept=kept_from(
            draft.answers if draft else {},
            typed if typed is not None else (draft.typed if draft and draft.step == step_id else None),
        ),
        action=f"{_base(patient.id)}/{step_id}",
        emergency_number=patient.emergency_number,
    )


@router.get("/patients/{patient_id}/check-in/steps")
def start_or_continue(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    """Back to the step of the draft in progress, or the first step of a new check-in."""
    patient, draft = steps.resume(
        db, actor=user, patient_id=patient_id, now=_clock(request), source_ip=client_ip(request)
    )
    if draft is not None and draft.step != "now":
        db.commit()
        return RedirectResponse(f"{_base(patient.id)}/{draft.step}", status_code=303)
    return _render_step(
        request,
        db,
        user,
        patient,
        "now",
        draft=draft,
        client_id=draft.client_id if draft else steps.new_client_id(),
    )


@router.get("/patients/{patient_id}/check-in/steps/{step_id}")
def show_step(request: Request, patient_id: int, step_id: str, user: PageUser, db: Db) -> Response:
    steps.step(step_id)  # an unknown step is a 404
    patient, draft = steps.resume(
        db, actor=user, patient_id=patient_id, now=_clock(request), source_ip=client_ip(request)
    )
    if draft is None:
        db.commit()
        return RedirectResponse(_base(patient.id), status_code=303)
    notice = WORDING["text"]["resumed"] if draft.typed else None
    return _render_step(request, db, user, patient, step_id, draft=draft, client_id=draft.client_id, notice=notice)


def _after_session_ended(request: Request, db: Session, form: FormData, patient_id: int, step_id: str) -> Response:
    """Keep what was typed for the same person; an emergency sign still gets the emergency screen.

    Nothing about the record is shown to a signed-out visitor: the emergency screen uses the record's own
    number only when the ended session was the draft author's, and the default number otherwise.
    """
    typed = raw_values(form, step_id)
    kept = steps.keep_after_session_ended(
        db,
        session_token=request.state.session_token,
        patient_id=patient_id,
        client_id=form.get("client_id"),
        step_id=step_id,
        typed=typed,
        now=_clock(request),
    )
    number = request.app.state.ctx.settings.default_emergency_number
    if kept:
        patient = db.get(Patient, patient_id)
        number = patient.emergency_number if patient is not None else number
    db.commit()
    try:
        answers = steps.merged({}, step_id, step_values(step_id, typed))
        emergency = steps.is_emergency(answers)
    except InvalidInput:
        emergency = False
    if emergency:
        result = triage(steps.validated(answers).check_in)
        screen = result_screen(result=result, contacts=contacts_of(None, number), saved=False, team_alerted=False)
        return render(
            request,
            "checkin_result.html",
            title=screen.title,
            user=None,
            screen=screen,
            emergency_number=number,
            notice=WORDING["text"]["expired"],
        )
    return RedirectResponse(with_next("/signin", _base(patient_id) if kept else None), status_code=303)


def _csrf_ok(request: Request, token: object) -> bool:
    secret = app_context(request).settings.secret_key
    return isinstance(token, str) and csrf_valid(secret, request.state.session_token, token)


def _message(e: InvalidInput) -> str:
    """The error with the field's label in front, once."""
    label = field_label(e.field)
    return e.message if e.message.startswith(label) else f"{label}: {e.message}"


@router.post("/patients/{patient_id}/check-in/steps/{step_id}")
async def post_step(request: Request, patient_id: int, step_id: str, user: OptionalUser, db: Db) -> Response:
    steps.step(step_id)
    form = await request.form()
    token = form.get("csrf_token")
    if user is None:
        if _csrf_ok(request, token):
            return _after_session_ended(request, db, form, patient_id, step_id)
        return RedirectResponse("/signin", status_code=303)
    check_csrf(request, token if isinstance(token, str) else None)
    now = _clock(request)
    patient, _open = steps.resume(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    try:
        cid = checkin_actions.normalise_client_id(form.get("client_id"))
    except InvalidInput:
        db.commit()
        return RedirectResponse(_base(patient.id), status_code=303)
    already = steps.sent_check_in(db, patient_id=patient.id, client_id=cid)
    if already is not None:  # this check-in was sent (a resent form, or Back after sending): show it again
        db.commit()
        return RedirectResponse(f"/patients/{patient.id}/check-ins/{already}", status_code=303)
    go = form.get("go")
    typed = raw_values(form, step_id)
    previous = steps.previous_check_in(db, patient_id=patient.id)
    existing = steps.draft_by_client_id(db, patient.id, cid)
    try:
        values = step_values(step_id, typed)
        if go == "skip":
            values = {}
        elif go == "same" and previous is not None and steps.step(step_id).copyable:
            # What is ticked or typed on this step counts too: "nothing changed" never hides a new answer.
            values = {**steps.copied_from(previous, step_id), **{k: v for k, v in values.items() if v}}
        answers = steps.merged(existing.answers if existing else {}, step_id, values)
        if go == "same_rest" and previous is not None:
            answers.update(steps.copied_rest(previous, step_id))
        steps.validated(answers)
    except InvalidInput as e:
        return _render_step(
            request,
            db,
            user,
            patient,
            step_id,
            draft=existing,
            client_id=cid,
            errors={e.field: _message(e)},
            typed=typed,
        )
    following = steps.next_step(step_id)
    go_to = (steps.previous_step(step_id) or step_id) if go == "back" else (following or step_id)
    draft = steps.draft_for_form(db, actor=user, patient=patient, client_id=cid, step_id=step_id, now=now)
    steps.save_step(draft, answers=answers, go_to=go_to, now=now)
    # Any sign ticked on the first screen is sent at once (breathless at rest alone is a same-day sign, not an
    # emergency, but its answer should not wait behind nine more steps); so is any emergency on a later step.
    ticked_now = step_id == "now" and any(values.get(name) is True for name in steps.EMERGENCY_NOW)
    send = go == "same_rest" or (following is None and go != "back") or ticked_now or steps.is_emergency(answers)
    if not send:
        db.commit()
        return RedirectResponse(f"{_base(patient.id)}/{go_to}", status_code=303)
    data = dict(answers)
    parsed = steps.validated(data)
    draft_id = draft.id
    db.commit()  # the draft is kept even if sending fails below

    def on_stored(row: CheckIn) -> None:
        stored_draft = db.get(CheckInDraft, draft_id)
        if stored_draft is not None:
            steps.mark_sent(stored_draft, row.id, now)

    return send_check_in(
        request,
        db,
        user,
        patient.id,
        client_id=cid,
        data=data,
        parsed=parsed,
        on_invalid=lambda e: _render_step(
            request, db, user, patient, step_id, draft=None, client_id=cid, errors={e.field: _message(e)}
        ),
        on_stored=on_stored,
    )

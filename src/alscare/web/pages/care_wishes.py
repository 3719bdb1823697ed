"""Care wishes pages: the current wishes, the form (one form in sections), the history, the difference
between two versions, "discussed with", the "My care wishes" PDF and the emergency card (PDF and a page
sized for a phone's lock screen).

Thin: each route calls one action and shapes its answer for a template; the words come from
``clinical/wording/care_wishes.en.toml``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from alscare.access import Action, Scope
from alscare.actions import care_wishes as actions
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import may
from alscare.clinical import care_wishes as core
from alscare.clinical.care_wishes import Answers, SectionChange, Value
from alscare.storage.models import Patient, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import optional_date, read_form, text
from alscare.web.pdf import render_pdf
from alscare.web.render import render

router = APIRouter(include_in_schema=False)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock()
    return now


# --- Presenters -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    name: str  # "<section>.<field>", also the element id the error summary links to
    kind: str
    label: str
    hint: str | None
    options: list[tuple[str, str]]
    value: Value


@dataclass(frozen=True)
class FormSection:
    id: str
    title: str
    intro: str
    fields: list[FormField]


def form_sections(answers: Answers) -> list[FormSection]:
    words = core.wording()["sections"]
    sections = []
    for spec in core.SECTIONS:
        given = answers.get(spec.id, {})
        fields = []
        for f in spec.fields:
            w = words[spec.id]["fields"][f.id]
            options = core.option_labels(spec.id, f.id) if f.kind in ("choice", "multi") else []
            default: Value = () if f.kind == "multi" else ""
            fields.append(
                FormField(f"{spec.id}.{f.id}", f.kind, w["label"], w.get("hint"), options, given.get(f.id, default))
            )
        sections.append(FormSection(spec.id, words[spec.id]["title"], words[spec.id]["intro"], fields))
    return sections


def answers_from_form(form: FormData) -> dict[str, dict[str, object]]:
    """The form's fields, shaped as ``save_care_wishes`` takes them (the API's shape)."""
    raw: dict[str, dict[str, object]] = {}
    for spec in core.SECTIONS:
        for f in spec.fields:
            name = f"{spec.id}.{f.id}"
            if f.kind == "multi":
                raw.setdefault(spec.id, {})[f.id] = [v for v in form.getlist(name) if isinstance(v, str)]
            else:
                value = form.get(name)
                raw.setdefault(spec.id, {})[f.id] = value if isinstance(value, str) else ""
    return raw


def _kept(raw: dict[str, dict[str, object]]) -> Answers:
    """What was typed, to show again beside an error (not validated, so never stored)."""
    kept: Answers = {}
    for section, fields in raw.items():
        for field, value in fields.items():
            kept.setdefault(section, {})[field] = tuple(value) if isinstance(value, list) else str(value)
    return kept


def error_text(error: InvalidInput) -> str:
    if "." in error.field and error.message[:1].islower():
        section, _, field = error.field.partition(".")
        label = core.wording()["sections"][section]["fields"].get(field, {}).get("label", field)
        return f"{label}: {error.message}"
    return error.message


@dataclass(frozen=True)
class ChangeRow:
    question: str
    kind: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ChangeSection:
    title: str
    kind: str
    rows: list[ChangeRow]


def change_sections(changes: tuple[SectionChange, ...]) -> list[ChangeSection]:
    words = core.wording()["sections"]
    out = []
    for c in changes:
        rows = [
            ChangeRow(
                words[c.section]["fields"][f.field]["label"],
                f.kind,
                core.value_text(c.section, f.field, f.old) if f.old else None,
                core.value_text(c.section, f.field, f.new) if f.new else None,
            )
            for f in c.fields
        ]
        out.append(ChangeSection(words[c.section]["title"], c.kind, rows))
    return out


def _common(request: Request, db: Session, user: User, wishes: actions.CareWishes) -> dict[str, Any]:
    patient = wishes.patient
    return {
        "user": user,
        "db": db,
        "patient": patient,
        "wishes": wishes,
        "words": core.wording(),
        "can_write": may(db, user=user, patient=patient, scope=Scope.SHARING, action=Action.WRITE),
        "emergency_number": patient.emergency_number,
    }


def _read(request: Request, db: Session, user: User, patient_id: int) -> actions.CareWishes:
    return actions.care_wishes_of(
        db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request)
    )


# --- Pages ------------------------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/care-wishes")
def view(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    wishes = _read(request, db, user, patient_id)
    context = _common(request, db, user, wishes)
    latest = wishes.latest
    db.commit()
    page_words = context["words"]["page"]
    done = {"saved": "saved", "unchanged": "unchanged", "discussed": "discussed_saved"}
    key = done.get(request.query_params.get("done", ""))
    notice = page_words[key] if key else None
    return render(
        request,
        "care_wishes.html",
        title=f"Care wishes of {wishes.patient.full_name}",
        notice=notice,
        sections=actions.summary_sections(latest.answers) if latest else (),
        latest=latest,
        **context,
    )


def _edit_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    answers: Answers | None = None,
    client_id: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    wishes = actions.open_for_writing(
        db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request)
    )
    context = _common(request, db, user, wishes)
    as_proxy = wishes.patient.user_id != user.id
    db.commit()
    latest = wishes.latest
    return render(
        request,
        "care_wishes_edit.html",
        title=f"Change the care wishes of {wishes.patient.full_name}" if as_proxy else "Change my care wishes",
        errors=errors,
        form=form_sections(answers if answers is not None else (latest.answers if latest else {})),
        client_id=client_id or str(uuid.uuid4()),
        as_proxy=as_proxy,
        **context,
    )


@router.get("/patients/{patient_id}/care-wishes/edit")
def edit(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _edit_page(request, db, user, patient_id)


@router.post("/patients/{patient_id}/care-wishes/edit")
async def save(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    raw = answers_from_form(form)
    client_id = text(form, "client_id", max_length=64) or None
    try:
        outcome = actions.save_care_wishes(
            db,
            actor=user,
            patient_id=patient_id,
            answers=raw,
            now=_now(request),
            client_id=client_id,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _edit_page(
            request, db, user, patient_id, answers=_kept(raw), client_id=client_id, errors={e.field: error_text(e)}
        )
    db.commit()
    done = "saved" if outcome.created else "unchanged"
    return RedirectResponse(f"/patients/{patient_id}/care-wishes?done={done}", status_code=303)


@router.get("/patients/{patient_id}/care-wishes/history")
def history(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    wishes = _read(request, db, user, patient_id)
    context = _common(request, db, user, wishes)
    db.commit()
    return render(request, "care_wishes_history.html", title="Care wishes: all versions", **context)


@router.get("/patients/{patient_id}/care-wishes/versions/{n}")
def version(request: Request, patient_id: int, n: int, user: PageUser, db: Db) -> Response:
    wishes = _read(request, db, user, patient_id)
    context = _common(request, db, user, wishes)
    db.commit()
    shown = wishes.version(n)
    return render(
        request,
        "care_wishes_version.html",
        title=f"Care wishes: version {n}",
        shown=shown,
        sections=actions.summary_sections(shown.answers),
        **context,
    )


def _number(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.get("/patients/{patient_id}/care-wishes/compare")
def compare(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    """The difference between two versions (by default the latest and the one before it)."""
    wishes = _read(request, db, user, patient_id)
    context = _common(request, db, user, wishes)
    db.commit()
    numbers = [v.number for v in wishes.versions]
    older, newer = _number(request, "older"), _number(request, "newer")
    if older is None and newer is None and len(numbers) >= 2:
        older, newer = numbers[-2], numbers[-1]
    changes = None
    if older is not None and newer is not None:
        if older not in numbers or newer not in numbers:
            raise NotFound("No such version of the care wishes.")
        if older > newer:
            older, newer = newer, older
        changes = change_sections(actions.compare(wishes, older=older, newer=newer))
    return render(
        request,
        "care_wishes_compare.html",
        title="Care wishes: what changed",
        older=older,
        newer=newer,
        changes=changes,
        numbers=numbers,
        **context,
    )


def _discussed_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    n: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    wishes = actions.open_for_writing(
        db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request)
    )
    context = _common(request, db, user, wishes)
    db.commit()
    shown = wishes.version(n)
    return render(
        request,
        "care_wishes_discussed.html",
        title=f"Care wishes: note a talk about version {n}",
        shown=shown,
        values=values or {"with_kind": "family", "discussed_on": _now(request).date().isoformat()},
        errors=errors,
        **context,
    )


@router.get("/patients/{patient_id}/care-wishes/versions/{n}/discussed")
def discussed_form(request: Request, patient_id: int, n: int, user: PageUser, db: Db) -> Response:
    return _discussed_page(request, db, user, patient_id, n)


@router.post("/patients/{patient_id}/care-wishes/versions/{n}/discussed")
async def discussed(request: Request, patient_id: int, n: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = {
        "with_kind": text(form, "with_kind", max_length=20),
        "with_name": text(form, "with_name", max_length=actions.NAME_MAX),
        "discussed_on": text(form, "discussed_on", max_length=20),
    }
    try:
        actions.mark_discussed(
            db,
            actor=user,
            patient_id=patient_id,
            number=n,
            discussed_on=optional_date(form, "discussed_on"),
            with_kind=values["with_kind"],
            with_name=values["with_name"],
            now=_now(request),
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _discussed_page(request, db, user, patient_id, n, values=values, errors={e.field: e.message})
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/care-wishes?done=discussed", status_code=303)


# --- Documents --------------------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/care-wishes.pdf")
def wishes_pdf(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    wishes = _read(request, db, user, patient_id)
    latest = wishes.latest
    db.commit()
    pdf = render_pdf(
        "care_wishes_pdf.html",
        patient=wishes.patient,
        latest=latest,
        sections=actions.summary_sections(latest.answers) if latest else (),
        words=core.wording(),
        printed_on=_now(request).date(),
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="care-wishes.pdf"'}
    )


def _card(request: Request, db: Session, user: User, patient_id: int) -> dict[str, Any]:
    now = _now(request)
    wishes = _read(request, db, user, patient_id)
    used = actions.in_use(db, actor=user, patient=wishes.patient, now=now, source_ip=client_ip(request))
    essentials = actions.essentials_of(wishes.patient, wishes.latest, used) if wishes.latest else None
    db.commit()
    return {"patient": wishes.patient, "essentials": essentials, "in_use": used, "words": core.wording()}


@router.get("/patients/{patient_id}/care-wishes/emergency-card")
def card_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    """The card as a page sized for a phone's lock screen (390 × 844 CSS px): save a screenshot of it."""
    card = _card(request, db, user, patient_id)
    return render(request, "care_wishes_card.html", title="Emergency card", user=user, db=db, **card)


@router.get("/patients/{patient_id}/care-wishes/emergency-card.pdf")
def card_pdf(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    card = _card(request, db, user, patient_id)
    pdf = render_pdf("care_wishes_card_pdf.html", **card)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="emergency-card.pdf"'}
    )


def emergency_care_wishes(
    db: Session, *, user: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> dict[str, Any]:
    """What the check-in's emergency screen shows of the care wishes (``_care_wishes_essentials.html``):
    the card's essentials, or a plain "none written", or "not shared with you"."""
    words = core.wording()
    patient = db.get(Patient, patient_id)
    if patient is None or not may(db, user=user, patient=patient, scope=Scope.CARE_WISHES):
        return {"state": "not_shared", "essentials": None, "words": words}
    try:
        essentials = actions.emergency_essentials(db, patient_id=patient_id, actor=user, now=now, source_ip=source_ip)
    except NotFound:
        return {"state": "not_shared", "essentials": None, "words": words}
    return {"state": "shown" if essentials else "none", "essentials": essentials, "words": words}

"""The Medicines tab of a record: the list, adding a medicine, one medicine's page (change, stop, liver tests,
history), and the medicine leaflets. Thin: every read and change is an action in ``actions.medicines``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from alscare.actions import medicines as actions
from alscare.actions.errors import InvalidInput, NotFound
from alscare.clinical import medicines as core
from alscare.storage.models import User
from alscare.storage.models.medicines import MedicineChange
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import optional_date, read_form, text
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

CHANGED_AS = {"self": "themselves", "proxy": "acting for them", "caregiver": "family or carer", "clinician": "clinic"}
KIND_LABELS = {"added": "Added", "changed": "Changed", "stopped": "Stopped", "liver_test": "Liver test marked done"}
FIELD_LABELS = {"dose": "Dose", "started_on": "Started", "stopped_on": "Stopped", "prescriber": "Prescribed by"}


def catalogue_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The catalogue for the picker, grouped by what each medicine is for (a medicine under its first group)."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for group in core.GROUPS:
        options = [(m.id, m.name) for m in core.CATALOGUE if m.groups[0] == group]
        if options:
            groups.append((core.group_label(group), options))
    return groups


def _now(request: Request) -> Any:
    return request.app.state.ctx.clock()


def _list_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = actions.medicine_list(db, actor=user, patient_id=patient_id, now=_now(request), source_ip=client_ip(request))
    db.commit()
    return render(
        request,
        "medicines.html",
        title=f"Medicines of {view.patient.full_name}",
        user=user,
        db=db,
        patient=view.patient,
        own=view.patient.user_id == user.id,
        view=view,
        groups=catalogue_groups(),
        errors=errors,
        values=values or {},
        notice={"added": "Medicine added.", "changed": "Medicine updated."}.get(request.query_params.get("done", "")),
        emergency_number=view.patient.emergency_number,
        tab="medicines",
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/medicines")
def medicines_page(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _list_page(request, db, user, patient_id)


@router.post("/patients/{patient_id}/medicines")
async def add_medicine(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    raw = {k: v if isinstance(v := form.get(k), str) else "" for k in ("catalogue_id", "name", "dose", "prescriber")}
    values = raw | {"started_on": text(form, "started_on", max_length=20)}
    try:
        entry = actions.add_medicine(
            db,
            actor=user,
            patient_id=patient_id,
            now=_now(request),
            catalogue_id=text(form, "catalogue_id", max_length=40) or None,
            name=text(form, "name", max_length=actions.NAME_MAX) or None,
            dose=text(form, "dose", max_length=actions.DOSE_MAX) or None,
            started_on=optional_date(form, "started_on"),
            prescriber=text(form, "prescriber", max_length=actions.PRESCRIBER_MAX) or None,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _list_page(request, db, user, patient_id, errors={e.field: e.message}, values=values, status_code=422)
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/medicines?done=added#medicine-{entry.id}", status_code=303)


def _diff(changes: list[MedicineChange]) -> list[tuple[MedicineChange, list[str]]]:
    """Each change with what it changed, in words: "Dose: 50 mg twice a day → 50 mg once a day"."""
    rows: list[tuple[MedicineChange, list[str]]] = []
    before: dict[str, Any] = {}
    for change in changes:
        after = change.snapshot
        if change.kind == "liver_test":
            lines = [f"Test done on {after.get('liver_test_done_on')}"]
        elif change.kind == "added":
            lines = [f"{FIELD_LABELS[k]}: {after[k]}" for k in FIELD_LABELS if after.get(k)]
        else:
            lines = [
                f"{FIELD_LABELS[k]}: {before.get(k) or '(none)'} → {after.get(k) or '(none)'}"
                for k in FIELD_LABELS
                if before.get(k) != after.get(k)
            ]
        rows.append((change, lines))
        before = after
    return rows


def _entry_page(
    request: Request,
    db: Session,
    user: User,
    patient_id: int,
    entry_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    history = actions.medicine_history(
        db, actor=user, patient_id=patient_id, entry_id=entry_id, now=_now(request), source_ip=client_ip(request)
    )
    db.commit()
    entry = history.view.entry
    current = {
        "dose": entry.dose or "",
        "started_on": entry.started_on.isoformat() if entry.started_on else "",
        "stopped_on": entry.stopped_on.isoformat() if entry.stopped_on else "",
        "prescriber": entry.prescriber or "",
    }
    medicine = history.view.medicine
    return render(
        request,
        "medicine_entry.html",
        title=f"{entry.name} – medicines of {history.patient.full_name}",
        user=user,
        db=db,
        patient=history.patient,
        history=history,
        entry=entry,
        medicine=medicine,
        leaflet=core.leaflet(medicine.leaflet) if medicine else None,
        rows=_diff(history.changes),
        changed_as=CHANGED_AS,
        kind_labels=KIND_LABELS,
        errors=errors,
        values=current | (values or {}),
        notice={"changed": "Medicine updated.", "liver_test": "Liver test recorded."}.get(
            request.query_params.get("done", "")
        ),
        emergency_number=history.patient.emergency_number,
        tab="medicines",
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/medicines/{entry_id}")
def medicine_page(request: Request, patient_id: int, entry_id: int, user: PageUser, db: Db) -> Response:
    return _entry_page(request, db, user, patient_id, entry_id)


@router.post("/patients/{patient_id}/medicines/{entry_id}")
async def change_medicine(request: Request, patient_id: int, entry_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = {k: text(form, k, max_length=300) for k in ("dose", "started_on", "stopped_on", "prescriber")}
    try:
        actions.change_medicine(
            db,
            actor=user,
            patient_id=patient_id,
            entry_id=entry_id,
            now=_now(request),
            dose=text(form, "dose", max_length=actions.DOSE_MAX) or None,
            started_on=optional_date(form, "started_on"),
            stopped_on=optional_date(form, "stopped_on"),
            prescriber=text(form, "prescriber", max_length=actions.PRESCRIBER_MAX) or None,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _entry_page(
            request, db, user, patient_id, entry_id, errors={e.field: e.message}, values=values, status_code=422
        )
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/medicines/{entry_id}?done=changed", status_code=303)


@router.post("/patients/{patient_id}/medicines/{entry_id}/liver-tests")
async def liver_test_done(request: Request, patient_id: int, entry_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    try:
        done_on = optional_date(form, "done_on")
        if done_on is None:
            raise InvalidInput("done_on", "Enter the date the blood test was done.")
        actions.record_liver_test(
            db,
            actor=user,
            patient_id=patient_id,
            entry_id=entry_id,
            done_on=done_on,
            now=_now(request),
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _entry_page(
            request,
            db,
            user,
            patient_id,
            entry_id,
            errors={e.field: e.message},
            values={"done_on": text(form, "done_on", max_length=20)},
            status_code=422,
        )
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/medicines/{entry_id}?done=liver_test", status_code=303)


@router.get("/medicines/leaflets")
def leaflets_page(request: Request, user: PageUser, db: Db) -> Response:
    return render(
        request, "medicine_leaflets.html", title="About ALS medicines", user=user, db=db, leaflets=core.leaflets()
    )


@router.get("/medicines/leaflets/{leaflet_id}")
def leaflet_page(request: Request, leaflet_id: str, user: PageUser, db: Db) -> Response:
    if leaflet_id not in core.LEAFLET_SOURCES:
        raise NotFound("No such leaflet.")
    item = core.leaflet(leaflet_id)
    return render(request, "medicine_leaflet.html", title=item.title, user=user, db=db, leaflet=item)

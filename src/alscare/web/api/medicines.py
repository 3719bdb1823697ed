"""The medicine list over the API (/api/v1): read it, add, change or stop a medicine, mark a liver test done,
read an entry's history, and the catalogue. Thin: every call is an action in ``actions.medicines``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from alscare.actions import medicines as actions
from alscare.clinical import medicines as core
from alscare.web.api.v1 import ErrorResponses, PatientId, Strict
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["medicines"], dependencies=[Depends(api_csrf)])

EntryId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class CatalogueOut(BaseModel):
    id: str
    name: str
    groups: list[str]
    status: str
    source: str
    leaflet: str
    unconfirmed: bool


class LiverTestStatusOut(BaseModel):
    state: str
    due_on: date
    last_done: date | None


class MedicineOut(BaseModel):
    id: int
    name: str
    catalogue_id: str | None
    dose: str | None
    started_on: date | None
    stopped_on: date | None
    prescriber: str | None
    entered_by: str
    entered_at: datetime
    version: int
    withdrawn: bool
    liver_tests: list[date]
    liver_test_status: LiverTestStatusOut | None


class MedicineIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"catalogue_id": "riluzole", "dose": "50 mg twice a day", "started_on": "2026-01-15"},
            ]
        },
    )

    catalogue_id: str | None = Field(default=None, max_length=40, description="An id from /api/v1/medicines.")
    name: str | None = Field(default=None, max_length=actions.NAME_MAX, description="Free text, if not listed.")
    dose: str | None = Field(default=None, max_length=actions.DOSE_MAX)
    started_on: date | None = None
    prescriber: str | None = Field(default=None, max_length=actions.PRESCRIBER_MAX)


class MedicinePatch(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"dose": "50 mg once a day", "stopped_on": None}]}
    )

    dose: str | None = Field(default=None, max_length=actions.DOSE_MAX)
    started_on: date | None = None
    stopped_on: date | None = None
    prescriber: str | None = Field(default=None, max_length=actions.PRESCRIBER_MAX)


class LiverTestIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"done_on": "2026-02-27"}]})

    done_on: date


class ChangeOut(BaseModel):
    version: int
    kind: str
    changed_by: str
    changed_as: str
    changed_at: datetime
    snapshot: dict[str, Any]


def _out(view: actions.EntryView) -> MedicineOut:
    e = view.entry
    s = view.liver_status
    return MedicineOut(
        id=e.id,
        name=e.name,
        catalogue_id=view.medicine.id if view.medicine else None,
        dose=e.dose,
        started_on=e.started_on,
        stopped_on=e.stopped_on,
        prescriber=e.prescriber,
        entered_by=e.entered_by.display_name,
        entered_at=e.entered_at,
        version=e.version,
        withdrawn=bool(view.medicine and view.medicine.withdrawn),
        liver_tests=list(view.liver_tests),
        liver_test_status=LiverTestStatusOut(state=s.state, due_on=s.due_on, last_done=s.last_done) if s else None,
    )


@router.get("/medicines", response_model=list[CatalogueOut], responses=ErrorResponses)
def catalogue(user: ApiUser) -> list[CatalogueOut]:
    """The medicines catalogue: ALS medicines and symptom medicines, each with its source and status."""
    return [
        CatalogueOut(
            id=m.id,
            name=m.name,
            groups=list(m.groups),
            status=m.status,
            source=m.source,
            leaflet=m.leaflet,
            unconfirmed=m.unconfirmed,
        )
        for m in core.CATALOGUE
    ]


@router.get("/patients/{patient_id}/medicines", response_model=list[MedicineOut], responses=ErrorResponses)
def list_medicines(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[MedicineOut]:
    """The medicine list, current first, then stopped."""
    view = actions.medicine_list(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return [_out(v) for v in (*view.current, *view.stopped)]


@router.post("/patients/{patient_id}/medicines", response_model=MedicineOut, status_code=201, responses=ErrorResponses)
def add_medicine(request: Request, patient_id: PatientId, body: MedicineIn, user: ApiUser, db: Db) -> MedicineOut:
    now = request.app.state.ctx.clock()
    entry = actions.add_medicine(
        db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request), **body.model_dump()
    )
    db.commit()
    return _entry_out(db, user, patient_id, entry.id, now, client_ip(request))


def _entry_out(db: Db, user: Any, patient_id: int, entry_id: int, now: datetime, ip: str | None) -> MedicineOut:
    history = actions.medicine_history(db, actor=user, patient_id=patient_id, entry_id=entry_id, now=now, source_ip=ip)
    db.commit()
    return _out(history.view)


@router.patch("/patients/{patient_id}/medicines/{entry_id}", response_model=MedicineOut, responses=ErrorResponses)
def change_medicine(
    request: Request, patient_id: PatientId, entry_id: EntryId, body: MedicinePatch, user: ApiUser, db: Db
) -> MedicineOut:
    """Change fields given in the body (others stay as they are); a stop date stops the medicine."""
    now = request.app.state.ctx.clock()
    actions.change_medicine(
        db,
        actor=user,
        patient_id=patient_id,
        entry_id=entry_id,
        now=now,
        source_ip=client_ip(request),
        **body.model_dump(exclude_unset=True),
    )
    db.commit()
    return _entry_out(db, user, patient_id, entry_id, now, client_ip(request))


@router.post(
    "/patients/{patient_id}/medicines/{entry_id}/liver-tests",
    response_model=MedicineOut,
    status_code=201,
    responses=ErrorResponses,
)
def liver_test_done(
    request: Request, patient_id: PatientId, entry_id: EntryId, body: LiverTestIn, user: ApiUser, db: Db
) -> MedicineOut:
    """Mark a liver test (ALT) done on a date, for a medicine that needs them (riluzole)."""
    now = request.app.state.ctx.clock()
    actions.record_liver_test(
        db,
        actor=user,
        patient_id=patient_id,
        entry_id=entry_id,
        done_on=body.done_on,
        now=now,
        source_ip=client_ip(request),
    )
    db.commit()
    return _entry_out(db, user, patient_id, entry_id, now, client_ip(request))


@router.get(
    "/patients/{patient_id}/medicines/{entry_id}/history", response_model=list[ChangeOut], responses=ErrorResponses
)
def medicine_history(
    request: Request, patient_id: PatientId, entry_id: EntryId, user: ApiUser, db: Db
) -> list[ChangeOut]:
    """Every change to one medicine entry, oldest first (the log is append-only)."""
    history = actions.medicine_history(
        db,
        actor=user,
        patient_id=patient_id,
        entry_id=entry_id,
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
    )
    db.commit()
    return [
        ChangeOut(
            version=c.version,
            kind=c.kind,
            changed_by=c.changed_by.display_name,
            changed_as=c.changed_as,
            changed_at=c.changed_at,
            snapshot=c.snapshot,
        )
        for c in history.changes
    ]

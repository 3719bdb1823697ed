"""Care wishes in the JSON API (``/api/v1``): read the current wishes and every version; write a new version;
note that a version was discussed. Reads need the ``care_wishes`` scope; writes are for the person and their
proxy only. Answers are ``{section: {field: value}}`` with the ids of ``alscare.clinical.care_wishes``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from alscare.actions import care_wishes as actions
from alscare.clinical import care_wishes as core
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["care wishes"], dependencies=[Depends(api_csrf)])

ErrorResponses: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read (not UTF-8 text)"},
    401: {"description": "Not signed in"},
    403: {"description": "Missing or wrong CSRF token, or not allowed"},
    404: {"description": "No such record or version, or not shared with you"},
    422: {"description": "Invalid input; `loc` names the field"},
}
PatientId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Number = Annotated[int, Field(ge=1, le=2**31 - 1)]
AnswerValue = str | list[str]


class DiscussionOut(BaseModel):
    discussed_on: date
    with_kind: str
    with_name: str | None
    recorded_by: str


class VersionOut(BaseModel):
    number: int
    saved_at: datetime
    author: str = Field(description="Who wrote this version.")
    capacity: Literal["self", "proxy"] = Field(description="Written by the person (self) or for them by a proxy.")
    answers: dict[str, dict[str, AnswerValue]]
    discussions: list[DiscussionOut]


class CurrentOut(BaseModel):
    patient_id: int
    latest: VersionOut | None = Field(description="null when no care wishes are written down yet.")
    versions: int


class VersionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answers": {
                        "breathing": {"niv": "yes", "invasive_ventilation": "no"},
                        "resuscitation": {"cpr": "undecided"},
                        "communication": {"methods": ["speech", "letter_board"]},
                    },
                    "client_id": "3f1c2b4a-9d8e-4f7a-8b6c-5d4e3f2a1b0c",
                }
            ]
        },
    )

    answers: dict[str, dict[str, AnswerValue]] = Field(max_length=20)
    client_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{32,36}$",
        description="The client's own id (a UUID): a retried save with the same id is stored once.",
    )


class SaveOut(BaseModel):
    created: bool = Field(description="False when nothing had changed, or the same client_id was sent again.")
    version: VersionOut


class DiscussionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"discussed_on": "2026-02-20", "with_kind": "clinician", "with_name": "Dr Lee"}]
        },
    )

    discussed_on: date
    with_kind: Literal["family", "clinician"]
    with_name: str | None = Field(default=None, max_length=actions.NAME_MAX)


def _version_out(v: actions.Version) -> VersionOut:
    return VersionOut(
        number=v.number,
        saved_at=v.saved_at,
        author=v.author_name,
        capacity="proxy" if v.capacity == "proxy" else "self",
        answers=core.to_stored(v.answers),
        discussions=[
            DiscussionOut(
                discussed_on=d.discussed_on, with_kind=d.with_kind, with_name=d.with_name, recorded_by=d.recorded_by
            )
            for d in v.discussions
        ],
    )


def _read(request: Request, patient_id: int, user: ApiUser, db: Db) -> actions.CareWishes:
    wishes = actions.care_wishes_of(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return wishes


@router.get("/patients/{patient_id}/care-wishes", response_model=CurrentOut, responses=ErrorResponses)
def current(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> CurrentOut:
    """The latest version of the care wishes (null when none yet)."""
    wishes = _read(request, patient_id, user, db)
    latest = wishes.latest
    return CurrentOut(
        patient_id=patient_id, latest=_version_out(latest) if latest else None, versions=len(wishes.versions)
    )


@router.get("/patients/{patient_id}/care-wishes/versions", response_model=list[VersionOut], responses=ErrorResponses)
def versions(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[VersionOut]:
    """Every version, oldest first. Old versions never change."""
    return [_version_out(v) for v in _read(request, patient_id, user, db).versions]


@router.get("/patients/{patient_id}/care-wishes/versions/{n}", response_model=VersionOut, responses=ErrorResponses)
def one_version(request: Request, patient_id: PatientId, n: Number, user: ApiUser, db: Db) -> VersionOut:
    return _version_out(_read(request, patient_id, user, db).version(n))


@router.post(
    "/patients/{patient_id}/care-wishes/versions", response_model=SaveOut, status_code=201, responses=ErrorResponses
)
def save(request: Request, patient_id: PatientId, body: VersionIn, user: ApiUser, db: Db) -> SaveOut:
    """Save a new version: the whole set of answers (sections left out are empty in the new version)."""
    outcome = actions.save_care_wishes(
        db,
        actor=user,
        patient_id=patient_id,
        answers=body.answers,
        now=request.app.state.ctx.clock(),
        client_id=body.client_id,
        source_ip=client_ip(request),
    )
    db.commit()
    return SaveOut(created=outcome.created, version=_version_out(outcome.version))


@router.post(
    "/patients/{patient_id}/care-wishes/versions/{n}/discussions",
    response_model=DiscussionOut,
    status_code=201,
    responses=ErrorResponses,
)
def discussed(
    request: Request, patient_id: PatientId, n: Number, body: DiscussionIn, user: ApiUser, db: Db
) -> DiscussionOut:
    """Note that version ``n`` was talked over with family or a named member of the care team."""
    d = actions.mark_discussed(
        db,
        actor=user,
        patient_id=patient_id,
        number=n,
        discussed_on=body.discussed_on,
        with_kind=body.with_kind,
        with_name=body.with_name,
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
    )
    db.commit()
    return DiscussionOut(
        discussed_on=d.discussed_on, with_kind=d.with_kind, with_name=d.with_name, recorded_by=d.recorded_by
    )

"""The JSON API, version 1. Cookie session + ``X-CSRF-Token`` header for changes.

Each route translates: parse the body (pydantic), call one action, commit, shape the answer.
Every request model carries an OpenAPI example; the authorization test uses it to call every route.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from alscare.access import GRANTABLE_SCOPES, Action, Scope
from alscare.actions import accounts, consent, share_invitations
from alscare.actions.assessments import assessments_of, record_alsfrs_assessment
from alscare.actions.audit import record_list_view
from alscare.actions.errors import InvalidInput
from alscare.actions.paging import PAGE_SIZE, PAGE_SIZE_MAX, Page
from alscare.actions.records import access_log_of, may, may_each, open_record, visible_patients_page
from alscare.storage.models import Patient
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip, csrf_for
from alscare.web.presenters import assessment_row, record_summary

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(api_csrf)])

ScopeName = Literal[
    "checkins", "care_wishes", "medicines", "prognosis", "profile_details", "full_record", "proxy", "research"
]
assert set(ScopeName.__args__) == {s.value for s in GRANTABLE_SCOPES}  # type: ignore[attr-defined]

ErrorResponses: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read (not UTF-8 text)"},
    401: {"description": "Not signed in"},
    403: {"description": "Missing or wrong CSRF token, or not allowed"},
    404: {"description": "No such record, or not shared with you"},
    422: {"description": "Invalid input; `loc` names the field"},
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Me(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    clinic_id: int | None
    two_factor: bool
    csrf_token: str = Field(description="Send back as the X-CSRF-Token header on POST, PATCH and DELETE.")


class PatientOut(BaseModel):
    id: int
    full_name: str
    date_of_birth: date | None
    sex: str | None
    height_cm: float | None
    onset_date: date | None
    onset_region: str | None
    diagnosis_date: date | None
    emergency_number: str
    clinic_id: int | None


class PatientPatch(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"height_cm": 172}]})

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: date | None = None
    sex: Literal["female", "male", "other", "unspecified"] | None = None
    height_cm: float | None = Field(default=None, ge=50, le=250)
    onset_date: date | None = None
    onset_region: Literal["bulbar", "upper_limb", "lower_limb", "respiratory", "trunk"] | None = None
    diagnosis_date: date | None = None
    emergency_number: str | None = Field(default=None, pattern=r"^[0-9+ ]{2,20}$")


class AlsfrsIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "assessed_on": "2026-01-15",
                    "administration_mode": "self_report",
                    "items": {
                        "1": 4,
                        "2": 4,
                        "3": 3,
                        "4": 4,
                        "5a": 3,
                        "6": 4,
                        "7": 4,
                        "8": 3,
                        "9": 3,
                        "10": 4,
                        "11": 4,
                        "12": 4,
                    },
                }
            ]
        },
    )

    assessed_on: date
    administration_mode: Literal["clinician_in_person", "clinician_phone", "self_report", "caregiver"]
    # Strict: pydantic would turn true, 3.0 or "3" into a score, which the clinical core refuses on purpose.
    items: dict[str, StrictInt]
    client_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{32,36}$",
        description="The submitting client's own id (a UUID): a retried submit with the same id is stored once.",
    )


class AlsfrsOut(BaseModel):
    id: int
    assessed_on: date
    administration_mode: str
    recorded_by_id: int | None = Field(default=None, description="Who entered it (a user id).")
    entered_by: str | None = Field(default=None, description="Who entered it: name and role.")
    total: int
    domains: dict[str, int]
    kings_stage: str
    mitos_stage: int


class ProgressionOut(BaseModel):
    delta_fs: float | None
    delta_fs_band: str | None
    slope_per_month: float | None
    slope_se: float | None
    assessments: int


class GrantIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"scope": "checkins", "grantee_email": "someone@example.org"}]},
    )

    scope: ScopeName
    grantee_email: str | None = Field(default=None, max_length=254)
    grantee_clinic_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class GrantOut(BaseModel):
    id: int
    scope: str
    grantee_user_id: int | None
    grantee_clinic_id: int | None
    granted_at: datetime
    revoked_at: datetime | None


class ShareInvitationOut(BaseModel):
    """A share with a person waits for them to accept (finding 5): the same answer whether or not the email has
    an account. The link goes only to their inbox."""

    invitation_id: int
    email: str
    scopes: list[str]
    status: Literal["waiting"] = "waiting"
    expires_at: datetime


class AccessLogOut(BaseModel):
    at: datetime
    who: str
    role: str
    action: str
    resource: str


class InvitationIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "new.person@example.org", "scopes": ["checkins"]}]}
    )

    email: str = Field(max_length=254)
    scopes: list[ScopeName] = Field(default_factory=list, max_length=7)


class InvitationOut(BaseModel):
    id: int
    email: str
    role: str
    expires_at: datetime


PatientId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _patient_out(p: Patient, *, details: bool = True) -> PatientOut:
    """The profile; without ``details`` (no ``profile_details`` grant) only the header: name, emergency number,
    clinic. The detail fields are then null (decision 0004)."""
    return PatientOut(
        id=p.id,
        full_name=p.full_name,
        date_of_birth=p.date_of_birth if details else None,
        sex=p.sex if details else None,
        height_cm=p.height_cm if details else None,
        onset_date=p.onset_date if details else None,
        onset_region=p.onset_region if details else None,
        diagnosis_date=p.diagnosis_date if details else None,
        emergency_number=p.emergency_number,
        clinic_id=p.clinic_id,
    )


def _grant_out(g: Any) -> GrantOut:
    return GrantOut(
        id=g.id,
        scope=g.scope,
        grantee_user_id=g.grantee_user_id,
        grantee_clinic_id=g.grantee_clinic_id,
        granted_at=g.granted_at,
        revoked_at=g.revoked_at,
    )


@router.get("/me", response_model=Me, responses=ErrorResponses)
def me(request: Request, user: ApiUser) -> Me:
    return Me(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        clinic_id=user.clinic_id,
        two_factor=user.totp_enabled,
        csrf_token=csrf_for(request),
    )


# --- Paged lists: ?page and ?limit in, X-Total-Count and an RFC 8288 Link header out --------------------------

PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="Which page, from 1.")]
PageLimit = Annotated[
    int, Query(ge=1, le=PAGE_SIZE_MAX, description=f"Items per page, 1 to {PAGE_SIZE_MAX} (default {PAGE_SIZE}).")
]
PagedResponses: dict[int | str, dict[str, Any]] = {
    **ErrorResponses,
    200: {
        "description": "One page of the list",
        "headers": {
            "X-Total-Count": {"description": "How many items there are over all pages.", "schema": {"type": "integer"}},
            "Link": {
                "description": 'RFC 8288 links to the other pages: rel="first", "prev", "next" and "last".',
                "schema": {"type": "string"},
            },
        },
    },
}


def paged(request: Request, response: Response, found: Page[Any]) -> None:
    """Say the total and link the first, previous, next and last pages (RFC 8288), keeping the other params."""
    limit = found.page_size

    def url(n: int) -> str:
        return str(request.url.include_query_params(page=n, limit=limit))

    links = [(url(1), "first")]
    if found.page > 1:
        links.append((url(min(found.page - 1, found.pages)), "prev"))
    if found.page < found.pages:
        links.append((url(found.page + 1), "next"))
    links.append((url(found.pages), "last"))
    response.headers["X-Total-Count"] = str(found.total)
    response.headers["Link"] = ", ".join(f'<{u}>; rel="{rel}"' for u, rel in links)


@router.get("/patients", response_model=list[PatientOut], responses=PagedResponses)
def list_patients(
    request: Request, response: Response, user: ApiUser, db: Db, page: PageNumber = 1, limit: PageLimit = PAGE_SIZE
) -> list[PatientOut]:
    """Records you can open: your own and those shared with you or your clinic, by name, one page at a time.
    Audited: one row per call, naming the records listed."""
    found = visible_patients_page(db, user=user, page=page, page_size=limit)
    patients = found.items
    record_list_view(
        db,
        now=request.app.state.ctx.clock(),
        actor_user_id=user.id,
        resource="patient_list",
        patient_ids=[p.id for p in patients],
        source_ip=client_ip(request),
    )
    detailed = may_each(db, user=user, patients=patients, scope=Scope.PROFILE_DETAILS)
    out = [_patient_out(p, details=p.id in detailed) for p in patients]
    db.commit()
    paged(request, response, found)
    return out


@router.get("/patients/{patient_id}", response_model=PatientOut, responses=ErrorResponses)
def get_patient(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> PatientOut:
    p = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.PROFILE,
        action=Action.READ,
        now=request.app.state.ctx.clock(),
        resource="profile",
        source_ip=client_ip(request),
    )
    details = may(db, user=user, patient=p, scope=Scope.PROFILE_DETAILS)
    db.commit()
    return _patient_out(p, details=details)


@router.patch("/patients/{patient_id}", response_model=PatientOut, responses=ErrorResponses)
def patch_patient(request: Request, patient_id: PatientId, body: PatientPatch, user: ApiUser, db: Db) -> PatientOut:
    """Change the profile. Only the person or their proxy may."""
    now = request.app.state.ctx.clock()
    p = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource="profile",
        source_ip=client_ip(request),
    )
    changes = body.model_dump(exclude_unset=True)
    current = {f: getattr(p, f) for f in accounts.PatientProfile.__dataclass_fields__}
    merged = accounts.PatientProfile(
        **{**current, **{k: v for k, v in changes.items() if v is not None or k != "full_name"}}
    )
    accounts.validate_profile(merged, today=now.date())
    for k, v in merged.__dict__.items():
        setattr(p, k, v if k != "emergency_number" or v else p.emergency_number)
    db.commit()
    return _patient_out(p)


@router.get("/patients/{patient_id}/alsfrs-r", response_model=list[AlsfrsOut], responses=ErrorResponses)
def list_alsfrs(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[AlsfrsOut]:
    rows = assessments_of(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    out = []
    for r in rows:
        row = assessment_row(r)
        out.append(
            AlsfrsOut(
                id=r.id,
                assessed_on=r.assessed_on,
                administration_mode=r.administration_mode,
                recorded_by_id=r.recorded_by_id,
                entered_by=row.entered_by,
                total=row.total,
                domains=row.domains,
                kings_stage=row.kings_stage,
                mitos_stage=row.mitos_stage,
            )
        )
    return out


@router.post("/patients/{patient_id}/alsfrs-r", response_model=AlsfrsOut, status_code=201, responses=ErrorResponses)
def add_alsfrs(request: Request, patient_id: PatientId, body: AlsfrsIn, user: ApiUser, db: Db) -> AlsfrsOut:
    r = record_alsfrs_assessment(
        db,
        actor=user,
        patient_id=patient_id,
        answers=body.items,
        assessed_on=body.assessed_on,
        administration_mode=body.administration_mode,
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
        client_id=body.client_id,
        base_url=request.app.state.ctx.settings.base_url,
    )
    db.commit()
    row = assessment_row(r)
    return AlsfrsOut(
        id=r.id,
        assessed_on=r.assessed_on,
        administration_mode=r.administration_mode,
        recorded_by_id=r.recorded_by_id,
        entered_by=row.entered_by,
        total=row.total,
        domains=row.domains,
        kings_stage=row.kings_stage,
        mitos_stage=row.mitos_stage,
    )


@router.get("/patients/{patient_id}/progression", response_model=ProgressionOut, responses=ErrorResponses)
def progression(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> ProgressionOut:
    now = request.app.state.ctx.clock()
    rows = assessments_of(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    patient = db.get(Patient, patient_id)
    db.commit()
    assert patient is not None
    s = record_summary(patient, rows, today=now.date()).progression
    return ProgressionOut(
        delta_fs=s.delta_fs if s else None,
        delta_fs_band=s.delta_fs_band.value if s else None,
        slope_per_month=s.slope_per_month if s else None,
        slope_se=s.slope_se if s else None,
        assessments=len(rows),
    )


@router.get("/patients/{patient_id}/grants", response_model=list[GrantOut], responses=ErrorResponses)
def list_grants(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[GrantOut]:
    open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.READ,
        now=request.app.state.ctx.clock(),
        resource="sharing",
        source_ip=client_ip(request),
    )
    grants = consent.grants_of(db, patient_id=patient_id)
    db.commit()
    return [_grant_out(g) for g in grants]


@router.post(
    "/patients/{patient_id}/grants",
    response_model=GrantOut | ShareInvitationOut,
    status_code=201,
    responses={**ErrorResponses, 202: {"model": ShareInvitationOut, "description": "Invitation sent; not shared yet."}},
)
def add_grant(
    request: Request, response: Response, patient_id: PatientId, body: GrantIn, user: ApiUser, db: Db
) -> GrantOut | ShareInvitationOut:
    """Share with a clinic at once (201), or invite a person by email (202): they see the record only once they
    accept from the link emailed to them, and the answer is the same whether or not the email has an account."""
    ctx = request.app.state.ctx
    if body.grantee_email is not None and body.grantee_clinic_id is None:
        inv, token = share_invitations.invite_to_share(
            db,
            actor=user,
            patient_id=patient_id,
            email=body.grantee_email,
            scopes=[body.scope],
            now=ctx.clock(),
            source_ip=client_ip(request),
        )
        mail = share_invitations.share_mail(inv, token=token, base_url=ctx.settings.base_url)
        db.commit()
        ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
        response.status_code = 202
        return ShareInvitationOut(invitation_id=inv.id, email=inv.email, scopes=inv.scopes, expires_at=inv.expires_at)
    if body.grantee_email is not None:
        raise InvalidInput("grantee_email", "Give either a person's email or a clinic, not both.")
    if body.grantee_clinic_id is None:
        raise InvalidInput("grantee_email", "Give either a person's email or a clinic.")
    g = consent.grant_access(
        db,
        actor=user,
        patient_id=patient_id,
        scope=body.scope,
        now=ctx.clock(),
        grantee_clinic_id=body.grantee_clinic_id,
        source_ip=client_ip(request),
    )
    db.commit()
    return _grant_out(g)


@router.get("/patients/{patient_id}/invitations", response_model=list[ShareInvitationOut], responses=ErrorResponses)
def list_share_invitations(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[ShareInvitationOut]:
    """Invitations to see this record that wait for the invitee to accept, newest first (the sharing page's list).
    Only those who manage the record's sharing (the person and their proxy) may see them; withdraw one with
    ``DELETE /api/v1/invitations/{id}``."""
    now = request.app.state.ctx.clock()
    open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.READ,
        now=now,
        resource="sharing",
        source_ip=client_ip(request),
    )
    pending = accounts.pending_invitations(db, patient_id=patient_id, now=now)
    db.commit()
    return [
        ShareInvitationOut(invitation_id=i.id, email=i.email, scopes=i.scopes, expires_at=i.expires_at) for i in pending
    ]


@router.delete("/patients/{patient_id}/grants/{grant_id}", status_code=204, responses=ErrorResponses)
def delete_grant(request: Request, patient_id: PatientId, grant_id: PatientId, user: ApiUser, db: Db) -> Response:
    """Revoke a grant; it stops at once and stays in the history."""
    consent.revoke_access(
        db,
        actor=user,
        patient_id=patient_id,
        grant_id=grant_id,
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
    )
    db.commit()
    return Response(status_code=204)


@router.get("/patients/{patient_id}/access-log", response_model=list[AccessLogOut], responses=ErrorResponses)
def get_access_log(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[AccessLogOut]:
    """Who read or changed the record. Only the person and their proxy may see it."""
    _, entries = access_log_of(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return [AccessLogOut(at=e.at, who=e.who, role=e.role, action=e.action, resource=e.resource) for e in entries]


@router.post("/invitations", response_model=InvitationOut, status_code=201, responses=ErrorResponses)
def invite(request: Request, body: InvitationIn, user: ApiUser, db: Db) -> InvitationOut:
    """Invite someone by email. The link goes only to their inbox, never into this reply."""
    ctx = request.app.state.ctx
    inv, token = accounts.create_invitation(
        db,
        inviter=user,
        email=body.email,
        now=ctx.clock(),
        scopes=list(body.scopes),
        source_ip=client_ip(request),
    )
    mail = accounts.invitation_mail(db, invitation=inv, token=token, base_url=ctx.settings.base_url)
    db.commit()
    ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
    return InvitationOut(id=inv.id, email=inv.email, role=inv.role, expires_at=inv.expires_at)


@router.delete("/invitations/{invitation_id}", status_code=204, responses=ErrorResponses)
def cancel_invitation(request: Request, invitation_id: PatientId, user: ApiUser, db: Db) -> Response:
    """Withdraw a pending invitation (one you sent, or one to see a record whose sharing you manage): its link
    stops working at once. Anyone else gets 404; one already accepted or expired is left as it is."""
    accounts.cancel_invitation(db, actor=user, invitation_id=invitation_id, now=request.app.state.ctx.clock())
    db.commit()
    return Response(status_code=204)

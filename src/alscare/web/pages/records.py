"""Home, a person's record summary, sharing (grant and revoke), who viewed the record, invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from alscare.access import GRANTABLE_SCOPES, SCOPE_LABELS, Action, Scope
from alscare.actions import accounts, consent
from alscare.actions.assessments import assessments_of
from alscare.actions.errors import InvalidInput
from alscare.actions.records import access_log_of, may, open_record, own_patient, visible_patients
from alscare.storage.models import Clinic, Invitation, User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import choices, read_form, text
from alscare.web.presenters import record_summary
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

SCOPE_OPTIONS = [(s.value, SCOPE_LABELS[s]) for s in GRANTABLE_SCOPES]


@router.get("/home")
def home(request: Request, user: PageUser, db: Db) -> Response:
    if user.role == "clinician" and user.clinic_id is not None:
        # Clinic staff's home is the dashboard (paged, one query), not a card per person.
        return RedirectResponse("/clinic", status_code=303)
    patients = visible_patients(db, user=user)
    staff: list[User] = []
    if user.role == "admin" and user.clinic_id is not None:
        staff = list(
            db.execute(select(User).where(User.clinic_id == user.clinic_id).order_by(User.display_name)).scalars()
        )
    return render(
        request,
        "home.html",
        title="Home",
        user=user,
        db=db,
        active="home",
        own=own_patient(db, user=user),
        patients=patients,
        staff=staff,
        welcome=request.query_params.get("welcome") == "1",
    )


@router.get("/patients/{patient_id}")
def record(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    ctx = request.app.state.ctx
    now = ctx.clock()
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.PROFILE,
        action=Action.READ,
        now=now,
        resource="profile",
        source_ip=client_ip(request),
    )
    rows = None
    if may(db, user=user, patient=patient, scope=Scope.CHECKINS):
        rows = assessments_of(db, actor=user, patient_id=patient_id, now=now, source_ip=client_ip(request))
    can_share = may(db, user=user, patient=patient, scope=Scope.SHARING, action=Action.WRITE)
    db.commit()
    return render(
        request,
        "record.html",
        title=f"Record of {patient.full_name}",
        user=user,
        db=db,
        patient=patient,
        summary=record_summary(patient, rows, today=now.date()),
        can_share=can_share,
        emergency_number=patient.emergency_number,
    )


def _sharing_page(
    request: Request,
    db: Db,
    user: User,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    now = request.app.state.ctx.clock()
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.READ,
        now=now,
        resource="sharing",
        source_ip=client_ip(request),
    )
    grants = consent.grants_of(db, patient_id=patient_id)
    clinics = list(db.execute(select(Clinic).order_by(Clinic.name)).scalars())
    db.commit()
    return render(
        request,
        "sharing.html",
        title="Who can see your record",
        user=user,
        db=db,
        patient=patient,
        grants=grants,
        clinics=clinics,
        scope_options=SCOPE_OPTIONS,
        scope_labels=SCOPE_LABELS,
        errors=errors,
        notice=notice,
        values=values or {},
        emergency_number=patient.emergency_number,
    )


@router.get("/patients/{patient_id}/sharing")
def sharing(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    return _sharing_page(request, db, user, patient_id)


@router.post("/patients/{patient_id}/sharing")
async def grant(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    values = {"grantee": text(form, "grantee"), "grantee_email": text(form, "grantee_email", max_length=254)}
    scopes = choices(form, "scope")
    try:
        if not scopes:
            raise InvalidInput("scope", "Choose at least one part of your record to share.")
        grantee = values["grantee"]
        email = values["grantee_email"] if grantee == "person" else None
        clinic_id: int | None = None
        if grantee == "person" and not email:
            raise InvalidInput("grantee_email", "Enter the email address of the person's alscare account.")
        if grantee.startswith("clinic:"):
            try:
                clinic_id = int(grantee.removeprefix("clinic:"))
            except ValueError:
                raise InvalidInput("grantee", "Choose who to share with.") from None
        elif grantee != "person":
            raise InvalidInput("grantee", "Choose who to share with.")
        for scope in scopes:
            consent.grant_access(
                db,
                actor=user,
                patient_id=patient_id,
                scope=scope,
                now=request.app.state.ctx.clock(),
                grantee_email=email,
                grantee_clinic_id=clinic_id,
                source_ip=client_ip(request),
            )
    except InvalidInput as e:
        db.rollback()
        return _sharing_page(request, db, user, patient_id, errors={e.field: e.message}, values=values)
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/sharing?done=granted", status_code=303)


@router.post("/patients/{patient_id}/sharing/{grant_id}/revoke")
async def revoke(request: Request, patient_id: int, grant_id: int, user: PageUser, db: Db) -> Response:
    await read_form(request)
    consent.revoke_access(
        db,
        actor=user,
        patient_id=patient_id,
        grant_id=grant_id,
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
    )
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/sharing?done=revoked", status_code=303)


@router.get("/patients/{patient_id}/access-log")
def who_viewed(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    patient, entries = access_log_of(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return render(
        request,
        "access_log.html",
        title="Who has looked at your record",
        user=user,
        db=db,
        patient=patient,
        entries=entries,
        emergency_number=patient.emergency_number,
    )


def _invitations_page(
    request: Request,
    db: Db,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    link: str | None = None,
    values: dict[str, str] | None = None,
    checked: list[str] | None = None,
) -> Response:
    sent = list(
        db.execute(
            select(Invitation).where(Invitation.invited_by_id == user.id).order_by(Invitation.id.desc())
        ).scalars()
    )
    return render(
        request,
        "invitations.html",
        title="Invite someone",
        user=user,
        db=db,
        active="invitations",
        invite_role=accounts.INVITES.get(user.role),
        sent=sent,
        errors=errors,
        link=link,
        values=values or {},
        checked=checked or [],
        scope_options=SCOPE_OPTIONS,
        scope_labels=SCOPE_LABELS,
    )


@router.get("/invitations")
def invitations(request: Request, user: PageUser, db: Db) -> Response:
    return _invitations_page(request, db, user)


@router.post("/invitations")
async def invite(request: Request, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    ctx = request.app.state.ctx
    email = text(form, "email", max_length=254)
    scopes = choices(form, "scopes")
    try:
        invitation, token = accounts.create_invitation(db, inviter=user, email=email, now=ctx.clock(), scopes=scopes)
    except InvalidInput as e:
        db.rollback()
        return _invitations_page(
            request, db, user, errors={e.field: e.message}, values={"email": email}, checked=scopes
        )
    db.commit()
    link = f"{ctx.settings.base_url}/invite/{token}"
    subject, body = accounts.invitation_email(link)
    ctx.mailer.send(to=invitation.email, subject=subject, body=body)
    return _invitations_page(request, db, user, link=link)

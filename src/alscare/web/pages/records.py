"""Home, a person's record summary, sharing (grant and revoke), who viewed the record, invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from alscare.access import GRANTABLE_SCOPES, HEADER_SHOWS, SCOPE_LABELS, SCOPE_SHOWS, Action, Scope
from alscare.actions import accounts, consent, share_invitations
from alscare.actions.aids import inputs_for
from alscare.actions.assessments import assessments_of
from alscare.actions.audit import record_list_view
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import access_log_of, may, open_record, own_patient, visible_patients
from alscare.clinical.aids import suggest_aids
from alscare.storage.models import Clinic, ConsentGrant, Invitation, Patient, User
from alscare.web import access_log_view
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.pages.forms import choices, read_form, text
from alscare.web.presenters import record_summary
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

CANCELLED = "Invitation cancelled. Its link no longer works."
SCOPE_OPTIONS = [(s.value, SCOPE_LABELS[s]) for s in GRANTABLE_SCOPES]


@router.get("/home")
def home(request: Request, user: PageUser, db: Db) -> Response:
    if user.role == "clinician" and user.clinic_id is not None:
        # Clinic staff's home is the dashboard (paged, one query), not a card per person.
        return RedirectResponse("/clinic", status_code=303)
    patients = visible_patients(db, user=user)
    # The list shows names: one audit row per page view, naming the records shown (issue 14, finding 6).
    record_list_view(
        db,
        now=request.app.state.ctx.clock(),
        actor_user_id=user.id,
        resource="home_list",
        patient_ids=[p.id for p in patients],
        source_ip=client_ip(request),
    )
    db.commit()
    staff: list[User] = []
    if user.role == "admin" and user.clinic_id is not None:
        staff = list(
            db.execute(
                select(User)
                .where(User.clinic_id == user.clinic_id, User.is_service.is_(False))
                .order_by(User.display_name)
            ).scalars()
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
        accepted=request.query_params.get("accepted") == "1",
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
    # For clinicians, the aids worth discussing (issue 10): read under check-ins, already audited just above.
    aid_suggestions = (
        suggest_aids(inputs_for(db, patient_id=patient_id)) if rows is not None and user.role == "clinician" else ()
    )
    can_share = may(db, user=user, patient=patient, scope=Scope.SHARING, action=Action.WRITE)
    # The header (name, emergency number, clinic) is for anyone with a grant; the rest of the profile needs
    # its own scope (decision 0004).
    details = may(db, user=user, patient=patient, scope=Scope.PROFILE_DETAILS)
    tabs = {"medicines": may(db, user=user, patient=patient, scope=Scope.MEDICINES)}
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
        aid_suggestions=aid_suggestions,
        details=details,
        tabs=tabs,
        tab="summary",
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
    pending = accounts.pending_invitations(db, patient_id=patient_id, now=now)
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
        scope_shows=SCOPE_SHOWS,
        header_shows=HEADER_SHOWS,
        pending=pending,
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
            raise InvalidInput("grantee_email", "Enter the email address of the person.")
        if grantee.startswith("clinic:"):
            try:
                clinic_id = int(grantee.removeprefix("clinic:"))
            except ValueError:
                raise InvalidInput("grantee", "Choose who to share with.") from None
        elif grantee != "person":
            raise InvalidInput("grantee", "Choose who to share with.")
        ctx = request.app.state.ctx
        if email is not None:
            # A person: always an invitation they accept, whether or not the email has an account (finding 5).
            invitation, token = share_invitations.invite_to_share(
                db,
                actor=user,
                patient_id=patient_id,
                email=email,
                scopes=scopes,
                now=ctx.clock(),
                source_ip=client_ip(request),
            )
            mail = share_invitations.share_mail(invitation, token=token, base_url=ctx.settings.base_url)
            db.commit()
            # The link travels only by email: shown here, the sharer could accept it themselves.
            ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
            return RedirectResponse(f"/patients/{patient_id}/sharing?done=invited", status_code=303)
        for scope in scopes:
            consent.grant_access(
                db,
                actor=user,
                patient_id=patient_id,
                scope=scope,
                now=ctx.clock(),
                grantee_clinic_id=clinic_id,
                source_ip=client_ip(request),
            )
    except InvalidInput as e:
        db.rollback()
        return _sharing_page(request, db, user, patient_id, errors={e.field: e.message}, values=values)
    db.commit()
    return RedirectResponse(f"/patients/{patient_id}/sharing?done=granted", status_code=303)


def _grant_of(db: Db, patient_id: int, grant_id: int) -> ConsentGrant:
    grant = db.get(ConsentGrant, grant_id)
    if grant is None or grant.patient_id != patient_id:
        raise NotFound("No such sharing arrangement.")
    return grant


@router.get("/patients/{patient_id}/sharing/{grant_id}/revoke")
def confirm_revoke(request: Request, patient_id: int, grant_id: int, user: PageUser, db: Db) -> Response:
    """Ask before stopping sharing with a clinic, saying what will stop (works without JavaScript)."""
    patient = open_record(
        db,
        user=user,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.READ,
        now=request.app.state.ctx.clock(),
        resource="sharing",
        source_ip=client_ip(request),
    )
    grant = _grant_of(db, patient_id, grant_id)
    stops = consent.revoke_consequences(db, grant=grant)
    db.commit()
    return render(
        request,
        "sharing_confirm.html",
        title="Stop sharing?",
        user=user,
        db=db,
        patient=patient,
        grant=grant,
        stops=stops,
        scope_labels=SCOPE_LABELS,
        emergency_number=patient.emergency_number,
    )


@router.post("/patients/{patient_id}/sharing/{grant_id}/revoke")
async def revoke(request: Request, patient_id: int, grant_id: int, user: PageUser, db: Db) -> Response:
    """Stop a grant. Stopping sharing with a clinic needs the confirmation page's ``confirm=yes``; without it
    the browser is sent to that page, so nothing stops by accident."""
    form = await read_form(request)
    grant = db.get(ConsentGrant, grant_id)
    to_clinic = grant is not None and grant.patient_id == patient_id and grant.grantee_clinic_id is not None
    unconfirmed = form.get("confirm") != "yes" and grant is not None and grant.revoked_at is None
    if to_clinic and unconfirmed and may_share(db, user, patient_id):
        return RedirectResponse(f"/patients/{patient_id}/sharing/{grant_id}/revoke", status_code=303)
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


def may_share(db: Db, user: User, patient_id: int) -> bool:
    """Whether ``user`` manages this record's sharing (asked without auditing; ``revoke_access`` audits)."""
    patient = db.get(Patient, patient_id)
    return patient is not None and may(db, user=user, patient=patient, scope=Scope.SHARING, action=Action.WRITE)


@router.post("/invitations/{invitation_id}/cancel")
async def cancel_invitation(request: Request, invitation_id: int, user: PageUser, db: Db) -> Response:
    form = await read_form(request)
    invitation = accounts.cancel_invitation(
        db, actor=user, invitation_id=invitation_id, now=request.app.state.ctx.clock()
    )
    db.commit()
    back = form.get("back")
    if back == "sharing" and invitation.patient_id is not None:
        return RedirectResponse(f"/patients/{invitation.patient_id}/sharing?done=cancelled", status_code=303)
    return RedirectResponse("/invitations?done=cancelled", status_code=303)


@router.get("/patients/{patient_id}/access-log")
def who_viewed(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    patient, entries = access_log_of(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    zone_name = request.app.state.ctx.settings.display_time_zone
    rows = access_log_view.access_log_rows(
        entries, viewer_id=user.id, owner_id=patient.user_id, zone=access_log_view.zone_for(zone_name)
    )
    return render(
        request,
        "access_log.html",
        title="Who has looked at your record",
        user=user,
        db=db,
        patient=patient,
        rows=rows,
        caption=access_log_view.caption(zone_name),
        browser_caption=access_log_view.browser_caption(),
        emergency_number=patient.emergency_number,
    )


def _invitations_page(
    request: Request,
    db: Db,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    sent_to: str | None = None,
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
        sent_to=sent_to,
        values=values or {},
        checked=checked or [],
        scope_options=SCOPE_OPTIONS,
        scope_labels=SCOPE_LABELS,
        state_of=lambda i: accounts.invitation_state(i, now=request.app.state.ctx.clock()),
        notice="Invitation cancelled. Its link no longer works."
        if request.query_params.get("done") == "cancelled"
        else None,
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
        invitation, token = accounts.create_invitation(
            db,
            inviter=user,
            email=email,
            now=ctx.clock(),
            scopes=scopes,
            source_ip=client_ip(request),
        )
    except InvalidInput as e:
        db.rollback()
        return _invitations_page(
            request, db, user, errors={e.field: e.message}, values={"email": email}, checked=scopes
        )
    mail = accounts.invitation_mail(db, invitation=invitation, token=token, base_url=ctx.settings.base_url)
    db.commit()
    # The link travels only by email: shown here, the inviter could accept it themselves.
    ctx.mailer.send(to=mail.to, subject=mail.subject, body=mail.body)
    return _invitations_page(request, db, user, sent_to=invitation.email)

"""Accounts: self sign-up, invitations, sign-in, two-factor, password reset.

Who may invite whom (issue 3): a clinic administrator invites clinicians to their clinic; a clinician
invites people with ALS to their clinic; a person with ALS (or their proxy) invites family members and
caregivers, choosing what each may see.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from alscare.access import GRANTABLE_SCOPES, Action, Scope
from alscare.actions.audit import record_event
from alscare.actions.consent import add_grant
from alscare.actions.errors import InvalidInput, NotFound, PermissionDenied
from alscare.actions.records import may
from alscare.security.passwords import DUMMY_HASH, check_password_policy, hash_password, verify_password
from alscare.security.tokens import new_token, token_digest
from alscare.security.totp import verify_totp
from alscare.storage.models import Invitation, PasswordReset, Patient, User, WebSession

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
ONSET_REGIONS = ("bulbar", "upper_limb", "lower_limb", "respiratory", "trunk")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Who may invite which role.
INVITES: dict[str, str] = {"admin": "clinician", "clinician": "patient", "patient": "caregiver"}


def normalise_email(raw: str, field: str = "email") -> str:
    email = raw.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(field, "Enter an email address like name@example.org.")
    return email


def check_name(raw: str, field: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidInput(field, "Enter a name.")
    if len(name) > 200:
        raise InvalidInput(field, "Use at most 200 characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        # Line breaks and invisible control characters have no place in a name, and break email headers.
        raise InvalidInput(field, "Use only letters, spaces and punctuation in the name.")
    return name


def _check_password(password: str, field: str = "password") -> str:
    problem = check_password_policy(password)
    if problem:
        raise InvalidInput(field, problem)
    return hash_password(password)


def _email_taken(db: Session, email: str) -> bool:
    return db.execute(select(func.count()).select_from(User).where(User.email == email)).scalar_one() > 0


@dataclass(frozen=True)
class PatientProfile:
    full_name: str
    date_of_birth: date | None = None
    sex: str | None = None
    height_cm: float | None = None
    onset_date: date | None = None
    onset_region: str | None = None
    diagnosis_date: date | None = None
    emergency_number: str | None = None


def validate_profile(p: PatientProfile, *, today: date) -> None:
    """Refuse impossible profile values, naming the field."""
    check_name(p.full_name, "full_name")
    if p.date_of_birth and not (date(1900, 1, 1) <= p.date_of_birth <= today):
        raise InvalidInput("date_of_birth", "Enter a date of birth in the past.")
    if p.height_cm is not None and not (50 <= p.height_cm <= 250):
        raise InvalidInput("height_cm", "Enter a height between 50 and 250 cm.")
    if p.onset_region is not None and p.onset_region not in ONSET_REGIONS:
        raise InvalidInput("onset_region", "Choose where symptoms started from the list.")
    for field in ("onset_date", "diagnosis_date"):
        value = getattr(p, field)
        if value is not None and value > today:
            raise InvalidInput(field, "This date cannot be in the future.")
        if value is not None and p.date_of_birth and value < p.date_of_birth:
            raise InvalidInput(field, "This date cannot be before the date of birth.")
    if p.onset_date and p.diagnosis_date and p.diagnosis_date < p.onset_date:
        raise InvalidInput("diagnosis_date", "The diagnosis date cannot be before symptoms started.")
    if p.emergency_number is not None and not re.fullmatch(r"[0-9+ ]{2,20}", p.emergency_number):
        raise InvalidInput("emergency_number", "Enter a phone number using digits.")
    if p.sex is not None and p.sex not in ("female", "male", "other", "unspecified"):
        raise InvalidInput("sex", "Choose one of the options.")


def sign_up_patient(
    db: Session,
    *,
    email: str,
    password: str,
    profile: PatientProfile,
    default_emergency_number: str,
    now: datetime,
) -> User:
    """An account and their own (unshared) record for a person with ALS, at once (demo, tests, CLI).

    The sign-up page does not call this directly: it confirms the email first (``actions.sign_up``).
    """
    email = normalise_email(email)
    validate_profile(profile, today=now.date())
    pw_hash = _check_password(password)
    if _email_taken(db, email):
        raise InvalidInput("email", "An account with this email already exists. Try signing in.")
    return create_patient_account(
        db,
        email=email,
        password_hash=pw_hash,
        profile=profile,
        default_emergency_number=default_emergency_number,
        now=now,
    )


def create_patient_account(
    db: Session,
    *,
    email: str,
    password_hash: str,
    profile: PatientProfile,
    default_emergency_number: str,
    now: datetime,
) -> User:
    """Store the account and record of a checked sign-up (the caller validated it and knows the email is free)."""
    user = User(
        email=email,
        display_name=profile.full_name.strip(),
        role="patient",
        password_hash=password_hash,
        created_at=now,
        totp_enabled=False,
        is_active=True,
    )
    db.add(user)
    db.flush()
    patient = _new_patient(user, profile, default_emergency_number, now, clinic_id=None)
    db.add(patient)
    db.flush()
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=patient.id,
        action="write",
        resource="profile",
        detail="signed up",
    )
    return user


def _new_patient(user: User, p: PatientProfile, default_number: str, now: datetime, clinic_id: int | None) -> Patient:
    return Patient(
        user_id=user.id,
        full_name=p.full_name.strip(),
        date_of_birth=p.date_of_birth,
        sex=p.sex,
        height_cm=p.height_cm,
        onset_date=p.onset_date,
        onset_region=p.onset_region,
        diagnosis_date=p.diagnosis_date,
        emergency_number=p.emergency_number or default_number,
        clinic_id=clinic_id,
        created_at=now,
    )


def new_invitation(
    db: Session,
    *,
    email: str,
    role: str,
    clinic_id: int | None,
    patient_id: int | None,
    scopes: list[str],
    invited_by_id: int,
    now: datetime,
) -> tuple[Invitation, str]:
    """Store an invitation (7 days) and return it with its one-time token; only the token's digest is kept.

    The one place invitations are made: by staff and family (``create_invitation``) and by sharing a record
    (``share_invitations.invite_to_share``). The token must then travel only by email.
    """
    token = new_token()
    invitation = Invitation(
        token_digest=token_digest(token),
        email=email,
        role=role,
        clinic_id=clinic_id,
        patient_id=patient_id,
        scopes=scopes,
        invited_by_id=invited_by_id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.add(invitation)
    db.flush()
    return invitation, token


def create_invitation(
    db: Session,
    *,
    inviter: User,
    email: str,
    now: datetime,
    scopes: list[str] | None = None,
    source_ip: str | None = None,
) -> tuple[Invitation, str]:
    """Create an invitation; returns it and its one-time token (only the digest is stored).

    The token must travel only by email (``invitation_mail``), never back to the inviter: an administrator who
    could accept their own clinician invitation would become a clinician (finding 1). An address that already
    has an account gets the same answer (a stored, waiting invitation), so the inviter learns nothing about who
    uses alscare; its email then says to sign in instead of carrying the link.
    """
    role = INVITES.get(inviter.role)
    if role is None:
        raise PermissionDenied("Your account cannot invite anyone.")
    email = normalise_email(email)
    patient_id = None
    chosen: list[str] = []
    if role == "caregiver":
        own = db.execute(select(Patient).where(Patient.user_id == inviter.id)).scalar_one_or_none()
        if own is None:
            raise PermissionDenied("Only a person with a record can invite family.")
        patient_id = own.id
        chosen = _check_scopes(scopes or [])
        if not chosen:
            raise InvalidInput("scopes", "Choose at least one part of your record to share.")
    elif inviter.clinic_id is None:
        raise PermissionDenied("Your account is not attached to a clinic.")
    invitation, token = new_invitation(
        db,
        email=email,
        role=role,
        clinic_id=inviter.clinic_id,
        patient_id=patient_id,
        scopes=chosen,
        invited_by_id=inviter.id,
        now=now,
    )
    record_event(
        db,
        now=now,
        actor_user_id=inviter.id,
        patient_id=patient_id,
        action="write",
        resource="invitation",
        detail=f"invited a {role}",
        source_ip=source_ip,
    )
    return invitation, token


def invitation_mail(db: Session, *, invitation: Invitation, token: str, base_url: str) -> OutgoingMail:
    """The email for a new invitation: the link, or — to an address that already has an account — a note to
    sign in (same answer to the inviter either way)."""
    email = invitation.email
    if invitation.patient_id is not None:
        # A share invitation: one email for every address, so nothing about it depends on who has an account.
        subject, body = share_invitation_email(f"{base_url}/invite/{token}")
        return OutgoingMail(to=email, subject=subject, body=body)
    if _email_taken(db, email):
        return OutgoingMail(
            to=email,
            subject="You are invited to alscare",
            body=(
                "Someone invited this email address to alscare, but it already has an alscare account.\n\n"
                f"Sign in as usual at {base_url}/signin.\n"
            ),
        )
    subject, body = invitation_email(f"{base_url}/invite/{token}")
    return OutgoingMail(to=email, subject=subject, body=body)


def _check_scopes(scopes: list[str]) -> list[str]:
    # Research use is given to a clinic, never to a person invited by email.
    valid = {s.value for s in GRANTABLE_SCOPES if s is not Scope.RESEARCH}
    for s in scopes:
        if s not in valid:
            raise InvalidInput("scopes", f"Unknown part of the record: {s!r}.")
    return sorted(set(scopes))


def find_invitation(db: Session, *, token: str, now: datetime) -> Invitation:
    """The invitation behind a link that still works, or ``NotFound``. A share invitation also stops working
    once its sender may no longer share the record."""
    inv = db.execute(select(Invitation).where(Invitation.token_digest == token_digest(token))).scalar_one_or_none()
    if inv is None or inv.accepted_at is not None or inv.cancelled_at is not None or inv.expires_at <= now:
        raise NotFound("This invitation link is not valid any more. Ask for a new one.")
    if inv.patient_id is not None and not inviter_may_still_share(db, inv):
        raise NotFound("This invitation link is not valid any more. Ask for a new one.")
    return inv


def invitation_state(inv: Invitation, *, now: datetime) -> str:
    """``accepted``, ``cancelled``, ``expired`` or ``waiting`` (pending: the link still works)."""
    if inv.accepted_at is not None:
        return "accepted"
    if inv.cancelled_at is not None:
        return "cancelled"
    if inv.expires_at <= now:
        return "expired"
    return "waiting"


def pending_invitations(db: Session, *, patient_id: int, now: datetime) -> list[Invitation]:
    """Invitations to see this person's record whose link still works, newest first (caller opened the record)."""
    rows = db.execute(
        select(Invitation).where(Invitation.patient_id == patient_id).order_by(Invitation.id.desc())
    ).scalars()
    return [i for i in rows if invitation_state(i, now=now) == "waiting"]


def cancel_invitation(db: Session, *, actor: User, invitation_id: int, now: datetime) -> Invitation:
    """Cancel a pending invitation: its link stops working at once. The person who sent it may, and so may
    the person whose record it would share (or their proxy). Anyone else is told there is no such invitation.
    Cancelling one that was accepted, cancelled or has expired changes nothing."""
    inv = db.get(Invitation, invitation_id)
    allowed = inv is not None and inv.invited_by_id == actor.id
    if inv is not None and not allowed and inv.patient_id is not None:
        patient = db.get(Patient, inv.patient_id)
        allowed = patient is not None and may(db, user=actor, patient=patient, scope=Scope.SHARING, action=Action.WRITE)
    if inv is None or not allowed:
        raise NotFound("No such invitation.")
    if invitation_state(inv, now=now) == "waiting":
        inv.cancelled_at = now
        db.flush()
        record_event(
            db,
            now=now,
            actor_user_id=actor.id,
            patient_id=inv.patient_id,
            action="write",
            resource="sharing" if inv.patient_id else "invitation",
            detail=f"cancelled invitation {inv.id}",
        )
    return inv


def accept_invitation(
    db: Session,
    *,
    token: str,
    display_name: str,
    password: str,
    now: datetime,
    default_emergency_number: str,
    profile: PatientProfile | None = None,
    share_with_clinic: list[str] | None = None,
) -> User:
    """Turn an invitation into an account. A person with ALS may choose what their clinic sees."""
    inv = find_invitation(db, token=token, now=now)
    name = check_name(display_name, "display_name")
    pw_hash = _check_password(password)
    if _email_taken(db, inv.email):
        raise InvalidInput("email", "This person already has an account.")
    user = User(
        email=inv.email,
        display_name=name,
        role=inv.role,
        password_hash=pw_hash,
        clinic_id=inv.clinic_id if inv.role in ("clinician", "admin") else None,
        created_at=now,
        totp_enabled=False,
        is_active=True,
    )
    db.add(user)
    db.flush()
    if inv.role == "patient":
        # The clinic's own emergency number, where its administrator set one (migration 0010).
        if inv.clinic is not None and inv.clinic.emergency_number:
            default_emergency_number = inv.clinic.emergency_number
        prof = profile or PatientProfile(full_name=name)
        validate_profile(prof, today=now.date())
        patient = _new_patient(user, prof, default_emergency_number, now, clinic_id=inv.clinic_id)
        db.add(patient)
        db.flush()
        for scope in _check_scopes(share_with_clinic or []):
            add_grant(
                db,
                patient_id=patient.id,
                scope=scope,
                granted_by_id=user.id,
                now=now,
                grantee_clinic_id=inv.clinic_id,
                detail=f"granted {scope} to clinic",
            )
    elif inv.role == "caregiver" and inv.patient_id is not None:
        for scope in inv.scopes:
            add_grant(
                db,
                patient_id=inv.patient_id,
                scope=scope,
                granted_by_id=inv.invited_by_id,
                now=now,
                grantee_user_id=user.id,
                detail=f"granted {scope} by invitation {inv.id}",
            )
    inv.accepted_at = now
    inv.accepted_by_id = user.id
    db.flush()
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=inv.patient_id,
        action="write",
        resource="sharing" if inv.patient_id else "invitation",
        detail=f"accepted invitation {inv.id}",
    )
    return user


def inviter_may_still_share(db: Session, invitation: Invitation) -> bool:
    """Whether the sender of a share invitation may still share the record (a proxy whose grant was taken back
    may not): an invitation carries its sender's consent only while they hold it."""
    patient = db.get(Patient, invitation.patient_id) if invitation.patient_id is not None else None
    inviter = db.get(User, invitation.invited_by_id)
    if patient is None or inviter is None or not inviter.is_active:
        return False
    return may(db, user=inviter, patient=patient, scope=Scope.SHARING, action=Action.WRITE)


@dataclass(frozen=True)
class SignInResult:
    user: User
    needs_second_factor: bool
    must_enrol_second_factor: bool


def authenticate(db: Session, *, email: str, password: str) -> SignInResult | None:
    """Check email and password. Unknown accounts spend the same time hashing as known ones."""
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None or not user.is_active or user.is_service:  # a clinic system never signs in
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return SignInResult(
        user=user,
        needs_second_factor=user.totp_enabled,
        must_enrol_second_factor=user.is_clinic_staff and not user.totp_enabled,
    )


def check_second_factor(db: Session, *, user: User, code: str, now: datetime) -> bool:
    if not user.totp_enabled or not user.totp_secret:
        return False
    step = verify_totp(user.totp_secret, code, at=now, last_used_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    db.flush()
    return True


def enable_second_factor(
    db: Session, *, user: User, secret: str, code: str, now: datetime, source_ip: str | None = None
) -> None:
    """Turn on TOTP once the person proves their app shows the right code for the new secret."""
    step = verify_totp(secret, code, at=now, last_used_step=None)
    if step is None:
        raise InvalidInput("code", "That code did not match. Check the time on your phone and try the newest code.")
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_step = step
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="two_step",
        detail="two-step sign-in enrolled",
        source_ip=source_ip,
    )
    db.flush()


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str


def request_password_reset(
    db: Session, *, email: str, now: datetime, base_url: str, source_ip: str | None = None
) -> OutgoingMail:
    """The email to send for a reset request — for a known account and an unknown email alike.

    Both branches do the same work (a fresh token and its digest, one email to the address given), so neither
    the answer nor its timing reveals who has an account. A known account gets a single-use link; issuing it
    revokes every older unused link of that account (finding 9). An unknown address is told that it has no
    account, which only its owner reads.
    """
    address = email.strip().lower()
    token = new_token()
    token_digest(token)  # the same work as the known branch, whose digest is stored
    user = db.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None or not user.is_active or user.is_service:
        return OutgoingMail(
            to=address,
            subject="Reset your alscare password",
            body=(
                "Someone asked to reset the alscare password for this email address, but no alscare account "
                "uses it.\n\nIf it was you, you may have signed up with another address. If it was not you, "
                "ignore this email.\n"
            ),
        )
    issue_reset_token(db, user=user, now=now, token=token)
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="password_reset",
        detail="reset link sent",
        source_ip=source_ip,
    )
    db.flush()
    return OutgoingMail(
        to=user.email,
        subject="Reset your alscare password",
        body=(
            "Someone asked to reset the password for this alscare account.\n\n"
            "To choose a new password, open this link within one hour:\n"
            f"{base_url}/password/reset/{token}\n\n"
            "If it was not you, ignore this email; your password stays the same.\n"
        ),
    )


def issue_reset_token(db: Session, *, user: User, now: datetime, token: str | None = None) -> str:
    """A new single-use reset token for ``user``; every older unused one stops working (finding 9)."""
    token = token or new_token()
    _revoke_resets(db, user_id=user.id, now=now)
    db.add(
        PasswordReset(
            token_digest=token_digest(token), user_id=user.id, created_at=now, expires_at=now + RESET_LIFETIME
        )
    )
    db.flush()
    return token


def _revoke_resets(db: Session, *, user_id: int, now: datetime) -> None:
    """Mark every unused reset link of the account used: only the newest (or none) may work."""
    db.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )


def reset_password(db: Session, *, token: str, new_password: str, now: datetime, source_ip: str | None = None) -> User:
    reset = db.execute(
        select(PasswordReset).where(PasswordReset.token_digest == token_digest(token)).with_for_update()
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise NotFound("This reset link is not valid any more. Ask for a new one.")
    pw_hash = _check_password(new_password)
    user = db.get(User, reset.user_id)
    if user is None:
        raise NotFound("This reset link is not valid any more. Ask for a new one.")
    user.password_hash = pw_hash
    # Using one link revokes every other link of the account too.
    _revoke_resets(db, user_id=user.id, now=now)
    # Whoever may have known the old password is signed out everywhere.
    db.execute(delete(WebSession).where(or_(WebSession.user_id == user.id, WebSession.pending_user_id == user.id)))
    record_event(
        db,
        now=now,
        actor_user_id=user.id,
        patient_id=None,
        action="write",
        resource="password_reset",
        detail="password changed by reset link",
        source_ip=source_ip,
    )
    db.flush()
    return user


def share_invitation_email(link: str) -> tuple[str, str]:
    """Subject and body of a share invitation: the same words for an address with an account and one without
    (the page behind the link tells them apart, for the mailbox's owner only). No names, as in
    ``invitation_email``."""
    return (
        "Someone wants to share an alscare record with you",
        "Someone wants to share part of their alscare record with you.\n\n"
        f"Open this link within 7 days to see who it is and to accept:\n{link}\n\n"
        "If you already use alscare, sign in with this email address when asked. If not, you can make an "
        "account from the link.\n\n"
        "If you were not expecting this, you can ignore this email. Nothing is shared until you accept.\n",
    )


def invitation_email(link: str) -> tuple[str, str]:
    """Subject and body of an invitation email.

    No names: an email saying who uses an ALS care app reveals health information to anyone else who reads the
    mailbox. The page behind the link says who sent the invitation.
    """
    return (
        "You are invited to alscare",
        "You have been invited to join alscare.\n\n"
        f"Open this link within 7 days to see who invited you and to set up your account:\n{link}\n\n"
        "If you were not expecting this, you can ignore this email.\n",
    )


__all__ = [
    "INVITES",
    "ONSET_REGIONS",
    "OutgoingMail",
    "PatientProfile",
    "Scope",
    "SignInResult",
    "accept_invitation",
    "authenticate",
    "check_second_factor",
    "create_invitation",
    "create_patient_account",
    "enable_second_factor",
    "find_invitation",
    "invitation_email",
    "invitation_mail",
    "inviter_may_still_share",
    "new_invitation",
    "request_password_reset",
    "reset_password",
    "share_invitation_email",
    "sign_up_patient",
    "validate_profile",
]

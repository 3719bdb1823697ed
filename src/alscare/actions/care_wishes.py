"""Care wishes: save a new version, read the versions, compare two, note a discussion, and the essentials
the emergency screens and the card show.

Who may do what (through ``open_record``, so every attempt is audited):
- reading is the ``care_wishes`` scope (or ``full_record``; the person and their proxy always);
- writing — a new version, or a note that a version was discussed — is for the person and their proxy only,
  as the issue says the wishes are "written by the person (or their proxy)". That is the policy's
  ``SHARING`` write (as for changing the profile), recorded on the audit trail as ``care_wishes``.

Versions never change: a save adds a row, numbered 1, 2, 3 … per person; the database refuses UPDATE and
DELETE on the versions and discussions tables (migration 0003).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.records import may, open_record
from alscare.clinical import care_wishes as core
from alscare.clinical.care_wishes import Answers, SectionChange
from alscare.storage.models import AlsfrsAssessment, ConsentGrant, Patient, User
from alscare.storage.models.care_wishes import CareWishesDiscussion, CareWishesVersion

RESOURCE: Final = "care_wishes"
WITH_KINDS: Final = ("family", "clinician")
NAME_MAX: Final = 200


@dataclass(frozen=True)
class Discussion:
    version_number: int
    discussed_on: date
    with_kind: str
    with_name: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class Version:
    """One saved version: who wrote it, for whom (``capacity``: ``self`` or ``proxy``), when, and what."""

    number: int
    saved_at: datetime
    author_name: str
    capacity: str
    answers: Answers
    discussions: tuple[Discussion, ...]


@dataclass(frozen=True)
class CareWishes:
    patient: Patient
    versions: tuple[Version, ...]  # oldest first

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> Version:
        for v in self.versions:
            if v.number == number:
                return v
        raise NotFound("No such version of the care wishes.")


@dataclass(frozen=True)
class SaveOutcome:
    version: Version
    created: bool  # False when nothing had changed, or the same form was sent twice


# --- Reading ------------------------------------------------------------------------------------------------


def _versions(db: Session, patient_id: int) -> tuple[Version, ...]:
    """All versions with their discussions: two queries, whatever the number of versions."""
    rows = db.execute(
        select(CareWishesVersion, User.display_name)
        .join(User, User.id == CareWishesVersion.author_user_id)
        .where(CareWishesVersion.patient_id == patient_id)
        .order_by(CareWishesVersion.number)
    ).all()
    talks = db.execute(
        select(CareWishesDiscussion, User.display_name)
        .join(User, User.id == CareWishesDiscussion.recorded_by_id)
        .where(CareWishesDiscussion.patient_id == patient_id)
        .order_by(CareWishesDiscussion.discussed_on, CareWishesDiscussion.id)
    ).all()
    number_of = {v.id: v.number for v, _ in rows}
    by_version: dict[int, list[Discussion]] = {}
    for d, name in talks:
        by_version.setdefault(d.version_id, []).append(
            Discussion(number_of[d.version_id], d.discussed_on, d.with_kind, d.with_name, name, d.recorded_at)
        )
    return tuple(
        Version(
            number=v.number,
            saved_at=v.saved_at,
            author_name=name,
            capacity=v.author_capacity,
            answers=core.from_stored(v.answers),
            discussions=tuple(by_version.get(v.id, ())),
        )
        for v, name in rows
    )


def care_wishes_of(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> CareWishes:
    """Every version of a person's care wishes, oldest first (an empty tuple when none are written yet)."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.CARE_WISHES,
        action=Action.READ,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    return CareWishes(patient, _versions(db, patient.id))


def compare(wishes: CareWishes, *, older: int, newer: int) -> tuple[SectionChange, ...]:
    """What changed from version ``older`` to version ``newer`` (pure, on versions already read)."""
    return core.diff(wishes.version(older).answers, wishes.version(newer).answers)


def open_for_writing(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> CareWishes:
    """Open the wishes to write a new version (the person and their proxy only); audited."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    return CareWishes(patient, _versions(db, patient.id))


# --- Writing ------------------------------------------------------------------------------------------------


def _capacity(patient: Patient, actor: User) -> str:
    return "self" if patient.user_id == actor.id else "proxy"


def save_care_wishes(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    answers: Mapping[str, object],
    now: datetime,
    client_id: str | None = None,
    source_ip: str | None = None,
) -> SaveOutcome:
    """Save the answers as a new version, unless they say exactly what the latest version says.

    With ``client_id`` (the form's own id) a retried or doubled submit returns the version already stored.
    Nothing is stored if any answer is refused (``InvalidInput`` names the field).
    """
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    if client_id is not None and not 0 < len(client_id) <= 64:
        raise InvalidInput("client_id", "The form's id must be 1 to 64 characters.")
    cleaned = core.validate(answers)
    # Lock the person's record so two saves at once number their versions one after the other.
    db.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update()).one()
    versions = _versions(db, patient.id)
    if client_id is not None:
        stored = db.execute(
            select(CareWishesVersion.number).where(
                CareWishesVersion.patient_id == patient.id, CareWishesVersion.client_id == client_id
            )
        ).scalar_one_or_none()
        if stored is not None:
            return SaveOutcome(next(v for v in versions if v.number == stored), created=False)
    if versions and versions[-1].answers == cleaned:
        return SaveOutcome(versions[-1], created=False)
    number = (versions[-1].number if versions else 0) + 1
    row = CareWishesVersion(
        patient_id=patient.id,
        number=number,
        answers=core.to_stored(cleaned),
        author_user_id=actor.id,
        author_capacity=_capacity(patient, actor),
        saved_at=now,
        client_id=client_id,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        raise InvalidInput(
            "answers", "Someone saved these care wishes at the same moment. Reload and try again."
        ) from None
    version = Version(number, now, actor.display_name, row.author_capacity, cleaned, ())
    return SaveOutcome(version, created=True)


def mark_discussed(
    db: Session,
    *,
    actor: User,
    patient_id: int,
    number: int,
    discussed_on: date | None,
    with_kind: str,
    with_name: str | None,
    now: datetime,
    source_ip: str | None = None,
) -> Discussion:
    """Note that version ``number`` was talked over with family or a named member of the care team."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource=RESOURCE,
        source_ip=source_ip,
    )
    version_id = db.execute(
        select(CareWishesVersion.id).where(
            CareWishesVersion.patient_id == patient.id, CareWishesVersion.number == number
        )
    ).scalar_one_or_none()
    if version_id is None:
        raise NotFound("No such version of the care wishes.")
    if with_kind not in WITH_KINDS:
        raise InvalidInput("with_kind", "Choose who you talked with: family or friends, or your care team.")
    name = (with_name or "").strip()
    if len(name) > NAME_MAX:
        raise InvalidInput("with_name", f"Use at most {NAME_MAX} characters.")
    if with_kind == "clinician" and not name:
        raise InvalidInput("with_name", "Give the name of the person in your care team you talked with.")
    if discussed_on is None:
        raise InvalidInput("discussed_on", "Enter the date you talked, for example 2026-03-27.")
    if discussed_on > now.date():
        raise InvalidInput("discussed_on", "The date cannot be in the future.")
    row = CareWishesDiscussion(
        patient_id=patient.id,
        version_id=version_id,
        discussed_on=discussed_on,
        with_kind=with_kind,
        with_name=name or None,
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    db.add(row)
    db.flush()
    return Discussion(number, discussed_on, with_kind, row.with_name, actor.display_name, now)


# --- For other parts of alscare -------------------------------------------------------------------------------


def discussed_on(db: Session, *, patient_id: int) -> date | None:
    """The latest date the person noted talking their care wishes over (the guideline prompts'
    ``care_wishes_discussed_on`` input). Not audited: it reads no wish, only a date, for the clinic's prompts."""
    latest: date | None = db.execute(
        select(func.max(CareWishesDiscussion.discussed_on)).where(CareWishesDiscussion.patient_id == patient_id)
    ).scalar_one_or_none()
    return latest


@dataclass(frozen=True)
class InUse:
    """Breathing support and feeding tube in use, as the latest ALSFRS-R says (item 12; 5b answered)."""

    breathing: str | None
    feeding_tube: bool | None
    as_of: date | None


NOT_KNOWN: Final = InUse(None, None, None)


def in_use(db: Session, *, actor: User, patient: Patient, now: datetime, source_ip: str | None = None) -> InUse:
    """From the latest ALSFRS-R, which is check-ins data: read (and audited) only for those who may read
    check-ins; for anyone else it is "not known" rather than a leak across scopes."""
    if not may(db, user=actor, patient=patient, scope=Scope.CHECKINS):
        return NOT_KNOWN
    open_record(
        db,
        user=actor,
        patient_id=patient.id,
        scope=Scope.CHECKINS,
        action=Action.READ,
        now=now,
        resource="alsfrs_r",
        source_ip=source_ip,
    )
    row = db.execute(
        select(AlsfrsAssessment)
        .where(AlsfrsAssessment.patient_id == patient.id)
        .order_by(AlsfrsAssessment.assessed_on.desc(), AlsfrsAssessment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return NOT_KNOWN
    item_12 = row.answers.get("12")
    breathing = core.wording()["in_use"].get(str(item_12)) if item_12 is not None else None
    return InUse(breathing, "5b" in row.answers, row.assessed_on)


@dataclass(frozen=True)
class EmergencyEssentials:
    """What emergency staff need first: the wishes about CPR, ventilation and hospital, who speaks for the
    person and their phone, how they communicate, and the breathing support in use. Plain strings, ready to
    show; ``wishes`` are (label, answer) pairs in the card's order."""

    patient_id: int
    full_name: str
    emergency_number: str
    version_number: int
    saved_at: datetime
    wishes: tuple[tuple[str, str], ...]
    proxy_name: str | None
    proxy_relationship: str | None
    proxy_phone: str | None
    communication: str | None
    in_use: InUse


# The wishes on the card, in the order emergency staff need them.
CARD_WISHES: Final = (
    ("resuscitation", "cpr", "cpr"),
    ("breathing", "niv", "niv"),
    ("breathing", "invasive_ventilation", "invasive_ventilation"),
    ("hospital", "hospital", "hospital"),
    ("feeding_tube", "feeding_tube", "feeding_tube"),
)


def _decision_text(answers: Answers, section: str, field: str) -> str | None:
    value = answers.get(section, {}).get(field)
    if not value:
        return None
    text = core.value_text(section, field, value)
    condition = answers.get(section, {}).get(f"{field}_condition")
    if value == "only_if" and isinstance(condition, str):
        text = f"Only if {condition}"
    return text


def essentials_of(patient: Patient, version: Version, used: InUse) -> EmergencyEssentials:
    labels = core.wording()["card"]["labels"]
    a = version.answers
    wishes = [(labels[key], text) for section, field, key in CARD_WISHES if (text := _decision_text(a, section, field))]
    refusals = a.get("refusals", {})
    if isinstance(refusals.get("treatments"), str):
        wishes.append((labels["refuses"], str(refusals["treatments"])))
    if refusals.get("adrt"):
        where = refusals.get("adrt_where")
        adrt = core.value_text("refusals", "adrt", refusals["adrt"])
        wishes.append((labels["adrt"], f"{adrt} ({where})" if isinstance(where, str) else adrt))
    comm = a.get("communication", {})
    said = [core.value_text("communication", "methods", comm["methods"])] if comm.get("methods") else []
    if isinstance(comm.get("how"), str):
        said.append(str(comm["how"]))
    proxy = a.get("proxy", {})

    def proxy_text(key: str) -> str | None:
        value = proxy.get(key)
        return value if isinstance(value, str) else None

    return EmergencyEssentials(
        patient_id=patient.id,
        full_name=patient.full_name,
        emergency_number=patient.emergency_number,
        version_number=version.number,
        saved_at=version.saved_at,
        wishes=tuple(wishes),
        proxy_name=proxy_text("name"),
        proxy_relationship=proxy_text("relationship"),
        proxy_phone=proxy_text("phone"),
        communication=". ".join(said) if said else None,
        in_use=used,
    )


def emergency_essentials(
    db: Session, *, patient_id: int, actor: User, now: datetime, source_ip: str | None = None
) -> EmergencyEssentials | None:
    """The card's essentials from the latest version, or ``None`` when no wishes are written down.

    Opens the record for ``care_wishes`` as ``actor`` (audited; ``NotFound`` if not shared with them). For the
    check-in's emergency screen and the clinician's alert view.
    """
    wishes = care_wishes_of(db, actor=actor, patient_id=patient_id, now=now, source_ip=source_ip)
    if wishes.latest is None:
        return None
    used = in_use(db, actor=actor, patient=wishes.patient, now=now, source_ip=source_ip)
    return essentials_of(wishes.patient, wishes.latest, used)


@dataclass(frozen=True)
class SummarySection:
    title: str
    answers: tuple[tuple[str, str], ...]  # (question, answer as words)


@dataclass(frozen=True)
class CareWishesSummary:
    version_number: int
    saved_at: datetime
    author_name: str
    capacity: str
    sections: tuple[SummarySection, ...]
    last_discussed_on: date | None


def summary_sections(answers: Answers) -> tuple[SummarySection, ...]:
    """The answers as words, section by section, in the order of the form (empty sections left out)."""
    words = core.wording()["sections"]
    out = []
    for spec in core.SECTIONS:
        given = answers.get(spec.id, {})
        if given:
            pairs = tuple(
                (words[spec.id]["fields"][f.id]["label"], core.value_text(spec.id, f.id, given[f.id]))
                for f in spec.fields
                if f.id in given
            )
            out.append(SummarySection(words[spec.id]["title"], pairs))
    return tuple(out)


def latest_summary(db: Session, *, patient_id: int) -> CareWishesSummary | None:
    """The latest version as words, for the visit summary PDF; ``None`` when none is written.

    Not audited and not access-checked here: the caller must already have opened the record for
    ``care_wishes`` (``open_record`` or ``may``) for the person reading the summary.
    """
    versions = _versions(db, patient_id)
    if not versions:
        return None
    latest = versions[-1]
    return CareWishesSummary(
        version_number=latest.number,
        saved_at=latest.saved_at,
        author_name=latest.author_name,
        capacity=latest.capacity,
        sections=summary_sections(latest.answers),
        last_discussed_on=discussed_on(db, patient_id=patient_id),
    )


def is_proxy(db: Session, *, user: User, patient_id: int) -> bool:
    """Whether ``user`` holds an active proxy grant for the person (to word the form for a proxy)."""
    return (
        db.execute(
            select(ConsentGrant.id).where(
                ConsentGrant.patient_id == patient_id,
                ConsentGrant.grantee_user_id == user.id,
                ConsentGrant.scope == Scope.PROXY.value,
                ConsentGrant.revoked_at.is_(None),
            )
        ).first()
        is not None
    )

"""What a clinician sees when opening an alert or a check-in: the report as a clinician reads it, the check-in
before it, the latest ALSFRS-R and its trend, and who to phone.

Not the person's result screen: no "call the emergency number now" instructions, but the rules that fired
with their tier and source, every answer beside the previous check-in's, and the figures a clinician wants
before picking up the phone. The caller has already opened the record for check-ins (and audited it).

Carers: users holding an active grant to the record (family, caregivers, a proxy), with the phone number
they gave on their account — the people a clinician may need to reach when the person cannot speak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.actions.checkins import triage_of
from alscare.clinical.alsfrs_r import Assessment, Domain
from alscare.clinical.errors import InvalidInput
from alscare.clinical.progression import DatedTotal, ProgressionSummary, summarise_progression
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.clinical.triage import CHECK_IN_FIELDS
from alscare.storage.models import AlsfrsAssessment, CheckIn, ConsentGrant, Patient, User

LATEST_ASSESSMENTS: Final = 4
TIER_WORDS: Final = {"emergency": "Emergency", "contact_team": "Contact today", "routine": "Routine"}
DOMAIN_SHORT: Final = {
    Domain.BULBAR: "Bulbar",
    Domain.FINE_MOTOR: "Fine motor",
    Domain.GROSS_MOTOR: "Gross motor",
    Domain.RESPIRATORY: "Respiratory",
}
_MEASURES: Final = (("weight_kg", "Weight", "kg"), ("fvc_percent", "FVC", "% predicted"),
                    ("snip_cmh2o", "SNIP", "cmH₂O"), ("spo2_percent", "SpO₂", "%"))  # fmt: skip


@dataclass(frozen=True)
class Phone:
    who: str
    relation: str
    number: str

    @property
    def tel(self) -> str:
        """The number for a tel: link: digits and a leading + only (RFC 3966 global or local digits)."""
        keep = "".join(ch for ch in self.number if ch.isdigit() or ch == "+")
        return keep[:1] + keep[1:].replace("+", "")


@dataclass(frozen=True)
class ComparedLine:
    """One line of the report: this check-in's answer and the previous one's."""

    label: str
    now: str
    before: str | None
    changed: bool


@dataclass(frozen=True)
class FiredRule:
    rule: str
    label: str
    tier: str
    source: str


@dataclass(frozen=True)
class AssessmentLine:
    assessed_on: Any
    total: int
    domains: dict[str, int]
    kings: str
    mitos: int
    mode: str


@dataclass(frozen=True)
class ClinicianView:
    patient: Patient
    check_in: CheckIn | None
    previous: CheckIn | None
    tier: str | None
    fired: list[FiredRule]
    lines: list[ComparedLine]
    question: str | None
    assessments: list[AssessmentLine]
    progression: ProgressionSummary | None
    phones: list[Phone]


def _rule_label(rule_id: str) -> str:
    field = CHECK_IN_FIELDS.get(rule_id)
    if field is not None:
        return str(field.label)
    return rule_id.replace("_", " ").capitalize()


def _answers_of(row: CheckIn) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, field in CHECK_IN_FIELDS.items():
        value = row.answers.get(name)
        if value is True:
            out[str(field.label)] = "Yes"
    for region, symptoms in sorted((row.body_map or {}).items()):
        for symptom in symptoms:
            out[f"{symptom.capitalize()}: {region.replace('_', ' ')}"] = "Yes"
    for attr, label, unit in _MEASURES:
        value = getattr(row, attr)
        if value is not None:
            out[label] = f"{value:g} {unit}"
    usual = row.answers.get("usual_weight_kg")
    if isinstance(usual, int | float):
        out["Usual weight"] = f"{usual:g} kg"
    medicines = row.answers.get("medicines")
    if medicines:
        out["Medicines mentioned"] = ", ".join(str(m) for m in medicines)
    return out


def compare(row: CheckIn, previous: CheckIn | None) -> list[ComparedLine]:
    """Every positive answer and measurement of ``row``, then what the previous check-in had and this one
    no longer has, each beside the other check-in's value ("No" / "—" when absent)."""
    now = _answers_of(row)
    before = _answers_of(previous) if previous is not None else None
    lines = [
        ComparedLine(
            label,
            value,
            None if before is None else before.get(label, "No" if value == "Yes" else "—"),
            before is not None and before.get(label) != value,
        )
        for label, value in now.items()
    ]
    if before is not None:
        lines += [
            ComparedLine(label, "No" if value == "Yes" else "—", value, True)
            for label, value in before.items()
            if label not in now
        ]
    return lines


def _assessment_line(row: AlsfrsAssessment) -> AssessmentLine | None:
    try:
        a = Assessment.from_answers(row.answers)
    except InvalidInput:
        return None
    from alscare.actions.clinic_summary import kings_label

    k = kings_stage(a)
    return AssessmentLine(
        assessed_on=row.assessed_on,
        total=a.total,
        domains={DOMAIN_SHORT[d]: v for d, v in a.domains.items()},
        kings=kings_label(k.stage, k.nutritional_failure, k.respiratory_failure),
        mitos=mitos_stage(a).stage,
        mode=row.administration_mode.replace("_", " "),
    )


def phones_of(db: Session, *, patient: Patient) -> list[Phone]:
    """The person's own number, then every carer holding an active grant who gave one (one query)."""
    phones: list[Phone] = []
    if patient.phone:
        phones.append(Phone(patient.full_name, "Person with ALS", patient.phone))
    carers = db.execute(
        select(User.display_name, User.phone, ConsentGrant.scope)
        .join(ConsentGrant, ConsentGrant.grantee_user_id == User.id)
        .where(
            ConsentGrant.patient_id == patient.id,
            ConsentGrant.revoked_at.is_(None),
            User.is_active.is_(True),
            User.role == "caregiver",
        )
        .order_by(User.display_name, User.id)
    ).all()
    seen: set[tuple[str, str]] = set()
    for name, phone, scope in carers:
        if phone and (name, phone) not in seen:
            seen.add((name, phone))
            phones.append(Phone(name, "Proxy (acts for the person)" if scope == "proxy" else "Carer or family", phone))
    return phones


def clinician_view(db: Session, *, patient: Patient, check_in: CheckIn | None, now: datetime) -> ClinicianView:
    """Assemble the view. ``patient`` must already be opened (and audited) for check-ins by the caller."""
    previous = None
    fired: list[FiredRule] = []
    tier = None
    if check_in is not None:
        previous = db.execute(
            select(CheckIn)
            .where(
                CheckIn.patient_id == patient.id,
                (CheckIn.submitted_at < check_in.submitted_at)
                | ((CheckIn.submitted_at == check_in.submitted_at) & (CheckIn.id < check_in.id)),
            )
            .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        result = triage_of(check_in)
        tier = result.tier.value
        from alscare.clinical.triage import RULES

        tiers = {r.id: r.tier.value for r in RULES}
        fired = [FiredRule(r.rule, _rule_label(r.rule), tiers.get(r.rule, tier), r.source) for r in result.reasons]
    rows = list(
        db.execute(
            select(AlsfrsAssessment)
            .where(AlsfrsAssessment.patient_id == patient.id)
            .order_by(AlsfrsAssessment.assessed_on, AlsfrsAssessment.id)
        ).scalars()
    )
    progression = None
    if rows and patient.onset_date is not None:
        try:
            progression = summarise_progression(
                patient.onset_date, [DatedTotal(on=r.assessed_on, total=r.total) for r in rows]
            )
        except InvalidInput:
            progression = None
    lines = [line for line in (_assessment_line(r) for r in reversed(rows[-LATEST_ASSESSMENTS:])) if line]
    return ClinicianView(
        patient=patient,
        check_in=check_in,
        previous=previous,
        tier=tier,
        fired=fired,
        lines=compare(check_in, previous) if check_in is not None else [],
        question=check_in.question if check_in is not None else None,
        assessments=lines,
        progression=progression,
        phones=phones_of(db, patient=patient),
    )

"""Presenters shape stored records into what a page or API answer shows. Clinical maths comes from the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from alscare.clinical.alsfrs_r import Assessment, Domain
from alscare.clinical.errors import InvalidInput
from alscare.clinical.progression import DatedTotal, ProgressionSummary, summarise_progression
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.storage.models import AlsfrsAssessment, Patient

DOMAIN_LABELS = {
    Domain.BULBAR: "Speech and swallowing",
    Domain.FINE_MOTOR: "Hands",
    Domain.GROSS_MOTOR: "Moving about",
    Domain.RESPIRATORY: "Breathing",
}
MODE_LABELS = {
    "clinician_in_person": "Clinician, in person",
    "clinician_phone": "Clinician, by phone",
    "self_report": "Self-report",
    "caregiver": "Caregiver",
}
REGION_LABELS = {
    "bulbar": "Speech or swallowing (bulbar)",
    "upper_limb": "Arm or hand",
    "lower_limb": "Leg or foot",
    "respiratory": "Breathing",
    "trunk": "Body (trunk)",
}


@dataclass(frozen=True)
class AssessmentRow:
    id: int
    assessed_on: date
    mode: str
    total: int
    domains: dict[str, int]
    kings_stage: str
    mitos_stage: int
    # Who typed it in, e.g. "Carl Clinician (clinician)"; None for rows from before this was kept.
    entered_by: str | None = None


ROLE_WORDS = {"patient": "the person", "caregiver": "family or carer", "clinician": "clinician", "admin": "admin"}


@dataclass(frozen=True)
class RecordSummary:
    assessments: list[AssessmentRow] | None
    progression: ProgressionSummary | None
    onset_region: str | None


def kings_label(stage: int, nutritional: bool, respiratory: bool) -> str:
    if stage == 4:
        return "4" + ("A" if nutritional else "") + ("B" if respiratory else "")
    return str(stage)


def assessment_row(row: AlsfrsAssessment) -> AssessmentRow:
    a = Assessment.from_answers(row.answers)
    k = kings_stage(a)
    return AssessmentRow(
        id=row.id,
        assessed_on=row.assessed_on,
        mode=MODE_LABELS.get(row.administration_mode, row.administration_mode),
        total=a.total,
        domains={DOMAIN_LABELS[d]: v for d, v in a.domains.items()},
        kings_stage=kings_label(k.stage, k.nutritional_failure, k.respiratory_failure),
        mitos_stage=mitos_stage(a).stage,
        entered_by=(
            f"{row.recorded_by.display_name} ({ROLE_WORDS.get(row.recorded_by.role, row.recorded_by.role)})"
            if row.recorded_by is not None
            else None
        ),
    )


def record_summary(patient: Patient, rows: list[AlsfrsAssessment] | None, *, today: date) -> RecordSummary:
    progression = None
    if rows and patient.onset_date is not None:
        try:
            progression = summarise_progression(
                patient.onset_date, [DatedTotal(on=r.assessed_on, total=r.total) for r in rows]
            )
        except InvalidInput:
            progression = None
    return RecordSummary(
        assessments=[assessment_row(r) for r in reversed(rows)] if rows is not None else None,
        progression=progression,
        onset_region=REGION_LABELS.get(patient.onset_region or ""),
    )

"""The outlook (prognosis) page: the ENCALS prediction from the stored record, its inputs and their sources,
and the survival curve conditional on being alive and event-free today.

Who sees it: anyone the ``prognosis`` consent scope lets read it (the clinic holding ``prognosis`` or
``full_record``, a proxy). The person themselves — and their proxy, who acts for them — see it only after the
person has turned it on (``patients.prognosis_opt_in``, off by default): an outlook nobody asked for can do
harm. Every view is an audited read of the record's prognosis scope.

Where the inputs come from (ENCALS wants them at or near diagnosis, Westeneng 2018):
- age at onset: date of birth and symptom-onset date (profile);
- diagnostic delay: symptom onset to diagnosis date, in months (profile);
- ΔFS: (48 − ALSFRS-R total) / months from onset, from the assessment dated nearest to diagnosis;
- FVC % predicted: the check-in FVC dated nearest to diagnosis;
- bulbar onset: the onset region (profile);
- definite El Escorial, FTD, C9orf72: not recorded in alscare yet, so missing. When only these are missing the
  model is run twice — all absent and all present — and both are shown as the range they allow.

Conditional survival: ENCALS gives S(t) from onset; for someone alive and event-free ``m`` months after onset
the chance of staying so until ``t`` is S(t) / S(m) (plain conditional probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.errors import InvalidInput as ActionInvalidInput
from alscare.actions.records import may, open_record
from alscare.clinical.errors import InvalidInput
from alscare.clinical.prognosis import EncalsPredictors, linear_predictor, median_survival_months, survival_probability
from alscare.clinical.progression import DAYS_PER_MONTH, months_between
from alscare.storage.models import AlsfrsAssessment, CheckIn, Patient, User

CURVE_MONTHS_AHEAD: Final = 60
TABLE_MONTHS_AHEAD: Final = (6, 12, 24, 36, 60)
UNRECORDED_FLAGS: Final = {
    "definite_el_escorial": "Definite ALS by the El Escorial criteria",
    "ftd": "Frontotemporal dementia",
    "c9orf72": "C9orf72 repeat expansion",
}
LABELS: Final = {
    "age_at_onset": "Age at symptom onset",
    "diagnostic_delay_months": "Time from first symptoms to diagnosis",
    "delta_fs": "ΔFS (ALSFRS-R points lost per month since onset)",
    "fvc_percent": "FVC (% of predicted)",
    "bulbar_onset": "Bulbar onset",
    **UNRECORDED_FLAGS,
}


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    value: str | None  # None: missing
    source: str


@dataclass(frozen=True)
class CurvePoint:
    months_ahead: int
    low: float  # conditional probability with every unrecorded flag present (the lower estimate)
    high: float  # ... with every unrecorded flag absent


@dataclass(frozen=True)
class PrognosisView:
    patient: Patient
    shown: bool  # False: the person has not turned the page on (nothing else is filled in)
    is_own: bool
    opted_in: bool
    inputs: list[Input]
    missing: list[str]
    problem: str | None  # why no prediction could be made
    months_since_onset: float | None
    median_months_from_onset: tuple[float, float] | None  # (lower, higher) estimate
    curve: list[CurvePoint]
    table: list[CurvePoint]


def _nearest(day: date, rows: list[tuple[date, float]]) -> tuple[date, float] | None:
    return min(rows, key=lambda r: abs((r[0] - day).days)) if rows else None


def gather_inputs(db: Session, patient: Patient) -> tuple[list[Input], dict[str, float | bool]]:
    """The inputs shown (every one, with its source) and the values found (missing ones left out)."""
    inputs: list[Input] = []
    found: dict[str, float | bool] = {}
    onset, dx, born = patient.onset_date, patient.diagnosis_date, patient.date_of_birth

    def add(name: str, value: float | bool | None, shown: str | None, source: str) -> None:
        inputs.append(Input(name, LABELS[name], shown if value is not None else None, source))
        if value is not None:
            found[name] = value

    if born and onset:
        age = (onset - born).days / 365.25
        add("age_at_onset", round(age, 1), f"{age:.0f} years", "Profile: date of birth and symptom onset")
    else:
        add("age_at_onset", None, None, "Needs date of birth and symptom onset in the profile")
    if onset and dx:
        delay = months_between(onset, dx)
        add("diagnostic_delay_months", round(delay, 2), f"{delay:.1f} months", "Profile: symptom onset and diagnosis")
    else:
        add("diagnostic_delay_months", None, None, "Needs symptom onset and diagnosis dates in the profile")
    anchor = dx or onset
    totals = [
        (d, float(t))
        for d, t in db.execute(
            select(AlsfrsAssessment.assessed_on, AlsfrsAssessment.total).where(
                AlsfrsAssessment.patient_id == patient.id
            )
        ).all()
    ]
    nearest = _nearest(anchor, [r for r in totals if onset is None or r[0] > onset]) if anchor else None
    if nearest and onset:
        dfs = (48 - nearest[1]) / ((nearest[0] - onset).days / DAYS_PER_MONTH)
        add("delta_fs", round(dfs, 3), f"{dfs:.2f} points/month",
            f"ALSFRS-R of {nearest[0].isoformat()} (total {nearest[1]:g}), the one nearest diagnosis")  # fmt: skip
    else:
        add("delta_fs", None, None, "Needs an ALSFRS-R after symptom onset and the onset date")
    fvcs = [
        (at.date(), float(v or 0))
        for at, v in db.execute(
            select(CheckIn.submitted_at, CheckIn.fvc_percent).where(
                CheckIn.patient_id == patient.id, CheckIn.fvc_percent.is_not(None)
            )
        ).all()
    ]
    fvc = _nearest(anchor, fvcs) if anchor else None
    if fvc:
        add("fvc_percent", fvc[1], f"{fvc[1]:g} %", f"Check-in of {fvc[0].isoformat()}, the FVC nearest diagnosis")
    else:
        add("fvc_percent", None, None, "Needs an FVC from a check-in or the clinic")
    if patient.onset_region:
        bulbar = patient.onset_region == "bulbar"
        add("bulbar_onset", bulbar, "Yes" if bulbar else "No", "Profile: where symptoms started")
    else:
        add("bulbar_onset", None, None, "Needs where symptoms started in the profile")
    for name in UNRECORDED_FLAGS:
        add(name, None, None, "Not recorded in alscare yet")
    return inputs, found


def prognosis_view(
    db: Session, *, actor: User, patient_id: int, now: datetime, source_ip: str | None = None
) -> PrognosisView:
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.PROGNOSIS,
        action=Action.READ,
        now=now,
        resource="prognosis",
        source_ip=source_ip,
    )
    is_own = patient.user_id == actor.id
    # A proxy acts for the person (the policy lets only the two manage sharing), so they too see it only once
    # the person has chosen to. Everyone else is governed by the prognosis scope alone (checked above).
    own_side = is_own or may(db, user=actor, patient=patient, scope=Scope.SHARING, action=Action.WRITE)
    hidden = PrognosisView(patient, False, is_own, patient.prognosis_opt_in, [], [], None, None, None, [], [])
    if own_side and not patient.prognosis_opt_in:
        return hidden
    inputs, found = gather_inputs(db, patient)
    missing = [i.name for i in inputs if i.value is None]
    numeric_missing = [m for m in missing if m not in UNRECORDED_FLAGS]
    base = PrognosisView(patient, True, is_own, patient.prognosis_opt_in, inputs, missing, None, None, None, [], [])
    if numeric_missing:
        names = ", ".join(LABELS[m].lower() for m in numeric_missing)
        return _with(base, problem=f"No estimate: the model needs {names}.")
    assert patient.onset_date is not None
    months_now = months_between(patient.onset_date, now.date())
    try:
        lps = []
        for assume in (True, False):  # unrecorded flags present (lower estimate), then absent (higher)
            values = {**found, **{f: found.get(f, assume) for f in UNRECORDED_FLAGS}}
            lps.append(linear_predictor(EncalsPredictors.from_mapping(values)))
    except InvalidInput as e:
        return _with(base, problem=f"No estimate: {LABELS.get(e.field, e.field).lower()} {e.message}.")
    low_lp, high_lp = lps
    if months_now <= 0:
        return _with(base, problem="No estimate: the symptom-onset date is not in the past.")

    def conditional(lp: float, ahead: int) -> float:
        return survival_probability(lp, months_now + ahead) / survival_probability(lp, months_now)

    points = [CurvePoint(m, conditional(low_lp, m), conditional(high_lp, m)) for m in range(0, CURVE_MONTHS_AHEAD + 1)]
    table = [p for p in points if p.months_ahead in TABLE_MONTHS_AHEAD]
    return _with(
        base,
        months_since_onset=months_now,
        median_months_from_onset=(median_survival_months(low_lp), median_survival_months(high_lp)),
        curve=points,
        table=table,
    )


def _with(view: PrognosisView, **changes: object) -> PrognosisView:
    from dataclasses import replace

    return replace(view, **changes)  # type: ignore[arg-type]


def set_prognosis_choice(
    db: Session, *, actor: User, patient_id: int, opt_in: bool, now: datetime, source_ip: str | None = None
) -> Patient:
    """The person (or their proxy) turns their own outlook page on or off."""
    patient = open_record(
        db,
        user=actor,
        patient_id=patient_id,
        scope=Scope.SHARING,
        action=Action.WRITE,
        now=now,
        resource="prognosis_choice",
        source_ip=source_ip,
    )
    if not isinstance(opt_in, bool):
        raise ActionInvalidInput("choice", "Choose on or off.")
    patient.prognosis_opt_in = opt_in
    db.flush()
    return patient


def curve_svg_points(curve: list[CurvePoint], *, width: int, height: int, pad: int, high: bool) -> str:
    """Polyline points for the chart: x = months ahead, y = probability (0 at the bottom)."""
    span_x, span_y = width - 2 * pad, height - 2 * pad
    out = []
    for p in curve:
        x = pad + span_x * p.months_ahead / CURVE_MONTHS_AHEAD
        y = pad + span_y * (1 - (p.high if high else p.low))
        out.append(f"{x:.1f},{y:.1f}")
    return " ".join(out)

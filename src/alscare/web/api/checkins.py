"""The JSON API for symptom check-ins, triaged on arrival."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from alscare.actions import checkins
from alscare.web.api.v1 import ErrorResponses, PatientId, Strict
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(api_csrf)])


# --- Check-ins (scope: check-ins) and the clinic's alerts ----------------------------------------------------


class CheckInIn(Strict):
    """A symptom check-in. Every answer is optional: leave out what was not asked or not known."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # true/false must be booleans and numbers numbers: nothing is coerced
        json_schema_extra={
            "examples": [
                {
                    "client_id": "3f0c8f1e-5d0a-4a8e-9d8e-2b7c4e1a9f10",
                    "cramps": True,
                    "breathless_at_rest": False,
                    "weight_kg": 68.5,
                    "usual_weight_kg": 70,
                    "body_map": {"left_arm": ["weakness", "cramps"]},
                    "medicines": ["riluzole"],
                }
            ]
        },
    )

    client_id: str = Field(
        max_length=64,
        description="A UUID the client makes when the form is opened. Sending the same one again returns the "
        "stored check-in (200) instead of adding another (201).",
    )
    chest_pain_severe: bool | None = None
    breathing_sudden_trouble: bool | None = None
    choking_not_clearing: bool | None = None
    breathless_at_rest: bool | None = None
    blue_lips: bool | None = None
    confused_or_drowsy: bool | None = None
    ventilator_problem: bool | None = None
    self_harm_thoughts: bool | None = None
    fever: bool | None = None
    chills: bool | None = None
    cough: bool | None = None
    weak_achy: bool | None = None
    depressed_cannot_cope: bool | None = None
    orthopnea: bool | None = None
    morning_headache: bool | None = None
    daytime_sleepiness: bool | None = None
    choking_on_food: bool | None = None
    cannot_take_food_fluids_meds: bool | None = None
    fall: bool | None = None
    weakness_new: bool | None = None
    cramps: bool | None = None
    stiffness: bool | None = None
    twitching: bool | None = None
    drooling: bool | None = None
    slurred_speech: bool | None = None
    fatigue: bool | None = None
    headache_new: bool | None = None
    vision_change: bool | None = None
    back_pain_new: bool | None = None
    weight_kg: float | None = Field(default=None, allow_inf_nan=False, description="From 20 to 300 kg.")
    usual_weight_kg: float | None = Field(default=None, allow_inf_nan=False, description="From 20 to 300 kg.")
    fvc_percent: float | None = Field(default=None, allow_inf_nan=False, description="FVC, % predicted, 10-150.")
    snip_cmh2o: float | None = Field(default=None, allow_inf_nan=False, description="SNIP, cmH2O, 0-200.")
    spo2_percent: float | None = Field(default=None, allow_inf_nan=False, description="SpO2, %, 50-100.")
    body_map: dict[str, list[str]] | None = Field(
        default=None,
        description=f"Region → symptoms. Regions: {', '.join(checkins.BODY_REGIONS)}. "
        f"Symptoms: {', '.join(checkins.BODY_SYMPTOMS)}.",
    )
    medicines: list[str] | None = Field(
        default=None,
        description="Names of medicines taken (any brand) besides those on the person's medicine list, which the "
        "triage reads itself (/api/v1/patients/{patient_id}/medicines).",
    )
    # The check-in field is ``questions`` (the triage table's name); ``question`` is accepted too.
    question: str | None = Field(
        default=None,
        validation_alias=AliasChoices("questions", "question"),
        description="A question for the care team; at most 4000 characters.",
    )


class ReasonOut(BaseModel):
    rule: str
    message: str
    source: str


class CheckInOut(BaseModel):
    id: int
    patient_id: int
    client_id: str
    reporter: Literal["self", "caregiver", "clinician"]
    submitted_at: datetime
    tier: Literal["routine", "contact_team", "emergency"]
    reasons: list[ReasonOut] = Field(description="Every triage rule that fired, most urgent first.")
    answers: dict[str, Any]
    body_map: dict[str, list[str]]
    weight_kg: float | None
    fvc_percent: float | None
    snip_cmh2o: float | None
    spo2_percent: float | None
    question: str | None


class CheckInSubmitted(CheckInOut):
    alert_ids: list[int] = Field(description="Alerts raised for the clinic (none if check-ins are not shared).")


def _check_in_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "patient_id": row.patient_id,
        "client_id": row.client_id,
        "reporter": row.reporter,
        "submitted_at": row.submitted_at,
        "tier": row.tier,
        "reasons": [ReasonOut(**r) for r in row.reasons],
        "answers": row.answers,
        "body_map": row.body_map,
        "weight_kg": row.weight_kg,
        "fvc_percent": row.fvc_percent,
        "snip_cmh2o": row.snip_cmh2o,
        "spo2_percent": row.spo2_percent,
        "question": row.question,
    }


@router.post(
    "/patients/{patient_id}/check-ins",
    response_model=CheckInSubmitted,
    status_code=201,
    responses={**ErrorResponses, 200: {"description": "Already stored under this client_id: the same check-in"}},
)
def add_check_in(
    request: Request, patient_id: PatientId, body: CheckInIn, response: Response, user: ApiUser, db: Db
) -> CheckInSubmitted:
    """Submit a check-in: triaged at once; alerts go to the clinic if check-ins are shared with it."""
    ctx = request.app.state.ctx
    outcome = checkins.record_check_in(
        db,
        actor=user,
        patient_id=patient_id,
        client_id=body.client_id,
        data=body.model_dump(exclude_unset=True, exclude={"client_id"}),
        now=ctx.clock(),
        source_ip=client_ip(request),
        base_url=ctx.settings.base_url,
    )
    out = CheckInSubmitted(**_check_in_out(outcome.check_in), alert_ids=[a.id for a in outcome.alerts])
    db.commit()
    response.status_code = 201 if outcome.created else 200
    return out


@router.get("/patients/{patient_id}/check-ins", response_model=list[CheckInOut], responses=ErrorResponses)
def list_check_ins(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[CheckInOut]:
    """The person's check-ins, newest first (at most 200)."""
    rows = checkins.check_ins_of(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    out = [CheckInOut(**_check_in_out(r)) for r in rows]
    db.commit()
    return out

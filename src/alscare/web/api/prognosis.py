"""The outlook (ENCALS prognosis) over the API: the same rules as the page — hidden from the person (and their
proxy) until they turn it on; the ``prognosis`` consent scope governs everyone else."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alscare.actions.prognosis_view import prognosis_view
from alscare.web.api.v1 import ErrorResponses
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(api_csrf)])


class PrognosisInput(BaseModel):
    name: str
    label: str
    value: str | None = Field(description="As shown on the page; null when missing.")
    source: str


class PrognosisPoint(BaseModel):
    months_ahead: int
    lower: float = Field(description="S(t)/S(now) with unrecorded inputs taken as present.")
    higher: float = Field(description="S(t)/S(now) with unrecorded inputs taken as absent.")


class PrognosisOut(BaseModel):
    shown: bool = Field(description="False when the person has not turned their outlook on; nothing else is given.")
    opted_in: bool
    inputs: list[PrognosisInput]
    missing: list[str]
    problem: str | None
    months_since_onset: float | None
    median_months_from_onset: list[float] | None = Field(description="[lower, higher] estimate, from onset.")
    conditional_survival: list[PrognosisPoint]


@router.get(
    "/patients/{patient_id}/prognosis",
    summary="The ENCALS outlook, its inputs and the conditional curve",
    responses=ErrorResponses,
)
def get_prognosis(request: Request, patient_id: int, user: ApiUser, db: Db) -> PrognosisOut:
    view = prognosis_view(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return PrognosisOut(
        shown=view.shown,
        opted_in=view.opted_in,
        inputs=[PrognosisInput(name=i.name, label=i.label, value=i.value, source=i.source) for i in view.inputs],
        missing=view.missing,
        problem=view.problem,
        months_since_onset=view.months_since_onset,
        median_months_from_onset=list(view.median_months_from_onset) if view.median_months_from_onset else None,
        conditional_survival=[
            PrognosisPoint(months_ahead=p.months_ahead, lower=p.low, higher=p.high) for p in view.table
        ],
    )

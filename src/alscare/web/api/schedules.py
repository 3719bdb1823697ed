"""The JSON API for check-in schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from alscare.actions import schedules
from alscare.web.api.v1 import ErrorResponses, PatientId, Strict
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(api_csrf)])


# --- Check-in schedules (scope: check-ins) -----------------------------------------------------------------

ScheduleKind = Literal["symptom_check_in", "alsfrs_r"]


class ScheduleItemOut(BaseModel):
    kind: ScheduleKind
    interval_days: int = Field(description="Days between one and the next.")
    last_done_at: datetime | None = Field(description="The newest check-in or ALSFRS-R; null if never.")
    due_at: datetime
    overdue: bool


class ScheduleIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"interval_days": 14}]})

    interval_days: StrictInt = Field(ge=schedules.INTERVAL_MIN, le=schedules.INTERVAL_MAX)


def _schedule_out(item: schedules.DueItem) -> ScheduleItemOut:
    return ScheduleItemOut(
        kind=item.kind.value,
        interval_days=item.interval_days,
        last_done_at=item.last_done_at,
        due_at=item.due_at,
        overdue=item.overdue,
    )


@router.get("/patients/{patient_id}/schedule", response_model=list[ScheduleItemOut], responses=ErrorResponses)
def get_schedule(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[ScheduleItemOut]:
    """How often a symptom check-in and an ALSFRS-R are due, when each was last done and when it is next due."""
    items = schedules.view_schedule(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    db.commit()
    return [_schedule_out(i) for i in items]


@router.put("/patients/{patient_id}/schedule/{kind}", response_model=ScheduleItemOut, responses=ErrorResponses)
def put_schedule(
    request: Request, patient_id: PatientId, kind: ScheduleKind, body: ScheduleIn, user: ApiUser, db: Db
) -> ScheduleItemOut:
    """Change how often ``kind`` is due (1-365 days)."""
    item = schedules.set_schedule(
        db,
        actor=user,
        patient_id=patient_id,
        kind=kind,
        interval_days=body.interval_days,
        now=request.app.state.ctx.clock(),
        source_ip=client_ip(request),
    )
    db.commit()
    return _schedule_out(item)

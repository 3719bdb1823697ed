"""The JSON API for the clinic's alerts: a paged list, acknowledge, resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from alscare.actions import alerts
from alscare.actions.paging import PAGE_SIZE
from alscare.web.api.v1 import ErrorResponses, PagedResponses, PageLimit, PageNumber, Strict, paged
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(api_csrf)])

AlertId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class AlertOut(BaseModel):
    id: int
    patient_id: int
    patient_name: str
    severity: Literal["emergency", "contact_team", "prompt"]
    summary: str
    source: str = Field(description="check_in, history_prompt, or prompt (older per-check-in prompts)")
    source_id: str = Field(
        description="The check-in id (check_in); '<person id>:<prompt id>:<n>' (history_prompt, the n-th time "
        "that prompt was raised for the person); '<check-in id>:<prompt id>' (prompt)."
    )
    status: Literal["open", "acknowledged", "resolved"]
    created_at: datetime
    age_seconds: int
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    resolved_by_id: int | None
    resolved_at: datetime | None
    note: str | None
    escalation_level: int
    escalated_at: datetime | None


class AlertAcknowledgeIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "Phoning the person now."}]})

    note: str | None = Field(default=None, max_length=4000)


class AlertResolveIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "Spoke to them; respiratory review booked."}]}
    )

    note: str = Field(max_length=4000, description="What was done. Required.")


def _alert_out(view: alerts.AlertView) -> AlertOut:
    a = view.alert
    return AlertOut(
        id=a.id,
        patient_id=view.patient_id,
        patient_name=view.patient_name,
        severity=a.severity,  # type: ignore[arg-type]
        summary=a.summary,
        source=a.source,
        source_id=a.source_id,
        status=a.status,  # type: ignore[arg-type]
        created_at=a.created_at,
        age_seconds=int(view.age.total_seconds()),
        acknowledged_by_id=a.acknowledged_by_id,
        acknowledged_at=a.acknowledged_at,
        resolved_by_id=a.resolved_by_id,
        resolved_at=a.resolved_at,
        note=a.note,
        escalation_level=a.escalation_level,
        escalated_at=a.escalated_at,
    )


@router.get("/alerts", response_model=list[AlertOut], responses=PagedResponses)
def list_alerts(
    request: Request,
    response: Response,
    user: ApiUser,
    db: Db,
    include_resolved: bool = False,
    page: PageNumber = 1,
    limit: PageLimit = PAGE_SIZE,
) -> list[AlertOut]:
    """Your clinic's alerts, most severe first, then oldest first (resolved last), one page at a time.
    Clinicians only (others: 404). Audited: one row per call, naming the people listed."""
    found = alerts.alert_inbox(
        db,
        actor=user,
        now=request.app.state.ctx.clock(),
        include_resolved=include_resolved,
        page=page,
        page_size=limit,
        source_ip=client_ip(request),
    )
    out = [_alert_out(v) for v in found.items]
    db.commit()
    paged(request, response, found)
    return out


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, responses=ErrorResponses)
def acknowledge_alert(request: Request, alert_id: AlertId, body: AlertAcknowledgeIn, user: ApiUser, db: Db) -> AlertOut:
    """Say someone is dealing with an open alert (422 with loc status if it is not open)."""
    now = request.app.state.ctx.clock()
    alerts.acknowledge_alert(db, actor=user, alert_id=alert_id, now=now, note=body.note, source_ip=client_ip(request))
    out = _alert_out(alerts.alert_detail(db, actor=user, alert_id=alert_id, now=now, source_ip=client_ip(request)))
    db.commit()
    return out


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut, responses=ErrorResponses)
def resolve_alert(request: Request, alert_id: AlertId, body: AlertResolveIn, user: ApiUser, db: Db) -> AlertOut:
    """Close an alert with a note of what was done (422 with loc status if it is already resolved)."""
    now = request.app.state.ctx.clock()
    alerts.resolve_alert(db, actor=user, alert_id=alert_id, now=now, note=body.note, source_ip=client_ip(request))
    out = _alert_out(alerts.alert_detail(db, actor=user, alert_id=alert_id, now=now, source_ip=client_ip(request)))
    db.commit()
    return out

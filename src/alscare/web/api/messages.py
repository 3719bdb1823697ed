"""The JSON API for messages: a person's conversation with their clinic."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from alscare.actions import messages
from alscare.web.api.v1 import ErrorResponses, PatientId, Strict
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(api_csrf)])


# --- Messages: the person's conversation with their clinic (scope: check-ins) ------------------------------


class MessageIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Is it normal to feel more tired since the new tablets?"}]},
    )

    body: str = Field(description=f"1 to {messages.MAX_BODY_CHARS} characters after trimming.")


class MessageOut(BaseModel):
    id: int
    patient_id: int
    from_clinic: bool = Field(description="True when the clinic's staff wrote it; false for the person's side.")
    author_id: int
    author_name: str
    body: str
    check_in_id: int | None
    created_at: datetime
    read_at: datetime | None = Field(description="When the other side first opened it.")
    status: Literal["sent", "read", "answered"]


def _message_out(m: Any, thread: list[Any]) -> MessageOut:
    return MessageOut(
        id=m.id,
        patient_id=m.patient_id,
        from_clinic=m.from_clinic,
        author_id=m.author_id,
        author_name=m.author.display_name,
        body=m.body,
        check_in_id=m.check_in_id,
        created_at=m.created_at,
        read_at=m.read_at,
        status=messages.message_status(m, thread),
    )


@router.get("/patients/{patient_id}/messages", response_model=list[MessageOut], responses=ErrorResponses)
def list_messages(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[MessageOut]:
    """The conversation with the clinic, oldest first. Reading changes nothing (see ``.../messages/read``)."""
    thread = messages.thread(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    out = [_message_out(m, thread) for m in thread]
    db.commit()
    return out


@router.post("/patients/{patient_id}/messages/read", response_model=list[MessageOut], responses=ErrorResponses)
def mark_messages_read(request: Request, patient_id: PatientId, user: ApiUser, db: Db) -> list[MessageOut]:
    """Mark the other side's messages read; returns the conversation. Replying marks them read too."""
    thread = messages.mark_read(
        db, actor=user, patient_id=patient_id, now=request.app.state.ctx.clock(), source_ip=client_ip(request)
    )
    out = [_message_out(m, thread) for m in thread]
    db.commit()
    return out


@router.post("/patients/{patient_id}/messages", response_model=MessageOut, status_code=201, responses=ErrorResponses)
def add_message(request: Request, patient_id: PatientId, body: MessageIn, user: ApiUser, db: Db) -> MessageOut:
    """Write to the clinic (or, for clinic staff, to the person). The other side gets an e-mail without content."""
    ctx = request.app.state.ctx
    m = messages.post_message(
        db,
        actor=user,
        patient_id=patient_id,
        body=body.body,
        now=ctx.clock(),
        source_ip=client_ip(request),
        base_url=ctx.settings.base_url,
    )
    out = _message_out(m, [m])
    db.commit()
    return out

"""The FHIR export over the API (issue 13): a clinic's system fetches a person's record as a FHIR R4 Bundle."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from alscare.actions.fhir_export import export_for_user
from alscare.web.deps import ApiUser, Db, api_csrf, client_ip

router = APIRouter(prefix="/api/v1", tags=["FHIR"], dependencies=[Depends(api_csrf)])

EXAMPLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "id": "0d6f3c1e-2f4b-4a8e-9d7c-5b1a2c3d4e5f",
    "type": "collection",
    "timestamp": "2026-12-01T12:00:00+00:00",
    "entry": [
        {
            "fullUrl": "https://clinic.example/fhir/patients/12/Patient/patient",
            "resource": {"resourceType": "Patient", "id": "patient", "name": [{"text": "Mei Chen"}]},
        },
        {
            "fullUrl": "https://clinic.example/fhir/patients/12/Observation/alsfrs-r-1-total",
            "resource": {
                "resourceType": "Observation",
                "id": "alsfrs-r-1-total",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "82953-1"}]},
                "subject": {"reference": "Patient/patient"},
                "effectiveDateTime": "2026-11-20",
                "valueInteger": 41,
            },
        },
    ],
}


@router.get(
    "/patients/{patient_id}/fhir",
    summary="The person's record as a FHIR R4 Bundle",
    description=(
        "One Bundle of type `collection` with the parts of the record your grants cover (the name and emergency "
        "number for any grant; ALSFRS-R, check-ins, measurements, alerts and programmes with `checkins`; "
        "medicines; care wishes; sharing grants only for the person and their proxy). References are relative "
        "and resolve inside the Bundle. Audited. 404 when there is no such record or it is not shared with you."
    ),
    response_class=JSONResponse,
    responses={
        200: {"content": {"application/fhir+json": {"example": EXAMPLE}}, "description": "The Bundle"},
        404: {"description": "No such record, or not shared with you"},
    },
)
def fhir_bundle(request: Request, patient_id: int, user: ApiUser, db: Db) -> Response:
    ctx = request.app.state.ctx
    bundle = export_for_user(db, user=user, patient_id=patient_id, now=ctx.clock(), base_url=ctx.settings.base_url,
                             source_ip=client_ip(request))  # fmt: skip
    db.commit()
    return JSONResponse(bundle, media_type="application/fhir+json", headers={"Cache-Control": "no-store"})

"""Download a person's record as a FHIR R4 Bundle (issue 13, item 1) or as spreadsheets (item 3).

The person, their proxy, and anyone they share with (a family member, their clinic) may download it; the
Bundle holds only the parts their grants cover (``alscare.actions.fhir_export``). Every download is audited.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alscare.actions.fhir_export import export_for_user
from alscare.actions.record_sheets import csv_text, record_sheets, xlsx_bytes
from alscare.web.deps import Db, PageUser, client_ip

router = APIRouter(include_in_schema=False)

FHIR_JSON = "application/fhir+json"


@router.get("/patients/{patient_id}/record.fhir.json")
def fhir_bundle(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    ctx = request.app.state.ctx
    bundle = export_for_user(
        db,
        user=user,
        patient_id=patient_id,
        now=ctx.clock(),
        base_url=ctx.settings.base_url,
        source_ip=client_ip(request),
    )
    db.commit()
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        media_type=FHIR_JSON,
        headers={
            "Content-Disposition": f'attachment; filename="record-{patient_id}.fhir.json"',
            "Cache-Control": "no-store",
        },
    )


# --- Spreadsheets (issue 13, item 3) -------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/patients/{patient_id}/record.xlsx")
def record_xlsx(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    ctx = request.app.state.ctx
    sheets = record_sheets(db, user=user, patient_id=patient_id, now=ctx.clock(), source_ip=client_ip(request))
    db.commit()
    return _attachment(xlsx_bytes(sheets), XLSX, f"record-{patient_id}.xlsx")


@router.get("/patients/{patient_id}/alsfrs-r.csv")
def alsfrs_csv(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    ctx = request.app.state.ctx
    sheets = record_sheets(db, user=user, patient_id=patient_id, now=ctx.clock(), source_ip=client_ip(request),
                           only="alsfrs_r")  # fmt: skip
    db.commit()
    return _attachment(csv_text(sheets["alsfrs_r"]), "text/csv; charset=utf-8", f"alsfrs-r-{patient_id}.csv")


@router.get("/patients/{patient_id}/measurements.csv")
def measurements_csv(request: Request, patient_id: int, user: PageUser, db: Db) -> Response:
    ctx = request.app.state.ctx
    sheets = record_sheets(db, user=user, patient_id=patient_id, now=ctx.clock(), source_ip=client_ip(request),
                           only="measurements")  # fmt: skip
    db.commit()
    return _attachment(csv_text(sheets["measurements"]), "text/csv; charset=utf-8", f"measurements-{patient_id}.csv")

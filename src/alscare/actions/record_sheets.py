"""A person's record, and the clinic's table, as spreadsheets (CSV and XLSX; issue 13, item 3).

The ALSFRS-R and measurement tables use exactly the columns ``alscare csv import-*`` reads, so a file exported
here imports elsewhere unchanged. Only the parts the viewer may see are in it (the same loader as the FHIR
export), and every export is audited. Text cells that a spreadsheet would run as a formula are neutralised
(``clinic_dashboard.neutralise``); in XLSX every text cell is also written as a string, never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from alscare.access import Action, Scope
from alscare.actions.clinic_dashboard import neutralise
from alscare.actions.csv_import import ASSESSMENT_COLUMNS, MEASUREMENT_COLUMNS, MEASUREMENT_VALUES
from alscare.actions.fhir_export import PART_SCOPES, load_record
from alscare.actions.records import may, open_record
from alscare.clinical import alsfrs_r
from alscare.fhir.record import Part, PersonRecord
from alscare.storage.models import User

Cell = str | int | float | None
Sheet = list[list[Cell]]
MEDICINE_COLUMNS = ("patient_id", "name", "dose", "started_on", "stopped_on", "prescriber")


def _text(value: str | None) -> str:
    return "" if value is None else neutralise(value)


def sheets_of(record: PersonRecord) -> dict[str, Sheet]:
    """The record's tables by name, header first; only the parts ``record`` holds."""
    pid = record.patient.id
    # The header anyone with a grant sees: whose record it is and whom to call.
    out: dict[str, Sheet] = {
        "person": [["patient_id", "name", "emergency_number"],
                   [pid, _text(record.patient.full_name), _text(record.patient.emergency_number)]]
    }  # fmt: skip
    if Part.CHECKINS in record.parts:
        rows: Sheet = [list(ASSESSMENT_COLUMNS)]
        for a in record.assessments:
            rows.append([pid, a.assessed_on.isoformat(), a.administration_mode,
                         *(a.answers.get(i) for i in alsfrs_r.ITEM_IDS)])  # fmt: skip
        out["alsfrs_r"] = rows
        rows = [list(MEASUREMENT_COLUMNS)]
        for c in record.check_ins:
            values = [getattr(c, k) for k in MEASUREMENT_VALUES]
            if any(v is not None for v in values):
                rows.append([pid, c.submitted_at.isoformat(), *values])
        out["measurements"] = rows
    if Part.MEDICINES in record.parts:
        rows = [list(MEDICINE_COLUMNS)]
        for m in record.medicines:
            rows.append([pid, _text(m.name), _text(m.dose), m.started_on.isoformat() if m.started_on else None,
                         m.stopped_on.isoformat() if m.stopped_on else None, _text(m.prescriber)])  # fmt: skip
        out["medicines"] = rows
    return out


def csv_text(rows: Sequence[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, Sheet]) -> bytes:
    """An XLSX workbook, one sheet per table; text is always text (never a formula), numbers stay numbers."""
    from openpyxl import Workbook

    book = Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = book.active if first else book.create_sheet()
        first = False
        assert sheet is not None
        sheet.title = name[:31]
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = neutralise(value)
                    cell.data_type = "s"  # openpyxl would store "=…" as a formula otherwise
                else:
                    cell.value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_sheets(
    db: Session, *, user: User, patient_id: int, now: datetime, source_ip: str | None, only: str | None = None
) -> dict[str, Sheet]:
    """The tables of ``patient_id``'s record that ``user`` may see (``only``: one table, needing check-ins)."""
    scope = Scope.CHECKINS if only in ("alsfrs_r", "measurements") else Scope.PROFILE
    patient = open_record(db, user=user, patient_id=patient_id, scope=scope, action=Action.READ, now=now,
                          resource="record_sheets", source_ip=source_ip)  # fmt: skip
    parts = [p for p, s in PART_SCOPES.items() if p is not Part.SHARING and may(db, user=user, patient=patient,
                                                                                   scope=s)]  # fmt: skip
    if only is not None:
        parts = [Part.CHECKINS]
    found = sheets_of(load_record(db, patient=patient, parts=parts))
    return {only: found[only]} if only is not None else found


def clinic_table_rows(rows: list[list[str]]) -> Sheet:
    """The clinic table's CSV rows (already neutralised) with numeric cells as numbers, for XLSX."""
    out: Sheet = []
    for n, row in enumerate(rows):
        if n == 0:
            out.append(list(row))
            continue
        cells: list[Cell] = []
        for value in row:
            try:
                cells.append(int(value) if value.lstrip("-").isdigit() else float(value) if value else None)
            except ValueError:
                cells.append(value)
        out.append(cells)
    return out


__all__ = ["clinic_table_rows", "csv_text", "record_sheets", "sheets_of", "xlsx_bytes"]

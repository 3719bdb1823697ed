"""The clinic dashboard (clinic staff's home) and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alscare.actions import clinic_dashboard as dash
from alscare.actions.errors import InvalidInput, NotFound
from alscare.storage.models import User
from alscare.web.deps import Db, PageUser, client_ip
from alscare.web.paging import pager
from alscare.web.render import render

router = APIRouter(include_in_schema=False)

COLUMNS: Final = (
    ("name", "Person"),
    ("last_check_in", "Last check-in"),
    ("open_alerts", "Open alerts"),
    ("alsfrs", "ALSFRS-R"),
    ("change_3m", "Change in 3 months"),
    ("slope", "Slope (points/month)"),
    ("kings", "King's"),
    ("mitos", "MiToS"),
    ("fvc", "Latest FVC"),
    ("weight", "Weight change"),
    ("next_due", "Next due"),
)
TIER_LABELS: Final = {"emergency": "Emergency", "contact_team": "Contact today", "prompt": "Guideline prompt"}


def _only_clinicians(user: User) -> None:
    if user.role != "clinician" or user.clinic_id is None:
        raise NotFound("Page not found.")


def _int(value: str | None, field: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field, "Enter a whole number.") from None


def query_from(request: Request) -> dash.DashboardQuery:
    """The table's query from the address; bad values raise ``InvalidInput`` naming the parameter."""
    params = request.query_params
    direction = params.get("dir", "")
    if direction not in ("", "asc", "desc"):
        raise InvalidInput("dir", "Sort ascending (asc) or descending (desc).")
    return dash.check_query(
        dash.DashboardQuery(
            filter=params.get("filter") or None,
            search=params.get("q", ""),
            sort=params.get("sort") or "next_due",
            descending=direction == "desc",
            page=_int(params.get("page"), "page", 1),
        )
    )


def _link(query: dash.DashboardQuery, **changes: object) -> str:
    values: dict[str, object] = {
        "filter": query.filter or "",
        "q": query.search,
        "sort": query.sort,
        "dir": "desc" if query.descending else "asc",
        "page": query.page,
    }
    values.update(changes)
    return "/clinic?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _sort_link(query: dash.DashboardQuery, column: str) -> str:
    descending = not query.descending if query.sort == column else False
    return _link(query, sort=column, dir="desc" if descending else "asc", page=1)


def _when(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else "—"


@router.get("/clinic")
def clinic_home(request: Request, user: PageUser, db: Db) -> Response:
    _only_clinicians(user)
    now = request.app.state.ctx.clock()
    errors: dict[str, str] = {}
    try:
        query = query_from(request)
    except InvalidInput as e:
        errors = {e.field: e.message}
        query = dash.DashboardQuery()
    page = dash.dashboard(db, actor=user, query=query, now=now, source_ip=client_ip(request))
    db.commit()
    export_query = {k: v for k, v in (("filter", query.filter or ""), ("q", query.search), ("sort", query.sort),
                                       ("dir", "desc" if query.descending else "asc")) if v}  # fmt: skip
    return render(
        request,
        "clinic_dashboard.html",
        title="Clinic",
        user=user,
        db=db,
        active="home",
        errors=errors,
        status_code=422 if errors else 200,
        page=page,
        columns=COLUMNS,
        forecast_columns=dash.FORECAST_COLUMNS,
        filters=dash.FILTERS,
        tier_labels=TIER_LABELS,
        link=lambda **kw: _link(query, **kw),
        pager=pager(query.page, page.pages, lambda n: _link(query, page=n)),
        sort_link=lambda column: _sort_link(query, column),
        export_link="/clinic/export.csv" + ("?" + urlencode(export_query) if export_query else ""),
        when=_when,
        now=now,
        nav_counts=page.counts,
    )


@router.get("/clinic/export.csv")
def clinic_export(request: Request, user: PageUser, db: Db) -> Response:
    _only_clinicians(user)
    now = request.app.state.ctx.clock()
    query = query_from(request)
    rows = dash.dashboard_export(db, actor=user, query=query, now=now, source_ip=client_ip(request))
    db.commit()
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(dash.csv_rows(rows))
    stamp = now.strftime("%Y-%m-%d")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="clinic-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/clinic/export.xlsx")
def clinic_export_xlsx(request: Request, user: PageUser, db: Db) -> Response:
    """The clinic table as XLSX: the same rows as the CSV, numbers as numbers, text never run as a formula."""
    from alscare.actions.record_sheets import clinic_table_rows, xlsx_bytes

    _only_clinicians(user)
    now = request.app.state.ctx.clock()
    rows = dash.dashboard_export(db, actor=user, query=query_from(request), now=now, source_ip=client_ip(request))
    db.commit()
    return Response(
        xlsx_bytes({"clinic": clinic_table_rows(dash.csv_rows(rows))}),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="clinic-{now.strftime("%Y-%m-%d")}.xlsx"',
            "Cache-Control": "no-store",
        },
    )

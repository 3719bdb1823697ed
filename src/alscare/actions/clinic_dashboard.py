"""The clinic dashboard: counts that need attention, and one table of every person the clinic cares for.

Who is on it: people whose record is shared with the clinician's clinic under a scope that covers check-ins
(``checkins``, ``full_record`` or ``proxy`` — the scopes under which the clinic receives alerts), decided for
the whole list in one subquery. Clinic administrators run accounts and see no clinical data, so the
dashboard is for clinicians only.

Cost: a fixed number of SQL statements whatever the clinic's size — one for the rows of the page (names,
summaries and open-alert counts joined), one for the total, one per count — and one audit event per page
view naming the people shown (``audit.record_list_view``), not one per person.

Saved filters (each a precise rule over stored data):

- ``fast``: *fast progressors* — ALSFRS-R least-squares slope ≤ −1.0 points/month, or ΔFS ≥ 1.0
  points/month at the latest assessment (Kimura 2006 fast band, ``progression.KIMURA_FAST_FROM``; the same
  1 point/month on the slope, which is negative when function is lost).
- ``overdue``: a symptom check-in or an ALSFRS-R is past its due date (``actions.schedules`` rules: last done
  + interval, default 7 and 28 days), i.e. ``patient_summaries.next_due_at`` ≤ now.
- ``niv_due``: *NIV discussion due* — an unresolved guideline-prompt alert whose prompt id starts with
  ``niv_`` (check-in prompts ``niv_assessment_*``, history prompts ``niv_*``; AAN 2009, Leigh 2003).
- ``gastrostomy_due``: *gastrostomy discussion due* — an unresolved prompt alert whose prompt id starts
  with ``gastrostomy_`` (EFNS 2012, AAN 2009).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from alscare.actions.alerts import ALERT_SCOPES
from alscare.actions.audit import record_list_view
from alscare.actions.errors import InvalidInput, NotFound
from alscare.actions.forecast import CROSSING_COLUMNS, crossing_cells
from alscare.actions.messages import MESSAGE_SCOPES
from alscare.clinical.progression import KIMURA_FAST_FROM
from alscare.storage.models import Alert, ConsentGrant, Message, Patient, User
from alscare.storage.models.clinic_dashboard import PatientSummary

PAGE_SIZE: Final = 25
PAGE_SIZE_MAX: Final = 100
SEARCH_MAX_CHARS: Final = 100
FAST_SLOPE_AT_MOST: Final = -KIMURA_FAST_FROM  # points/month
NIV_PROMPT_PREFIX: Final = "niv_"
GASTROSTOMY_PROMPT_PREFIX: Final = "gastrostomy_"

FILTERS: Final = {
    "fast": "Fast progressors",
    "overdue": "Overdue",
    "niv_due": "NIV discussion due",
    "gastrostomy_due": "Gastrostomy discussion due",
}
TIERS: Final = ("emergency", "contact_team", "prompt")


@dataclass(frozen=True)
class DashboardQuery:
    """What the table shows: a saved filter, a name search, the sort column and direction, the page."""

    filter: str | None = None
    search: str = ""
    sort: str = "next_due"
    descending: bool = False
    page: int = 1
    page_size: int = PAGE_SIZE


_SUMMARY_COLUMNS: Final = tuple(PatientSummary.__table__.c)


class SummaryRow(NamedTuple):
    """One ``patient_summaries`` row, read as plain values (same names as the table's columns)."""

    patient_id: int
    refreshed_at: datetime
    last_check_in_at: datetime | None
    last_check_in_tier: str | None
    last_alsfrs_on: date | None
    last_alsfrs_total: int | None
    alsfrs_change_3m: int | None
    slope_per_month: float | None
    slope_se: float | None
    delta_fs: float | None
    kings_stage: str | None
    kings_rank: int | None
    mitos_stage: int | None
    latest_fvc_percent: float | None
    latest_fvc_at: datetime | None
    latest_weight_kg: float | None
    weight_change_percent: float | None
    symptom_due_at: datetime | None
    alsfrs_due_at: datetime | None
    next_due_at: datetime | None
    speech_at_most_2_from: date | None
    speech_at_most_2_to: date | None
    speech_at_most_2_reached: bool | None
    fvc_below_50_from: date | None
    fvc_below_50_to: date | None
    fvc_below_50_reached: bool | None
    total_at_most_24_from: date | None
    total_at_most_24_to: date | None
    total_at_most_24_reached: bool | None


@dataclass(frozen=True)
class DashboardRow:
    patient_id: int
    full_name: str
    summary: SummaryRow | None
    open_alerts: int
    overdue: bool
    # The "expected to cross" columns, keyed by column id (``FORECAST_COLUMNS``), from the stored summary.
    forecast: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Counts:
    """What needs attention now, for the dashboard's header and the navigation badges."""

    open_alerts: dict[str, int]
    unanswered_messages: int
    overdue_people: int

    @property
    def open_alerts_total(self) -> int:
        return sum(self.open_alerts.values())


@dataclass(frozen=True)
class DashboardPage:
    query: DashboardQuery
    rows: list[DashboardRow]
    total: int
    counts: Counts

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))


# --- The forecast's "expected to cross" columns (actions.forecast, from clinical.forecast) -----------------
# (column id, header), after the fixed columns in the table and the CSV; computed for a whole page at once.
FORECAST_COLUMNS: tuple[tuple[str, str], ...] = CROSSING_COLUMNS


def _require_clinician(actor: User) -> int:
    if actor.role != "clinician" or actor.clinic_id is None:
        raise NotFound("Page not found.")
    return actor.clinic_id


def visible_patient_ids(clinic_id: int) -> Select[int]:
    """The people this clinic may see check-ins of: one subquery, used by every clinic-wide list."""
    return select(ConsentGrant.patient_id).where(
        ConsentGrant.grantee_clinic_id == clinic_id,
        ConsentGrant.scope.in_(sorted(ALERT_SCOPES)),
        ConsentGrant.revoked_at.is_(None),
    )


def _open_alerts(clinic_id: int) -> Any:
    return (
        select(Alert.patient_id, func.count(Alert.id).label("n"))
        .where(Alert.clinic_id == clinic_id, Alert.status != "resolved")
        .group_by(Alert.patient_id)
        .subquery()
    )


def _prompt_due(clinic_id: int, prefix: str) -> Select[int]:
    escaped = prefix.replace("_", "\\_")
    return select(Alert.patient_id).where(
        Alert.clinic_id == clinic_id,
        Alert.severity == "prompt",
        Alert.status != "resolved",
        or_(Alert.source_id.like(f"{escaped}%", escape="\\"), Alert.source_id.like(f"%:{escaped}%", escape="\\")),
    )


def _filter_condition(name: str, clinic_id: int, now: datetime) -> ColumnElement[bool]:
    s = PatientSummary
    if name == "fast":
        return or_(s.slope_per_month <= FAST_SLOPE_AT_MOST, s.delta_fs >= KIMURA_FAST_FROM)
    if name == "overdue":
        return s.next_due_at <= now
    if name == "niv_due":
        return Patient.id.in_(_prompt_due(clinic_id, NIV_PROMPT_PREFIX))
    if name == "gastrostomy_due":
        return Patient.id.in_(_prompt_due(clinic_id, GASTROSTOMY_PROMPT_PREFIX))
    raise InvalidInput("filter", f"Choose one of: {', '.join(FILTERS)}.")


def _sort_columns(alerts: Any) -> dict[str, Any]:
    s = PatientSummary
    return {
        "name": Patient.full_name,
        "last_check_in": s.last_check_in_at,
        "open_alerts": func.coalesce(alerts.c.n, 0),
        "alsfrs": s.last_alsfrs_total,
        "change_3m": s.alsfrs_change_3m,
        "slope": s.slope_per_month,
        "kings": s.kings_rank,
        "mitos": s.mitos_stage,
        "fvc": s.latest_fvc_percent,
        "weight": s.weight_change_percent,
        "next_due": s.next_due_at,
    }


SORTS: Final = (
    "name",
    "last_check_in",
    "open_alerts",
    "alsfrs",
    "change_3m",
    "slope",
    "kings",
    "mitos",
    "fvc",
    "weight",
    "next_due",
)


def check_query(query: DashboardQuery) -> DashboardQuery:
    """Refuse a query naming an unknown filter or column, or a page out of range (the field is named)."""
    if query.filter is not None and query.filter not in FILTERS:
        raise InvalidInput("filter", f"Choose one of: {', '.join(FILTERS)}.")
    if query.sort not in SORTS:
        raise InvalidInput("sort", f"Sort by one of: {', '.join(SORTS)}.")
    if query.page < 1:
        raise InvalidInput("page", "Pages start at 1.")
    if not 1 <= query.page_size <= PAGE_SIZE_MAX:
        raise InvalidInput("page_size", f"Show between 1 and {PAGE_SIZE_MAX} people a page.")
    if len(query.search) > SEARCH_MAX_CHARS:
        raise InvalidInput("q", f"Search with at most {SEARCH_MAX_CHARS} characters.")
    return query


def _table(clinic_id: int, query: DashboardQuery, now: datetime) -> tuple[Select[Any], list[ColumnElement[bool]], Any]:
    alerts = _open_alerts(clinic_id)
    conditions: list[ColumnElement[bool]] = [Patient.id.in_(visible_patient_ids(clinic_id))]
    if query.filter:
        conditions.append(_filter_condition(query.filter, clinic_id, now))
    if query.search.strip():
        term = query.search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(func.lower(Patient.full_name).like(f"%{term}%", escape="\\"))
    order = _sort_columns(alerts)[query.sort]
    ordered = order.desc() if query.descending else order.asc()
    stmt = (
        select(Patient.id, Patient.full_name, func.coalesce(alerts.c.n, 0), *_SUMMARY_COLUMNS)
        .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
        .outerjoin(alerts, alerts.c.patient_id == Patient.id)
        .where(and_(*conditions))
        .order_by(ordered.nulls_last(), Patient.full_name, Patient.id)
    )
    return stmt, conditions, alerts


def _rows(db: Session, stmt: Select[Any], now: datetime) -> list[DashboardRow]:
    # Plain rows, not ORM objects: the CSV of 10,000 people spends its time here.
    rows = []
    for pid, name, n, *values in db.execute(stmt):
        summary = None if values[0] is None else SummaryRow(*values)
        rows.append(
            DashboardRow(
                patient_id=pid,
                full_name=name,
                summary=summary,
                open_alerts=int(n),
                overdue=summary is not None and summary.next_due_at is not None and summary.next_due_at <= now,
                forecast={} if summary is None else crossing_cells(summary),
            )
        )
    return rows


def unanswered_count_for_clinic(db: Session, *, clinic_id: int) -> int:
    """How many conversations wait for the clinic's answer: the person (or carer) wrote last.

    The same people as ``messages.unanswered_for_clinic`` (own clinic, sharing check-ins), as one count.
    """
    granted = select(ConsentGrant.patient_id).where(
        ConsentGrant.grantee_clinic_id == clinic_id,
        ConsentGrant.scope.in_(MESSAGE_SCOPES),
        ConsentGrant.revoked_at.is_(None),
    )
    # One pass over the messages: each conversation's newest message, and its newest from the clinic.
    last = (
        select(
            Message.patient_id,
            func.max(Message.created_at).label("at"),
            func.max(case((Message.from_clinic.is_(True), Message.created_at))).label("clinic_at"),
        )
        .where(Message.patient_id.in_(granted))
        .group_by(Message.patient_id)
        .subquery()
    )
    stmt = (
        select(func.count(last.c.patient_id))
        .join(Patient, Patient.id == last.c.patient_id)
        .where(
            Patient.clinic_id == clinic_id,
            or_(last.c.clinic_at.is_(None), last.c.at > last.c.clinic_at),
        )
    )
    return int(db.execute(stmt).scalar_one())


def counts_for_clinic(db: Session, *, actor: User, now: datetime) -> Counts:
    """Open alerts by tier, unanswered conversations and overdue people: three aggregate queries."""
    clinic_id = _require_clinician(actor)
    visible = visible_patient_ids(clinic_id)
    by_tier = dict.fromkeys(TIERS, 0)
    for severity, n in db.execute(
        select(Alert.severity, func.count(Alert.id))
        .where(Alert.clinic_id == clinic_id, Alert.status == "open", Alert.patient_id.in_(visible))
        .group_by(Alert.severity)
    ):
        by_tier[severity] = int(n)
    overdue = db.execute(
        select(func.count(PatientSummary.patient_id)).where(
            PatientSummary.patient_id.in_(visible), PatientSummary.next_due_at <= now
        )
    ).scalar_one()
    return Counts(
        open_alerts=by_tier,
        unanswered_messages=unanswered_count_for_clinic(db, clinic_id=clinic_id),
        overdue_people=int(overdue),
    )


def dashboard(
    db: Session, *, actor: User, query: DashboardQuery, now: datetime, source_ip: str | None = None
) -> DashboardPage:
    """One page of the table, its total, and the counts; one audit event naming the people shown."""
    clinic_id = _require_clinician(actor)
    query = check_query(query)
    stmt, conditions, _alerts = _table(clinic_id, query, now)
    total = db.execute(
        select(func.count(Patient.id))
        .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
        .where(and_(*conditions))
    ).scalar_one()
    offset = (query.page - 1) * query.page_size
    rows = _rows(db, stmt.limit(query.page_size).offset(offset), now)
    record_list_view(
        db,
        now=now,
        actor_user_id=actor.id,
        resource="clinic_dashboard",
        patient_ids=[r.patient_id for r in rows],
        source_ip=source_ip,
    )
    return DashboardPage(query=query, rows=rows, total=int(total), counts=counts_for_clinic(db, actor=actor, now=now))


def dashboard_export(
    db: Session, *, actor: User, query: DashboardQuery, now: datetime, source_ip: str | None = None
) -> list[DashboardRow]:
    """Every row of the (filtered, sorted) table, for the CSV export; one audit event naming everyone in it."""
    clinic_id = _require_clinician(actor)
    query = check_query(query)
    stmt, _conditions, _alerts = _table(clinic_id, query, now)
    rows = _rows(db, stmt, now)
    record_list_view(
        db,
        now=now,
        actor_user_id=actor.id,
        resource="clinic_dashboard_csv",
        patient_ids=[r.patient_id for r in rows],
        source_ip=source_ip,
    )
    return rows


# --- CSV --------------------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection; OWASP "CSV Injection").
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Text cells that a spreadsheet would read as a formula get a leading apostrophe (shown, not run).

    Applied to every text cell (names, stages, tiers, dates as text). Numbers we compute ourselves (a slope of
    -1.2) are written as numbers, so spreadsheets still sort them; they cannot carry a formula.
    """
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


CSV_HEADER: Final = (
    "patient_id",
    "name",
    "last_check_in",
    "last_check_in_tier",
    "open_alerts",
    "alsfrs_r_total",
    "alsfrs_r_assessed_on",
    "alsfrs_r_change_3_months",
    "slope_points_per_month",
    "kings_stage",
    "mitos_stage",
    "latest_fvc_percent",
    "weight_change_percent",
    "next_due",
    "overdue",
)


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def csv_rows(rows: Sequence[DashboardRow]) -> list[list[str]]:
    """Header and rows, every text cell neutralised (see ``neutralise``)."""
    header = [*CSV_HEADER, *(c[0] for c in FORECAST_COLUMNS)]
    out: list[list[str]] = [header]
    for r in rows:
        s = r.summary
        text = [
            r.full_name,
            s.last_check_in_at.isoformat() if s and s.last_check_in_at else "",
            (s.last_check_in_tier or "") if s else "",
        ]
        cells = [
            str(r.patient_id),
            *[neutralise(t) for t in text],
            str(r.open_alerts),
            _number(s.last_alsfrs_total if s else None),
            s.last_alsfrs_on.isoformat() if s and s.last_alsfrs_on else "",
            _number(s.alsfrs_change_3m if s else None),
            _number(s.slope_per_month if s else None),
            neutralise((s.kings_stage or "") if s else ""),
            _number(s.mitos_stage if s else None),
            _number(s.latest_fvc_percent if s else None),
            _number(s.weight_change_percent if s else None),
            s.next_due_at.isoformat() if s and s.next_due_at else "",
            "yes" if r.overdue else "no",
            *[neutralise(r.forecast.get(c[0], "")) for c in FORECAST_COLUMNS],
        ]
        out.append(cells)
    return out

"""The timeline as the page and the visit-summary PDF show it: charts, plain-words summaries, data tables,
the clinician's progression figures and stage history, the check-in history and the body-map grid.

Shaping only: scores, staging and progression come from the clinical core, words from
``wording/timeline.en.toml``, the SVG from ``alscare.web.charts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from markupsafe import Markup

from alscare.actions.checkins import BODY_REGIONS, BODY_SYMPTOMS
from alscare.actions.timeline import CheckInPoint, Timeline
from alscare.clinical.alsfrs_r import Assessment, Domain
from alscare.clinical.errors import InvalidInput
from alscare.clinical.progression import DatedTotal, ProgressionSummary, summarise_progression
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.clinical.wording import load_wording
from alscare.storage.models import AlsfrsAssessment, User
from alscare.web.charts import DASHES, Axis, BandPoint, How, Point, RefLine, Series, legend_mark, line_chart
from alscare.web.pages.checkins import REGION_LABELS, SYMPTOM_LABELS, reported
from alscare.web.presenters import DOMAIN_LABELS, MODE_LABELS, kings_label

WORDS: Final[dict[str, Any]] = load_wording("timeline.en")
TIER_LABELS: Final = {"routine": "Routine", "contact_team": "Contact the team today", "emergency": "Emergency"}
REPORTER_LABELS: Final = {"self": "The person", "caregiver": "A carer", "clinician": "The clinic"}
MODE_HOW: Final[dict[str, How]] = {
    "self_report": "self",
    "caregiver": "self",
    "clinician_in_person": "clinic",
    "clinician_phone": "phone",
}
REPORTER_HOW: Final[dict[str, How]] = {"self": "self", "caregiver": "self", "clinician": "clinic"}
# "In the last 3 months" in the score summary: 92 days, as the history prompts (clinical.history_prompts).
RECENT_WINDOW_DAYS: Final = 92
BODY_MAP_MONTHS: Final = 12


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class ChartView:
    id: str
    heading: str
    summary: str
    svg: Markup
    legend: list[tuple[Markup, str]]
    series_legend: list[tuple[str, str]]
    table: Table
    note: str | None = None


@dataclass(frozen=True)
class StageRow:
    on: date
    mode: str
    total: int
    kings: str
    mitos: int
    flag: str | None


@dataclass(frozen=True)
class Clinical:
    progression: ProgressionSummary | None
    stages: list[StageRow]


@dataclass(frozen=True)
class HistoryRow:
    id: int
    when: str
    reporter: str
    tier: str
    tier_label: str
    answers: list[tuple[str, str]]


@dataclass(frozen=True)
class BodyMapGrid:
    months: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class TimelineView:
    shared: bool
    charts: list[ChartView] = field(default_factory=list)
    clinical: Clinical | None = None
    history: list[HistoryRow] = field(default_factory=list)
    body_map: BodyMapGrid | None = None
    page: int = 1
    pages: int = 1
    check_in_count: int = 0


def _n(value: float | Decimal) -> str:
    """A number as people write it: 72, 72.5 (one decimal at most)."""
    d = Decimal(repr(value)) if isinstance(value, float) else value
    text = str(d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text.removesuffix(".0")


def _month(on: date) -> str:
    return f"{on:%B %Y}"


def _day(on: date) -> str:
    return f"{on.day} {on:%B %Y}"


def _who(viewer: User, patient_user_id: int | None) -> dict[str, str]:
    own = patient_user_id is not None and viewer.id == patient_user_id
    return {"whose": "Your" if own else "The", "your": "your" if own else "the"}


def _legend(points: Sequence[Point]) -> list[tuple[Markup, str]]:
    used = [how for how in ("self", "clinic", "phone") if any(p.how == how for p in points)]
    return [(legend_mark(how), WORDS["how"][how]) for how in used]


def _ticks(low: float, high: float, step: float) -> tuple[float, ...]:
    count = int((high - low) / step)
    return tuple(low + i * step for i in range(count + 1))


# --- ALSFRS-R ----------------------------------------------------------------------------------------------------


def _alsfrs_summary(rows: Sequence[AlsfrsAssessment], today: date, who: dict[str, str]) -> str:
    w: dict[str, str] = WORDS["alsfrs"]
    if not rows:
        return w["none"]
    last = rows[-1]
    if len(rows) == 1:
        return w["one"].format(**who, last=last.total, date=_day(last.assessed_on))
    recent = [r for r in rows if today - timedelta(days=RECENT_WINDOW_DAYS) <= r.assessed_on <= today]
    if len(recent) >= 2 and recent[-1] is last:
        key = "same_recent" if recent[0].total == last.total else "change_recent"
        return w[key].format(**who, first=recent[0].total, last=last.total)
    first = rows[0]
    return w["change"].format(
        **who,
        first=first.total,
        first_date=_month(first.assessed_on),
        last=last.total,
        last_date=_month(last.assessed_on),
    )


def alsfrs_chart(
    rows: Sequence[AlsfrsAssessment],
    *,
    today: date,
    who: dict[str, str],
    band: Sequence[BandPoint] | None = None,
) -> ChartView:
    """The ALSFRS-R total. FORECAST HOOK: ``band`` (date, total, low, high) is drawn beyond today."""
    w: dict[str, str] = WORDS["alsfrs"]
    points = tuple(Point(r.assessed_on, r.total, MODE_HOW.get(r.administration_mode, "self")) for r in rows)
    svg = line_chart(
        chart_id="chart-alsfrs",
        title=w["title"],
        desc=w["desc"],
        series=[Series("ALSFRS-R total", points)],
        axis=Axis(0, 48, _ticks(0, 48, 12)),
        today=today,
        band=band,
        band_label=w["forecast"],
    )
    table = Table(
        caption=w["title"],
        headers=["Date", "Total (of 48)", *DOMAIN_LABELS.values(), "How it was taken"],
        rows=[
            [
                _day(r.assessed_on),
                str(r.total),
                *(str(v) for v in Assessment.from_answers(r.answers).domains.values()),
                MODE_LABELS.get(r.administration_mode, r.administration_mode),
            ]
            for r in reversed(rows)
        ],
    )
    legend = _legend(points)
    if band and any(b.on > today for b in band):
        legend.append((Markup('<span class="legend-band" aria-hidden="true"></span>'), w["forecast"]))
    return ChartView("alsfrs", w["title"], _alsfrs_summary(rows, today, who), svg, legend, [], table, note=w["about"])


def domains_chart(rows: Sequence[AlsfrsAssessment], *, today: date) -> ChartView:
    w: dict[str, str] = WORDS["domains"]
    scored = [(r, Assessment.from_answers(r.answers).domains) for r in rows]
    series = [
        Series(
            DOMAIN_LABELS[domain],
            tuple(Point(r.assessed_on, d[domain], MODE_HOW.get(r.administration_mode, "self")) for r, d in scored),
            css=f"series-{i + 1}",
            dash=DASHES[i],
        )
        for i, domain in enumerate(Domain)
    ]
    svg = line_chart(
        chart_id="chart-domains",
        title=w["title"],
        desc=w["desc"],
        series=series,
        axis=Axis(0, 12, _ticks(0, 12, 3)),
        today=today,
    )
    summary = w["latest"].format(**{d.value: scored[-1][1][d] for d in Domain}) if scored else WORDS["alsfrs"]["none"]
    table = Table(
        caption=w["title"],
        headers=["Date", *DOMAIN_LABELS.values()],
        rows=[[_day(r.assessed_on), *(str(d[x]) for x in Domain)] for r, d in reversed(scored)],
    )
    series_legend = [(s.css, s.label) for s in series]
    all_points = [p for s in series for p in s.points]
    return ChartView("domains", w["title"], summary, svg, _legend(all_points), series_legend, table)


# --- Measurements -------------------------------------------------------------------------------------------------


def _usual_weight(points: Sequence[CheckInPoint]) -> float | None:
    usual = [p.usual_weight_kg for p in points if p.usual_weight_kg is not None]
    return usual[-1] if usual else None


def weight_percent_change(weight: float, usual: float) -> Decimal:
    """Change from usual weight in %, exact then rounded to one decimal (negative = below usual)."""
    w, u = Decimal(repr(weight)), Decimal(repr(usual))
    return ((w - u) / u * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def weight_chart(points: Sequence[CheckInPoint], *, today: date, who: dict[str, str]) -> ChartView:
    w: dict[str, str] = WORDS["weight"]
    measured = [p for p in points if p.weight_kg is not None]
    usual = _usual_weight(points)
    series_points = tuple(
        Point(p.submitted_at.date(), p.weight_kg, REPORTER_HOW.get(p.reporter, "self"))
        for p in measured
        if p.weight_kg is not None
    )
    values = [p.value for p in series_points] + ([usual] if usual else [])
    low = max(0.0, (min(values, default=60) // 10) * 10 - 10)
    high = (max(values, default=80) // 10) * 10 + 10
    refs = [RefLine(usual, w["usual_line"].format(usual=_n(usual)))] if usual else []
    svg = line_chart(
        chart_id="chart-weight",
        title=w["title"],
        desc=w["desc"],
        series=[Series("Weight (kg)", series_points)],
        axis=Axis(low, high, _ticks(low, high, 10 if high - low <= 60 else 20)),
        today=today,
        ref_lines=refs,
    )
    if not measured:
        summary = w["none"]
    else:
        last = measured[-1]
        assert last.weight_kg is not None
        if usual is None:
            summary = w["latest"].format(**who, weight=_n(last.weight_kg), date=_day(last.submitted_at.date()))
        else:
            change = weight_percent_change(last.weight_kg, usual)
            key = "same" if change == 0 else ("below" if change < 0 else "above")
            summary = w[key].format(**who, weight=_n(last.weight_kg), percent=_n(abs(change)), usual=_n(usual))
    rows: list[list[str]] = []
    for p in reversed(measured):
        assert p.weight_kg is not None
        shown = "" if usual is None else f"{weight_percent_change(p.weight_kg, usual):+} %"
        rows.append([_day(p.submitted_at.date()), _n(p.weight_kg), shown, REPORTER_LABELS.get(p.reporter, "")])
    table = Table(w["title"], ["Date", "Weight (kg)", "Change from usual weight", "Reported by"], rows)
    return ChartView("weight", w["title"], summary, svg, _legend(series_points), [], table)


def _measure_chart(
    key: str,
    attr: str,
    points: Sequence[CheckInPoint],
    *,
    today: date,
    who: dict[str, str],
    axis: Axis,
    refs: list[RefLine],
    unit_header: str,
) -> ChartView:
    w: dict[str, str] = WORDS[key]
    measured = [(p, getattr(p, attr)) for p in points if getattr(p, attr) is not None]
    series_points = tuple(Point(p.submitted_at.date(), v, REPORTER_HOW.get(p.reporter, "self")) for p, v in measured)
    svg = line_chart(
        chart_id=f"chart-{key}",
        title=w["title"],
        desc=w["desc"],
        series=[Series(w["title"], series_points)],
        axis=axis,
        today=today,
        ref_lines=refs,
    )
    if not measured:
        summary = w["none"]
    elif len(measured) == 1:
        summary = w["latest"].format(**who, last=_n(measured[0][1]), date=_day(measured[0][0].submitted_at.date()))
    else:
        (first, a), (last, b) = measured[0], measured[-1]
        summary = w["change"].format(
            **who,
            first=_n(a),
            last=_n(b),
            first_date=_month(first.submitted_at.date()),
            last_date=_month(last.submitted_at.date()),
        )
    rows = [[_day(p.submitted_at.date()), _n(v), REPORTER_LABELS.get(p.reporter, "")] for p, v in reversed(measured)]
    return ChartView(
        key,
        w["title"],
        summary,
        svg,
        _legend(series_points),
        [],
        Table(w["title"], ["Date", unit_header, "Reported by"], rows),
    )


# --- Clinician figures ----------------------------------------------------------------------------------------


def clinical_figures(rows: Sequence[AlsfrsAssessment], onset: date | None) -> Clinical:
    """ΔFS, slope ± SE and Kimura band (clinical.progression); King's and MiToS per assessment, with a flag when
    a stage went down just after the way of taking the score changed (modes differ at item level: Kaufmann 2007)."""
    progression = None
    if rows and onset is not None:
        try:
            progression = summarise_progression(onset, [DatedTotal(r.assessed_on, r.total) for r in rows])
        except InvalidInput:
            progression = None
    stages: list[StageRow] = []
    previous: tuple[int, int, str] | None = None
    for r in rows:
        a = Assessment.from_answers(r.answers)
        k, m = kings_stage(a), mitos_stage(a)
        flag = None
        if previous is not None:
            went_down = k.stage < previous[0] or m.stage < previous[1]
            if went_down and r.administration_mode != previous[2]:
                flag = WORDS["clinical"]["stage_down_after_mode_change"].format(
                    before=MODE_LABELS.get(previous[2], previous[2]),
                    after=MODE_LABELS.get(r.administration_mode, r.administration_mode),
                )
        stages.append(
            StageRow(
                r.assessed_on,
                MODE_LABELS.get(r.administration_mode, r.administration_mode),
                r.total,
                kings_label(k.stage, k.nutritional_failure, k.respiratory_failure),
                m.stage,
                flag,
            )
        )
        previous = (k.stage, m.stage, r.administration_mode)
    return Clinical(progression, stages)


# --- Check-in history and body map ------------------------------------------------------------------------------


def body_map_grid(points: Sequence[CheckInPoint], *, today: date) -> BodyMapGrid:
    """Region × month for the last 12 months: the symptoms marked in any check-in of that month."""
    months: list[tuple[int, int]] = []
    y, m = today.year, today.month
    for _ in range(BODY_MAP_MONTHS):
        months.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    months.reverse()
    marked: dict[tuple[int, int], dict[str, set[str]]] = {}
    for p in points:
        key = (p.submitted_at.year, p.submitted_at.month)
        regions = marked.setdefault(key, {})
        for region, symptoms in (p.body_map or {}).items():
            regions.setdefault(region, set()).update(symptoms)
    words: dict[str, str] = WORDS["body_map"]
    rows: list[tuple[str, list[str]]] = []
    for region in BODY_REGIONS:
        cells = []
        for key in months:
            if key not in marked:
                cells.append(words["no_check_in"])
                continue
            found = [SYMPTOM_LABELS[s] for s in BODY_SYMPTOMS if s in marked[key].get(region, set())]
            cells.append(", ".join(found) if found else words["nothing"])
        rows.append((REGION_LABELS[region], cells))
    return BodyMapGrid([f"{date(y, m, 1):%b %Y}" for y, m in months], rows)


def build(
    timeline: Timeline,
    *,
    viewer: User,
    today: date,
    band: Sequence[BandPoint] | None = None,
    clinical: bool | None = None,
) -> TimelineView:
    """Everything the timeline shows, for this viewer. FORECAST HOOK: pass ``band`` for the ALSFRS-R chart.

    The clinician figures (ΔFS, slope, stage history) are for clinic staff on the page (``clinical=None``); the
    visit summary, made to take to the clinic, asks for them for everyone (``clinical=True``)."""
    if timeline.assessments is None or timeline.points is None or timeline.check_ins is None:
        return TimelineView(shared=False)
    who = _who(viewer, timeline.patient.user_id)
    rows, points = timeline.assessments, timeline.points
    charts = [
        alsfrs_chart(rows, today=today, who=who, band=band),
        domains_chart(rows, today=today),
        weight_chart(points, today=today, who=who),
        _measure_chart(
            "fvc",
            "fvc_percent",
            points,
            today=today,
            who=who,
            axis=Axis(0, 120, _ticks(0, 120, 20)),
            refs=[RefLine(80, WORDS["fvc"]["line_80"]), RefLine(50, WORDS["fvc"]["line_50"])],
            unit_header="FVC (% of predicted)",
        ),
        _measure_chart(
            "snip",
            "snip_cmh2o",
            points,
            today=today,
            who=who,
            axis=Axis(0, 120, _ticks(0, 120, 20)),
            refs=[RefLine(40, WORDS["snip"]["line_40"])],
            unit_header="SNIP (cmH₂O)",
        ),
    ]
    history = [
        HistoryRow(
            c.id,
            _day(c.submitted_at.date()),
            REPORTER_LABELS.get(c.reporter, c.reporter),
            c.tier,
            TIER_LABELS.get(c.tier, c.tier),
            reported(c),
        )
        for c in timeline.check_ins
    ]
    return TimelineView(
        shared=True,
        charts=charts,
        clinical=clinical_figures(rows, timeline.patient.onset_date)
        if (viewer.is_clinic_staff if clinical is None else clinical)
        else None,
        history=history,
        body_map=body_map_grid(points, today=today),
        page=timeline.page,
        pages=timeline.pages,
        check_in_count=timeline.check_in_count,
    )

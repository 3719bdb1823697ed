"""Charts as SVG, drawn in Python from numbers: no chart library and no JavaScript in the browser.

Why server-side SVG: the page works with scripts off, prints as it looks, and is the same in the PDF visit
summary (WeasyPrint draws SVG). Accessibility is built in rather than added on:

* every chart is ``role="img"`` with a ``<title>`` and ``<desc>`` (``aria-labelledby``), and the page puts a
  plain-words summary and a data table beside it, so nothing is only in the picture;
* how each point was taken (self-report, clinic, phone) is a *shape* — circle, square, diamond — never colour
  alone (WCAG 1.4.1), and series differ by dash pattern as well as colour;
* strokes and fills use ``currentColor`` and CSS classes, so forced-colours mode (Windows High Contrast) and
  print get legible lines (``alscare.css`` maps the classes to system colours under ``forced-colors``).

``line_chart`` also takes an optional forecast band, drawn as a shaded area beyond today: the hook for the
ALSFRS-R forecast (``clinical/forecast.py``, another stream), tested with a hand-made series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Literal

from markupsafe import Markup, escape

How = Literal["self", "clinic", "phone"]
HOW_SHAPES: Final[dict[str, str]] = {"self": "circle", "clinic": "square", "phone": "diamond"}

WIDTH: Final = 560
HEIGHT: Final = 260
LEFT: Final = 48
RIGHT: Final = 16
TOP: Final = 16
BOTTOM: Final = 40
MARKER: Final = 5.5
DASHES: Final = (None, "8 4", "2 4", "12 4 2 4", "4 4")
# Presentation attributes in the SVG itself, so it draws right where page CSS does not reach (WeasyPrint, a
# saved file); the page's CSS classes override them on screen and in forced colours.
_INK: Final = ' stroke="currentColor" fill="currentColor" font-size="14"'
_TEXT: Final = '<text stroke="none" '
_SHADE: Final = 'fill="currentColor" fill-opacity="0.18" stroke="none"'
_LINE: Final = 'fill="none" stroke="currentColor" stroke-width="2.5"'


@dataclass(frozen=True)
class Point:
    on: date
    value: float
    how: How = "self"


@dataclass(frozen=True)
class Series:
    """One line. ``css`` names its class (its colour on screen); ``dash`` its stroke pattern."""

    label: str
    points: tuple[Point, ...]
    css: str = "series-0"
    dash: str | None = None
    markers: bool = True


@dataclass(frozen=True)
class RefLine:
    """A horizontal reference line (say FVC 50 %), labelled on the chart."""

    value: float
    label: str


@dataclass(frozen=True)
class BandPoint:
    """One point of a forecast: the expected total and the band around it."""

    on: date
    total: float
    low: float
    high: float


@dataclass(frozen=True)
class Axis:
    low: float
    high: float
    ticks: tuple[float, ...] = field(default=())


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _month_ticks(start: date, end: date) -> list[date]:
    """First days of months between ``start`` and ``end``, every 1, 2, 3, 6, 12 or 24 months: at most 6."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next(s for s in (1, 2, 3, 6, 12, 24) if months / s <= 6)
    index = start.year * 12 + start.month - 1 + (1 if start.day > 1 else 0)
    ticks: list[date] = []
    while (tick := date(index // 12, index % 12 + 1, 1)) <= end:
        if index % step == 0:
            ticks.append(tick)
        index += 1
    return ticks


def marker(shape: str, x: float, y: float, size: float = MARKER) -> str:
    """One point's mark: circle (self-report), square (clinic), diamond (phone)."""
    if shape == "square":
        s = size * 0.9
        return (
            f'<rect class="mark" fill="currentColor" x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" '
            f'height="{2 * s:.1f}"/>'
        )
    if shape == "diamond":
        s = size * 1.25
        pts = f"{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} {x - s:.1f},{y:.1f}"
        return f'<polygon class="mark mark-open" fill="white" stroke="currentColor" stroke-width="2" points="{pts}"/>'
    return f'<circle class="mark" fill="currentColor" cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}"/>'


def legend_mark(how: str) -> Markup:
    """A small inline SVG of one shape, for the HTML legend beside a chart (decorative: the text says it)."""
    shape = HOW_SHAPES[how]
    return Markup(
        f'<svg class="legend-mark" width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">'
        f"{marker(shape, 9, 9, 5)}</svg>"
    )


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    axis: Axis,
    today: date,
    ref_lines: Sequence[RefLine] = (),
    band: Sequence[BandPoint] | None = None,
    band_label: str = "Forecast",
) -> Markup:
    """An SVG line chart over time. ``band`` (forecast): only its points after ``today`` are drawn, as a shaded
    area from ``low`` to ``high`` with a dashed line through ``total``."""
    future = sorted((b for b in band or () if b.on > today), key=lambda b: b.on)
    dates = [p.on for s in series for p in s.points] + [b.on for b in future]
    start = min(dates, default=today)
    end = max([*dates, today])
    if (end - start).days < 30:
        start, end = start - timedelta(days=15), end + timedelta(days=15)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    span = max((end - start).days, 1)

    def x(on: date) -> float:
        return LEFT + (on - start).days / span * plot_w

    def y(value: float) -> float:
        clamped = min(max(value, axis.low), axis.high)
        return TOP + (axis.high - clamped) / (axis.high - axis.low) * plot_h

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out: list[str] = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
        f'<g class="axis" aria-hidden="true"{_INK}>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
    ]
    for tick in axis.ticks:
        ty = y(tick)
        out.append(
            f'<line class="grid" stroke-opacity="0.25" x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}"/>'
        )
        out.append(f'{_TEXT}x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    for tick_date in _month_ticks(start, end):
        tx = x(tick_date)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP + plot_h}" x2="{tx:.1f}" y2="{TOP + plot_h + 5}"/>')
        out.append(f'{_TEXT}x="{tx:.1f}" y="{TOP + plot_h + 20}" text-anchor="middle">{tick_date:%b %Y}</text>')
    out.append("</g>")
    if future:
        # The forecast hook: a shaded band beyond today, and the expected line through it.
        upper = " ".join(f"{x(b.on):.1f},{y(b.high):.1f}" for b in future)
        lower = " ".join(f"{x(b.on):.1f},{y(b.low):.1f}" for b in reversed(future))
        middle = " ".join(f"{x(b.on):.1f},{y(b.total):.1f}" for b in future)
        out.append(f'<g class="band" aria-hidden="true"><title>{escape(band_label)}</title>')
        out.append(f'<polygon class="band-area" points="{upper} {lower}" {_SHADE}/>')
        out.append(f'<polyline class="band-line" points="{middle}" {_LINE} stroke-dasharray="6 4"/></g>')
    if today >= start:
        tx = x(today)
        out.append(
            f'<g class="today" aria-hidden="true"{_INK}>'
            f'<line x1="{tx:.1f}" y1="{TOP}" x2="{tx:.1f}" y2="{TOP + plot_h}"'
            f' stroke-dasharray="2 3"/>{_TEXT}x="{tx - 4:.1f}" y="{TOP + 12}" text-anchor="end">Today</text></g>'
        )
    for ref in ref_lines:
        ry = y(ref.value)
        out.append(
            f'<g class="ref" aria-hidden="true"{_INK}>'
            f'<line x1="{LEFT}" y1="{ry:.1f}" x2="{LEFT + plot_w}" y2="{ry:.1f}"'
            f' stroke-dasharray="10 5"/>{_TEXT}x="{LEFT + plot_w - 4}" y="{ry - 5:.1f}" text-anchor="end">'
            f"{escape(ref.label)}</text></g>"
        )
    for s in series:
        pts = sorted(s.points, key=lambda p: p.on)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(f'<g class="series {escape(s.css)}" aria-hidden="true">')
        if len(pts) > 1:
            line = " ".join(f"{x(p.on):.1f},{y(p.value):.1f}" for p in pts)
            out.append(f'<polyline class="line" points="{line}" {_LINE}{dash}/>')
        if s.markers:
            out.extend(marker(HOW_SHAPES[p.how], x(p.on), y(p.value)) for p in pts)
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))

"""Server-drawn SVG charts: accessible names, shapes by how a point was taken, reference lines, and the
forecast band (the hook for clinical/forecast.py) drawn only beyond today, from a hand-made series."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

from alscare.web.charts import Axis, BandPoint, Point, RefLine, Series, line_chart

NS = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 6, 1)


def chart(**kw: object) -> ET.Element:
    points = (
        Point(date(2026, 1, 5), 40, "self"),
        Point(date(2026, 3, 2), 38, "clinic"),
        Point(date(2026, 5, 4), 36, "phone"),
    )
    svg = line_chart(
        chart_id="c",
        title="ALSFRS-R total",
        desc="A line chart",
        series=[Series("Total", points)],
        axis=Axis(0, 48, (0, 12, 24, 36, 48)),
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )
    return ET.fromstring(str(svg))


def test_the_chart_is_an_image_with_a_title_and_a_description() -> None:
    root = chart()
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{NS}title").text == "ALSFRS-R total"  # type: ignore[union-attr]
    assert root.find(f"{NS}desc").text == "A line chart"  # type: ignore[union-attr]


def test_each_way_of_taking_a_point_has_its_own_shape() -> None:
    root = chart()
    marks = [el.tag.removeprefix(NS) for el in root.iter() if "mark" in (el.get("class") or "")]
    assert marks == ["circle", "rect", "polygon"]  # self-report, clinic, phone


def test_reference_lines_are_drawn_and_labelled() -> None:
    root = chart(ref_lines=[RefLine(40, "40 cmH₂O")])
    (ref,) = [g for g in root.iter(f"{NS}g") if g.get("class") == "ref"]
    line = ref.find(f"{NS}line")
    assert line is not None and line.get("y1") == line.get("y2")
    assert ref.find(f"{NS}text").text == "40 cmH₂O"  # type: ignore[union-attr]


def test_the_forecast_band_is_shaded_beyond_today_only() -> None:
    band = [
        BandPoint(date(2026, 5, 1), 36, 35, 37),  # before today: not drawn
        BandPoint(date(2026, 7, 1), 35, 33, 37),
        BandPoint(date(2026, 9, 1), 33, 29, 36),
    ]
    root = chart(band=band)
    (area,) = [el for el in root.iter(f"{NS}polygon") if el.get("class") == "band-area"]
    corners = re.findall(r"([\d.]+),([\d.]+)", area.get("points", ""))
    assert len(corners) == 4  # two future points, upper then lower edge
    today_x = float(root.find(f".//{NS}g[@class='today']/{NS}line").get("x1"))  # type: ignore[union-attr, arg-type]
    assert all(float(cx) > today_x for cx, _ in corners)
    # The upper edge (high) is above the lower edge (low): smaller y in SVG.
    assert float(corners[0][1]) < float(corners[3][1])


def test_no_band_no_shading() -> None:
    assert not [el for el in chart().iter(f"{NS}polygon") if el.get("class") == "band-area"]
    assert not [
        el
        for el in chart(band=[BandPoint(date(2026, 1, 1), 40, 39, 41)]).iter(f"{NS}polygon")
        if el.get("class") == "band-area"
    ]


def test_the_timeline_sentences_read_at_grade_8_or_below() -> None:
    import textstat

    from alscare.clinical.wording import load_wording

    numbers = {"bulbar": 9, "fine_motor": 9, "gross_motor": 9, "respiratory": 12}
    for section, entries in load_wording("timeline.en").items():
        for key, text in entries.items():
            if len(text.split()) < 6:  # labels: too short for a reading-grade formula to mean anything
                continue
            filled = text.format(**numbers) if "{bulbar}" in text else text
            assert textstat.flesch_kincaid_grade(filled) <= 8.0, (section, key)

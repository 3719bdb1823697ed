"""ΔFS, Kimura bands and the least-squares ALSFRS-R slope.

ΔFS: Kimura et al., Neurology 2006;66:265-7 (ΔFS′ at a later test date: Kjældgaard et al., BMC Neurol
2021;21:164). Bands: Kimura 2006 three-group convention (BMC Neurol 2021;21:164, Table 4). Month length
365.25/12 days as in the ENCALS/TRICALS code. Slope SE: the textbook OLS standard error.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alscare.clinical.errors import InvalidInput
from alscare.clinical.progression import (
    DAYS_PER_MONTH,
    DatedTotal,
    ProgressionBand,
    ProgressionSummary,
    delta_fs,
    kimura_band,
    ls_slope,
    months_between,
    summarise_progression,
)

ONSET = date(2025, 1, 10)


def test_month_is_a_twelfth_of_a_julian_year() -> None:
    """days / (365.25 / 12), as in the ENCALS/TRICALS code (clinical-reference.md §2)."""
    assert DAYS_PER_MONTH == 30.4375
    assert months_between(date(2025, 1, 10), date(2025, 7, 10)) == pytest.approx(181 / 30.4375)
    assert months_between(date(2025, 7, 10), date(2025, 1, 10)) == pytest.approx(-181 / 30.4375)


def test_delta_fs_worked_example() -> None:
    """Onset 2025-01-10, total 40 on 2025-07-10: 181 days = 5.9466 months, ΔFS = 8 / 5.9466 = 1.3453 (fast).

    Source: Kimura 2006 (formula and bands).
    """
    value = delta_fs(40, ONSET, date(2025, 7, 10))
    assert value == pytest.approx(1.3453, abs=5e-5)
    assert kimura_band(value) is ProgressionBand.FAST


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, ProgressionBand.SLOW),
        (0.4999, ProgressionBand.SLOW),
        (0.5, ProgressionBand.INTERMEDIATE),
        (0.9999, ProgressionBand.INTERMEDIATE),
        (1.0, ProgressionBand.FAST),
        (3.2, ProgressionBand.FAST),
    ],
)
def test_kimura_band_boundaries(value: float, band: ProgressionBand) -> None:
    """Slow < 0.5, intermediate 0.5 to < 1.0, fast ≥ 1.0 points/month (Kimura 2006, three groups)."""
    assert kimura_band(value) is band


@pytest.mark.parametrize("value", [-0.01, math.nan, math.inf])
def test_kimura_band_refuses_impossible_values(value: float) -> None:
    """ΔFS is a finite loss rate, never negative (Kimura 2006: 48 - total ≥ 0 over positive time)."""
    with pytest.raises(InvalidInput) as caught:
        kimura_band(value)
    assert caught.value.field == "delta_fs"


@pytest.mark.parametrize("total", [-1, 49, True, 40.0])
def test_delta_fs_refuses_a_total_outside_0_to_48(total: int) -> None:
    """The ALSFRS-R total runs 0-48 (Cedarbaum 1999)."""
    with pytest.raises(InvalidInput) as caught:
        delta_fs(total, ONSET, date(2025, 7, 10))
    assert caught.value.field == "total"


@pytest.mark.parametrize("assessed_on", [ONSET, ONSET - timedelta(days=1)])
def test_delta_fs_refuses_an_assessment_not_after_onset(assessed_on: date) -> None:
    """ΔFS divides by time since onset (Kimura 2006); with none elapsed it is undefined."""
    with pytest.raises(InvalidInput) as caught:
        delta_fs(40, ONSET, assessed_on)
    assert caught.value.field == "date"


def test_delta_fs_refuses_a_datetime() -> None:
    """Dates, not timestamps: a datetime would silently shift the day count by time zone."""
    with pytest.raises(InvalidInput) as caught:
        delta_fs(40, ONSET, datetime(2025, 7, 10, 12, 0))
    assert caught.value.field == "date"


# --- Slope --------------------------------------------------------------------------------------------


def test_slope_and_se_hand_example() -> None:
    """Totals 44, 42, 41 at 0, 91 and 182 days. With d = 91/30.4375 months between visits, x = 0, d, 2d:
    Sxx = 2d², Sxy = -3d, slope = -1.5/d; residuals 1/6, -1/3, 1/6 so SSR = 1/6 and
    SE = sqrt(SSR/(n-2)/Sxx) = 1/(d·√12). (Textbook OLS.)
    """
    d = 91 / 30.4375
    start = date(2025, 3, 1)
    points = [DatedTotal(start + timedelta(days=k * 91), total) for k, total in enumerate([44, 42, 41])]
    result = ls_slope(points)
    assert result.per_month == pytest.approx(-1.5 / d)
    assert result.per_month == pytest.approx(-0.501717, abs=1e-6)
    assert result.standard_error == pytest.approx(1 / (d * math.sqrt(12)))
    assert result.standard_error == pytest.approx(0.096556, abs=1e-6)


def test_two_points_give_the_exact_line_and_no_se() -> None:
    """Two points fit exactly, leaving no residual to estimate an error from (textbook OLS, n - 2 = 0)."""
    result = ls_slope([DatedTotal(date(2025, 1, 1), 40), DatedTotal(date(2025, 3, 2), 37)])
    assert result.per_month == pytest.approx(-3 / (60 / 30.4375))
    assert result.standard_error is None


@st.composite
def point_sets(draw: st.DrawFn) -> list[DatedTotal]:
    start = date(2020, 1, 1)
    days = draw(st.lists(st.integers(0, 2000), min_size=3, max_size=12))
    assume(len(set(days)) >= 2)
    return [DatedTotal(start + timedelta(days=d), draw(st.integers(0, 48))) for d in days]


@given(point_sets())
def test_slope_matches_statistics_linear_regression(points: list[DatedTotal]) -> None:
    """Slope equals Python's own OLS (statistics.linear_regression); SE equals the identity
    SE = |b|·sqrt((1 - r²) / (r²·(n - 2))) computed from the correlation r, an independent route.
    """
    first = min(p.on for p in points)
    xs = [(p.on - first).days / 30.4375 for p in points]
    ys = [float(p.total) for p in points]
    result = ls_slope(points)
    expected = statistics.linear_regression(xs, ys).slope
    assert result.per_month == pytest.approx(expected, abs=1e-9)
    assert result.standard_error is not None and result.standard_error >= 0
    if len(set(ys)) > 1:
        r = statistics.correlation(xs, ys)
        if 1e-6 < abs(r) < 1 - 1e-9:
            se = abs(expected) * math.sqrt((1 - r * r) / (r * r * (len(points) - 2)))
            assert result.standard_error == pytest.approx(se, rel=1e-6)


@given(point_sets(), st.randoms(use_true_random=False))
def test_slope_does_not_depend_on_input_order(points: list[DatedTotal], rng: random.Random) -> None:
    """OLS is a function of the set of points, not their order."""
    shuffled = list(points)
    rng.shuffle(shuffled)
    assert ls_slope(shuffled).per_month == pytest.approx(ls_slope(points).per_month, abs=1e-9)


def test_same_day_duplicates_count_when_two_dates_exist() -> None:
    """Two same-day assessments are both real measurements; x̄ = 1/3·x₂, the fit passes through their mean."""
    day0, day1 = date(2025, 1, 1), date(2025, 2, 1)
    result = ls_slope([DatedTotal(day0, 40), DatedTotal(day0, 42), DatedTotal(day1, 38)])
    # Closed form: the two day-0 points average 41, so slope = (38 - 41) / months(day0, day1).
    assert result.per_month == pytest.approx(-3 / (31 / 30.4375))
    assert result.standard_error is not None


@pytest.mark.parametrize(
    "points",
    [
        [],
        [DatedTotal(date(2025, 1, 1), 40)],
        [DatedTotal(date(2025, 1, 1), 40), DatedTotal(date(2025, 1, 1), 39)],
    ],
    ids=["none", "one", "one date"],
)
def test_slope_needs_two_dates(points: list[DatedTotal]) -> None:
    """A line needs two distinct x values (textbook OLS)."""
    with pytest.raises(InvalidInput) as caught:
        ls_slope(points)
    assert caught.value.field == "assessments"


# --- Summary ------------------------------------------------------------------------------------------


def test_summary_uses_the_latest_assessment_whatever_the_input_order() -> None:
    """ΔFS from the most recent total (ΔFS′, Kjældgaard 2021), slope over all, band per Kimura 2006."""
    points = [
        DatedTotal(date(2025, 7, 10), 40),
        DatedTotal(date(2025, 3, 10), 45),
        DatedTotal(date(2025, 5, 10), 43),
    ]
    result = summarise_progression(ONSET, points)
    assert result.delta_fs == pytest.approx(1.3453, abs=5e-5)
    assert result.delta_fs_band is ProgressionBand.FAST
    assert result.slope_per_month == pytest.approx(ls_slope(points).per_month)
    assert result.slope_per_month is not None and result.slope_per_month < 0
    assert result.slope_se == pytest.approx(ls_slope(points).standard_error)


def test_summary_of_a_single_assessment_has_no_slope() -> None:
    """One total gives ΔFS (Kimura 2006) but no slope."""
    result = summarise_progression(ONSET, [DatedTotal(date(2025, 7, 10), 46)])
    assert result == ProgressionSummary(
        delta_fs=result.delta_fs,
        delta_fs_band=ProgressionBand.SLOW,
        slope_per_month=None,
        slope_se=None,
    )
    assert result.delta_fs == pytest.approx(2 / (181 / 30.4375))


def test_summary_of_same_day_assessments_has_no_slope() -> None:
    """Several totals on one day cannot give a rate over time; ΔFS uses the last given for that day."""
    day = date(2025, 7, 10)
    result = summarise_progression(ONSET, [DatedTotal(day, 46), DatedTotal(day, 40)])
    assert result.slope_per_month is None and result.slope_se is None
    assert result.delta_fs == pytest.approx(8 / (181 / 30.4375))


def test_summary_of_two_dates_has_slope_but_no_se() -> None:
    """n = 2: exact line, no SE (textbook OLS)."""
    result = summarise_progression(ONSET, [DatedTotal(date(2025, 3, 1), 46), DatedTotal(date(2025, 6, 1), 44)])
    assert result.slope_per_month == pytest.approx(-2 / (92 / 30.4375))
    assert result.slope_se is None


@pytest.mark.parametrize(
    ("assessments", "field"),
    [
        ([], "assessments"),
        ([DatedTotal(date(2025, 3, 1), 40), DatedTotal(date(2025, 4, 1), 49)], "assessments[1].total"),
        ([DatedTotal(date(2025, 3, 1), -1), DatedTotal(date(2025, 4, 1), 40)], "assessments[0].total"),
        ([DatedTotal(date(2025, 3, 1), 40), DatedTotal(date(2025, 4, 1), True)], "assessments[1].total"),
        ([DatedTotal(date(2025, 4, 1), 40), DatedTotal(date(2024, 12, 1), 47)], "assessments[1].date"),
        ([DatedTotal(ONSET, 48)], "assessments[0].date"),
        ([DatedTotal(datetime(2025, 4, 1, 9, 0), 40)], "assessments[0].date"),
        ([DatedTotal("2025-04-01", 40)], "assessments[0].date"),  # type: ignore[arg-type]
    ],
    ids=["empty", "total 49", "total -1", "total bool", "before onset", "on onset", "datetime", "text date"],
)
def test_summary_refusals_name_the_field_by_input_index(assessments: list[DatedTotal], field: str) -> None:
    """Totals 0-48 (Cedarbaum 1999); dates after onset (ΔFS needs elapsed time, Kimura 2006)."""
    with pytest.raises(InvalidInput) as caught:
        summarise_progression(ONSET, assessments)
    assert caught.value.field == field

"""The ALSFRS-R forecast: shrinkage slope, 80 % interval, band and "expected to cross" dates.

The shipped parameters were fitted on the DREAM ALS Prediction data (bench/forecast_dream.py; the PRO-ACT
Consortium); the behaviour pinned here is what any such model must do: follow a steady decline, widen with
the horizon, narrow with more assessments, stay on the 0-48 scale, and refuse bad input by field.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alscare.clinical.errors import InvalidInput
from alscare.clinical.forecast import (
    COVARIATES,
    TO_MODEL_SCALE,
    Z80,
    DatedValue,
    ForecastModel,
    SlopeFeatures,
    crossing_fvc_below,
    crossing_speech_at_most,
    crossing_total_at_most,
    expected_crossings,
    forecast,
    forecast_band,
    load_model,
    predict_slope,
    trajectory,
)
from alscare.clinical.progression import DAYS_PER_MONTH, DatedTotal

ONSET = date(2023, 1, 1)
START = date(2024, 1, 1)


def monthly(totals: list[int], start: date = START) -> list[DatedTotal]:
    """One assessment a month (30.4375 days apart, rounded to the day), in order."""
    return [DatedTotal(start + timedelta(days=round(i * DAYS_PER_MONTH)), t) for i, t in enumerate(totals)]


def person(assessments: list[DatedTotal], today: date | None = None, **kw: object) -> dict[str, object]:
    args: dict[str, object] = {
        "today": today or assessments[-1].on if assessments else START,
        "onset": ONSET,
        "age_at_onset": 60,
        "bulbar_onset": False,
        "assessments": assessments,
    }
    args.update(kw)
    return args


def width(point: object) -> float:
    return point.high - point.low  # type: ignore[attr-defined,no-any-return]


# A hand-sized model, so the arithmetic below can be checked on paper.
TOY = ForecastModel(
    intercept=-0.5,
    coefficients={name: 0.0 for name in COVARIATES},
    delta_fs_offset=0.1,
    ranges={name: (-math.inf, math.inf) for name in COVARIATES},
    noise_ratio=10.0,
    sigma2=1.0,
    tau2=0.1,
    omega2=0.04,
    omega2_per_decline=0.0,
    decline_range=(-math.inf, math.inf),
    slope_window_months=12.0,
    fit={},
)


# --- The shrinkage slope ---------------------------------------------------------------------------------------


def test_shrinkage_on_paper() -> None:
    # Prior −0.5; own slope −2.0 with Sxx 10 → weight 10 / (10 + 10) = 0.5 → slope −1.25.
    # Current variance (1 − 0.5)·0.1 = 0.05; next months add ω² = 0.04 → 0.09.
    f = SlopeFeatures(own_slope=-2.0, sxx=10.0, total=30, months_since_onset=20, age_at_onset=60, bulbar_onset=False)
    s = predict_slope(TOY, f)
    assert (s.prior, s.weight, s.mean) == pytest.approx((-0.5, 0.5, -1.25))
    assert (s.current_variance, s.future_variance) == pytest.approx((0.05, 0.09))


def test_no_own_slope_is_the_prior_with_the_full_prior_variance() -> None:
    f = SlopeFeatures(own_slope=None, sxx=0.0, total=30, months_since_onset=20, age_at_onset=60, bulbar_onset=False)
    s = predict_slope(TOY, f)
    assert (s.weight, s.mean, s.current_variance) == (0.0, -0.5, 0.1)


def test_the_weight_grows_with_the_spread_of_the_assessments() -> None:
    weights = [
        predict_slope(
            TOY,
            SlopeFeatures(own_slope=-1, sxx=sxx, total=30, months_since_onset=20, age_at_onset=60, bulbar_onset=False),
        ).weight
        for sxx in (0.5, 5, 50, 500)
    ]
    assert weights == sorted(weights) and weights[0] < 0.05 and weights[-1] > 0.95


def test_covariates_are_clamped_to_what_the_model_was_fitted_on() -> None:
    model = load_model()
    _young, old = model.ranges["age_at_onset"]
    base = {"own_slope": None, "sxx": 0.0, "total": 30.0, "months_since_onset": 24.0, "bulbar_onset": False}
    at_edge = predict_slope(model, SlopeFeatures(age_at_onset=old, **base))  # type: ignore[arg-type]
    beyond = predict_slope(model, SlopeFeatures(age_at_onset=old + 30, **base))  # type: ignore[arg-type]
    assert beyond.mean == at_edge.mean


def test_the_change_of_slope_varies_more_for_faster_decline_within_the_fitted_span() -> None:
    model = ForecastModel.from_dict(
        TOY.to_dict() | {"scale_max": 40, "omega2": 0.01, "omega2_per_decline": 0.3, "decline_range": [0.1, 1.5]}
    )
    base = {"own_slope": None, "sxx": 0.0, "months_since_onset": 20.0, "age_at_onset": 60.0, "bulbar_onset": False}

    def change(intercept: float) -> float:
        m = ForecastModel.from_dict(model.to_dict() | {"intercept": intercept})
        return predict_slope(m, SlopeFeatures(total=30.0, **base)).change_variance  # type: ignore[arg-type]

    assert change(-1.0) == pytest.approx(0.01 + 0.3 * 1.0)
    assert change(-0.5) == pytest.approx(0.01 + 0.3 * 0.5)
    assert change(+0.5) == change(-0.1) == pytest.approx(0.01 + 0.3 * 0.1)  # clamped: never below the fitted span
    assert change(-3.0) == change(-1.5)


# --- The shipped model ------------------------------------------------------------------------------------------


def test_shipped_model_says_how_it_was_fitted() -> None:
    model = load_model()
    fit = model.fit
    assert fit["people"] == 1197 and "PRO-ACT Consortium" in fit["acknowledgement"]
    assert "DREAM" in fit["data"] and fit["bench"] == "bench/forecast_dream.py"
    # Better than predicting the training mean (0.566) and than the README's random forest (0.512).
    assert fit["cv_rmsd"] < fit["cv_baseline_rmsd"] and fit["cv_rmsd"] < 0.512
    assert 0.75 <= fit["cv_slope_interval_coverage_80"] <= 0.85
    assert set(fit["cv_total_interval_coverage_80"]) == {"3", "6", "12"}


def test_model_round_trips_through_its_dict() -> None:
    model = load_model()
    assert ForecastModel.from_dict(model.to_dict()) == model


def test_model_on_another_scale_is_refused() -> None:
    data = load_model().to_dict() | {"scale_max": 48}
    with pytest.raises(ValueError, match="40-point"):
        ForecastModel.from_dict(data)


def test_faster_past_decline_forecasts_faster_decline() -> None:
    """ΔFS is the prior's strongest covariate (and the strongest known predictor of ALSFRS decline)."""
    slow = forecast(**person(monthly([44])))  # type: ignore[arg-type]
    fast = forecast(**person(monthly([30])))  # type: ignore[arg-type]
    assert fast.slope_per_month < slow.slope_per_month < 0


# --- Forecasts from assessments ------------------------------------------------------------------------------------


def test_a_steady_decline_of_one_point_a_month_forecasts_about_one_point_a_month() -> None:
    history = monthly(list(range(40, 27, -1)))  # 40, 39, … 28: a year, one point a month
    f = forecast(**person(history))  # type: ignore[arg-type]
    assert f.slope_per_month == pytest.approx(-1.0, abs=0.15)
    assert f.own_weight > 0.7
    for h in f.horizons:
        assert h.point.total == pytest.approx(28 - h.months, abs=0.15 * h.months + 0.75)
        assert h.point.low < h.point.total < h.point.high


def test_intervals_widen_with_the_horizon() -> None:
    f = forecast(**person(monthly([42, 41, 40, 39])))  # type: ignore[arg-type]
    widths = [width(h.point) for h in f.horizons]
    assert [h.months for h in f.horizons] == [3, 6, 12]
    assert widths[0] < widths[1] < widths[2]


def test_intervals_narrow_with_more_assessments() -> None:
    """Same person, same last year on the same line, seen 1, 2, 4, 7 and 13 times."""
    line = list(range(40, 27, -1))
    last = monthly(line)[-1].on
    subsets = [[12], [6, 12], [0, 4, 8, 12], [0, 2, 4, 6, 8, 10, 12], list(range(13))]
    runs = [forecast(**person([monthly(line)[i] for i in idx], today=last)) for idx in subsets]  # type: ignore[arg-type]
    for k in range(3):
        widths = [width(f.horizons[k].point) for f in runs]
        assert all(a > b for a, b in itertools.pairwise(widths)), widths
    weights = [f.own_weight for f in runs]
    assert weights[0] == 0 and all(a < b for a, b in itertools.pairwise(weights))


def test_slope_is_the_models_converted_to_alsfrs_r_points() -> None:
    t = trajectory(**person(monthly([44, 42, 41])))  # type: ignore[arg-type]
    assert t.slope_per_month == pytest.approx(t.slope.mean * 48 / 40)
    assert TO_MODEL_SCALE == 40 / 48


def test_interval_is_mean_plus_minus_z80_sd_before_clamping() -> None:
    t = trajectory(**person(monthly([40, 39, 37])))  # type: ignore[arg-type]
    mean, sd = t.mean_and_sd(6)
    p = t.at(6)
    assert (p.low, p.total, p.high) == pytest.approx((mean - Z80 * sd, mean, mean + Z80 * sd))
    assert p.on == monthly([40, 39, 37])[-1].on + timedelta(days=183)


def test_only_the_last_year_of_assessments_counts() -> None:
    """Decline is not linear: a slow first year should not hide a fast second one."""
    recent = monthly(list(range(40, 27, -1)), start=date(2025, 1, 1))
    older = [DatedTotal(date(2023, 6, 1), 47), DatedTotal(date(2024, 1, 1), 46)]
    with_old = forecast(**person(older + recent))  # type: ignore[arg-type]
    without = forecast(**person(recent))  # type: ignore[arg-type]
    assert with_old == without


def test_a_low_total_stays_on_the_scale() -> None:
    f = forecast(**person(monthly([8, 6, 4, 3])))  # type: ignore[arg-type]
    twelve = f.horizons[-1].point
    assert twelve.total == 0.0 and twelve.low == 0.0 and 0 <= twelve.high <= 48


@settings(max_examples=150, deadline=None)
@given(
    totals=st.lists(st.integers(0, 48), min_size=1, max_size=15),
    gaps=st.lists(st.integers(0, 120), min_size=15, max_size=15),
    onset_before=st.integers(1, 4000),
    age=st.floats(18, 95),
    bulbar=st.booleans(),
    today_after=st.integers(0, 800),
)
def test_the_scale_bounds_always_hold(
    totals: list[int], gaps: list[int], onset_before: int, age: float, bulbar: bool, today_after: int
) -> None:
    day = date(2024, 1, 1)
    points = []
    for total, gap in zip(totals, gaps, strict=False):
        day += timedelta(days=gap)
        points.append(DatedTotal(day, total))
    today = day + timedelta(days=today_after)
    kw = {"onset": date(2024, 1, 1) - timedelta(days=onset_before), "age_at_onset": age, "bulbar_onset": bulbar}
    f = forecast(today=today, assessments=points, **kw)  # type: ignore[arg-type]
    assert math.isfinite(f.slope_per_month)
    for h in f.horizons:
        assert 0 <= h.point.low <= h.point.total <= h.point.high <= 48
    t = trajectory(today=today, assessments=points, **kw)  # type: ignore[arg-type]
    band = forecast_band(t)
    assert all(0 <= p.low <= p.total <= p.high <= 48 for p in band)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assessments": []}, "assessments"),
        ({"assessments": [DatedTotal(START, 49)]}, "assessments[0].total"),
        ({"assessments": [DatedTotal(START, 40), DatedTotal(START, True)]}, "assessments[1].total"),
        ({"assessments": [DatedTotal(START, 40), DatedTotal(ONSET, 45)]}, "assessments[1].date"),
        ({"today": START - timedelta(days=1), "assessments": [DatedTotal(START, 40)]}, "assessments[0].date"),
        ({"age_at_onset": True}, "age_at_onset"),
        ({"age_at_onset": -3}, "age_at_onset"),
        ({"bulbar_onset": "no"}, "bulbar_onset"),
        ({"today": "2025-01-01"}, "today"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, object], field: str) -> None:
    args = person(monthly([40, 39])) | change
    with pytest.raises(InvalidInput) as e:
        forecast(**args)  # type: ignore[arg-type]
    assert e.value.field == field


def test_horizons_are_whole_months_up_to_two_years() -> None:
    with pytest.raises(InvalidInput) as e:
        forecast(**person(monthly([40])), horizons=(3, 36))  # type: ignore[arg-type]
    assert e.value.field == "horizons"


# --- The band beyond today --------------------------------------------------------------------------------------


def test_band_has_one_point_per_month_from_today_widening() -> None:
    history = monthly([42, 41, 40, 38])
    t = trajectory(**person(history))  # type: ignore[arg-type]
    band = forecast_band(t)
    assert [p.months_ahead for p in band] == list(range(13))
    assert band[0].on == history[-1].on and band[12].on == history[-1].on + timedelta(days=365)
    widths = [width(p) for p in band]
    assert all(a < b for a, b in itertools.pairwise(widths))
    assert all(a.total > b.total for a, b in itertools.pairwise(band))


def test_band_refuses_offsets_beyond_two_years() -> None:
    t = trajectory(**person(monthly([42])))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as e:
        forecast_band(t, months=(0, 30))
    assert e.value.field == "months"


# --- Expected to cross ------------------------------------------------------------------------------------------


def test_total_expected_to_reach_24_brackets_the_central_forecast() -> None:
    history = monthly(list(range(40, 27, -1)))  # 28 today, about one point a month
    t = trajectory(**person(history))  # type: ignore[arg-type]
    crossing = crossing_total_at_most(t, threshold=24, horizon_months=12)
    assert crossing is not None and not crossing.already
    central = next(m for m in range(0, 400) if t.mean_and_sd(m / DAYS_PER_MONTH)[0] <= 24)
    central_day = t.today + timedelta(days=central)
    assert crossing.earliest < central_day
    assert crossing.latest is None or crossing.latest > central_day
    # The pessimistic edge is the band's low line: on the earliest day it is at 24 or below, the day before above.
    m = (crossing.earliest - t.today).days / DAYS_PER_MONTH
    assert t.at(m).low <= 24 < t.at(m - 1 / DAYS_PER_MONTH).low


def test_total_far_above_24_is_not_expected_to_cross_within_a_year() -> None:
    t = trajectory(**person(monthly([47, 47, 46, 47, 46])))  # type: ignore[arg-type]
    assert crossing_total_at_most(t) is None


def test_total_already_at_24_is_reported_as_reached() -> None:
    history = monthly([30, 27, 24])
    t = trajectory(**person(history))  # type: ignore[arg-type]
    crossing = crossing_total_at_most(t)
    assert crossing is not None and crossing.already
    assert crossing.earliest == crossing.latest == history[-1].on


def fvc(values: list[float], start: date = START) -> list[DatedValue]:
    return [DatedValue(start + timedelta(days=round(i * DAYS_PER_MONTH)), v) for i, v in enumerate(values)]


def test_fvc_falling_ten_points_a_month_crosses_50_in_about_two_months() -> None:
    series = fvc([91, 79, 71, 59])  # about −10.4 % a month; 59 % today → 50 % in about a month
    today = series[-1].on
    crossing = crossing_fvc_below(series, today=today)
    assert crossing is not None and not crossing.already
    assert today < crossing.earliest < today + timedelta(days=45)
    assert crossing.latest is not None and crossing.earliest < crossing.latest < today + timedelta(days=120)


def test_fvc_needs_three_measurements() -> None:
    assert crossing_fvc_below(fvc([80, 60]), today=START + timedelta(days=40)) is None
    assert crossing_fvc_below([], today=START) is None


def test_fvc_stable_is_not_expected_to_cross() -> None:
    series = fvc([95, 96, 94, 95, 95])
    assert crossing_fvc_below(series, today=series[-1].on) is None


def test_fvc_already_below_50_is_reached() -> None:
    series = fvc([60, 55, 48])
    crossing = crossing_fvc_below(series, today=series[-1].on + timedelta(days=10))
    assert crossing is not None and crossing.already and crossing.earliest == series[-1].on


def test_fvc_on_an_exact_line_still_gets_an_interval() -> None:
    """Points exactly on a line say little about scatter: the rounding floor keeps the interval open."""
    series = fvc([90, 80, 70])
    crossing = crossing_fvc_below(series, today=series[-1].on)
    assert crossing is not None and crossing.latest is not None and crossing.earliest < crossing.latest


@pytest.mark.parametrize(
    ("values", "field"),
    [([DatedValue(START, 250)], "fvc[0].percent"), ([DatedValue(START, float("nan"))], "fvc[0].percent")],
)
def test_fvc_bad_values_name_the_field(values: list[DatedValue], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        crossing_fvc_below(values, today=START)
    assert e.value.field == field


def test_fvc_after_today_is_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        crossing_fvc_below(fvc([80, 70, 60]), today=START)
    assert e.value.field == "fvc[1].date"


def test_speech_losing_a_point_every_three_months_reaches_2() -> None:
    series = fvc([4, 4, 4, 3, 3, 3, 3])  # item 1, monthly: 4 → 3 after three months
    today = series[-1].on
    crossing = crossing_speech_at_most(series, today=today)
    assert crossing is not None and not crossing.already
    assert today < crossing.earliest < today + timedelta(days=365)


def test_speech_unchanged_is_not_expected_to_cross() -> None:
    series = fvc([4, 4, 4, 4])
    assert crossing_speech_at_most(series, today=series[-1].on) is None


def test_speech_at_2_is_reached_and_bad_scores_are_refused() -> None:
    series = fvc([3, 2])
    crossing = crossing_speech_at_most(series, today=series[-1].on)
    assert crossing is not None and crossing.already
    with pytest.raises(InvalidInput) as e:
        crossing_speech_at_most(fvc([4, 5]), today=START + timedelta(days=40))
    assert e.value.field == "speech[1].score"


def test_crossing_horizon_is_checked() -> None:
    with pytest.raises(InvalidInput) as e:
        crossing_speech_at_most(fvc([4, 4, 3]), today=START + timedelta(days=90), horizon_months=0)
    assert e.value.field == "horizon_months"


def test_expected_crossings_gathers_the_three_columns() -> None:
    history = monthly(list(range(40, 27, -1)))
    today = history[-1].on
    t = trajectory(**person(history))  # type: ignore[arg-type]
    columns = expected_crossings(t, today=today, fvc=fvc([91, 79, 71, 59]), speech=fvc([4, 4]))
    assert columns.total_at_most_24 == crossing_total_at_most(t)
    assert columns.fvc_below_50 is not None and columns.speech_at_most_2 is None  # two speech scores: too few
    nothing = expected_crossings(None, today=today)
    assert (nothing.total_at_most_24, nothing.fvc_below_50, nothing.speech_at_most_2) == (None, None, None)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.floats(5, 130), min_size=3, max_size=10),
    gaps=st.lists(st.integers(1, 90), min_size=10, max_size=10),
    wait=st.integers(0, 200),
)
def test_fvc_crossing_is_an_ordered_range_within_the_horizon(values: list[float], gaps: list[int], wait: int) -> None:
    day = START
    series = []
    for v, g in zip(values, gaps, strict=False):
        day += timedelta(days=g)
        series.append(DatedValue(day, v))
    today = day + timedelta(days=wait)
    crossing = crossing_fvc_below(series, today=today)
    if crossing is None:
        return
    if crossing.already:
        assert series[-1].value < 50 and crossing.earliest == crossing.latest == series[-1].on
        return
    assert today <= crossing.earliest <= today + timedelta(days=365)
    assert crossing.latest is None or crossing.earliest <= crossing.latest <= today + timedelta(days=365)


@given(first=st.integers(0, 400), start=st.integers(0, 30), days=st.integers(30, 365))
def test_the_crossing_search_finds_the_first_day(first: int, start: int, days: int) -> None:
    from alscare.clinical.forecast import _first_day

    found = _first_day(lambda m: round(m * DAYS_PER_MONTH) >= first, days, start=start)
    brute = next((d for d in range(start, days + 1) if d >= first), None)
    assert found == brute

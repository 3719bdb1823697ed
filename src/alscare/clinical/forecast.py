"""A forecast of the ALSFRS-R total 3, 6 and 12 months ahead, with an 80 % prediction interval.

What the model is
    An empirical-Bayes ("shrinkage") estimate of the person's current slope. A population prior says what
    slope people like this one have, from five things known at their latest assessment: ΔFS (how much has
    been lost since onset, per month), months since onset, age at onset, bulbar onset and the total itself.
    The person's own least-squares slope is then weighed against that prior by how much it can be trusted:

        weight = Sxx / (Sxx + noise_ratio),     slope = prior + weight · (own slope − prior)

    where Sxx = Σ(months − mean months)² of the person's assessments. One assessment gives weight 0 (the
    prior alone); a year of monthly assessments gives weight near 0.8. The interval has four parts: the
    noise of one assessment (σ²), how well today's level is known (σ²/n), how well the current slope is
    known ((1 − weight)·τ²) and how much a slope changes over the following months (ω², larger for faster
    predicted decline), so intervals widen with the horizon and narrow, within limits, with more
    assessments. The change of slope is most of the uncertainty: the data say a slope changes over months
    more than it can be measured.

Where the numbers come from
    Fitted by ``bench/forecast_dream.py`` on the DREAM ALS Prediction Prize4Life training data (1,197 people
    from clinical trials, a subset of PRO-ACT; thanks to the PRO-ACT Consortium), and shipped in
    ``data/forecast_model.json`` with how they were fitted and the cross-validated error. The bench calls
    :func:`predict_slope` below, so the model evaluated there is the one used here.

Two scales
    The DREAM trials used the original 40-point ALSFRS; alscare uses the 48-point ALSFRS-R. The model works
    on the 40-point scale and alscare converts proportionally (× 40/48 in, × 48/40 out). That assumes the
    three ALSFRS-R breathing items together move like the one ALSFRS breathing item scaled up; it is an
    approximation, **unconfirmed** (see docs/sources.md, "Forecast").

What it is not
    A forecast for a group of people like this one, not a promise for one person. It never diagnoses.
    Time is always an argument: nothing here reads the clock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from alscare.clinical.alsfrs_r import TOTAL_MAX
from alscare.clinical.errors import InvalidInput
from alscare.clinical.progression import DAYS_PER_MONTH, DatedTotal, ls_slope, months_between

__all__ = [
    "COVARIATES",
    "FVC_PERCENT_BOUNDS",
    "HORIZONS",
    "MODEL_SCALE_MAX",
    "TO_MODEL_SCALE",
    "Z80",
    "BandPoint",
    "CrossingRange",
    "DatedValue",
    "ExpectedCrossings",
    "Forecast",
    "ForecastModel",
    "HorizonForecast",
    "SlopeFeatures",
    "SlopePrediction",
    "Trajectory",
    "covariate_values",
    "crossing_fvc_below",
    "crossing_speech_at_most",
    "crossing_total_at_most",
    "expected_crossings",
    "forecast",
    "forecast_band",
    "load_model",
    "predict_slope",
    "trajectory",
]

HORIZONS: Final = (3, 6, 12)  # months ahead, as the issue asks
MODEL_SCALE_MAX: Final = 40  # the original ALSFRS, on which the DREAM trials scored
TO_MODEL_SCALE: Final = MODEL_SCALE_MAX / TOTAL_MAX  # proportional rescaling, unconfirmed (module docstring)
Z80: Final = 1.2815515655446004  # standard normal 90th percentile: a central 80 % interval is mean ± Z80·sd

# The population prior's covariates, in the order of the model file. Each is the person's, at their latest
# assessment; the totals on the 40-point scale.
COVARIATES: Final = ("log_delta_fs", "log_months_since_onset", "age_at_onset", "bulbar_onset", "total")

FVC_PERCENT_BOUNDS: Final = (0.0, 200.0)  # % of predicted accepted as a measurement (a typing check, not a norm)

_OMEGA2_MIN: Final = 1e-4  # (points/month)²: a guard so that no interval collapses to a line

# Rounding a score to a whole point alone has a variance of 1/12 point² (a uniform error of ±0.5), so no
# simple trend line below is allowed to claim a smaller scatter than that, even when its points fall on a line.
_ROUNDING_VARIANCE: Final = 1.0 / 12.0
# Student's t, 90th percentile (two-sided 80 %), by degrees of freedom; from any t table. Past 30, Z80.
_T90: Final = (
    3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372,
    1.363, 1.356, 1.350, 1.345, 1.341, 1.337, 1.333, 1.330, 1.328, 1.325,
    1.323, 1.321, 1.319, 1.318, 1.316, 1.315, 1.314, 1.313, 1.311, 1.310,
)  # fmt: skip


@dataclass(frozen=True)
class ForecastModel:
    """The fitted parameters (40-point scale, points and months) and how they were fitted.

    ``coefficients`` are the prior's, by :data:`COVARIATES` name; ``ranges`` the span each covariate had in
    the fitting data, to which inputs are clamped so the prior is never extrapolated; ``noise_ratio`` is
    σ²/τ²; ``sigma2`` the variance of one assessment about the person's line; ``tau2`` the variance of
    current slopes about the prior; the variance of the change of slope over the next months is
    ``omega2 + omega2_per_decline · decline``, decline = −prior clamped to ``decline_range`` (the span seen in
    the fitting data): it grows with how fast the prior says the person declines (fast progressors' slopes
    change more, in points, than slow ones').
    """

    intercept: float
    coefficients: Mapping[str, float]
    delta_fs_offset: float
    ranges: Mapping[str, tuple[float, float]]
    noise_ratio: float
    sigma2: float
    tau2: float
    omega2: float
    omega2_per_decline: float
    decline_range: tuple[float, float]
    slope_window_months: float
    fit: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastModel:
        """Read a model from the parsed JSON file (the shape :meth:`to_dict` writes)."""
        if data.get("scale_max") != MODEL_SCALE_MAX:
            raise ValueError(f"forecast model must be on the {MODEL_SCALE_MAX}-point ALSFRS scale")
        coefficients = {name: float(data["coefficients"][name]) for name in COVARIATES}
        ranges = {name: (float(data["ranges"][name][0]), float(data["ranges"][name][1])) for name in COVARIATES}
        return cls(
            intercept=float(data["intercept"]),
            coefficients=MappingProxyType(coefficients),
            delta_fs_offset=float(data["delta_fs_offset"]),
            ranges=MappingProxyType(ranges),
            noise_ratio=float(data["noise_ratio"]),
            sigma2=float(data["sigma2"]),
            tau2=float(data["tau2"]),
            omega2=float(data["omega2"]),
            omega2_per_decline=float(data["omega2_per_decline"]),
            decline_range=(float(data["decline_range"][0]), float(data["decline_range"][1])),
            slope_window_months=float(data["slope_window_months"]),
            fit=MappingProxyType(dict(data.get("fit", {}))),  # read-only: the cached model is shared
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form, parameters first and the fitting record last."""
        return {
            "scale_max": MODEL_SCALE_MAX,
            "intercept": self.intercept,
            "coefficients": {name: self.coefficients[name] for name in COVARIATES},
            "delta_fs_offset": self.delta_fs_offset,
            "ranges": {name: list(self.ranges[name]) for name in COVARIATES},
            "noise_ratio": self.noise_ratio,
            "sigma2": self.sigma2,
            "tau2": self.tau2,
            "omega2": self.omega2,
            "omega2_per_decline": self.omega2_per_decline,
            "decline_range": list(self.decline_range),
            "slope_window_months": self.slope_window_months,
            "fit": dict(self.fit),
        }


@cache
def load_model() -> ForecastModel:
    """The model alscare ships (``data/forecast_model.json``), read once per process."""
    text = resources.files("alscare.clinical").joinpath("data", "forecast_model.json").read_text(encoding="utf-8")
    return ForecastModel.from_dict(json.loads(text))


# --- The slope: population prior, own slope, shrinkage ------------------------------------------------------


@dataclass(frozen=True)
class SlopeFeatures:
    """What the slope model needs, all on the 40-point scale, at the person's latest assessment.

    ``own_slope`` is the least-squares slope (points/month) of the assessments behind it, or None if there
    are fewer than two dates; ``sxx`` = Σ(months − mean months)² of those assessments (0 with one).
    """

    own_slope: float | None
    sxx: float
    total: float
    months_since_onset: float
    age_at_onset: float
    bulbar_onset: bool


@dataclass(frozen=True)
class SlopePrediction:
    """Prior, weight of the own slope, and the resulting slope with its two variances (40-point scale).

    ``current_variance`` is the uncertainty of the person's slope now; ``change_variance`` (ω²) that of its
    change over the coming months; ``future_variance`` their sum — the variance of the slope of the next 9
    months, which is what the DREAM data let us check.
    """

    prior: float
    weight: float
    mean: float
    current_variance: float
    change_variance: float

    @property
    def future_variance(self) -> float:
        return self.current_variance + self.change_variance


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def covariate_values(model: ForecastModel, f: SlopeFeatures) -> dict[str, float]:
    """The prior's covariates for ``f``, each clamped to the range seen in the fitting data."""
    dfs = (MODEL_SCALE_MAX - f.total) / f.months_since_onset
    raw = {
        "log_delta_fs": math.log(max(dfs, 0.0) + model.delta_fs_offset),
        "log_months_since_onset": math.log(f.months_since_onset),
        "age_at_onset": f.age_at_onset,
        "bulbar_onset": 1.0 if f.bulbar_onset else 0.0,
        "total": f.total,
    }
    return {name: _clamp(raw[name], model.ranges[name]) for name in COVARIATES}


def predict_slope(model: ForecastModel, f: SlopeFeatures) -> SlopePrediction:
    """The shrinkage slope (points/month, 40-point scale, negative = decline) and its variances.

    This is the function the benchmark evaluates: the bench builds :class:`SlopeFeatures` from the DREAM
    summaries, the product from the person's own assessments.
    """
    if f.months_since_onset <= 0:
        raise InvalidInput("onset", "symptom onset must be before the latest assessment")
    x = covariate_values(model, f)
    prior = model.intercept + sum(model.coefficients[name] * x[name] for name in COVARIATES)
    if f.own_slope is None or f.sxx <= 0:
        weight = 0.0
        mean = prior
    else:
        weight = f.sxx / (f.sxx + model.noise_ratio)
        mean = prior + weight * (f.own_slope - prior)
    decline = _clamp(-prior, model.decline_range)
    change = max(model.omega2 + model.omega2_per_decline * decline, _OMEGA2_MIN)
    return SlopePrediction(
        prior=prior, weight=weight, mean=mean, current_variance=(1.0 - weight) * model.tau2, change_variance=change
    )


# --- From assessments to a trajectory ------------------------------------------------------------------------


@dataclass(frozen=True)
class BandPoint:
    """The forecast for one day: expected total and the 80 % interval, ALSFRS-R points, clamped to 0–48."""

    on: date
    months_ahead: float
    total: float
    low: float
    high: float


def _clamp_total(value: float) -> float:
    return min(max(value, 0.0), float(TOTAL_MAX))


@dataclass(frozen=True)
class Trajectory:
    """The fitted line of one person and its uncertainty, on the ALSFRS-R scale; :meth:`at` reads a day.

    total(t) = mean_total + slope · (t − mean_date); var(t) = σ²/n + (t − mean_date)²·V_now
    + (t − last_date)²·ω² + σ² — the level now, the slope now, the change of slope ahead, and the noise of
    the assessment on that day. Built by :func:`trajectory`; 40-point parameters are converted here.
    """

    today: date
    mean_date_months: float  # months from ``today`` to the mean date of the assessments used (≤ 0)
    last_date_months: float  # months from ``today`` to the latest assessment (≤ 0)
    mean_total: float
    count: int
    latest_total: float  # the latest assessment's total, ALSFRS-R points
    slope: SlopePrediction  # 40-point scale
    model: ForecastModel

    @property
    def slope_per_month(self) -> float:
        """The forecast slope in ALSFRS-R points per month (negative = decline)."""
        return self.slope.mean / TO_MODEL_SCALE

    def mean_and_sd(self, months_ahead: float) -> tuple[float, float]:
        """Unclamped expected total and its standard deviation, ALSFRS-R points, ``months_ahead`` of today."""
        m = self.model
        from_mean = months_ahead - self.mean_date_months
        from_last = max(months_ahead - self.last_date_months, 0.0)
        variance = (
            m.sigma2 / self.count  # today's level
            + from_mean**2 * self.slope.current_variance  # today's slope
            + from_last**2 * self.slope.change_variance  # the change of slope ahead
            + m.sigma2  # the noise of the assessment on that day
        )
        total = self.mean_total + self.slope.mean / TO_MODEL_SCALE * from_mean
        return total, math.sqrt(variance) / TO_MODEL_SCALE

    def at(self, months_ahead: float) -> BandPoint:
        """The band ``months_ahead`` months after ``today`` (a month is 30.4375 days)."""
        total, sd = self.mean_and_sd(months_ahead)
        return BandPoint(
            on=self.today + timedelta(days=round(months_ahead * DAYS_PER_MONTH)),
            months_ahead=months_ahead,
            total=_clamp_total(total),
            low=_clamp_total(total - Z80 * sd),
            high=_clamp_total(total + Z80 * sd),
        )


def _check_date(field: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(field, f"expected a calendar date, not {type(value).__name__}")
    return value


def _check_age(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("age_at_onset", "must be a number of years")
    if not 0 < value < 120:
        raise InvalidInput("age_at_onset", "must be between 0 and 120 years")
    return float(value)


def _line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float, float]:
    """Least squares of ys on xs: (slope, mean x, mean y, Sxx); needs two different xs."""
    n = len(xs)
    x_mean = sum(xs) / n
    y_mean = sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx, x_mean, y_mean, sxx


def trajectory(
    *,
    today: date,
    onset: date,
    age_at_onset: float,
    bulbar_onset: bool,
    assessments: Sequence[DatedTotal],
    model: ForecastModel | None = None,
) -> Trajectory:
    """Fit one person's forecast line from their ALSFRS-R totals (any order) and what is known of them.

    Only the assessments of the last ``slope_window_months`` before the latest one count (decline is not
    linear, so an old slope says less about today's; PRO-ACT, Muscle Nerve 2018;57:937-45). Refuses, naming
    the field: no assessments, a total outside 0–48, an assessment on or before onset or after ``today``.
    """
    model = model or load_model()
    _check_date("today", today)
    _check_date("onset", onset)
    age = _check_age(age_at_onset)
    if not isinstance(bulbar_onset, bool):
        raise InvalidInput("bulbar_onset", "must be true or false")
    if not assessments:
        raise InvalidInput("assessments", "at least one ALSFRS-R assessment is needed")
    for index, point in enumerate(assessments):
        if not isinstance(point, DatedTotal):
            raise InvalidInput(f"assessments[{index}]", "expected a dated ALSFRS-R total")
        _check_date(f"assessments[{index}].date", point.on)
        if isinstance(point.total, bool) or not isinstance(point.total, int) or not 0 <= point.total <= TOTAL_MAX:
            raise InvalidInput(f"assessments[{index}].total", f"must be a whole number 0-{TOTAL_MAX}")
        if point.on <= onset:
            raise InvalidInput(f"assessments[{index}].date", f"must be after symptom onset ({onset})")
        if point.on > today:
            raise InvalidInput(f"assessments[{index}].date", f"must not be after today ({today})")
    ordered = sorted(assessments, key=lambda p: p.on)  # stable: same-day entries keep input order
    latest = ordered[-1]
    window_start = latest.on - timedelta(days=round(model.slope_window_months * DAYS_PER_MONTH))
    used = [p for p in ordered if p.on >= window_start]
    xs = [months_between(today, p.on) for p in used]
    ys = [float(p.total) for p in used]
    own: float | None = None
    sxx = 0.0
    if len({p.on for p in used}) >= 2:
        own = ls_slope(used).per_month
        x_mean = sum(xs) / len(xs)
        sxx = sum((x - x_mean) ** 2 for x in xs)
    features = SlopeFeatures(
        own_slope=None if own is None else own * TO_MODEL_SCALE,
        sxx=sxx,
        total=latest.total * TO_MODEL_SCALE,
        months_since_onset=months_between(onset, latest.on),
        age_at_onset=age,
        bulbar_onset=bulbar_onset,
    )
    return Trajectory(
        today=today,
        mean_date_months=sum(xs) / len(xs),
        last_date_months=xs[-1],
        mean_total=sum(ys) / len(ys),
        count=len(used),
        latest_total=float(latest.total),
        slope=predict_slope(model, features),
        model=model,
    )


@dataclass(frozen=True)
class HorizonForecast:
    """The forecast ``months`` ahead of today."""

    months: int
    point: BandPoint


@dataclass(frozen=True)
class Forecast:
    """The slope (ALSFRS-R points/month), the weight the own slope got, and the forecast at each horizon."""

    slope_per_month: float
    prior_slope_per_month: float
    own_weight: float
    assessments_used: int
    horizons: tuple[HorizonForecast, ...]


def forecast(
    *,
    today: date,
    onset: date,
    age_at_onset: float,
    bulbar_onset: bool,
    assessments: Sequence[DatedTotal],
    horizons: Sequence[int] = HORIZONS,
    model: ForecastModel | None = None,
) -> Forecast:
    """Expected ALSFRS-R total and 80 % prediction interval ``horizons`` months after ``today``.

    FVC is not an input: on the DREAM data it did not lower the cross-validated error (docs/sources.md), so
    the fitted model does not use it; FVC has its own trend below (:func:`crossing_fvc_below`).
    """
    for h in horizons:
        if isinstance(h, bool) or not isinstance(h, int) or not 0 < h <= 24:
            raise InvalidInput("horizons", "must be whole numbers of months from 1 to 24")
    t = trajectory(
        today=today,
        onset=onset,
        age_at_onset=age_at_onset,
        bulbar_onset=bulbar_onset,
        assessments=assessments,
        model=model,
    )
    return Forecast(
        slope_per_month=t.slope_per_month,
        prior_slope_per_month=t.slope.prior / TO_MODEL_SCALE,
        own_weight=t.slope.weight,
        assessments_used=t.count,
        horizons=tuple(HorizonForecast(months=h, point=t.at(h)) for h in horizons),
    )


def forecast_band(t: Trajectory, months: Sequence[float] = tuple(range(13))) -> list[BandPoint]:
    """The shaded band beyond today: one point per month offset (0 = today), for a chart to join up."""
    for m in months:
        if isinstance(m, bool) or not isinstance(m, int | float) or not 0 <= m <= 24:
            raise InvalidInput("months", "must be month offsets from 0 to 24")
    return [t.at(float(m)) for m in months]


# --- "Expected to cross" -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossingRange:
    """When a threshold is expected to be reached: from ``earliest`` (the pessimistic edge of the 80 %
    interval gets there) to ``latest`` (the optimistic edge does), or ``latest`` None when that is after the
    horizon. ``already`` means the latest measurement has reached it; both dates are then that measurement's.
    """

    earliest: date
    latest: date | None
    already: bool = False


_SCAN_DAYS: Final = 7  # coarse step of the crossing search; refined to the day by bisection


def _first_day(reached: Callable[[float], bool], days: int, start: int = 0) -> int | None:
    """The first day in ``start..days`` on which ``reached`` holds, or None.

    Scans a week at a time, then bisects inside the week where it first holds: exact to the day as long as
    the condition does not flip back and forth within a week, which a line with a widening interval cannot.
    """
    previous = start - 1
    day = start
    while True:
        if reached(day / DAYS_PER_MONTH):
            low, high = previous, day  # not reached on ``low`` (or before start), reached on ``high``
            while high - low > 1:
                mid = (low + high) // 2
                if reached(mid / DAYS_PER_MONTH):
                    high = mid
                else:
                    low = mid
            return high
        if day >= days:
            return None
        previous, day = day, min(day + _SCAN_DAYS, days)


def _search(
    today: date,
    horizon_months: float,
    pessimistic: Callable[[float], bool],
    optimistic: Callable[[float], bool],
) -> CrossingRange | None:
    """From today to the horizon: the first day each edge of the interval has crossed."""
    days = round(horizon_months * DAYS_PER_MONTH)
    earliest = _first_day(pessimistic, days)
    if earliest is None:
        return None
    latest = _first_day(optimistic, days, start=earliest)
    return CrossingRange(
        earliest=today + timedelta(days=earliest),
        latest=None if latest is None else today + timedelta(days=latest),
    )


def _check_horizon(horizon_months: object) -> float:
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int | float) or not 0 < horizon_months <= 24:
        raise InvalidInput("horizon_months", "must be from 1 to 24 months")
    return float(horizon_months)


def crossing_total_at_most(t: Trajectory, *, threshold: float = 24, horizon_months: float = 12) -> CrossingRange | None:
    """When the ALSFRS-R total is expected to be ≤ ``threshold`` (24: half the scale lost), within the horizon.

    Uses the forecast band. None when even its pessimistic edge stays above the threshold until the horizon;
    reached (``already``) when the latest assessment is at or below it.
    """
    horizon = _check_horizon(horizon_months)
    if t.latest_total <= threshold:
        last = t.today + timedelta(days=round(t.last_date_months * DAYS_PER_MONTH))
        return CrossingRange(earliest=last, latest=last, already=True)

    def edge(sign: float) -> Callable[[float], bool]:
        def reached(m: float) -> bool:
            mean, sd = t.mean_and_sd(m)
            return mean + sign * Z80 * sd <= threshold

        return reached

    return _search(t.today, horizon, edge(-1.0), edge(+1.0))


@dataclass(frozen=True)
class DatedValue:
    """A dated measurement other than the ALSFRS-R total: FVC % of predicted, or one item's score."""

    on: date
    value: float


@dataclass(frozen=True)
class _Trend:
    """A least-squares line with a Student-t 80 % prediction interval for a new measurement."""

    slope: float
    x_mean: float
    y_mean: float
    sxx: float
    residual_variance: float
    n: int

    def bounds(self, x: float) -> tuple[float, float]:
        mean = self.y_mean + self.slope * (x - self.x_mean)
        sd = math.sqrt(self.residual_variance * (1.0 + 1.0 / self.n + (x - self.x_mean) ** 2 / self.sxx))
        df = self.n - 2
        q = _T90[df - 1] if df <= len(_T90) else Z80
        return mean - q * sd, mean + q * sd


def _trend(
    field: str,
    value_name: str,
    points: Sequence[DatedValue],
    today: date,
    window_months: float,
    bounds: tuple[float, float],
) -> tuple[_Trend | None, DatedValue | None]:
    """Check ``points`` (naming ``field[i].date`` / ``field[i].<value_name>``) and fit a line to their last window.

    Returns (None, latest) when fewer than 3 measurements on at least 3 dates fall in the window: two points
    always fit a line exactly, so they say nothing about its scatter.
    """
    for index, p in enumerate(points):
        if not isinstance(p, DatedValue):
            raise InvalidInput(f"{field}[{index}]", "expected a dated measurement")
        _check_date(f"{field}[{index}].date", p.on)
        if isinstance(p.value, bool) or not isinstance(p.value, int | float) or not math.isfinite(p.value):
            raise InvalidInput(f"{field}[{index}].{value_name}", "must be a number")
        if not bounds[0] <= p.value <= bounds[1]:
            raise InvalidInput(f"{field}[{index}].{value_name}", f"must be from {bounds[0]:g} to {bounds[1]:g}")
        if p.on > today:
            raise InvalidInput(f"{field}[{index}].date", f"must not be after today ({today})")
    if not points:
        return None, None
    ordered = sorted(points, key=lambda p: p.on)
    latest = ordered[-1]
    start = latest.on - timedelta(days=round(window_months * DAYS_PER_MONTH))
    used = [p for p in ordered if p.on >= start]
    if len(used) < 3 or len({p.on for p in used}) < 3:
        return None, latest
    xs = [months_between(today, p.on) for p in used]
    ys = [float(p.value) for p in used]
    slope, x_mean, y_mean, sxx = _line(xs, ys)
    ssr = sum((y - (y_mean + slope * (x - x_mean))) ** 2 for x, y in zip(xs, ys, strict=True))
    residual = max(ssr / (len(used) - 2), _ROUNDING_VARIANCE)
    return _Trend(slope, x_mean, y_mean, sxx, residual, len(used)), latest


def _trend_crossing(
    trend: _Trend | None,
    latest: DatedValue | None,
    today: date,
    horizon: float,
    reached: Callable[[float], bool],
) -> CrossingRange | None:
    if latest is not None and reached(latest.value):
        return CrossingRange(earliest=latest.on, latest=latest.on, already=True)
    if trend is None or trend.slope >= 0:
        return None  # too few measurements, or no decline seen: nothing to extrapolate a crossing from
    return _search(today, horizon, lambda m: reached(trend.bounds(m)[0]), lambda m: reached(trend.bounds(m)[1]))


def crossing_fvc_below(
    fvc: Sequence[DatedValue],
    *,
    today: date,
    threshold: float = 50.0,
    horizon_months: float = 12,
    window_months: float = 12,
) -> CrossingRange | None:
    """When FVC (% of predicted) is expected to fall below ``threshold`` (50 %: an NIV trigger, AAN 2009).

    A straight line through the measurements of the last ``window_months`` (at least 3, on 3 dates), with the
    Student-t 80 % prediction interval of one new test. None with too few measurements, when the line does not
    fall, or when even its pessimistic edge does not cross within the horizon.
    """
    horizon = _check_horizon(horizon_months)
    trend, latest = _trend("fvc", "percent", fvc, today, window_months, FVC_PERCENT_BOUNDS)
    return _trend_crossing(trend, latest, today, horizon, lambda v: v < threshold)


def crossing_speech_at_most(
    speech: Sequence[DatedValue],
    *,
    today: date,
    threshold: float = 2.0,
    horizon_months: float = 12,
    window_months: float = 12,
) -> CrossingRange | None:
    """When ALSFRS-R item 1 (speech) is expected to be ≤ ``threshold`` (2: understood only with repeating),
    the point to plan a communication aid and voice banking. Same line and interval as for FVC.
    """
    horizon = _check_horizon(horizon_months)
    trend, latest = _trend("speech", "score", speech, today, window_months, (0.0, 4.0))
    return _trend_crossing(trend, latest, today, horizon, lambda v: v <= threshold)


@dataclass(frozen=True)
class ExpectedCrossings:
    """The clinic table's three planning columns for one person (None: not expected within the horizon, or
    not enough data)."""

    total_at_most_24: CrossingRange | None
    fvc_below_50: CrossingRange | None
    speech_at_most_2: CrossingRange | None


def expected_crossings(
    t: Trajectory | None,
    *,
    today: date,
    fvc: Sequence[DatedValue] = (),
    speech: Sequence[DatedValue] = (),
    horizon_months: float = 12,
) -> ExpectedCrossings:
    """All three "expected to cross" ranges: ALSFRS-R total ≤ 24 (from the forecast ``t``, None if there is
    no forecast), FVC < 50 % and speech (item 1) ≤ 2 (from their own histories)."""
    return ExpectedCrossings(
        total_at_most_24=None if t is None else crossing_total_at_most(t, horizon_months=horizon_months),
        fvc_below_50=crossing_fvc_below(fvc, today=today, horizon_months=horizon_months),
        speech_at_most_2=crossing_speech_at_most(speech, today=today, horizon_months=horizon_months),
    )

"""How fast function is being lost: ΔFS since onset and the least-squares ALSFRS-R slope.

Two complementary measures, both in ALSFRS-R points per month:

* ΔFS (Kimura et al., Neurology 2006;66:265-7) = (48 - total) / months since symptom onset. It assumes the
  person scored 48 at onset, so it needs only one assessment. Kimura defined it at diagnosis; computing it
  at a later test date is the ΔFS′ variant (Kjældgaard et al., BMC Neurol 2021;21:164). It is positive
  when function is lost.
* Slope: ordinary least squares of the total on time over repeated assessments. It is negative when
  function is lost. Decline is not truly linear (PRO-ACT, Muscle Nerve 2018;57:937-45; van Eijk et al.,
  PRECISION-ALS), so we report the standard error beside it.

Months are days / (365.25 / 12), as in the ENCALS/TRICALS code. Time is always an argument: nothing here
reads the clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from alscare.clinical.alsfrs_r import TOTAL_MAX
from alscare.clinical.errors import InvalidInput

__all__ = [
    "DAYS_PER_MONTH",
    "KIMURA_FAST_FROM",
    "KIMURA_INTERMEDIATE_FROM",
    "DatedTotal",
    "ProgressionBand",
    "ProgressionSummary",
    "Slope",
    "delta_fs",
    "kimura_band",
    "ls_slope",
    "months_between",
    "summarise_progression",
]

DAYS_PER_MONTH = 365.25 / 12  # 30.4375; the convention of the ENCALS/TRICALS code

# Kimura 2006, three-group convention (called arbitrary by its authors; BMC Neurol 2021;21:164, Table 4).
KIMURA_INTERMEDIATE_FROM = 0.5  # points/month; below this is slow
KIMURA_FAST_FROM = 1.0  # points/month; this and above is fast


def months_between(start: date, end: date) -> float:
    """Months from ``start`` to ``end`` (negative if ``end`` is earlier), as days / 30.4375."""
    return (end - start).days / DAYS_PER_MONTH


class ProgressionBand(StrEnum):
    """ΔFS band under the Kimura 2006 three-group convention."""

    SLOW = "slow"
    INTERMEDIATE = "intermediate"
    FAST = "fast"


def kimura_band(delta_fs: float) -> ProgressionBand:
    """Band a ΔFS: slow < 0.5, intermediate 0.5 to < 1.0, fast ≥ 1.0 points/month (Kimura 2006).

    Other cut-offs exist (Kimura's two groups at 0.67; Gordon 2006 at 0.5; Elamin 2015 four groups), so the
    band is labelled as Kimura's and the number itself is always shown too.
    """
    if not math.isfinite(delta_fs) or delta_fs < 0:
        raise InvalidInput("delta_fs", f"ΔFS must be a finite number of at least 0, got {delta_fs!r}")
    if delta_fs < KIMURA_INTERMEDIATE_FROM:
        return ProgressionBand.SLOW
    if delta_fs < KIMURA_FAST_FROM:
        return ProgressionBand.INTERMEDIATE
    return ProgressionBand.FAST


def _check_total(field: str, total: object) -> int:
    if isinstance(total, bool) or not isinstance(total, int):
        raise InvalidInput(field, f"the ALSFRS-R total must be a whole number, not {type(total).__name__}")
    if not 0 <= total <= TOTAL_MAX:
        raise InvalidInput(field, f"the ALSFRS-R total must be from 0 to {TOTAL_MAX}, got {total}")
    return total


def _check_date(field: str, value: object) -> date:
    # datetime is a subclass of date but subtracting it from a date fails; refuse it with a clear message.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(field, f"expected a calendar date, not {type(value).__name__}")
    return value


def delta_fs(total: int, onset: date, assessed_on: date) -> float:
    """ΔFS = (48 - total) / months from symptom onset to ``assessed_on`` (Kimura 2006; ΔFS′ after diagnosis).

    Refuses a total outside 0-48 (field ``total``) and an assessment not after onset (field ``date``):
    with no time elapsed the rate is undefined.
    """
    _check_total("total", total)
    _check_date("onset", onset)
    _check_date("date", assessed_on)
    if assessed_on <= onset:
        raise InvalidInput("date", f"the assessment ({assessed_on}) must be after symptom onset ({onset})")
    return (TOTAL_MAX - total) / months_between(onset, assessed_on)


@dataclass(frozen=True)
class DatedTotal:
    """An ALSFRS-R total and the day it was taken. Checked where it is used, so errors can name its index."""

    on: date
    total: int


@dataclass(frozen=True)
class Slope:
    """Least-squares slope in points/month, and its standard error (None when there are only 2 points)."""

    per_month: float
    standard_error: float | None


def _check_points(points: Sequence[DatedTotal]) -> None:
    """Name the first bad entry as ``assessments[i].total`` or ``assessments[i].date`` (input order)."""
    for index, point in enumerate(points):
        if not isinstance(point, DatedTotal):
            raise InvalidInput(f"assessments[{index}]", "expected a dated ALSFRS-R total")
        _check_date(f"assessments[{index}].date", point.on)
        _check_total(f"assessments[{index}].total", point.total)


def ls_slope(points: Sequence[DatedTotal]) -> Slope:
    """Ordinary least-squares slope of total on time, in points/month (negative when function declines).

    x is months from the earliest date. With n points, Sxx = Σ(x - x̄)², slope = Σ(x - x̄)(y - ȳ) / Sxx and,
    when n ≥ 3, SE = sqrt(SSR / (n - 2) / Sxx), the textbook standard error of an OLS slope. Two points fit
    a line exactly, so there is no residual to estimate an error from and SE is None.

    Needs at least 2 points on at least 2 different dates (field ``assessments``); several assessments on
    one day are kept, since each is a real measurement.
    """
    _check_points(points)
    if len(points) < 2 or len({p.on for p in points}) < 2:
        raise InvalidInput("assessments", "a slope needs at least two assessments on different dates")
    first = min(p.on for p in points)
    xs = [months_between(first, p.on) for p in points]
    ys = [float(p.total) for p in points]
    n = len(points)
    x_mean = sum(xs) / n
    y_mean = sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    if n < 3:
        return Slope(per_month=slope, standard_error=None)
    intercept = y_mean - slope * x_mean
    ssr = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return Slope(per_month=slope, standard_error=math.sqrt(ssr / (n - 2) / sxx))


@dataclass(frozen=True)
class ProgressionSummary:
    """ΔFS (from the latest assessment) with its Kimura band, and the slope over all assessments."""

    delta_fs: float
    delta_fs_band: ProgressionBand
    slope_per_month: float | None
    slope_se: float | None


def summarise_progression(onset: date, assessments: Sequence[DatedTotal]) -> ProgressionSummary:
    """Summarise progression from symptom onset and the ALSFRS-R totals so far, in any order.

    ΔFS uses the latest assessment (if several share the latest date, the last of them in the input). The
    slope is None when the assessments fall on fewer than 2 distinct dates. Every assessment must be dated
    after onset: one on or before it is almost certainly a wrong date, and would make ΔFS meaningless.
    """
    _check_date("onset", onset)
    if not assessments:
        raise InvalidInput("assessments", "at least one ALSFRS-R assessment is needed")
    _check_points(assessments)
    for index, point in enumerate(assessments):
        if point.on <= onset:
            raise InvalidInput(
                f"assessments[{index}].date",
                f"the assessment ({point.on}) must be after symptom onset ({onset})",
            )
    ordered = sorted(assessments, key=lambda p: p.on)  # stable: same-day entries keep input order
    latest = ordered[-1]
    dfs = delta_fs(latest.total, onset, latest.on)
    slope: Slope | None = None
    if len({p.on for p in ordered}) >= 2:
        slope = ls_slope(ordered)
    return ProgressionSummary(
        delta_fs=dfs,
        delta_fs_band=kimura_band(dfs),
        slope_per_month=None if slope is None else slope.per_month,
        slope_se=None if slope is None else slope.standard_error,
    )

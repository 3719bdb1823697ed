"""ENCALS survival model (Westeneng et al., Lancet Neurol 2018;17:423–33, doi 10.1016/S1474-4422(18)30089-9).

Worked examples are those computed in clinical-reference §4 from the published transformations,
coefficients and Royston–Parmar baseline.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscare.clinical.errors import InvalidInput
from alscare.clinical.prognosis import (
    AGE_AT_ONSET_RANGE,
    DELTA_FS_RANGE,
    DIAGNOSTIC_DELAY_RANGE,
    FVC_PERCENT_RANGE,
    KNOT_MAX,
    KNOT_MIN,
    EncalsPrediction,
    EncalsPredictors,
    baseline_log_odds,
    linear_predictor,
    median_survival_months,
    predict,
    survival_probability,
)

BASE: dict[str, Any] = {
    "age_at_onset": 60,
    "diagnostic_delay_months": 12,
    "delta_fs": 0.5,
    "fvc_percent": 90,
    "bulbar_onset": False,
    "definite_el_escorial": False,
    "ftd": False,
    "c9orf72": False,
}


def predictors(**changes: Any) -> EncalsPredictors:
    return EncalsPredictors.from_mapping({**BASE, **changes})


# --- Published / reference examples ---------------------------------------------------------------

# (inputs, expected LP or None, expected median months from onset) — clinical-reference §4 sanity check.
EXAMPLES = [
    ({}, -4.68, 38),
    (
        {
            "age_at_onset": 70,
            "diagnostic_delay_months": 6,
            "delta_fs": 1.5,
            "fvc_percent": 70,
            "bulbar_onset": True,
            "definite_el_escorial": True,
        },
        None,
        19,
    ),
    ({"age_at_onset": 50, "diagnostic_delay_months": 24, "delta_fs": 0.2, "fvc_percent": 100}, None, 82),
]


@pytest.mark.parametrize(("changes", "expected_lp", "expected_median"), EXAMPLES)
def test_reference_examples_reproduce(
    changes: dict[str, Any], expected_lp: float | None, expected_median: float
) -> None:
    prediction = predict(predictors(**changes))
    if expected_lp is not None:
        assert prediction.linear_predictor == pytest.approx(expected_lp, abs=0.005)
    assert prediction.median_survival_months == pytest.approx(expected_median, abs=1.0)


def test_prediction_shape() -> None:
    prediction = predict(predictors(), horizons=(12, 60))
    assert isinstance(prediction, EncalsPrediction)
    assert set(prediction.survival) == {12, 60}
    assert prediction.survival[12] > prediction.survival[60]
    assert predict(predictors()).survival.keys() == {12, 24, 36, 60}


# --- Properties of the survival curve ---------------------------------------------------------------


def test_baseline_spline_is_strictly_increasing() -> None:
    """The median is unique and bisection is valid only because s(x) increases everywhere."""
    xs = [KNOT_MIN - 20 + i * 0.001 for i in range(int((KNOT_MAX - KNOT_MIN + 40) / 0.001))]
    values = [baseline_log_odds(x) for x in xs]
    assert all(b > a for a, b in itertools.pairwise(values))
    # Linear tails beyond the boundary knots, with positive slopes.
    assert baseline_log_odds(KNOT_MAX + 100) - baseline_log_odds(KNOT_MAX + 99) == pytest.approx(
        baseline_log_odds(KNOT_MAX + 2) - baseline_log_odds(KNOT_MAX + 1)
    )
    assert baseline_log_odds(KNOT_MIN - 1) - baseline_log_odds(KNOT_MIN - 2) == pytest.approx(2.643)


lps = st.floats(min_value=-15, max_value=5, allow_nan=False)


@given(lps)
def test_survival_at_the_median_is_one_half(lp: float) -> None:
    assert survival_probability(lp, median_survival_months(lp)) == pytest.approx(0.5, abs=1e-9)


@given(lps, st.floats(min_value=0.01, max_value=1000), st.floats(min_value=0.01, max_value=1000))
def test_survival_decreases_with_time(lp: float, t1: float, t2: float) -> None:
    early, late = sorted((t1, t2))
    assert survival_probability(lp, early) >= survival_probability(lp, late)
    assert 0.0 <= survival_probability(lp, late) <= 1.0


@given(st.floats(min_value=-15, max_value=5), st.floats(min_value=-15, max_value=5))
def test_higher_linear_predictor_means_shorter_median(lp1: float, lp2: float) -> None:
    low, high = sorted((lp1, lp2))
    assert median_survival_months(high) <= median_survival_months(low)


def test_survival_does_not_overflow_at_extremes() -> None:
    assert survival_probability(-4.0, 1e300) == pytest.approx(0.0)
    assert survival_probability(-4.0, 1e-300) == pytest.approx(1.0)


@pytest.mark.parametrize("months", [0, -1, math.nan, math.inf, True])
def test_survival_refuses_months_that_are_not_positive(months: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        survival_probability(-4.0, months)
    assert caught.value.field == "months"


@pytest.mark.parametrize("lp", [math.nan, math.inf])
def test_non_finite_linear_predictor_refused(lp: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        median_survival_months(lp)
    assert caught.value.field == "lp"


@pytest.mark.parametrize("horizons", [(0,), (-12,), (True,)])
def test_horizons_must_be_positive_whole_months(horizons: tuple[int, ...]) -> None:
    with pytest.raises(InvalidInput) as caught:
        predict(predictors(), horizons=horizons)
    assert caught.value.field == "horizons"


# --- Direction of each predictor ------------------------------------------------------------------


def median(**changes: Any) -> float:
    return predict(predictors(**changes)).median_survival_months


@given(st.floats(*DELTA_FS_RANGE), st.floats(*DELTA_FS_RANGE))
def test_faster_decline_means_shorter_median(a: float, b: float) -> None:
    slow, fast = sorted((a, b))
    assert median(delta_fs=fast) <= median(delta_fs=slow)


@given(st.floats(2.5, DIAGNOSTIC_DELAY_RANGE[1]), st.floats(2.5, DIAGNOSTIC_DELAY_RANGE[1]))
def test_longer_diagnostic_delay_means_longer_median_from_2_5_months(a: float, b: float) -> None:
    short, long = sorted((a, b))
    assert median(diagnostic_delay_months=long) >= median(diagnostic_delay_months=short)


def test_diagnostic_delay_transform_turns_at_2_5_months() -> None:
    """The published fractional polynomial is U-shaped: below 2.5 months a longer delay predicts slightly
    *shorter* survival. Recorded here so nobody "fixes" the maths to make it monotone."""
    assert median(diagnostic_delay_months=1) > median(diagnostic_delay_months=2.5)
    assert median(diagnostic_delay_months=2.5) < median(diagnostic_delay_months=4)


@given(st.floats(*AGE_AT_ONSET_RANGE), st.floats(*AGE_AT_ONSET_RANGE))
def test_older_onset_means_shorter_median(a: float, b: float) -> None:
    young, old = sorted((a, b))
    assert median(age_at_onset=old) <= median(age_at_onset=young)


@given(st.floats(*FVC_PERCENT_RANGE), st.floats(*FVC_PERCENT_RANGE))
def test_lower_fvc_means_shorter_median(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert median(fvc_percent=low) <= median(fvc_percent=high)


@pytest.mark.parametrize("flag", ["bulbar_onset", "definite_el_escorial", "ftd", "c9orf72"])
def test_each_flag_means_shorter_median(flag: str) -> None:
    assert linear_predictor(predictors(**{flag: True})) > linear_predictor(predictors())
    assert median(**{flag: True}) < median()


# --- Input validation -------------------------------------------------------------------------------

RANGES = {
    "age_at_onset": AGE_AT_ONSET_RANGE,
    "diagnostic_delay_months": DIAGNOSTIC_DELAY_RANGE,
    "delta_fs": DELTA_FS_RANGE,
    "fvc_percent": FVC_PERCENT_RANGE,
}
BOUNDARIES = [(field, bound) for field, bounds in RANGES.items() for bound in bounds]


@pytest.mark.parametrize(("field", "value"), BOUNDARIES)
def test_range_boundaries_accepted(field: str, value: float) -> None:
    predict(predictors(**{field: value}))


@pytest.mark.parametrize(
    ("field", "value"),
    [(field, low - 0.01) for field, (low, _) in RANGES.items()]
    + [(field, high + 0.01) for field, (_, high) in RANGES.items()]
    + [(field, math.nan) for field in RANGES]
    + [(field, math.inf) for field in RANGES],
)
def test_just_outside_range_refused_naming_field(field: str, value: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        predictors(**{field: value})
    assert caught.value.field == field
    assert "must be between" in caught.value.message
    assert "not extrapolated" in caught.value.message


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        dataclasses.replace(predictors(), fvc_percent=5.0)
    assert caught.value.field == "fvc_percent"


@pytest.mark.parametrize("field", list(BASE))
def test_missing_field_refused_naming_it(field: str) -> None:
    data = {k: v for k, v in BASE.items() if k != field}
    with pytest.raises(InvalidInput) as caught:
        EncalsPredictors.from_mapping(data)
    assert caught.value.field == field


def test_unknown_field_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        EncalsPredictors.from_mapping({**BASE, "riluzole": True})
    assert caught.value.field == "riluzole"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age_at_onset", True),
        ("age_at_onset", "60"),
        ("fvc_percent", None),
        ("bulbar_onset", 1),
        ("bulbar_onset", "true"),
        ("c9orf72", None),
    ],
)
def test_wrong_type_refused_naming_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        EncalsPredictors.from_mapping({**BASE, field: value})
    assert caught.value.field == field

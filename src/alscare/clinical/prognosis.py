"""ENCALS survival prediction (Westeneng et al., *Lancet Neurol* 2018;17:423–33).

What the model predicts
    The probability of being free of a composite outcome — death, tracheostomy, or non-invasive
    ventilation for more than 23 hours a day — as a function of **time since symptom onset** (not since
    diagnosis, and not since today). The eight predictors are meant to be measured **at or near
    diagnosis**; the model was not built to be re-run years later on fresh numbers.

How it is built
    A proportional-odds Royston–Parmar model: the log-odds of the outcome by time ``t`` (months) is a
    restricted cubic spline ``s(ln t)`` plus a linear predictor ``LP`` from the eight predictors, so
    ``S(t) = 1 / (1 + exp(s(ln t) + LP))``. Every transformation, coefficient, spline coefficient and knot
    below is a named constant with its source; see ``docs/sources_prognosis_triage.md``.

What it is not
    alscare never diagnoses, and a prediction is not a verdict. It is a population average for people
    who resemble these predictors; individuals do much better or worse than their predicted median. The
    inputs must come from the care team's records (El Escorial category, FTD and C9orf72 status are
    clinical findings), and the result belongs in a conversation with that team, not on its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Final

from alscare.clinical.errors import InvalidInput

# --- Linear predictor coefficients ------------------------------------------------------------------
# Source: Westeneng et al. 2018, via a public R implementation of the model (clinical-reference §4,
# confidence Medium: to be checked against the Lancet appendix). Each continuous predictor enters
# through the fractional-polynomial transformation named beside it.
BETA_DELTA_FS: Final = -1.837  # on (ΔFS + 0.1)^-0.5
BETA_DIAGNOSTIC_DELAY: Final = -2.373  # on (delay/10)^-0.5 + ln(delay/10)
BETA_AGE_AT_ONSET: Final = -0.267  # on (age/100)^-2
BETA_FVC: Final = 0.477  # on (FVC/100)^-1 + (FVC/100)^-0.5
BETA_BULBAR_ONSET: Final = 0.269
BETA_DEFINITE_EL_ESCORIAL: Final = 0.233
BETA_FTD: Final = 0.388
BETA_C9ORF72: Final = 0.256

# --- Royston–Parmar baseline (proportional odds, x = ln(months since onset)) -----------------------
# Source: as above (clinical-reference §4, Medium). s(x) = γ0 + γ1·x + γ2·v1(x) + γ3·v2(x).
GAMMA: Final = (-6.409, 2.643, -0.546, 0.585)
KNOT_MIN: Final = 0.081
INTERIOR_KNOTS: Final = (3.108, 3.638)
KNOT_MAX: Final = 5.917

# --- Accepted input ranges ------------------------------------------------------------------------
# alscare's conservative envelope for the derivation cohort (adults with ALS seen at 14 European
# specialist centres, predictors taken near diagnosis). The exact ranges observed in the cohort are
# UNCONFIRMED (not in the sources read; check Westeneng 2018 Table 1/appendix). Outside them we refuse
# rather than extrapolate.
AGE_AT_ONSET_RANGE: Final = (18.0, 90.0)  # years
DIAGNOSTIC_DELAY_RANGE: Final = (1.0, 120.0)  # months from symptom onset to diagnosis
DELTA_FS_RANGE: Final = (0.0, 5.0)  # ALSFRS-R points lost per month, onset to diagnosis (Kimura 2006)
FVC_PERCENT_RANGE: Final = (10.0, 150.0)  # % of predicted

DEFAULT_HORIZONS: Final = (12, 24, 36, 60)  # months since symptom onset

_RANGES: Final[Mapping[str, tuple[tuple[float, float], str]]] = {
    "age_at_onset": (AGE_AT_ONSET_RANGE, "years"),
    "diagnostic_delay_months": (DIAGNOSTIC_DELAY_RANGE, "months"),
    "delta_fs": (DELTA_FS_RANGE, "points per month"),
    "fvc_percent": (FVC_PERCENT_RANGE, "% of predicted"),
}
# Said in every range refusal, so the person knows the limit is the model's, not a judgement on them.
_RANGE_BASIS: Final = (
    "the model was built on adults with ALS assessed near diagnosis at specialist centres; "
    "it is not extrapolated beyond this range"
)
_FLAGS: Final = ("bulbar_onset", "definite_el_escorial", "ftd", "c9orf72")

# Bisection on x = ln(months): a generous start bracket, widened if needed, never past a bound where
# exp(x) would leave the floating-point range.
_X_SEARCH_LIMIT: Final = 700.0
_BISECTION_TOLERANCE: Final = 1e-12


@dataclass(frozen=True)
class EncalsPredictors:
    """The eight ENCALS predictors, each as recorded at or near diagnosis.

    Construction validates types and ranges, so any instance is one the model can be applied to.
    """

    age_at_onset: float
    diagnostic_delay_months: float
    delta_fs: float
    fvc_percent: float
    bulbar_onset: bool
    definite_el_escorial: bool
    ftd: bool
    c9orf72: bool

    def __post_init__(self) -> None:
        for name, ((low, high), unit) in _RANGES.items():
            value = getattr(self, name)
            _require_number(name, value)
            if not math.isfinite(value) or not low <= value <= high:
                raise InvalidInput(
                    name,
                    f"must be between {low:g} and {high:g} {unit} ({_RANGE_BASIS})",
                )
        for name in _FLAGS:
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(name, "must be true or false")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> EncalsPredictors:
        """Build predictors from untrusted input (a form, JSON body or CSV row).

        Every field is required: a model with a silently defaulted predictor would give a confident
        answer to a different person.
        """
        names = [f.name for f in fields(cls)]
        for key in data:
            if key not in names:
                raise InvalidInput(str(key), "unknown field")
        for name in names:
            if name not in data:
                raise InvalidInput(name, "is required")

        def number(name: str) -> float:
            return float(_require_number(name, data[name]))

        def flag(name: str) -> bool:
            value = data[name]
            if not isinstance(value, bool):
                raise InvalidInput(name, "must be true or false")
            return value

        return cls(
            age_at_onset=number("age_at_onset"),
            diagnostic_delay_months=number("diagnostic_delay_months"),
            delta_fs=number("delta_fs"),
            fvc_percent=number("fvc_percent"),
            bulbar_onset=flag("bulbar_onset"),
            definite_el_escorial=flag("definite_el_escorial"),
            ftd=flag("ftd"),
            c9orf72=flag("c9orf72"),
        )


def _require_number(field: str, value: object) -> float | int:
    """Return ``value`` if it is a real number; ``True`` is not 1 here, it is a mistake."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, "must be a number")
    return value


# --- Fractional-polynomial transformations (same source as the coefficients) ------------------------
def transform_delta_fs(delta_fs: float) -> float:
    """(ΔFS + 0.1)^-0.5: the 0.1 keeps a ΔFS of 0 finite."""
    return math.pow(delta_fs + 0.1, -0.5)


def transform_diagnostic_delay(months: float) -> float:
    """(delay/10)^-0.5 + ln(delay/10).

    Not monotone: it falls until delay = 2.5 months and rises after, so with β < 0 a longer delay
    means a better prognosis only from 2.5 months on. That is the published shape, kept as is.
    """
    d = months / 10.0
    return math.pow(d, -0.5) + math.log(d)


def transform_age_at_onset(years: float) -> float:
    """(age/100)^-2."""
    return math.pow(years / 100.0, -2)


def transform_fvc(percent_predicted: float) -> float:
    """(FVC/100)^-1 + (FVC/100)^-0.5."""
    f = percent_predicted / 100.0
    return math.pow(f, -1) + math.pow(f, -0.5)


def linear_predictor(p: EncalsPredictors) -> float:
    """The ENCALS linear predictor: higher means a shorter expected time to the composite outcome."""
    return (
        BETA_DELTA_FS * transform_delta_fs(p.delta_fs)
        + BETA_DIAGNOSTIC_DELAY * transform_diagnostic_delay(p.diagnostic_delay_months)
        + BETA_AGE_AT_ONSET * transform_age_at_onset(p.age_at_onset)
        + BETA_FVC * transform_fvc(p.fvc_percent)
        + BETA_BULBAR_ONSET * p.bulbar_onset
        + BETA_DEFINITE_EL_ESCORIAL * p.definite_el_escorial
        + BETA_FTD * p.ftd
        + BETA_C9ORF72 * p.c9orf72
    )


def _cube_plus(u: float) -> float:
    return u**3 if u > 0.0 else 0.0


def _spline_basis(x: float, knot: float) -> float:
    """Restricted cubic spline basis v_j(x); linear beyond the boundary knots.

    The cube is applied to the (x − kmax)+ term as the published formula says (one public
    implementation omits it, which changes s only beyond e^5.917 ≈ 371 months).
    """
    lam = (KNOT_MAX - knot) / (KNOT_MAX - KNOT_MIN)
    return _cube_plus(x - knot) - lam * _cube_plus(x - KNOT_MIN) - (1.0 - lam) * _cube_plus(x - KNOT_MAX)


def baseline_log_odds(x: float) -> float:
    """The baseline spline s(x), x = ln(months since onset).

    s is strictly increasing for every x (slope γ1 = 2.643 below kmin, positive between the knots and
    linear with positive slope above kmax; the tests check this on a fine grid), which is what makes
    the median unique and bisection safe.
    """
    g0, g1, g2, g3 = GAMMA
    k1, k2 = INTERIOR_KNOTS
    return g0 + g1 * x + g2 * _spline_basis(x, k1) + g3 * _spline_basis(x, k2)


def _require_finite_lp(lp: float) -> None:
    if isinstance(lp, bool) or not isinstance(lp, int | float) or not math.isfinite(lp):
        raise InvalidInput("lp", "must be a finite number")


def survival_probability(lp: float, months_since_onset: float) -> float:
    """S(t): probability of being free of the composite outcome ``months_since_onset`` after onset.

    This is unconditional, from onset. For someone already some months past onset, the chance from
    today on is S(t) / S(now), which is for the caller to present with care.
    """
    _require_finite_lp(lp)
    if (
        isinstance(months_since_onset, bool)
        or not isinstance(months_since_onset, int | float)
        or not math.isfinite(months_since_onset)
        or months_since_onset <= 0
    ):
        raise InvalidInput("months", "must be a number of months greater than 0")
    z = baseline_log_odds(math.log(months_since_onset)) + lp
    # 1 / (1 + e^z), written so that neither branch can overflow.
    if z > 0.0:
        e = math.exp(-z)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(z))


def median_survival_months(lp: float) -> float:
    """Months from onset at which S = 0.5, i.e. where s(ln t) = −LP.

    Solved by bisection on x = ln t: s is strictly increasing, so the root is unique and bracketing is
    enough; no derivative, no dependency.
    """
    _require_finite_lp(lp)
    target = -lp
    low, high = -1.0, 8.0
    while baseline_log_odds(low) > target:
        low *= 2.0
        if low < -_X_SEARCH_LIMIT:
            raise InvalidInput("lp", "is too large for a median to be computed")
    while baseline_log_odds(high) < target:
        high *= 2.0
        if high > _X_SEARCH_LIMIT:
            raise InvalidInput("lp", "is too small for a median to be computed")
    while high - low > _BISECTION_TOLERANCE:
        mid = (low + high) / 2.0
        if baseline_log_odds(mid) < target:
            low = mid
        else:
            high = mid
    return math.exp((low + high) / 2.0)


@dataclass(frozen=True)
class EncalsPrediction:
    """One prediction: the linear predictor, median months from onset, and S at each horizon (months)."""

    linear_predictor: float
    median_survival_months: float
    survival: dict[int, float]


def predict(p: EncalsPredictors, horizons: Sequence[int] = DEFAULT_HORIZONS) -> EncalsPrediction:
    """Apply the ENCALS model. Horizons are whole months since symptom onset.

    The outcome is death, tracheostomy or NIV > 23 h/day, counted from symptom onset; the predictors
    should be those taken near diagnosis. A population estimate to discuss with the care team — not a
    verdict on one person's life.
    """
    for horizon in horizons:
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon <= 0:
            raise InvalidInput("horizons", "must be whole numbers of months greater than 0")
    lp = linear_predictor(p)
    return EncalsPrediction(
        linear_predictor=lp,
        median_survival_months=median_survival_months(lp),
        survival={h: survival_probability(lp, h) for h in horizons},
    )

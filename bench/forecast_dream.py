"""Fit and measure alscare's ALSFRS forecast on the DREAM ALS Prediction Prize4Life data.

    .venv/bin/python bench/forecast_dream.py --train ../shared/data/dream/train.csv
        prints the 10-fold cross-validated RMSD of dFRS, the calibration of the 80 % interval and the baselines
    .venv/bin/python bench/forecast_dream.py --train ../shared/data/dream/train.csv \\
        --predict ../shared/data/dream/test_features.csv --out PRED.csv
        fits on the training file only and writes row_id,dFRS for every row of the --predict file
    .venv/bin/python bench/forecast_dream.py --train ../shared/data/dream/train.csv \\
        --write-model src/alscare/clinical/data/forecast_model.json
        fits on the training file and writes the model file alscare ships (with its cross-validated error)

The data (GPL ≥ 3, CASIdata; a subset of PRO-ACT — thanks to the PRO-ACT Consortium) stays in ../shared; it
is never copied into the repository. ``dFRS`` is the slope of the 40-point ALSFRS total, points per month,
between months 3 and 12 of the trial; the features summarise months 0–3.

The fit (seconds, numpy): for each candidate noise ratio λ = σ²/τ² on a log grid, weighted least squares
of the population prior's coefficients given the shrinkage weight w = Sxx / (Sxx + λ); keep the λ with the
smallest training error. σ² (noise of one assessment about a person's line) is pooled from the months 0–3
totals; τ² = σ²/λ; ω² (change of slope) is what is left of the residual variance. Predictions always go
through ``alscare.clinical.forecast.predict_slope``, the function the product uses.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from alscare.clinical.forecast import (
    COVARIATES,
    TO_MODEL_SCALE,
    Z80,
    ForecastModel,
    SlopeFeatures,
    Trajectory,
    covariate_values,
    predict_slope,
)
from alscare.clinical.progression import DAYS_PER_MONTH

# Reference RMSDs on the DREAM test split, from the data's README (not measured here: the target is withheld).
README_TRAINING_MEAN = 0.566
README_RANDOM_FOREST = 0.512
README_FOUR_FEATURE_LINEAR = 0.524

DELTA_FS_OFFSET = 0.1  # log(ΔFS + 0.1): keeps ΔFS = 0 finite; the offset the ENCALS model uses for ΔFS
SLOPE_WINDOW_MONTHS = 12.0  # product only: which assessments the own slope uses (not informed by DREAM)
LAMBDA_GRID = tuple(2.0 ** (k / 4) for k in range(-8, 49))  # 0.25 … 4096 months²
FOLDS = 10
SEED = 20121  # fixed: the folds, and so the printed figures, are reproducible
HORIZONS = (3, 6, 12)


@dataclass(frozen=True)
class Person:
    """One DREAM person as the model sees them (40-point scale), plus what the calibration checks need."""

    features: SlopeFeatures
    visits: int
    mean_total: float
    mean_date_months: float  # months from the last assessment back to the mean date (≤ 0)
    last_total: float
    dfrs: float | None


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _num(row: Mapping[str, str], name: str) -> float:
    value = row[name]
    if value in ("", "NA"):
        raise ValueError(f"{name} is missing")
    return float(value)


def person(row: Mapping[str, str]) -> Person:
    """Translate one row of DREAM summaries into the model's features.

    Own slope: ``alsfrs.score.slope`` is (last − first) / months between the first and last assessment of
    months 0–3 (checked: it reproduces whole-number first totals), so its noise is 2σ²/Δt², i.e. Sxx = Δt²/2.
    With one assessment (or one date) there is no own slope. Months since onset and age at onset are taken at
    the last assessment and at onset: ``Onset.Delta`` is days from onset to trial entry (negative), ``Age`` the
    age at entry. "Limb and bulbar" onset (6 people) counts as bulbar onset.
    """
    first_day = _num(row, "first.alsfrs.score.date")
    last_day = _num(row, "last.alsfrs.score.date")
    span = (last_day - first_day) / DAYS_PER_MONTH
    visits = int(_num(row, "num.alsfrs.score.visits"))
    own = _num(row, "alsfrs.score.slope") if visits >= 2 and span > 0 else None
    onset_days = -_num(row, "Onset.Delta")
    bulbar = _num(row, "Site.of.Onset.Onset..Bulbar") > 0 or _num(row, "Site.of.Onset.Onset..Limb.and.Bulbar") > 0
    features = SlopeFeatures(
        own_slope=own,
        sxx=span**2 / 2 if own is not None else 0.0,
        total=_num(row, "last.alsfrs.score"),
        months_since_onset=(onset_days + last_day) / DAYS_PER_MONTH,
        age_at_onset=_num(row, "Age") - onset_days / 365.25,
        bulbar_onset=bulbar,
    )
    target = row.get("dFRS")
    return Person(
        features=features,
        visits=max(visits, 1),
        mean_total=_num(row, "mean.alsfrs.score"),
        mean_date_months=-span / 2,  # visits taken as evenly spread over months 0–3
        last_total=features.total,
        dfrs=None if target in (None, "", "NA") else float(target),
    )


def _unbounded_model() -> ForecastModel:
    """A model whose only job is to compute raw (unclamped) covariates."""
    inf = (-math.inf, math.inf)
    return ForecastModel(
        intercept=0.0,
        coefficients={name: 0.0 for name in COVARIATES},
        delta_fs_offset=DELTA_FS_OFFSET,
        ranges={name: inf for name in COVARIATES},
        noise_ratio=1.0,
        sigma2=1.0,
        tau2=1.0,
        omega2=0.0,
        omega2_per_decline=0.0,
        decline_range=inf,
        slope_window_months=SLOPE_WINDOW_MONTHS,
        fit={},
    )


def pooled_sigma2(rows: Sequence[Mapping[str, str]]) -> float:
    """σ²: variance of one total about the person's line, pooled over people with ≥ 3 assessments.

    Residual SS ≈ n·sd² − slope²·Sxx (``sd.alsfrs.score`` is the population sd, checked), with the visits
    taken as evenly spread (Sxx = Δt²·n(n+1) / (12(n−1))); pooled over Σ(n − 2) degrees of freedom.
    """
    rss = 0.0
    dof = 0
    for row in rows:
        n = int(_num(row, "num.alsfrs.score.visits"))
        if n < 3:
            continue
        span = (_num(row, "last.alsfrs.score.date") - _num(row, "first.alsfrs.score.date")) / DAYS_PER_MONTH
        sxx = span**2 * n * (n + 1) / (12 * (n - 1))
        rss += max(n * _num(row, "sd.alsfrs.score") ** 2 - _num(row, "alsfrs.score.slope") ** 2 * sxx, 0.0)
        dof += n - 2
    return rss / dof


def fit(rows: Sequence[Mapping[str, str]]) -> ForecastModel:
    """Fit the model on DREAM training rows (each with ``dFRS``). Deterministic; about a second."""
    people = [person(r) for r in rows]
    raw = _unbounded_model()
    x = np.array([[covariate_values(raw, p.features)[name] for name in COVARIATES] for p in people])
    design = np.column_stack([np.ones(len(people)), x])
    y = np.array([p.dfrs for p in people], dtype=float)
    own = np.array([p.features.own_slope or 0.0 for p in people])
    sxx = np.array([p.features.sxx if p.features.own_slope is not None else 0.0 for p in people])
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    for lam in LAMBDA_GRID:
        w = sxx / (sxx + lam)
        a = design * (1 - w)[:, None]
        beta, *_ = np.linalg.lstsq(a, y - w * own, rcond=None)
        residual = y - (w * own + a @ beta)
        sse = float(residual @ residual)
        if best is None or sse < best[0]:
            best = (sse, lam, beta, w)
    assert best is not None
    _, lam, beta, w = best
    sigma2 = pooled_sigma2(rows)
    tau2 = sigma2 / lam
    prior = design @ beta
    residual = y - (w * own + (1 - w) * prior)
    # ω² = what the residual variance leaves after the current slope's, as a line in the prior's decline,
    # both coefficients kept ≥ 0 (a variance cannot fall with speed, and cannot be negative).
    excess = residual**2 - (1 - w) * tau2
    decline_range = (float(np.min(-prior)), float(np.max(-prior)))
    decline = np.clip(-prior, *decline_range)
    (omega2, per_decline), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(decline), decline]), excess, rcond=None)
    if per_decline < 0:
        omega2, per_decline = float(np.mean(excess)), 0.0
    omega2 = max(float(omega2), 0.0)
    return ForecastModel(
        intercept=float(beta[0]),
        coefficients={name: float(b) for name, b in zip(COVARIATES, beta[1:], strict=True)},
        delta_fs_offset=DELTA_FS_OFFSET,
        ranges={name: (float(x[:, i].min()), float(x[:, i].max())) for i, name in enumerate(COVARIATES)},
        noise_ratio=float(lam),
        sigma2=sigma2,
        tau2=tau2,
        omega2=omega2,
        omega2_per_decline=float(per_decline),
        decline_range=decline_range,
        slope_window_months=SLOPE_WINDOW_MONTHS,
        fit={},
    )


def _trajectory(model: ForecastModel, p: Person) -> Trajectory:
    """The product's trajectory for a DREAM person, 'today' being their last assessment (ALSFRS-R units)."""
    return Trajectory(
        today=date(2000, 1, 1),  # any day: only month offsets are read
        mean_date_months=p.mean_date_months,
        last_date_months=0.0,
        mean_total=p.mean_total / TO_MODEL_SCALE,
        count=p.visits,
        latest_total=p.last_total / TO_MODEL_SCALE,
        slope=predict_slope(model, p.features),
        model=model,
    )


@dataclass(frozen=True)
class Evaluation:
    rmsd: float
    baseline_rmsd: float
    slope_coverage: float
    horizon_coverage: dict[int, float]
    slope_coverage_by_speed: dict[str, float]  # thirds of the predicted slope: slowest, middle, fastest
    mean_interval_width: float
    n: int
    folds: int


def cross_validate(rows: Sequence[Mapping[str, str]], folds: int = FOLDS, seed: int = SEED) -> Evaluation:
    """k-fold CV: RMSD of dFRS, the training-mean baseline, and the share of held-out people inside the 80 %
    interval — of the 3→12-month slope, and of the total h months on, reconstructed as the last total of
    months 0–3 plus dFRS·h (so its noise is that of the last total, not of a future one)."""
    order = np.random.default_rng(seed).permutation(len(rows)) % folds
    errors: list[float] = []
    base_errors: list[float] = []
    inside = 0
    widths: list[float] = []
    horizon_inside = dict.fromkeys(HORIZONS, 0)
    predicted: list[float] = []
    covered: list[bool] = []
    for k in range(folds):
        train = [r for r, f in zip(rows, order, strict=True) if f != k]
        test = [r for r, f in zip(rows, order, strict=True) if f == k]
        model = fit(train)
        train_mean = float(np.mean([float(r["dFRS"]) for r in train]))
        for row in test:
            p = person(row)
            assert p.dfrs is not None
            s = predict_slope(model, p.features)
            errors.append(p.dfrs - s.mean)
            base_errors.append(p.dfrs - train_mean)
            half = Z80 * math.sqrt(s.future_variance)
            widths.append(2 * half)
            inside += abs(p.dfrs - s.mean) <= half
            predicted.append(s.mean)
            covered.append(abs(p.dfrs - s.mean) <= half)
            t = _trajectory(model, p)
            for h in HORIZONS:
                mean, sd = t.mean_and_sd(float(h))
                observed = (p.last_total + p.dfrs * h) / TO_MODEL_SCALE
                horizon_inside[h] += abs(observed - mean) <= Z80 * sd
    n = len(errors)
    ranked = np.argsort(predicted)[::-1]  # least negative (slowest decline) first
    thirds = np.array_split(ranked, 3)
    by_speed = {
        name: float(np.mean([covered[i] for i in third]))
        for name, third in zip(("slowest", "middle", "fastest"), thirds, strict=True)
    }
    return Evaluation(
        rmsd=math.sqrt(float(np.mean(np.square(errors)))),
        baseline_rmsd=math.sqrt(float(np.mean(np.square(base_errors)))),
        slope_coverage=inside / n,
        horizon_coverage={h: c / n for h, c in horizon_inside.items()},
        slope_coverage_by_speed=by_speed,
        mean_interval_width=float(np.mean(widths)),
        n=n,
        folds=folds,
    )


def fit_record(train_path: Path, rows: Sequence[Mapping[str, str]], e: Evaluation, fitted_on: date) -> dict[str, Any]:
    """How the shipped model was fitted, stored in the model file beside its parameters."""
    return {
        "data": "DREAM ALS Prediction Prize4Life training set (CASIdata 0.2.1, train.csv; a subset of PRO-ACT)",
        "acknowledgement": "Data from the PRO-ACT Consortium",
        "file": train_path.name,
        "people": len(rows),
        "fitted_on": fitted_on.isoformat(),
        "method": (
            "empirical-Bayes shrinkage of the own months 0-3 ALSFRS slope towards a linear prior on "
            + ", ".join(COVARIATES)
            + "; prior by weighted least squares, noise ratio by grid search on training error"
        ),
        "target": "dFRS: ALSFRS (40-point) slope, points/month, months 3-12",
        "cv_folds": e.folds,
        "cv_seed": SEED,
        "cv_rmsd": round(e.rmsd, 4),
        "cv_baseline_rmsd": round(e.baseline_rmsd, 4),
        "cv_slope_interval_coverage_80": round(e.slope_coverage, 4),
        "cv_slope_interval_coverage_80_by_speed_third": {k: round(v, 4) for k, v in e.slope_coverage_by_speed.items()},
        "cv_total_interval_coverage_80": {str(h): round(c, 4) for h, c in e.horizon_coverage.items()},
        "bench": "bench/forecast_dream.py",
    }


def _print_evaluation(e: Evaluation, seconds: float) -> None:
    print(f"DREAM ALS training data: {e.n} people, {e.folds}-fold cross-validation (seed {SEED}), {seconds:.1f} s")
    print("RMSD of dFRS, points/month (40-point ALSFRS):")
    print(f"  alscare forecast (shrinkage, {len(COVARIATES)} covariates), CV   {e.rmsd:.4f}")
    print(f"  training-mean baseline, same folds, CV            {e.baseline_rmsd:.4f}")
    print(f"  README, on the test split (dFRS withheld here): training mean {README_TRAINING_MEAN}, "
          f"4-feature linear {README_FOUR_FEATURE_LINEAR}, random forest {README_RANDOM_FOREST}")  # fmt: skip
    print("80 % interval, share of held-out people inside it:")
    print(f"  3→12-month slope (dFRS)                           {e.slope_coverage:.3f}  (mean width "
          f"{e.mean_interval_width:.2f} points/month)")  # fmt: skip
    thirds = ", ".join(f"{k} {v:.3f}" for k, v in e.slope_coverage_by_speed.items())
    print(f"    by third of predicted slope: {thirds}")
    for h, c in e.horizon_coverage.items():
        print(f"  total {h:>2} months on (last total + dFRS·{h:<2})         {c:.3f}")
    print("Data: the PRO-ACT Consortium (DREAM ALS Prediction Prize4Life; CASIdata, GPL ≥ 3).")


def _print_model(m: ForecastModel) -> None:
    terms = " ".join(f"{'+' if b >= 0 else '−'} {abs(b):.4g}·{name}" for name, b in m.coefficients.items())
    print(f"Fitted on all of it: prior slope = {m.intercept:.4g} {terms}")
    print(f"  own-slope weight = Sxx / (Sxx + {m.noise_ratio:.3g})")
    print(f"  σ² {m.sigma2:.3g} points², τ² {m.tau2:.3g}, ω² {m.omega2:.3g} + {m.omega2_per_decline:.3g}·decline"
          " (points/month)²")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True, help="DREAM train.csv (with dFRS)")
    parser.add_argument("--predict", type=Path, help="a features file (row_id and the same features)")
    parser.add_argument("--out", type=Path, help="where to write row_id,dFRS for --predict")
    parser.add_argument("--write-model", type=Path, help="write the fitted model file (with its CV error)")
    parser.add_argument("--folds", type=int, default=FOLDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rows = read_csv(args.train)
    if args.predict is not None:
        if args.out is None:
            parser.error("--predict needs --out")
        model = fit(rows)
        with args.out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["row_id", "dFRS"])
            count = 0
            for row in read_csv(args.predict):
                writer.writerow([row["row_id"], f"{predict_slope(model, person(row).features).mean:.6f}"])
                count += 1
        print(f"wrote {count} predictions to {args.out}")
        return 0
    start = time.perf_counter()
    evaluation = cross_validate(rows, folds=args.folds)
    seconds = time.perf_counter() - start
    _print_evaluation(evaluation, seconds)
    model = fit(rows)
    _print_model(model)
    if args.write_model is not None:
        model = replace(model, fit=fit_record(args.train, rows, evaluation, date.today()))
        args.write_model.parent.mkdir(parents=True, exist_ok=True)
        args.write_model.write_text(json.dumps(model.to_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote the model to {args.write_model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

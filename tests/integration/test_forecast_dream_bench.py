"""The forecast benchmark on the DREAM ALS data, and that the product ships the model the bench fits.

The data (GPL ≥ 3; the PRO-ACT Consortium) is read where it lives, ``../shared/data/dream`` beside the
repository (or ``$ALSCARE_DREAM_DIR``); it is never copied into the repository. Without it these tests skip.
Slices written here go to pytest's temporary directory only.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from alscare.clinical.forecast import ForecastModel, load_model, predict_slope

ROOT = Path(__file__).resolve().parents[2]
DREAM = Path(os.environ.get("ALSCARE_DREAM_DIR", ROOT.parent / "shared" / "data" / "dream"))
TRAIN = DREAM / "train.csv"
TEST = DREAM / "test_features.csv"

pytestmark = pytest.mark.skipif(not TRAIN.exists(), reason=f"DREAM data not found at {DREAM}")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("forecast_dream", ROOT / "bench" / "forecast_dream.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["forecast_dream"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def head(source: Path, target: Path, rows: int) -> Path:
    with source.open(newline="", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(rows + 1), f, strict=False)]
    target.write_text("".join(lines), encoding="utf-8")
    return target


def parameters(model: ForecastModel) -> dict[str, object]:
    return {k: v for k, v in model.to_dict().items() if k != "fit"}


def test_the_shipped_model_is_what_the_bench_fits(bench: ModuleType) -> None:
    fitted = bench.fit(bench.read_csv(TRAIN))
    shipped = load_model()
    # Through JSON, as the file is written; equal to 9 significant digits (other BLAS builds may round differently).
    assert _close(json.loads(json.dumps(parameters(fitted))), parameters(shipped))


def _close(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_the_shipped_error_figures_are_what_the_bench_measures(bench: ModuleType) -> None:
    e = bench.cross_validate(bench.read_csv(TRAIN))
    fit = load_model().fit
    # Stored rounded to 4 places; a last-digit flip on another BLAS build is not a different model.
    assert fit["cv_rmsd"] == pytest.approx(e.rmsd, abs=1e-4)
    assert fit["cv_baseline_rmsd"] == pytest.approx(e.baseline_rmsd, abs=1e-4)
    assert fit["cv_slope_interval_coverage_80"] == pytest.approx(e.slope_coverage, abs=1e-4)
    coverage = fit["cv_total_interval_coverage_80"]
    assert coverage.keys() == {"3", "6", "12"}
    for h, c in e.horizon_coverage.items():
        assert coverage[str(h)] == pytest.approx(c, abs=1e-4)


def test_bench_predictions_are_the_products(bench: ModuleType, tmp_path: Path) -> None:
    """Fitted on the whole training file, the bench's predictions are the shipped model's predict_slope."""
    features = head(TEST, tmp_path / "test_head.csv", 40)
    out = tmp_path / "pred.csv"
    assert bench.main(["--train", str(TRAIN), "--predict", str(features), "--out", str(out)]) == 0
    with out.open(newline="") as f:
        predicted = list(csv.DictReader(f))
    rows = bench.read_csv(features)
    assert [p["row_id"] for p in predicted] == [r["row_id"] for r in rows]
    model = load_model()
    for p, row in zip(predicted, rows, strict=True):
        assert float(p["dFRS"]) == pytest.approx(predict_slope(model, bench.person(row).features).mean, abs=1e-6)


def test_bench_cross_validates_a_slice_and_writes_a_model(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = head(TRAIN, tmp_path / "train_head.csv", 300)
    model_file = tmp_path / "model.json"
    assert bench.main(["--train", str(train), "--write-model", str(model_file)]) == 0
    printed = capsys.readouterr().out
    rmsd = float(re.search(r"alscare forecast .*, CV +(\d\.\d+)", printed).group(1))  # type: ignore[union-attr]
    baseline = float(re.search(r"training-mean baseline, same folds, CV +(\d\.\d+)", printed).group(1))  # type: ignore[union-attr]
    assert rmsd < baseline
    for h in (3, 6, 12):
        assert re.search(rf"total +{h} months on .* 0\.\d{{3}}", printed)
    assert "PRO-ACT Consortium" in printed
    written = ForecastModel.from_dict(json.loads(model_file.read_text()))
    assert written.fit["people"] == 300 and written.fit["cv_rmsd"] == pytest.approx(rmsd, abs=1e-4)


def test_bench_predict_needs_out(bench: ModuleType) -> None:
    with pytest.raises(SystemExit) as e:
        bench.main(["--train", str(TRAIN), "--predict", str(TEST)])
    assert e.value.code == 2

"""Throughput of the clinical core: how many assessments, stagings, predictions and triages per second.

Run: .venv/bin/python bench/bench_clinical.py  — prints figures; no pass/fail (targets live here, not in tests).
Target: scoring + staging a clinic's full history (10,000 assessments) well under a second.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from alscare.clinical.alsfrs_r import Assessment
from alscare.clinical.prognosis import EncalsPredictors, predict
from alscare.clinical.staging import kings_stage, mitos_stage
from alscare.clinical.triage import CHECK_IN_FIELDS, CheckIn, triage


def _rate(label: str, n: int, fn: Callable[[int], object]) -> None:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    elapsed = time.perf_counter() - start
    print(f"{label:<38} {n / elapsed:>12,.0f} per second   ({elapsed * 1e6 / n:,.1f} µs each, n={n:,})")


def main() -> None:
    rng = random.Random(1)
    answer_sets = []
    for _ in range(2000):
        items: dict[str, object] = {str(i): rng.randint(0, 4) for i in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12)}
        items["5b" if rng.random() < 0.2 else "5a"] = rng.randint(0, 4)
        answer_sets.append(items)
    assessments = [Assessment.from_answers(a) for a in answer_sets]
    bools = [k for k, spec in CHECK_IN_FIELDS.items() if spec.kind == "bool"]
    check_ins = [CheckIn.from_mapping({k: rng.random() < 0.1 for k in bools}) for _ in range(2000)]
    predictors = [
        EncalsPredictors.from_mapping(
            {
                "age_at_onset": rng.uniform(30, 85),
                "diagnostic_delay_months": rng.uniform(2, 60),
                "delta_fs": rng.uniform(0.05, 3),
                "fvc_percent": rng.uniform(40, 120),
                "bulbar_onset": rng.random() < 0.3,
                "definite_el_escorial": rng.random() < 0.3,
                "ftd": rng.random() < 0.1,
                "c9orf72": rng.random() < 0.1,
            }
        )
        for _ in range(500)
    ]
    print("alscare clinical core benchmark")
    _rate("ALSFRS-R validate + score", 20_000, lambda i: Assessment.from_answers(answer_sets[i % 2000]).total)
    _rate(
        "King's + MiToS staging",
        20_000,
        lambda i: (kings_stage(assessments[i % 2000]), mitos_stage(assessments[i % 2000])),
    )
    _rate("triage of a check-in", 20_000, lambda i: triage(check_ins[i % 2000]))
    _rate("ENCALS prediction (median + 4 horizons)", 2_000, lambda i: predict(predictors[i % 500]))


if __name__ == "__main__":
    main()

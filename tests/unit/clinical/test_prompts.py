"""Breathing measurements reported with a check-in are validated, naming the field.

The check-in-only prompt table that was tested here was replaced by the history prompts of issue 8
(``alscare.clinical.history_prompts``, tested in test_history_prompts.py on both sides of every boundary).
"""

from __future__ import annotations

import pytest

from alscare.clinical.errors import InvalidInput
from alscare.clinical.prompts import Measurements

# --- Measurements are validated, naming the field --------------------------------------------------------

BAD = [
    ("fvc_percent", 9.9),
    ("fvc_percent", 150.1),
    ("snip_cmh2o", -1),
    ("snip_cmh2o", 200.5),
    ("spo2_percent", 49),
    ("spo2_percent", 101),
    ("fvc_percent", True),
    ("fvc_percent", "45"),
    ("spo2_percent", float("nan")),
    ("snip_cmh2o", float("inf")),
]


@pytest.mark.parametrize(("field", "value"), BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_bad_measurements_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        Measurements(**{field: value})  # type: ignore[arg-type]
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("field", "value"), [("fvc_percent", 10), ("fvc_percent", 150), ("snip_cmh2o", 0), ("spo2_percent", 100)]
)
def test_limits_are_inclusive(field: str, value: int) -> None:
    assert getattr(Measurements(**{field: value}), field) == float(value)

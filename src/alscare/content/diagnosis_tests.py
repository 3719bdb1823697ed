"""The tests on the way to a diagnosis of ALS, each with "what to expect" in plain words (content kind "test").

The words live in ``texts/diagnosis_tests.en.toml``, keyed by test kind; the diagnosis journey
(``alscare.actions.diagnosis``) uses the same kinds, so a test on a person's journey always has its explanation.
Pure: package data only.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Final

from alscare.content import ContentItem

__all__ = ["TEST_SOURCES", "DiagnosisTest", "diagnosis_tests", "items"]

TEST_SOURCES: Final = (
    "clinical-reference §5: Revised El Escorial (Brooks 2000), Awaji (de Carvalho 2008) and Gold Coast (Shefner "
    "2020) criteria — EMG evidence of LMN signs, and investigations that exclude other diseases",
    "clinical-reference §7: tofersen for SOD1-ALS (FDA 2023, EMA 2024)",
    "MRI safety: American College of Radiology Manual on MR Safety (2020); UK MHRA MRI safety guidance "
    "(recalled, not verified in the sources read)",
)


@dataclass(frozen=True)
class DiagnosisTest:
    kind: str
    name: str
    what_to_expect: str
    reviewed_on: date


@functools.cache
def _tests(locale: str) -> tuple[DiagnosisTest, ...]:
    if locale != "en":
        return ()
    path = resources.files(__name__.rpartition(".")[0]) / "texts" / f"diagnosis_tests.{locale}.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    reviewed = raw["reviewed_on"]
    return tuple(
        DiagnosisTest(kind=kind, name=entry["name"], what_to_expect=entry["what_to_expect"], reviewed_on=reviewed)
        for kind, entry in raw["tests"].items()
    )


def diagnosis_tests(locale: str = "en") -> tuple[DiagnosisTest, ...]:
    """Every test kind in journey order."""
    return _tests(locale)


def items(locale: str) -> list[ContentItem]:
    return [
        ContentItem(
            id=f"test.{t.kind}",
            kind="test",
            title=t.name,
            text=t.what_to_expect,
            sources=TEST_SOURCES,
            reviewed_on=t.reviewed_on,
        )
        for t in _tests(locale)
    ]

"""The accessibility checker itself: a page that passes must pass because axe-core ran, not because it
did not. Planting a known violation in a real page proves axe is loaded and its findings reach the test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe import format_violations, run_axe
from keyboard import KeyboardUser

pytestmark = pytest.mark.e2e


def test_axe_reports_a_planted_violation(new_person: Callable[[str], KeyboardUser]) -> None:
    visitor = new_person("axe-self-check")
    visitor.open("/")
    assert run_axe(visitor.page) == []
    # An unlabelled field: WCAG 1.3.1 / 4.1.2, axe rule "label".
    visitor.page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    violations = run_axe(visitor.page)
    assert [v["id"] for v in violations] == ["label"]
    report = format_violations(violations, "the start page")
    assert "[critical] label: Form elements must have labels" in report
    assert "<input>" in report  # the offending element, as HTML

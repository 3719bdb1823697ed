"""The sharing page says in plain words what each grantable scope shows, with an example (issue 9)."""

from __future__ import annotations

import textstat

from alscare.access import GRANTABLE_SCOPES, HEADER_SHOWS, SCOPE_LABELS, SCOPE_SHOWS


def test_every_grantable_scope_says_what_it_shows_with_an_example() -> None:
    assert set(SCOPE_SHOWS) == set(GRANTABLE_SCOPES)
    for scope in GRANTABLE_SCOPES:
        shows, example = SCOPE_SHOWS[scope]
        assert SCOPE_LABELS[scope] and shows and example


def test_the_words_read_at_grade_8_or_below() -> None:
    text = " ".join([HEADER_SHOWS, *(f"{shows} For example: {ex}" for shows, ex in SCOPE_SHOWS.values())])
    assert textstat.flesch_kincaid_grade(text) <= 8.0

"""The audit hash chain: canonical hashing, and each kind of tampering reported where it happened."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscare.security.hashchain import (
    BROKEN_LINK,
    GENESIS,
    HASH_MISMATCH,
    UNHASHABLE,
    ChainProblem,
    FieldValue,
    entry_hash,
    verify_chain,
)

Entry = tuple[object, Mapping[str, FieldValue], str, str]


def build_chain(rows: Sequence[Mapping[str, FieldValue]]) -> list[Entry]:
    entries: list[Entry] = []
    prev = GENESIS
    for entry_id, fields in enumerate(rows, start=1):
        stored = entry_hash(prev, fields)
        entries.append((entry_id, fields, prev, stored))
        prev = stored
    return entries


def problems_at(entries: list[Entry]) -> list[tuple[int, str]]:
    return [(p.index, p.reason) for p in verify_chain(entries)]


ROWS: list[Mapping[str, FieldValue]] = [
    {"action": "sign_in", "actor": "alice@example.org", "at": "2025-06-21T12:00:00Z"},
    {"action": "record_check_in", "actor": "alice@example.org", "patient_id": 7, "note": None},
    {"action": "grant_access", "actor": "alice@example.org", "grantee": "Dr Émile Öztürk"},
    {"action": "acknowledge_alert", "actor": "nurse@example.org", "alert_id": 12},
]


def test_entry_hash_is_sha256_of_prev_hash_and_canonical_json() -> None:
    fields: dict[str, FieldValue] = {"b": 1, "a": "é", "c": None}
    expected = hashlib.sha256((GENESIS + '{"a":"é","b":1,"c":null}').encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS, fields) == expected
    assert entry_hash(GENESIS, dict(reversed(list(fields.items())))) == expected  # key order irrelevant


def test_entry_hash_depends_on_prev_hash() -> None:
    assert entry_hash(GENESIS, ROWS[0]) != entry_hash("f" * 64, ROWS[0])


@pytest.mark.parametrize("value", [1.5, True, b"bytes", ["list"], {"nested": 1}])
def test_entry_hash_refuses_ambiguous_values(value: object) -> None:
    with pytest.raises(TypeError):
        entry_hash(GENESIS, {"field": value})  # type: ignore[dict-item]


def test_entry_hash_refuses_non_string_keys_and_bad_prev_hash() -> None:
    with pytest.raises(TypeError):
        entry_hash(GENESIS, {1: "x"})  # type: ignore[dict-item]
    for bad in ["", "0" * 63, "A" * 64, "g" * 64]:
        with pytest.raises(ValueError):
            entry_hash(bad, ROWS[0])


def test_a_valid_chain_verifies() -> None:
    assert verify_chain(build_chain(ROWS)) == []
    assert verify_chain([]) == []


def test_editing_a_field_is_reported_at_that_entry() -> None:
    chain = build_chain(ROWS)
    entry_id, fields, prev, stored = chain[1]
    chain[1] = (entry_id, {**fields, "patient_id": 8}, prev, stored)
    assert verify_chain(chain) == [ChainProblem(1, 2, HASH_MISMATCH)]


def test_deleting_a_middle_row_is_reported_where_it_was() -> None:
    chain = build_chain(ROWS)
    del chain[1]
    assert verify_chain(chain) == [ChainProblem(1, 3, BROKEN_LINK)]


def test_deleting_the_first_row_is_reported() -> None:
    assert problems_at(build_chain(ROWS)[1:]) == [(0, BROKEN_LINK)]


def test_deleting_the_last_row_is_not_detectable_without_an_anchored_head() -> None:
    # Documented limitation: the chain alone cannot know it was longer.
    assert verify_chain(build_chain(ROWS)[:-1]) == []


def test_swapping_two_rows_is_reported_from_the_first() -> None:
    chain = build_chain(ROWS)
    chain[1], chain[2] = chain[2], chain[1]
    assert problems_at(chain) == [(1, BROKEN_LINK), (2, BROKEN_LINK), (3, BROKEN_LINK)]


def test_editing_a_stored_hash_is_reported_at_that_entry_and_the_next() -> None:
    chain = build_chain(ROWS)
    entry_id, fields, prev, _ = chain[2]
    chain[2] = (entry_id, fields, prev, "f" * 64)
    assert problems_at(chain) == [(2, HASH_MISMATCH), (3, BROKEN_LINK)]


def test_an_unhashable_entry_is_reported_not_raised() -> None:
    chain = build_chain(ROWS)
    entry_id, fields, _, stored = chain[0]
    chain[0] = (entry_id, {**fields, "score": 1.5}, "not a hash", stored)  # type: ignore[dict-item]
    problems = verify_chain(chain)
    assert [(p.index, p.reason.split(":")[0]) for p in problems] == [(0, BROKEN_LINK), (0, UNHASHABLE)]


# --- Properties over random chains and random single tamperings --------------------------------------

field_values = st.one_of(st.none(), st.integers(), st.text(max_size=12))
row_fields = st.dictionaries(st.text(max_size=6), field_values, min_size=1, max_size=4)


def changed(value: FieldValue) -> FieldValue:
    if value is None:
        return ""
    if isinstance(value, int):
        return value + 1
    return value + "x"


@given(st.lists(row_fields, max_size=12))
def test_any_untampered_chain_verifies(rows: list[dict[str, FieldValue]]) -> None:
    assert verify_chain(build_chain(rows)) == []


@st.composite
def chain_and_index(draw: st.DrawFn, min_rows: int) -> tuple[list[Entry], int]:
    rows = draw(st.lists(row_fields, min_size=min_rows, max_size=12))
    return build_chain(rows), draw(st.integers(min_value=0, max_value=len(rows) - 1))


@given(chain_and_index(min_rows=1), st.data())
def test_any_edited_field_is_reported_at_its_entry(case: tuple[list[Entry], int], data: st.DataObject) -> None:
    chain, i = case
    entry_id, fields, prev, stored = chain[i]
    key = data.draw(st.sampled_from(sorted(fields)))
    chain[i] = (entry_id, {**fields, key: changed(fields[key])}, prev, stored)
    assert problems_at(chain) == [(i, HASH_MISMATCH)]


@given(chain_and_index(min_rows=2))
def test_any_deleted_row_but_the_last_is_reported_where_it_was(case: tuple[list[Entry], int]) -> None:
    chain, i = case
    if i == len(chain) - 1:
        i -= 1
    del chain[i]
    assert problems_at(chain) == [(i, BROKEN_LINK)]


@given(chain_and_index(min_rows=2))
def test_any_swap_of_neighbours_is_reported_from_the_first(case: tuple[list[Entry], int]) -> None:
    chain, i = case
    if i == len(chain) - 1:
        i -= 1
    chain[i], chain[i + 1] = chain[i + 1], chain[i]
    expected = [(j, BROKEN_LINK) for j in range(i, min(i + 3, len(chain)))]
    assert problems_at(chain) == expected


@given(chain_and_index(min_rows=1), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_any_edited_stored_hash_is_reported_at_its_entry(case: tuple[list[Entry], int], forged: str) -> None:
    chain, i = case
    entry_id, fields, prev, stored = chain[i]
    if forged == stored:
        forged = "0" * 64 if stored != "0" * 64 else "1" * 64
    chain[i] = (entry_id, fields, prev, forged)
    expected = [(i, HASH_MISMATCH)] + ([(i + 1, BROKEN_LINK)] if i + 1 < len(chain) else [])
    assert problems_at(chain) == expected

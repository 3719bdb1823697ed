"""Password hashing and policy: real Argon2id hashes (each costs ~40 ms, so hashing tests stay few)."""

from __future__ import annotations

import unicodedata

import pytest
from argon2 import PasswordHasher, Type
from hypothesis import given
from hypothesis import strategies as st

from alscare.security.passwords import (
    DUMMY_HASH,
    MAX_LENGTH,
    MIN_LENGTH,
    TOO_COMMON,
    TOO_LONG,
    TOO_PERSONAL,
    TOO_SHORT,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "correct horse battery staple"


@pytest.fixture(scope="module")
def good_hash() -> str:
    return hash_password(GOOD)


def test_round_trip(good_hash: str) -> None:
    assert verify_password(good_hash, GOOD)


def test_wrong_password_is_false(good_hash: str) -> None:
    assert not verify_password(good_hash, "correct horse battery stapler")
    assert not verify_password(good_hash, "")


def test_hash_is_argon2id_with_owasp_parameters(good_hash: str) -> None:
    # OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
    assert good_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_each_hash_has_its_own_salt(good_hash: str) -> None:
    assert hash_password(GOOD) != good_hash


def test_unicode_forms_of_the_same_password_match() -> None:
    composed = unicodedata.normalize("NFC", "crème brûlée à la carte")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert verify_password(hash_password(composed), decomposed)


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "éééééééééé",
    ],
)
def test_malformed_hash_is_false_not_an_error(malformed: str) -> None:
    assert verify_password(malformed, GOOD) is False
    assert needs_rehash(malformed)


@given(st.text())
def test_arbitrary_text_as_hash_never_raises(text: str) -> None:
    assert verify_password(text, GOOD) is False


def test_needs_rehash_only_for_other_parameters(good_hash: str) -> None:
    assert not needs_rehash(good_hash)
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(GOOD)
    assert verify_password(weaker, GOOD)  # still accepted, so the sign-in action can upgrade it
    assert needs_rehash(weaker)


def test_dummy_hash_is_current_and_matches_nothing_likely() -> None:
    assert not needs_rehash(DUMMY_HASH), "regenerate DUMMY_HASH after changing the Argon2 parameters"
    assert not verify_password(DUMMY_HASH, GOOD)
    assert not verify_password(DUMMY_HASH, "")


@pytest.mark.parametrize(
    "password",
    [
        GOOD,
        "mauve7kite",  # exactly MIN_LENGTH
        "all lowercase words, no digits",  # NIST SP 800-63B: no composition rules
        "ŝĉĝĥĵŭéèêë",  # ten characters, twenty UTF-8 bytes
        "x" * 3 + "".join(chr(0x4E00 + i) for i in range(MAX_LENGTH - 3)),  # exactly MAX_LENGTH
    ],
)
def test_policy_accepts(password: str) -> None:
    assert check_password_policy(password) is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", TOO_SHORT),
        ("mauve7kit", TOO_SHORT),  # MIN_LENGTH - 1
        # Nine accented letters typed decomposed are 18 code points, but 9 characters after NFKC.
        (unicodedata.normalize("NFD", "éèêëàâäôö"), TOO_SHORT),
        ("ab" + "".join(chr(0x4E00 + i) for i in range(MAX_LENGTH - 1)), TOO_LONG),
        ("password123", TOO_COMMON),
        ("Password123!", TOO_COMMON),
        ("P@ssw0rd2024", TOO_COMMON),
        ("qwertyuiop", TOO_COMMON),
        ("1234567890", TOO_COMMON),
        ("0987654321", TOO_COMMON),
        ("67890123456", TOO_COMMON),  # a run of digits, wrapping round
        ("abcdefghijkl", TOO_COMMON),
        ("ZYXWVUTSRQPO", TOO_COMMON),
        ("aaaaaaaaaaaa", TOO_COMMON),
        ("ababababab!!", TOO_COMMON),
        ("123123123123", TOO_COMMON),
        ("!!!!!!!!!!!!", TOO_COMMON),
        ("alscare2024!", TOO_COMMON),
        ("iloveyou1234", TOO_COMMON),
    ],
)
def test_policy_refuses(password: str, problem: str) -> None:
    assert check_password_policy(password) == problem


def test_policy_refuses_own_name_or_address_but_not_short_parts() -> None:
    personal = ["Alice Smith", "alice.smith@example.org"]
    assert check_password_policy("sunflower ALICE 77", personal=personal) == TOO_PERSONAL
    assert check_password_policy("blacksmith rowing", personal=personal) == TOO_PERSONAL
    assert check_password_policy("gorgeous river otter", personal=personal) is None  # "org" is too short


@given(st.text(max_size=MAX_LENGTH + 20))
def test_policy_never_raises_and_checks_length_first(password: str) -> None:
    problem = check_password_policy(password)
    assert problem in {None, TOO_SHORT, TOO_LONG, TOO_COMMON}
    length = len(unicodedata.normalize("NFKC", password))
    assert (problem == TOO_SHORT) == (length < MIN_LENGTH)
    assert (problem == TOO_LONG) == (length > MAX_LENGTH)

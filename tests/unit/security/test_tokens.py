"""Single-use tokens, CSRF tokens and HMAC signatures, with published test vectors."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscare.security.tokens import (
    csrf_token,
    csrf_valid,
    new_token,
    sign,
    token_digest,
    verify_signature,
)

SESSION_SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
URLSAFE = set(string.ascii_letters + string.digits + "-_")
HEX = set("0123456789abcdef")


def test_new_token_is_256_bits_url_safe_and_fresh() -> None:
    token = new_token()
    assert len(token) == 43  # 32 bytes in unpadded base64
    assert set(token) <= URLSAFE
    assert len({new_token() for _ in range(100)}) == 100


def test_token_digest_is_sha256_hex() -> None:
    # FIPS 180-2, Appendix B.1: SHA-256("abc").
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@given(st.text(), st.text())
def test_token_digest_is_deterministic_and_distinguishes_tokens(a: str, b: str) -> None:
    assert token_digest(a) == token_digest(a)
    assert len(token_digest(a)) == 64
    assert set(token_digest(a)) <= HEX
    assert (token_digest(a) == token_digest(b)) == (a == b)


def test_csrf_token_is_valid_for_its_own_session() -> None:
    token = csrf_token(SESSION_SECRET, "session-1")
    assert csrf_valid(SESSION_SECRET, "session-1", token)


def test_csrf_token_is_invalid_for_another_session_or_secret() -> None:
    token = csrf_token(SESSION_SECRET, "session-1")
    assert not csrf_valid(SESSION_SECRET, "session-2", token)
    assert not csrf_valid(OTHER_SECRET, "session-1", token)


@given(
    session_id=st.text(min_size=1),
    position=st.integers(min_value=0, max_value=63),
    char=st.sampled_from("0f"),
)
def test_tampered_csrf_token_is_invalid(session_id: str, position: int, char: str) -> None:
    token = csrf_token(SESSION_SECRET, session_id)
    tampered = token[:position] + char + token[position + 1 :]
    assert csrf_valid(SESSION_SECRET, session_id, tampered) == (tampered == token)


@pytest.mark.parametrize("bad", ["", "x", "é" * 64, "\ud800", " " + csrf_token(SESSION_SECRET, "s")])
def test_malformed_csrf_token_is_invalid_without_error(bad: str) -> None:
    assert not csrf_valid(SESSION_SECRET, "s", bad)


def test_csrf_needs_a_session_and_a_long_enough_secret() -> None:
    assert not csrf_valid(SESSION_SECRET, "", csrf_token(SESSION_SECRET, "s"))
    with pytest.raises(ValueError, match="session id"):
        csrf_token(SESSION_SECRET, "")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        csrf_token(b"short", "s")


def test_sign_matches_rfc_4231_test_case_2() -> None:
    # RFC 4231 §4.3: HMAC-SHA-256 with key "Jefe" — plain HMAC, as webhook receivers expect.
    assert sign(b"Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


@given(payload=st.binary(), other=st.binary())
def test_signature_verifies_only_for_its_payload(payload: bytes, other: bytes) -> None:
    signature = sign(SESSION_SECRET, payload)
    assert verify_signature(SESSION_SECRET, payload, signature)
    assert verify_signature(SESSION_SECRET, other, signature) == (other == payload)
    assert not verify_signature(OTHER_SECRET, payload, signature)


def test_tampered_or_malformed_signature_is_invalid() -> None:
    payload = b'{"event":"alert.raised","id":42}'
    signature = sign(SESSION_SECRET, payload)
    flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
    for bad in [flipped, signature[:-1], signature + "0", "", "é" * 64]:
        assert not verify_signature(SESSION_SECRET, payload, bad)


def test_sign_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        sign(b"", b"payload")


def test_a_signature_is_never_a_csrf_token() -> None:
    # The CSRF input carries a purpose label, so signing the session id does not give its CSRF token.
    assert sign(SESSION_SECRET, b"session-1") != csrf_token(SESSION_SECRET, "session-1")

"""TOTP: published RFC 6238 vectors, the ±1 step window, replay refusal and code clean-up."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alscare.security.totp import (
    STEP_SECONDS,
    current_code,
    new_secret,
    provisioning_uri,
    qr_svg,
    time_step,
    verify_totp,
)

# RFC 6238 Appendix B: SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
STEP = timedelta(seconds=STEP_SECONDS)


@pytest.mark.parametrize(
    ("unix_time", "rfc_code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_codes_match_rfc_6238_appendix_b(unix_time: int, rfc_code: str) -> None:
    # The RFC lists 8-digit codes; a 6-digit code is the same number modulo 10^6 (RFC 4226 §5.3).
    at = datetime.fromtimestamp(unix_time, UTC)
    assert current_code(RFC_SECRET, at) == rfc_code[-6:]


def test_accepts_the_current_code_and_returns_its_step() -> None:
    assert verify_totp(SECRET, current_code(SECRET, AT), at=AT, last_used_step=None) == time_step(AT)


@pytest.mark.parametrize("offset", [-1, 1])
def test_accepts_one_step_of_drift(offset: int) -> None:
    code = current_code(SECRET, AT + offset * STEP)
    assert verify_totp(SECRET, code, at=AT, last_used_step=None) == time_step(AT) + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_refuses_two_or_more_steps_of_drift(offset: int) -> None:
    code = current_code(SECRET, AT + offset * STEP)
    assert code not in {current_code(SECRET, AT + k * STEP) for k in (-1, 0, 1)}
    assert verify_totp(SECRET, code, at=AT, last_used_step=None) is None


def test_refuses_replay_of_the_same_step() -> None:
    code = current_code(SECRET, AT)
    step = verify_totp(SECRET, code, at=AT, last_used_step=None)
    assert step is not None
    assert verify_totp(SECRET, code, at=AT, last_used_step=step) is None
    assert verify_totp(SECRET, code, at=AT + STEP, last_used_step=step) is None  # still inside the window


def test_refuses_an_earlier_step_once_a_later_one_was_used() -> None:
    later = verify_totp(SECRET, current_code(SECRET, AT + STEP), at=AT, last_used_step=None)
    assert later == time_step(AT) + 1
    assert verify_totp(SECRET, current_code(SECRET, AT), at=AT, last_used_step=later) is None


def test_accepts_the_next_step_after_one_was_used() -> None:
    used = time_step(AT)
    assert verify_totp(SECRET, current_code(SECRET, AT + STEP), at=AT + STEP, last_used_step=used) == used + 1


@pytest.mark.parametrize("spacing", ["{0}{1} {2}{3}{4}{5}", "{0}{1}{2} {3}{4}{5}", " {0}{1} {2}{3} {4}{5}\t"])
def test_spaces_are_ignored(spacing: str) -> None:
    code = spacing.format(*current_code(SECRET, AT))
    assert verify_totp(SECRET, code, at=AT, last_used_step=None) == time_step(AT)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦", "-12345"])
def test_malformed_codes_are_refused_without_error(bad: str) -> None:
    assert verify_totp(SECRET, bad, at=AT, last_used_step=None) is None


def test_near_the_epoch_there_is_no_earlier_step() -> None:
    epoch = datetime.fromtimestamp(0, UTC)
    assert verify_totp(SECRET, current_code(SECRET, epoch), at=epoch, last_used_step=None) == 0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_totp(SECRET, "123456", at=datetime(2025, 1, 1), last_used_step=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        current_code(SECRET, datetime(2025, 1, 1))


def test_other_time_zones_give_the_same_step() -> None:
    assert time_step(AT.astimezone(timezone(timedelta(hours=-5)))) == time_step(AT)


times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(at=times, offset=st.sampled_from([-1, 0, 1]))
def test_any_code_within_the_window_is_accepted_once(at: datetime, offset: int) -> None:
    code = current_code(SECRET, at + offset * STEP)
    step = verify_totp(SECRET, code, at=at, last_used_step=None)
    # Usually time_step(at) + offset; another step in the window if its code happens to be the same.
    assert step is not None
    assert step - time_step(at) in {-1, 0, 1}
    assert current_code(SECRET, datetime.fromtimestamp(step * STEP_SECONDS, UTC)) == code
    assert verify_totp(SECRET, code, at=at, last_used_step=time_step(at) + 1) is None


@given(at=times, offset=st.integers(min_value=2, max_value=1000), sign=st.sampled_from([-1, 1]))
def test_any_code_outside_the_window_is_refused(at: datetime, offset: int, sign: int) -> None:
    code = current_code(SECRET, at + sign * offset * STEP)
    assume(code not in {current_code(SECRET, at + k * STEP) for k in (-1, 0, 1)})
    assert verify_totp(SECRET, code, at=at, last_used_step=None) is None


def test_new_secret_is_160_bit_base32_and_fresh() -> None:
    secret = new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert new_secret() != secret


def test_provisioning_uri_round_trips_through_pyotp() -> None:
    uri = provisioning_uri(SECRET, "alice@example.org")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("otpauth", "totp", "/alscare:alice%40example.org")
    assert parse_qs(parsed.query) == {"secret": [SECRET], "issuer": ["alscare"]}
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    assert totp.at(AT) == current_code(SECRET, AT)


def test_provisioning_uri_encodes_colons_in_the_account_name() -> None:
    # Was: refused with ValueError, which broke two-step enrolment for an email with ':' (issue 14, finding 10).
    uri = provisioning_uri(SECRET, '"alice:admin"@example.org')
    assert urlparse(uri).path == "/alscare:%22alice%3Aadmin%22%40example.org"
    totp = pyotp.parse_uri(uri)
    assert (totp.name, totp.issuer) == ('"alice:admin"@example.org', "alscare")


def test_qr_svg_is_an_accessible_inline_image() -> None:
    svg = qr_svg(provisioning_uri(SECRET, "alice@example.org"), title="Scan <this> & go")
    assert svg.startswith('<svg role="img" ')
    assert svg.endswith("</svg>")
    assert "<title>Scan &lt;this&gt; &amp; go</title>" in svg
    assert "<?xml" not in svg
    assert "<title>" in qr_svg("otpauth://totp/x?secret=" + SECRET)

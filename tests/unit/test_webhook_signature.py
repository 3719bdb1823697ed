"""Webhook signatures as a clinic's receiver checks them: ``t=<unix>,v1=<HMAC-SHA256 hex of "t.body">``."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from alscare.delivery.transports import signature_header, verify_webhook_signature

SECRET = "whsec-test-7f3a9c"
BODY = b'{"alert_id":7,"event":"alert.raised","severity":"emergency"}'
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_header_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Written out by hand, as a receiver in another language would: pins the wire format.
    t = int(SENT.timestamp())
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, BODY, now=SENT) == f"t={t},v1={expected}"


def test_round_trip() -> None:
    header = signature_header(SECRET, BODY, now=SENT)
    assert verify_webhook_signature(SECRET, header, BODY, now=SENT)
    assert verify_webhook_signature(SECRET, header, BODY.decode(), now=SENT + timedelta(seconds=299))


def test_tampered_body_is_refused() -> None:
    header = signature_header(SECRET, BODY, now=SENT)
    tampered = BODY.replace(b"emergency", b"prompt")
    assert not verify_webhook_signature(SECRET, header, tampered, now=SENT)
    assert not verify_webhook_signature(SECRET, header, BODY + b" ", now=SENT)


def test_wrong_secret_is_refused() -> None:
    header = signature_header(SECRET, BODY, now=SENT)
    assert not verify_webhook_signature("another-secret", header, BODY, now=SENT)
    assert not verify_webhook_signature("", header, BODY, now=SENT)


def test_expired_or_future_timestamp_is_refused() -> None:
    header = signature_header(SECRET, BODY, now=SENT)
    assert not verify_webhook_signature(SECRET, header, BODY, now=SENT + timedelta(seconds=301))
    assert not verify_webhook_signature(SECRET, header, BODY, now=SENT - timedelta(seconds=301))
    assert verify_webhook_signature(SECRET, header, BODY, now=SENT + timedelta(minutes=9), tolerance_seconds=600)


def test_changing_the_timestamp_breaks_the_signature() -> None:
    t = int(SENT.timestamp())
    header = signature_header(SECRET, BODY, now=SENT).replace(f"t={t}", f"t={t + 60}")
    assert not verify_webhook_signature(SECRET, header, BODY, now=SENT)


def test_any_of_several_signatures_may_match_for_secret_rotation() -> None:
    good = signature_header(SECRET, BODY, now=SENT)
    t, v1 = good.split(",")
    assert verify_webhook_signature(SECRET, f"{t},v1={'0' * 64},{v1}", BODY, now=SENT)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "v1=abc",
        f"t={int(SENT.timestamp())}",
        f"t=abc,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t=1,t=2,v1={'0' * 64}",
        f"t={int(SENT.timestamp())},v1=ünïcode",
    ],
)
def test_malformed_headers_are_refused(header: str) -> None:
    assert not verify_webhook_signature(SECRET, header, BODY, now=SENT)

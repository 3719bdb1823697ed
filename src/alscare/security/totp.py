"""Time-based one-time codes (RFC 6238 TOTP) for two-step sign-in.

Codes are the authenticator-app defaults: HMAC-SHA1, 6 digits, a new code every 30 seconds. A code is
accepted for its own 30-second step and one step either side, to forgive a phone clock that has drifted
or a code typed just as it changed (RFC 6238 §5.2). Each step can be used once: ``verify_totp`` returns
the step it matched, the caller stores it, and a later code from that step or an earlier one is refused
(RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the successful
validation has been issued for the first OTP").

Times must be timezone-aware; a naive datetime would silently be read as the server's local time.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Final
from urllib.parse import quote, urlencode

import pyotp
import segno

DIGITS: Final = 6
STEP_SECONDS: Final = 30
# Steps accepted either side of the current one (RFC 6238 §5.2 recommends at most one).
DRIFT_STEPS: Final = 1
# 32 base32 characters = 160 bits, the secret length RFC 4226 §4 recommends.
SECRET_LENGTH: Final = 32

QR_TITLE: Final = "QR code to add your alscare account to an authenticator app"


def new_secret() -> str:
    """A new random base32 secret (160 bits) for one person's authenticator app."""
    return pyotp.random_base32(length=SECRET_LENGTH)


def provisioning_uri(secret: str, account_name: str, issuer: str = "alscare") -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code (Google Authenticator Key Uri Format).

    The label is ``issuer:account``; both parts are percent-encoded, so a colon in an email address (valid in
    its quoted local part) reads as ``%3A`` and cannot split the label (issue 14, finding 10).
    """
    label = f"{quote(issuer, safe='')}:{quote(account_name, safe='')}"
    query = urlencode({"secret": secret, "issuer": issuer}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str, *, title: str = QR_TITLE) -> str:
    """The QR code for ``uri`` as an inline ``<svg>`` element, with a ``<title>`` read by screen readers.

    Show the secret as text beside it too, for people who cannot scan a code.
    """
    qr = segno.make(uri, error="m", micro=False)
    svg = str(qr.svg_inline(scale=4, title=title, svgclass="totp-qr", lineclass=None))
    # segno escapes the title; role="img" makes assistive technology announce it as one image.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def time_step(at: datetime) -> int:
    """The RFC 6238 time-step counter for ``at`` (whole 30-second steps since the Unix epoch)."""
    return int(_require_aware(at).timestamp()) // STEP_SECONDS


def current_code(secret: str, at: datetime) -> str:
    """The code an authenticator app shows at ``at`` (for tests and the set-up confirmation page)."""
    return str(_totp(secret).generate_otp(time_step(at)))


def verify_totp(secret: str, code: str, *, at: datetime, last_used_step: int | None) -> int | None:
    """Check ``code`` at time ``at``; return the time step it matched, or None if refused.

    Spaces in ``code`` are ignored ("123 456"). A code is refused if it is malformed, does not match the
    current step or one either side, or matches a step at or before ``last_used_step`` (a replay). Store
    the returned step as the new ``last_used_step``.
    """
    cleaned = "".join(code.split())
    if len(cleaned) != DIGITS or not (cleaned.isascii() and cleaned.isdigit()):
        return None
    totp = _totp(secret)
    now_step = time_step(at)
    matched: int | None = None
    # Check every candidate step (no early exit), so the time taken does not depend on which matched.
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if step < 0 or (last_used_step is not None and step <= last_used_step):
            continue
        if hmac.compare_digest(str(totp.generate_otp(step)), cleaned) and matched is None:
            matched = step
    return matched


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def _require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("time must be timezone-aware (for example datetime.now(UTC))")
    return at

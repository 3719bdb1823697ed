"""Single-use tokens, CSRF tokens and HMAC signatures.

Invitation and password-reset links carry a random token; the database stores only its SHA-256
digest, so a leaked backup or a read-only SQL injection cannot be turned into working links. (A fast
hash is right here, unlike for passwords: the token has 256 bits of entropy, so it cannot be guessed
from its digest.)

CSRF protection uses the synchroniser-token pattern with a token derived from the session
(OWASP CSRF Prevention Cheat Sheet, https://cheatsheetseries.owasp.org/cheatsheets/
Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html): HMAC-SHA256 of the session id under a server
secret, so it needs no storage, differs per session and cannot be forged without the secret.

Signatures (``sign``) are plain HMAC-SHA256 of the payload, the form webhook receivers expect; to stop
replays, put a timestamp in the signed payload. The CSRF input starts with a purpose label, so a
signature can never pass as a CSRF token — but give each use its own secret all the same.
All comparisons are constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

TOKEN_BYTES: Final = 32  # 256 bits
# Shortest server secret accepted for CSRF tokens: as long as the SHA-256 output (RFC 2104 §3).
MIN_SESSION_SECRET_BYTES: Final = 32

_CSRF_PURPOSE: Final = b"alscare csrf v1\x00"


def new_token() -> str:
    """A new random URL-safe token (256 bits) to send in an invitation or password-reset link."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest of ``token``: store this, look tokens up by it, never store the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_secret: bytes, session_id: str) -> str:
    """The CSRF token for ``session_id``: put it in every form of that session."""
    if len(session_secret) < MIN_SESSION_SECRET_BYTES:
        raise ValueError(f"the session secret must be at least {MIN_SESSION_SECRET_BYTES} bytes")
    if not session_id:
        raise ValueError("a CSRF token needs a session id")
    return _hmac_hex(session_secret, _CSRF_PURPOSE + session_id.encode("utf-8"))


def csrf_valid(session_secret: bytes, session_id: str, token: str) -> bool:
    """True if ``token`` is the CSRF token of ``session_id``; False for any other or malformed token."""
    if not session_id or not token:
        return False
    return _equal(csrf_token(session_secret, session_id), token)


def sign(secret: bytes, payload: bytes) -> str:
    """HMAC-SHA256 signature of ``payload`` as lowercase hex (for webhook bodies)."""
    if not secret:
        raise ValueError("a signature needs a non-empty secret")
    return _hmac_hex(secret, payload)


def verify_signature(secret: bytes, payload: bytes, signature: str) -> bool:
    """True if ``signature`` is ``sign(secret, payload)``; False otherwise, including when malformed."""
    return bool(signature) and _equal(sign(secret, payload), signature)


def _hmac_hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _equal(expected: str, given: str) -> bool:
    # compare_digest refuses non-ASCII str, so compare bytes: anything a client sends is just "not equal".
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))

"""Secrets at rest (two-step keys, webhook signing secrets), sealed with a key that is not in the database.

A database dump or backup then reveals no second factor and lets nobody sign webhook calls. The key is derived
from ``ALSCARE_SECRET_KEY`` (or the generated ``secret_key`` file in the data folder), never stored in a row.

The construction uses the standard library only (``cryptography`` is not a dependency): encrypt-then-MAC with
HMAC-SHA256 as the pseudo-random function — a counter-mode keystream ``HMAC(k_enc, nonce ‖ i)`` XORed with
the plaintext, then a tag ``HMAC(k_mac, version ‖ key id ‖ nonce ‖ ciphertext)`` checked in constant time
(Bellare & Namprempre 2000: encrypt-then-MAC with a secure MAC gives authenticated encryption; HMAC is a PRF,
RFC 2104). Nonces are 16 random bytes, so a repeat is negligible for the few secrets alscare holds.

A sealed value reads ``sealed:v1:<key id>:<base64url>``. Values without that marker are legacy plaintext from
before this change: ``SealedString`` still returns them, and writes them back sealed the next time they are
stored (``seal_legacy_secrets`` does it for every row at start-up).

Sealing is done by the ``SealedString`` column type (``alscare.storage.sealed``), so no caller handles
ciphertext. Keys are registered per process by ``use_key`` (the app factory, the worker and the CLI call it
with the settings' secret key); the key id inside each value picks the right one, so processes with several
settings still read what they wrote.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from typing import Final

MARKER: Final = "sealed:v1:"
_NONCE: Final = 16
_TAG: Final = 32
_lock = threading.Lock()
_keys: dict[str, bytes] = {}
_current: list[str] = []


class SealError(ValueError):
    """A sealed value was altered, or was sealed with a key this process does not hold."""


def _derive(secret_key: bytes) -> bytes:
    return hmac.new(secret_key, b"alscare secrets at rest v1", hashlib.sha256).digest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"key id" + key).hexdigest()[:12]


def use_key(secret_key: bytes) -> str:
    """Register the key derived from ``secret_key`` and seal with it from now on; returns its id."""
    key = _derive(secret_key)
    kid = _key_id(key)
    with _lock:
        _keys[kid] = key
        if kid in _current:
            _current.remove(kid)
        _current.append(kid)
    return kid


def has_key() -> bool:
    with _lock:
        return bool(_current)


def _stream(key: bytes, nonce: bytes, n: int) -> bytes:
    enc = hmac.new(key, b"enc", hashlib.sha256).digest()
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hmac.new(enc, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:n])


def _tag(key: bytes, kid: str, nonce: bytes, ct: bytes) -> bytes:
    mac = hmac.new(key, b"mac", hashlib.sha256).digest()
    return hmac.new(mac, MARKER.encode() + kid.encode() + nonce + ct, hashlib.sha256).digest()


def seal(plaintext: str, *, secret_key: bytes | None = None) -> str:
    """``plaintext`` sealed with ``secret_key`` (or the process's current key)."""
    if secret_key is not None:
        key = _derive(secret_key)
        kid = _key_id(key)
    else:
        with _lock:
            if not _current:
                raise SealError("no key registered: call use_key(settings.secret_key) first")
            kid = _current[-1]
            key = _keys[kid]
    data = plaintext.encode()
    nonce = secrets.token_bytes(_NONCE)
    ct = bytes(a ^ b for a, b in zip(data, _stream(key, nonce, len(data)), strict=True))
    blob = base64.urlsafe_b64encode(nonce + ct + _tag(key, kid, nonce, ct)).decode().rstrip("=")
    return f"{MARKER}{kid}:{blob}"


def is_sealed(value: str) -> bool:
    return value.startswith(MARKER)


def open_sealed(value: str, *, secret_key: bytes | None = None) -> str:
    """The plaintext of a sealed value; a legacy plaintext value is returned as it is."""
    if not is_sealed(value):
        return value
    try:
        kid, blob = value[len(MARKER) :].split(":", 1)
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    except ValueError:
        raise SealError("sealed value is malformed") from None
    if secret_key is not None:
        key: bytes | None = _derive(secret_key)
        if _key_id(key) != kid:  # type: ignore[arg-type]
            key = None
    else:
        with _lock:
            key = _keys.get(kid)
    if key is None:
        raise SealError(f"sealed with key {kid}, which this process does not hold (is ALSCARE_SECRET_KEY right?)")
    if len(raw) < _NONCE + _TAG:
        raise SealError("sealed value is malformed")
    nonce, ct, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, _tag(key, kid, nonce, ct)):
        raise SealError("sealed value was altered")
    return bytes(a ^ b for a, b in zip(ct, _stream(key, nonce, len(ct)), strict=True)).decode()

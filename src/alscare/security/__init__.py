"""Security building blocks: small, pure functions with no web, database or clock dependencies.

Each module does one job and is imported directly (``from alscare.security import passwords``):

- ``passwords`` — Argon2id password hashing and the password policy (length and common-password checks).
- ``totp`` — RFC 6238 time-based one-time codes for two-step sign-in, with replay protection.
- ``tokens`` — single-use tokens (stored only as digests), CSRF tokens bound to a session, HMAC signatures.
- ``ratelimit`` — sign-in throttling with exponential back-off, plus a small in-memory store.
- ``hashchain`` — the tamper-evident hash chain behind the audit log.

Rules every module here follows: the current time is always an argument (``now``, ``at``), never read
from a clock; secrets are arguments, never read from settings; nothing is created at import time beyond
constants.
"""

"""Password hashing (Argon2id) and the password policy.

Hashing follows the OWASP Password Storage Cheat Sheet
(https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html, "Argon2id"):
"a minimum configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of parallelism".
Raising the parameters later is safe: ``needs_rehash`` reports hashes made with older parameters, and the
sign-in action re-hashes the password it has just verified.

The policy follows NIST SP 800-63B (https://pages.nist.gov/800-63-3/sp800-63b.html, §5.1.1.2): a minimum
length, a generous maximum, a check against commonly used and predictable passwords and against the
person's own name or address — and no composition rules (no "must contain a digit and a symbol"), no
periodic expiry. Every Unicode character counts as one character, and passwords are NFKC-normalised before
they are measured or hashed, so the same password typed on a different keyboard or system still matches.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError

# --- Argon2id parameters (OWASP Password Storage Cheat Sheet minimum for Argon2id) ---------------------
ARGON2_MEMORY_KIB: Final = 19 * 1024  # 19 MiB
ARGON2_TIME_COST: Final = 2  # iterations
ARGON2_PARALLELISM: Final = 1
ARGON2_HASH_BYTES: Final = 32
ARGON2_SALT_BYTES: Final = 16  # RFC 9106 §3.1: 128-bit salt

# --- Policy (NIST SP 800-63B §5.1.1.2) ----------------------------------------------------------------
# NIST requires at least 8 characters and recommends allowing at least 64; we ask for 10 and allow 256.
MIN_LENGTH: Final = 10
MAX_LENGTH: Final = 256

TOO_SHORT: Final = (
    f"Your password needs at least {MIN_LENGTH} characters. "
    "A few unrelated words together make a password that is long and easy to remember."
)
TOO_LONG: Final = f"Your password can be at most {MAX_LENGTH} characters."
TOO_COMMON: Final = "This password is too common or too easy to guess. Try a few unrelated words together instead."
TOO_PERSONAL: Final = "Your password should not contain your name or email address."

# A deliberately small built-in list: the most common passwords and the words at their core (matched
# after stripping leading and trailing digits and symbols, so "Password123!" counts as "password").
COMMON_PASSWORDS: Final = frozenset(
    {
        "password", "passw0rd", "p@ssword", "p@ssw0rd", "passwort", "motdepasse", "contraseña",
        "qwerty", "qwertz", "azerty", "qwertyuiop", "qwertyuiop123", "qwerty123", "qwerty123456",
        "asdfghjkl", "zxcvbnm", "qazwsx", "qazwsxedc", "1qaz2wsx", "1qaz2wsx3edc", "zaq12wsx",
        "zaq1zaq1", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5", "q1w2e3r4t5y6",
        "1234567890", "0987654321", "12345678910", "123123123", "123456123456", "147258369",
        "123qwe", "abc", "abcd", "iloveyou", "welcome", "letmein", "admin", "administrator", "login",
        "monkey", "dragon", "football", "baseball", "soccer", "hockey", "sunshine", "princess",
        "superman", "batman", "starwars", "pokemon", "trustno1", "master", "shadow", "michael",
        "jennifer", "charlie", "jordan", "freedom", "whatever", "computer", "changeme", "secret",
        "hello", "helloworld", "summer", "winter", "autumn", "spring", "flower",
        "alscare", "als", "mnd", "motorneurone", "motorneuron", "caregiver", "carer",
    }
)  # fmt: skip

# Runs along the alphabet, the digits and common keyboard layouts; a password that is one stretch of
# these (forwards or backwards), like "abcdefghij" or "qwertyuiop", is predictable.
_RUNS: Final = (
    string.ascii_lowercase,
    string.digits * 3,
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
)
_SEQUENCES: Final = _RUNS + tuple(run[::-1] for run in _RUNS)
# Fewer distinct characters than this ("aaaaaaaaaa", "ababababab", "123123123123") is predictable.
MIN_DISTINCT_CHARACTERS: Final = 4
# Parts of a name or email address shorter than this are not checked ("org" would reject too much).
MIN_PERSONAL_PART: Final = 4

_HASHER: Final = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=ARGON2_HASH_BYTES,
    salt_len=ARGON2_SALT_BYTES,
    type=Type.ID,
)

# The hash of a random password nobody knows, made with the parameters above. When someone signs in
# with an unknown email address, verify their password against this so the response takes as long as
# for a real account and does not reveal which addresses have accounts. A test keeps it in step with
# the parameters (``needs_rehash(DUMMY_HASH)`` must be False).
DUMMY_HASH: Final = "$argon2id$v=19$m=19456,t=2,p=1$VtVgx7uKWn+QZ1ilflTuYA$oQ9eh+bGzuTVQbaveU/v6FIOfByBOXmoZFefrfV9A+M"

_SYMBOLS_AND_SPACE: Final = string.punctuation + string.whitespace
_DIGITS_SYMBOLS_AND_SPACE: Final = string.digits + _SYMBOLS_AND_SPACE


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password`` in the standard PHC string format (salt included)."""
    return _HASHER.hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches ``password_hash``.

    False for a wrong password and for a malformed or unsupported hash: this never raises for bad input,
    so a corrupt stored hash locks that account out rather than breaking sign-in for everyone.
    """
    try:
        return _HASHER.verify(password_hash, _normalise(password))
    except (VerificationError, ValueError):  # mismatch, malformed hash (InvalidHashError), non-ASCII hash
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if ``password_hash`` was made with other parameters than today's (or cannot be read).

    Call it after a successful ``verify_password`` and, if True, store ``hash_password(password)``.
    """
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except ValueError:
        return True


def check_password_policy(password: str, *, personal: Iterable[str] = ()) -> str | None:
    """Return a plain-language problem with ``password``, or None if it is acceptable.

    ``personal`` takes the person's own details (name, email address); a password containing any part of
    them at least ``MIN_PERSONAL_PART`` characters long is refused.
    """
    normalised = _normalise(password)
    if len(normalised) < MIN_LENGTH:
        return TOO_SHORT
    if len(normalised) > MAX_LENGTH:
        return TOO_LONG
    lowered = normalised.casefold()
    if _is_predictable(lowered):
        return TOO_COMMON
    if any(part in lowered for part in _personal_parts(personal)):
        return TOO_PERSONAL
    return None


def _is_predictable(lowered: str) -> bool:
    trimmed = lowered.strip(_SYMBOLS_AND_SPACE)
    core = lowered.strip(_DIGITS_SYMBOLS_AND_SPACE)
    if {lowered, trimmed, core} & COMMON_PASSWORDS:
        return True
    return any(
        len(set(candidate)) < MIN_DISTINCT_CHARACTERS or any(candidate in seq for seq in _SEQUENCES)
        for candidate in (lowered, trimmed)
    )


def _personal_parts(personal: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for detail in personal:
        for part in re.split(r"[\W_]+", _normalise(detail).casefold()):
            if len(part) >= MIN_PERSONAL_PART:
                parts.add(part)
    return parts

"""Sign-in throttling with exponential back-off.

The state for one key (an account, an IP address) is a small immutable ``Throttle``; pure functions move
it on after a failed or successful attempt, so it can live in memory (``ThrottleStore``) or in a
database row alike. With the default ``BackoffPolicy`` the first 5 failures cost nothing; the 6th locks
the key for 30 seconds, the 7th for 60, then 120, 240, 480 and at most 15 minutes
(OWASP Authentication Cheat Sheet, "Login Throttling"; NIST SP 800-63B §5.2.2 "Rate Limiting").
Failures older than ``forget_after_seconds`` are forgotten, so a person who mistypes now and then is never
locked out for old slips — typing is hard work for many people with ALS.

Locks are never permanent: a permanent lock would let anyone lock a person out of their own account.
Times must all be timezone-aware (or all naive); they are compared, never read from a clock here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

# Above this the doubling is capped anyway; bounding the exponent keeps the arithmetic small.
_MAX_EXPONENT: Final = 62


@dataclass(frozen=True)
class BackoffPolicy:
    """How many failures are free and how long each further failure locks the key."""

    free_attempts: int = 5
    base_seconds: float = 30
    max_seconds: float = 15 * 60
    # A failure this long after the previous one starts the count afresh.
    forget_after_seconds: float = 24 * 60 * 60

    def __post_init__(self) -> None:
        if self.free_attempts < 0:
            raise ValueError("free_attempts must not be negative")
        if not 0 < self.base_seconds <= self.max_seconds:
            raise ValueError("need 0 < base_seconds <= max_seconds")
        if self.forget_after_seconds <= 0:
            raise ValueError("forget_after_seconds must be positive")

    def lock_seconds(self, failures: int) -> float:
        """Lock length after the ``failures``-th consecutive failure: 0 while free, then doubling to the cap.

        With ``n = failures - free_attempts`` (n ≥ 1): ``min(max_seconds, base_seconds · 2^(n−1))``.
        """
        extra = failures - self.free_attempts
        if extra <= 0:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2 ** min(extra - 1, _MAX_EXPONENT)))


DEFAULT_POLICY: Final = BackoffPolicy()


@dataclass(frozen=True)
class Throttle:
    """Consecutive failures for one key, and until when it is locked (None if not locked)."""

    failures: int = 0
    locked_until: datetime | None = None
    last_failure_at: datetime | None = None


def register_failure(t: Throttle, now: datetime, *, policy: BackoffPolicy = DEFAULT_POLICY) -> Throttle:
    """The state after a failed attempt at ``now``."""
    forgotten = t.last_failure_at is not None and now - t.last_failure_at >= timedelta(
        seconds=policy.forget_after_seconds
    )
    failures = 1 if forgotten else t.failures + 1
    lock = policy.lock_seconds(failures)
    locked_until = now + timedelta(seconds=lock) if lock > 0 else None
    return Throttle(failures=failures, locked_until=locked_until, last_failure_at=now)


def register_success() -> Throttle:
    """The state after a successful attempt: no failures, not locked."""
    return Throttle()


def retry_after(t: Throttle, now: datetime) -> float | None:
    """Seconds to wait before the next attempt is allowed, or None if it is allowed now."""
    if t.locked_until is None or now >= t.locked_until:
        return None
    return (t.locked_until - now).total_seconds()


class ThrottleStore:
    """Thread-safe in-memory throttles by key, e.g. ``"account:alice@example.org"``, ``"ip:1.2.3.4"``.

    It holds at most ``max_keys`` keys; beyond that the key failed least recently is forgotten. The bound
    keeps memory fixed under a flood of new keys, at the price that such a flood can also forget a lock —
    so throttle by account and by IP address both, and rely on strong passwords and two-step sign-in too.
    State is per process and lost on restart; store ``Throttle`` values in the database to share them.
    """

    def __init__(self, *, policy: BackoffPolicy = DEFAULT_POLICY, max_keys: int = 10_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.policy = policy
        self.max_keys = max_keys
        self._throttles: OrderedDict[str, Throttle] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str, now: datetime) -> float | None:
        """Seconds ``key`` must wait before its next attempt, or None if it may try now."""
        with self._lock:
            t = self._throttles.get(key)
        return None if t is None else retry_after(t, now)

    def fail(self, key: str, now: datetime) -> Throttle:
        """Record a failed attempt for ``key`` at ``now``; return its new state."""
        with self._lock:
            t = register_failure(self._throttles.pop(key, Throttle()), now, policy=self.policy)
            self._throttles[key] = t
            while len(self._throttles) > self.max_keys:
                self._throttles.popitem(last=False)
            return t

    def succeed(self, key: str) -> None:
        """Record a successful attempt for ``key``: forget its failures."""
        with self._lock:
            self._throttles.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._throttles)

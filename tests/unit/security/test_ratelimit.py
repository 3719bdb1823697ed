"""Sign-in throttling: free attempts, doubling back-off with a cap, reset on success, the bounded store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscare.security.ratelimit import (
    BackoffPolicy,
    Throttle,
    ThrottleStore,
    register_failure,
    register_success,
    retry_after,
)

NOW = datetime(2025, 6, 21, 12, 0, tzinfo=UTC)
POLICY = BackoffPolicy()  # 5 free, 30 s doubling, 15 min cap


def fail_times(n: int, now: datetime = NOW, policy: BackoffPolicy = POLICY) -> Throttle:
    t = Throttle()
    for _ in range(n):
        t = register_failure(t, now, policy=policy)
    return t


@pytest.mark.parametrize(
    ("failures", "lock_seconds"),
    [
        (0, 0),
        (1, 0),
        (5, 0),
        (6, 30),
        (7, 60),
        (8, 120),
        (9, 240),
        (10, 480),
        (11, 900),
        (12, 900),
        (500, 900),
    ],
)
def test_lock_length_after_each_failure(failures: int, lock_seconds: float) -> None:
    assert POLICY.lock_seconds(failures) == lock_seconds
    assert retry_after(fail_times(failures), NOW) == (lock_seconds or None)


def test_free_attempts_pass() -> None:
    t = Throttle()
    for n in range(1, POLICY.free_attempts + 1):
        t = register_failure(t, NOW, policy=POLICY)
        assert t.failures == n
        assert t.locked_until is None
        assert retry_after(t, NOW) is None


def test_lock_counts_down_and_expires() -> None:
    t = fail_times(6)
    assert t.locked_until == NOW + timedelta(seconds=30)
    assert retry_after(t, NOW + timedelta(seconds=10)) == 20
    assert retry_after(t, NOW + timedelta(seconds=30)) is None
    # The next failure after the lock has passed doubles it.
    later = NOW + timedelta(seconds=31)
    assert retry_after(register_failure(t, later, policy=POLICY), later) == 60


def test_success_resets() -> None:
    assert register_success() == Throttle(failures=0, locked_until=None)
    t = register_failure(register_success(), NOW, policy=POLICY)
    assert t.failures == 1
    assert retry_after(t, NOW) is None


def test_old_failures_are_forgotten() -> None:
    t = fail_times(9)
    a_day_later = NOW + timedelta(seconds=POLICY.forget_after_seconds)
    t = register_failure(t, a_day_later, policy=POLICY)
    assert t.failures == 1
    assert retry_after(t, a_day_later) is None


@given(
    free=st.integers(min_value=0, max_value=10),
    base=st.floats(min_value=0.5, max_value=600),
    factor=st.floats(min_value=1, max_value=1000),
    failures=st.integers(min_value=0, max_value=10_000),
)
def test_back_off_doubles_until_the_cap(free: int, base: float, factor: float, failures: int) -> None:
    policy = BackoffPolicy(free_attempts=free, base_seconds=base, max_seconds=base * factor)
    lock, next_lock = policy.lock_seconds(failures), policy.lock_seconds(failures + 1)
    assert 0 <= lock <= next_lock <= policy.max_seconds
    if failures < free:
        assert next_lock == 0
    elif failures == free:
        assert next_lock == base
    else:
        assert next_lock == min(policy.max_seconds, 2 * lock)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"free_attempts": -1},
        {"base_seconds": 0},
        {"base_seconds": 60, "max_seconds": 30},
        {"forget_after_seconds": 0},
    ],
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(**kwargs)  # type: ignore[arg-type]


def test_store_throttles_each_key_separately() -> None:
    store = ThrottleStore()
    assert store.check("account:alice@example.org", NOW) is None
    for _ in range(6):
        store.fail("account:alice@example.org", NOW)
    assert store.check("account:alice@example.org", NOW) == 30
    assert store.check("ip:192.0.2.1", NOW) is None
    store.succeed("account:alice@example.org")
    assert store.check("account:alice@example.org", NOW) is None
    assert len(store) == 0


def test_store_forgets_the_least_recently_failed_key_beyond_its_bound() -> None:
    store = ThrottleStore(policy=BackoffPolicy(free_attempts=0), max_keys=3)
    for key in ["a", "b", "c", "a", "d"]:
        store.fail(key, NOW)
    assert len(store) == 3
    assert store.check("b", NOW) is None  # failed least recently, so forgotten
    assert store.check("a", NOW) == 60  # two failures kept
    assert store.check("c", NOW) == 30
    assert store.check("d", NOW) == 30


@given(keys=st.lists(st.text(max_size=3), max_size=60), max_keys=st.integers(min_value=1, max_value=8))
def test_store_never_exceeds_its_bound(keys: list[str], max_keys: int) -> None:
    store = ThrottleStore(max_keys=max_keys)
    for key in keys:
        store.fail(key, NOW)
        assert len(store) <= max_keys
    assert len(store) == min(max_keys, len(set(keys)))


def test_store_counts_every_failure_under_concurrency() -> None:
    store = ThrottleStore()
    threads, per_thread = 8, 250

    def hammer() -> None:
        for _ in range(per_thread):
            store.fail("ip:198.51.100.7", NOW)

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert store.fail("ip:198.51.100.7", NOW).failures == threads * per_thread + 1


def test_store_refuses_an_empty_bound() -> None:
    with pytest.raises(ValueError):
        ThrottleStore(max_keys=0)

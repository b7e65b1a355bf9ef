"""The sign-in limiter: failures per key in a window, growing lockouts, bounded memory."""

from __future__ import annotations

from rigwatch.commander.ratelimit import Limiter, LoginLimiter, Policy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


POLICY = Policy(max_failures=5, window_s=300, lockout_s=60, max_lockout_s=600, forget_after_s=3600)


def test_five_failures_in_the_window_lock_the_key_for_a_minute() -> None:
    clock = Clock()
    limiter = Limiter(POLICY, clock=clock)
    for _ in range(4):
        assert limiter.failure("alice") is None
        clock.now += 10
    assert limiter.retry_after("alice") == 0
    lock = limiter.failure("alice")
    assert lock is not None and lock.seconds == 60 and lock.strikes == 1
    assert limiter.retry_after("alice") == 60
    clock.now += 59.5
    assert limiter.retry_after("alice") == 1
    clock.now += 1
    assert limiter.retry_after("alice") == 0


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    limiter = Limiter(POLICY, clock=clock)
    for _ in range(20):
        assert limiter.failure("alice") is None
        clock.now += 76  # any five failures span more than 300 s


def test_each_further_lockout_doubles_up_to_the_cap_and_is_forgotten_later() -> None:
    clock = Clock()
    limiter = Limiter(POLICY, clock=clock)
    seconds = []
    for _ in range(6):
        lock = None
        for _ in range(5):
            lock = limiter.failure("alice")
        assert lock is not None
        seconds.append(lock.seconds)
        clock.now += lock.seconds
    assert seconds == [60, 120, 240, 480, 600, 600]
    clock.now += 3601
    for _ in range(5):
        lock = limiter.failure("alice")
    assert lock is not None and lock.seconds == 60


def test_a_success_clears_the_user_but_not_the_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(POLICY, Policy(max_failures=9), clock=clock)
    for _ in range(4):
        limiter.failure("Alice", "10.0.0.1")
    limiter.success("alice", "10.0.0.1")
    for _ in range(4):
        assert limiter.failure("alice", "10.0.0.1") == []
    locks = limiter.failure("bob", "10.0.0.1")
    assert [lock.key for lock in locks] == ["ip:10.0.0.1"]
    assert limiter.retry_after("carol", "10.0.0.1") > 0
    assert limiter.retry_after("carol", "10.0.0.2") == 0


def test_user_names_are_counted_case_and_space_insensitively() -> None:
    limiter = LoginLimiter(POLICY, Policy(max_failures=100))
    for i, name in enumerate(["alice", "ALICE", " Alice", "alicE ", "aLiCe"]):
        limiter.failure(name, f"10.0.0.{i}")
    assert limiter.retry_after("alice", "10.9.9.9") > 0


def test_tracked_keys_are_bounded_forgetting_the_least_recently_touched() -> None:
    limiter = Limiter(POLICY, max_keys=100)
    limiter.failure("first")
    for i in range(1000):
        limiter.failure(f"name-{i}")
        if i % 10 == 0:
            limiter.failure("kept")
    assert len(limiter) == 100
    assert "kept" in limiter._entries
    assert "first" not in limiter._entries

"""The circuit breaker, driven by an injected clock."""

from __future__ import annotations

import threading

from spamguard.guard import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_and_closes_after_probe() -> None:
    """N failures in a row open it; after the cool-down one probe goes; its success closes it."""
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=30, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "closed"
    assert breaker.allow()
    breaker.failure()
    assert (breaker.state, breaker.allow()) == ("open", False)
    clock.now += 29.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert breaker.state == "half-open"
    assert [breaker.allow() for _ in range(3)] == [True, False, False]  # exactly one probe
    breaker.success()
    assert (breaker.state, breaker.allow(), breaker.times_opened) == ("closed", True, 1)


def test_failed_probe_reopens_for_another_cooldown() -> None:
    """A failed probe opens the circuit again from that moment."""
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open"
    clock.now += 9
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()


def test_success_resets_the_count() -> None:
    """Failures must be consecutive: a success in between starts the count again."""
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"


def test_one_probe_among_many_threads() -> None:
    """When 16 threads ask at once in half-open state, exactly one is let through."""
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=5, clock=clock)
    breaker.failure()
    clock.now += 5
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        barrier.wait()
        allowed = breaker.allow()
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 15 + [True]

"""A thread-safe circuit breaker: stop calling a backend that keeps failing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("spamguard.guard")

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitBreaker:
    """Closed: calls go through. ``failure_threshold`` failures in a row open it: calls are
    refused for ``cooldown`` seconds. Then it is half-open: exactly one caller gets to probe;
    its success closes the circuit, its failure opens it for another cool-down.

    Every caller that :meth:`allow` lets through must report :meth:`success` or
    :meth:`failure` (or :meth:`release` when the call said nothing about the backend's health).
    ``clock`` (seconds, monotonic) is injectable for tests.
    """

    def __init__(
        self, failure_threshold: int = 5, cooldown: float = 30.0, *, name: str = "remote",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold!r}")
        if cooldown < 0:
            raise ValueError(f"cooldown must not be negative, got {cooldown!r}")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.times_opened = 0

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"`` (open and past its cool-down reads half-open)."""
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.cooldown:
                return HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """True when a call may go to the backend now (the probe, when half-open)."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN:
                if self._clock() - self._opened_at < self.cooldown:
                    return False
                self._state = HALF_OPEN
                self._probe_in_flight = False
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
            return True

    def success(self) -> None:
        """The backend answered: close the circuit and forget past failures."""
        with self._lock:
            if self._state != CLOSED:
                log.warning("%s answers again; circuit closed", self.name)
            self._state = CLOSED
            self._failures = 0
            self._probe_in_flight = False

    def failure(self, reason: str = "failure") -> None:
        """The backend failed: count it; open the circuit at the threshold or on a failed probe."""
        with self._lock:
            self._failures += 1
            if self._state == HALF_OPEN or (self._state == CLOSED and self._failures >= self.failure_threshold):
                if self._state == CLOSED:
                    log.warning(
                        "%s failed %d times in a row (last: %s); circuit open, not calling it for %.0f s",
                        self.name, self._failures, reason, self.cooldown,
                    )
                else:
                    log.info("%s probe failed (%s); circuit open for another %.0f s", self.name, reason, self.cooldown)
                self._state = OPEN
                self._opened_at = self._clock()
                self._probe_in_flight = False
                self.times_opened += 1

    def release(self) -> None:
        """The call let through said nothing about health: free the probe slot, change nothing else."""
        with self._lock:
            self._probe_in_flight = False

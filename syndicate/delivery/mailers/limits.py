"""Per-provider limits around a mailer: a rate limit with a burst, a circuit breaker.

Both are shared by the threads of one drain (thread-safe) and take their clock as a
parameter so tests can drive them without sleeping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from syndicate.delivery.mailers.base import SendResult

log = logging.getLogger(__name__)


class RateLimiter:
    """A token bucket: ``rate`` messages per second on average, ``burst`` at once."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.monotonic = monotonic
        self.tokens = float(self.burst)
        self.updated = monotonic()
        self.held_until = self.updated  # sending waits for the rate until then
        self.lock = threading.Lock()

    def reserve(self, count: int) -> float:
        """Take ``count`` tokens; returns how long to wait before using them."""
        with self.lock:
            now = self.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= count
            wait = 0.0 if self.tokens >= 0 else -self.tokens / self.rate
            self.held_until = max(self.held_until, now + wait)
            return wait

    def held(self) -> bool:
        """Whether sending is waiting for the rate right now (progress displays say so)."""
        return self.monotonic() < self.held_until

    def acquire(self, count: int, stop: threading.Event) -> bool:
        """Wait until ``count`` messages may go; False if ``stop`` was set meanwhile."""
        wait = self.reserve(count)
        return not (wait > 0 and stop.wait(wait))


class CircuitBreaker:
    """Opens after ``threshold`` failed calls in a row; lets one call try after ``pause``."""

    def __init__(
        self, threshold: int, pause: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.pause = pause
        self.monotonic = monotonic
        self.failures = 0
        self.opened_at: float | None = None
        self.lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds until sending may resume (0 when closed or the pause is over)."""
        with self.lock:
            if self.opened_at is None:
                return 0.0
            return max(0.0, self.opened_at + self.pause - self.monotonic())

    def record(self, results: Sequence[SendResult]) -> None:
        with self.lock:
            if any(r.outcome in ("sent", "permanent") for r in results):
                self.failures = 0
                self.opened_at = None
                return
            self.failures += 1
            if self.failures >= self.threshold:
                if self.opened_at is None or self.monotonic() >= self.opened_at + self.pause:
                    log.warning("delivery paused: %d failed provider calls in a row", self.failures)
                self.opened_at = self.monotonic()

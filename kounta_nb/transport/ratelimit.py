"""The token bucket every thread of one transport shares (GCRA)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .. import settings
from ..errors import ConfigError

__all__ = ["RateLimiter"]


class RateLimiter:
    """A token bucket shared by every thread of one transport (GCRA, so callers are served in
    the order they arrive and a steady stream is spaced evenly).

    ``per_minute`` is the API's limit; the limiter runs at ``headroom`` of it so clock skew and
    network jitter never push a steady stream over the server's window. ``burst`` requests may go
    back to back after an idle spell. A 429 blocks every caller until the reset
    (:meth:`block_for`), which :attr:`waiting_until` / :meth:`current_wait` expose for progress bars.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int = settings.RATE_LIMIT_BURST,
        headroom: float = settings.RATE_LIMIT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(burst, int) or burst < 1:
            raise ConfigError("The rate-limit burst must be a whole number of at least 1.")
        if not 0 < headroom <= 1:
            raise ConfigError("The rate-limit headroom must be between 0 and 1.")
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.burst = burst
        self.headroom = headroom
        self._tat = float("-inf")
        self._blocked_until = float("-inf")
        self.per_minute = per_minute

    @property
    def per_minute(self) -> float:
        """The configured limit in requests per minute."""
        return self._per_minute

    @per_minute.setter
    def per_minute(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError("The rate limit must be a positive number of requests per minute.")
        with self._lock:
            self._per_minute = float(value)
            self._interval = 60.0 / (float(value) * self.headroom)

    @property
    def interval(self) -> float:
        """Seconds between two requests in a steady stream."""
        return self._interval

    def _reserve(self, now: float, commit: bool) -> float:
        tau = (self.burst - 1) * self._interval
        t = max(self._tat, now)
        send_at = max(t - tau, now, self._blocked_until)
        if commit:
            self._tat = max(t, send_at) + self._interval
        return send_at - now

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        with self._lock:
            wait = self._reserve(self._clock(), commit=True)
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def current_wait(self) -> float:
        """Seconds a caller arriving now would wait (without taking a slot)."""
        with self._lock:
            return max(self._reserve(self._clock(), commit=False), 0.0)

    def block_for(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said the limit resets then)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + max(seconds, 0.0))

    @property
    def waiting_until(self) -> float | None:
        """Epoch seconds until which callers wait for a rate-limit reset, or ``None``."""
        with self._lock:
            remaining = self._blocked_until - self._clock()
        return time.time() + remaining if remaining > 0 else None

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={self._per_minute:g}, burst={self.burst})"

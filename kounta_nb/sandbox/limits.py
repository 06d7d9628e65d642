"""Per-token rate limiting for the sandbox, the way the real API does it.

Kounta allows about 60 requests a minute for Basic credentials and 180 for an OAuth token
(docs/api.md §3). Over the limit it answers **429** with the plain-text body ``Limit exceeded``,
``X-Ratelimit-Reset: <epoch seconds>`` and ``Retry-After``.

The window is a sliding log: no 60-second span ever holds more than the limit, which is what a
well-paced client has to respect. ``time_scale`` shrinks the window (``time_scale=10`` → 6 s) so a
benchmark can exercise the same limit ten times faster.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "QuotaDecision", "SlidingWindowQuota", "WINDOW_S",
]

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    """Outcome of one request against the limiter."""

    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int  # when the oldest request in the window falls out (epoch seconds, rounded up)
    retry_after: int  # whole seconds to wait before a retry can succeed (>= 1 when refused)


class SlidingWindowQuota:
    """The server side of the rate limit: a thread-safe sliding-window request quota per
    credential (token or Basic pair). (The client has its own pacing ``RateLimiter``; this one
    refuses.)

    Refused requests are not recorded, so a client that backs off recovers as soon as the
    window has room again.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._logs: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, time_scale: float = 1.0) -> QuotaDecision:
        """Record one request for ``key`` and say whether it is allowed."""
        window = WINDOW_S / max(time_scale, 1e-9)
        now = self._clock()
        with self._lock:
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = deque()
            cutoff = now - window
            while log and log[0] <= cutoff:
                log.popleft()
            if len(log) < limit:
                log.append(now)
                reset_in = (log[0] + window - now) if log else window
                return QuotaDecision(True, limit, limit - len(log), self._epoch(reset_in), 0)
            reset_in = log[0] + window - now
        return QuotaDecision(False, limit, 0, self._epoch(reset_in), max(1, math.ceil(reset_in)))

    def reset(self) -> None:
        """Forget every window (used when the limits are changed at run time)."""
        with self._lock:
            self._logs.clear()

    def _epoch(self, seconds_from_now: float) -> int:
        return math.ceil(self._wall() + max(seconds_from_now, 0.0))

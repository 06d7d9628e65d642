"""The shared token bucket (GCRA): spacing, bursts, blocking after a 429, many threads."""

from __future__ import annotations

import threading
import time

import pytest

from kounta_nb.errors import ConfigError
from kounta_nb.transport import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter__spaces_a_steady_stream_at_the_configured_rate():
    clock = FakeClock()
    limiter = RateLimiter(60, headroom=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(61):
        limiter.acquire()
    assert clock.now - 100.0 == pytest.approx(60.0)


def test_limiter__burst_then_spacing():
    clock = FakeClock()
    limiter = RateLimiter(60, burst=5, headroom=1.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(7)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5] == pytest.approx(1.0)


def test_limiter__block_for_holds_everyone_and_is_visible():
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock, sleep=clock.sleep)
    limiter.block_for(5)
    assert limiter.current_wait() == pytest.approx(5)
    assert limiter.waiting_until is not None and limiter.waiting_until > time.time() + 4
    assert limiter.acquire() == pytest.approx(5)
    assert limiter.waiting_until is None


def test_limiter__rejects_bad_settings():
    with pytest.raises(ConfigError):
        RateLimiter(0)
    with pytest.raises(ConfigError):
        RateLimiter(60, burst=0)


def test_limiter__concurrent_callers_never_exceed_the_rate_but_reach_95_percent():
    limiter = RateLimiter(1200)  # 20/s
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            before = time.monotonic()
            waited = limiter.acquire()
            with lock:  # when the limiter released the call (free of thread wake-up jitter)
                stamps.append(before + waited)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    stamps.sort()
    # 48 requests at 20/s: the first is free, so the rest need >= 47/20 s.
    assert elapsed >= 47 / 20 * 0.99
    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0]) * 60
    assert 0.95 * 1200 <= achieved <= 1200
    # No 3-second window holds more than the limit allows (plus the first slot).
    for i, t0 in enumerate(stamps):
        assert sum(1 for t in stamps[i:] if t - t0 < 3.0) <= 61

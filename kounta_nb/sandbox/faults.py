"""Seeded fault injection: the ways a real API and the network in front of it misbehave.

Each API request (paths under ``/v1/companies``) draws once from a seeded RNG. With the
probabilities in the options it is turned into one of:

- ``5xx``: a 500 (JSON ``server_error``), 502 or 503 (an HTML page from the "load balancer");
- ``429``: ``Limit exceeded`` exactly like a real rate-limit answer, as a *storm*: the request that
  draws it and the next 0–4 API requests are all refused, so a client's back-off has to outlast it;
- ``drop``: the connection is closed without any response;
- ``truncate``: the headers announce the full ``Content-Length`` but only part of the body is sent,
  then the connection is closed;
- ``slow``: the answer is correct but arrives ``slow_ms`` late.

The same seed gives the same sequence of faults for the same sequence of requests.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

__all__ = ["Fault", "FaultInjector", "FaultKind"]

FaultKind = Literal["5xx", "429", "drop", "truncate", "slow"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; ``status`` is set for ``5xx``."""

    kind: FaultKind
    status: int = 0


class FaultInjector:
    """Draws faults from a seeded RNG; thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._storm_left = 0

    def reseed(self, seed: int) -> None:
        """Restart the fault sequence from ``seed``."""
        with self._lock:
            self._rng = random.Random(seed)
            self._storm_left = 0

    def draw(
        self,
        *,
        p_5xx: float = 0.0,
        p_429: float = 0.0,
        p_drop: float = 0.0,
        p_truncate: float = 0.0,
        p_slow: float = 0.0,
    ) -> Fault | None:
        """Return the fault for the next request, or ``None`` for a normal answer."""
        if not (p_5xx or p_429 or p_drop or p_truncate or p_slow):
            self._storm_left = 0
            return None
        with self._lock:
            if self._storm_left > 0 and p_429:
                self._storm_left -= 1
                return Fault("429")
            rolls = [self._rng.random() for _ in range(5)]
            pick = self._rng.choice((500, 502, 503))
            storm = self._rng.randint(0, 4)
            if rolls[0] >= p_drop and rolls[1] >= p_5xx and rolls[2] < p_429:
                self._storm_left = storm
        if rolls[0] < p_drop:
            return Fault("drop")
        if rolls[1] < p_5xx:
            return Fault("5xx", pick)
        if rolls[2] < p_429:
            return Fault("429")
        if rolls[3] < p_truncate:
            return Fault("truncate")
        if rolls[4] < p_slow:
            return Fault("slow")
        return None

"""Every knob of the sandbox in one record (docs/sandbox.md lists them with their reasons)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .founding import MAX_EXTRA_SITES

__all__ = ["LEGACY_PAGES", "SandboxOptions"]

#: Values of ``SandboxOptions.legacy_pages``.
LEGACY_PAGES = ("asked", "always", "never")


@dataclass
class SandboxOptions:
    """Every knob of the sandbox; all but ``FROZEN`` (``seed``, ``months``, ``now``, ``live``,
    ``live_speed``, ``extra_sites``) can change at run time (``POST /_sandbox/options`` or ``SandboxHandle.set_options``)."""

    seed: int = 7
    months: int = 6
    now: datetime | None = None
    live: bool = False
    #: How fast a live clock runs (60 = a minute of trading per second).
    live_speed: float = 1.0
    #: More venues for the developer company (cafés, bars, restaurants with their own ids, staff
    #: and registers; deterministic from the seed), e.g. for big-data benchmarks. 0 to 250.
    extra_sites: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_limit: bool = False
    rate_basic: int = 60
    rate_oauth: int = 180
    time_scale: float = 1.0
    token_ttl: float = 3600.0
    fault_5xx: float = 0.0
    fault_429: float = 0.0
    fault_drop: float = 0.0
    fault_truncate: float = 0.0
    fault_slow: float = 0.0
    slow_ms: float = 2000.0
    fault_seed: int = 0
    #: Exact redirect URIs registered besides every loopback ``http`` URI (RFC 8252 §7.3).
    redirect_uris: tuple[str, ...] = ()
    #: ``GET /companies/me`` answers 302 → ``/companies/{id}`` instead of the record.
    me_redirect: bool = False
    #: Refresh responses leave out ``refresh_token`` (the client must keep the old one).
    refresh_omits_token: bool = False
    #: Body of a 201: ``"empty"`` or ``"null"``.
    created_body: str = "empty"
    #: In the last N seconds of an access token's life, API GETs answer 200 with an empty body, as
    #: some integrators saw around expiry (docs/api.md §2); 0 = off.
    expiry_empty_s: float = 0.0
    #: ``"oauth"``: expiry is 401 ``expired_token``; ``"legacy"``: 400 ``{"message": …}`` as an old
    #: client's tests model it (docs/api.md §2).
    expiry_style: str = "oauth"
    #: Status of a rate-limit answer: 429, or 200 as older traffic saw (body ``Limit exceeded``).
    limit_status: int = 429
    #: ``Retry-After`` as an HTTP date instead of seconds.
    retry_after_date: bool = False
    #: Legacy page numbers (docs/api.md §3): ``"asked"`` sends ``X-Pages`` only when the request
    #: carries ``X-Page``; ``"always"`` on every list answer (as some API versions did, and as
    #: clients that read it from an unasked first page expect); ``"never"`` ignores ``X-Page``.
    #: ``True``/``False`` mean ``"always"``/``"asked"``.
    legacy_pages: str = "asked"
    #: Refuse what real clients send in write bodies beyond the documented fields (unknown or
    #: read-only fields, ``order_id`` in a payment, an order without ``site_id``): the strict
    #: behaviour of earlier versions, useful to test a client's own bodies (docs/api.md §4).
    strict_writes: bool = False

    FROZEN = ("seed", "months", "now", "live", "live_speed", "extra_sites")

    def __post_init__(self) -> None:
        if isinstance(self.legacy_pages, bool):
            self.legacy_pages = "always" if self.legacy_pages else "asked"
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` (one clear sentence) for an impossible value."""
        for name in ("fault_5xx", "fault_429", "fault_drop", "fault_truncate", "fault_slow"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"Sandbox option {name} is a probability between 0 and 1, not {value!r}.")
        for name in ("latency_ms", "jitter_ms", "slow_ms", "expiry_empty_s"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"Sandbox option {name} cannot be negative.")
        for name in ("rate_basic", "rate_oauth", "months"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Sandbox option {name} must be at least 1.")
        if not isinstance(self.extra_sites, int) or isinstance(self.extra_sites, bool) \
                or not 0 <= self.extra_sites <= MAX_EXTRA_SITES:
            raise ValueError("Sandbox option extra_sites must be a whole number from 0 to 250.")
        if not float(self.time_scale) > 0:
            raise ValueError("Sandbox option time_scale must be a positive number.")
        if not float(self.live_speed) > 0:
            raise ValueError("Sandbox option live_speed must be a positive number.")
        if not float(self.token_ttl) > 0:
            raise ValueError("Sandbox option token_ttl must be a positive number of seconds.")
        if self.expiry_style not in ("oauth", "legacy"):
            raise ValueError('Sandbox option expiry_style must be "oauth" or "legacy".')
        if int(self.limit_status) not in (429, 200):
            raise ValueError("Sandbox option limit_status must be 429 or 200.")
        if self.legacy_pages not in LEGACY_PAGES:
            raise ValueError('Sandbox option legacy_pages must be "asked", "always" or "never".')
        if self.created_body not in ("empty", "null"):
            raise ValueError('Sandbox option created_body must be "empty" or "null".')
        if self.now is not None and (not isinstance(self.now, datetime) or self.now.tzinfo is None):
            raise ValueError("Sandbox option now must be a timezone-aware datetime.")

    def as_json(self) -> dict[str, Any]:
        """The options as JSON-ready values."""
        out = dataclasses.asdict(self)
        out["now"] = self.now.isoformat() if self.now else None
        out["redirect_uris"] = list(self.redirect_uris)
        return out

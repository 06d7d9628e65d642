"""The few things the pull engine needs from a :class:`~kounta_nb.client.Kounta`, in one place.

The engine walks list pages itself (rather than through ``Kounta.iter_orders``) because it must
persist each page's ``X-Next-Page`` cursor to resume exactly where it stopped, and walk several time
slices at once. Everything else (auth, refresh, ETag cache, rate limiter, retries, error mapping)
stays in the client's transport.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin

from .. import settings
from ..endpoints import order_path
from ..errors import ConfigError

__all__ = ["Api", "created_ts", "iso"]

_NEXT = "X-Next-Page"


def iso(moment: datetime) -> str:
    """A full datetime with its offset, the way the API's ``created_*`` filters want it."""
    return moment.isoformat(timespec="seconds")


def created_ts(record: Mapping[str, Any]) -> float:
    """``created_at`` of a record as epoch seconds."""
    raw = record.get("created_at")
    if not isinstance(raw, str):
        raise ConfigError("An order in the list has no created_at timestamp.")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()


class Api:
    """A thin adapter: list pages, order details, limiter figures, identity for the store key."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.transport = client.transport

    @property
    def company_id(self) -> int:
        return int(self.client.company_id)

    @property
    def tz(self) -> tzinfo:
        return self.client.tz

    @property
    def api_base(self) -> str:
        base = getattr(self.transport, "api_base", None) or getattr(self.client, "api_base", None)
        return str(base or settings.API_BASE)

    @property
    def per_minute(self) -> float:
        """The configured requests-per-minute budget of the client's limiter."""
        limiter = getattr(self.transport, "limiter", None)
        value = getattr(limiter, "per_minute", None)
        return float(value) if value else float(settings.RATE_LIMIT_OAUTH)

    def current_wait(self) -> float:
        """Seconds until the limiter lets the next request out (0 when free)."""
        limiter = getattr(self.transport, "limiter", None)
        fn = getattr(limiter, "current_wait", None)
        try:
            return max(0.0, float(fn())) if fn else 0.0
        except (TypeError, ValueError):
            return 0.0

    def stats(self) -> Any:
        return self.client.stats

    def resolve_site(self, site: int | str | None) -> int | None:
        if site is None:
            return None
        return int(self.client.resolve_site(site))

    def list_path(self, site: int | None, status: str | None) -> str:
        return f"companies/{self.company_id}/" + order_path(site=site, status=status)

    def list_page(
        self, url: str, params: Mapping[str, str] | None
    ) -> tuple[list[dict[str, Any]], str | None, Any]:
        """One list page: ``(records, absolute next URL or None, response)``."""
        response = self.transport.request("GET", url, params=dict(params) if params else None)
        body = response.json() if response.status_code != 204 else []
        records = [r for r in (body or []) if isinstance(r, dict)]
        nxt = response.headers.get(_NEXT) if records else None
        if nxt:
            nxt = urljoin(getattr(response, "url", None) or self.api_base, nxt)
        return records, nxt or None, response

    def pages_hint(self, response: Any) -> int | None:
        """The legacy ``X-Pages`` total when the server sends it."""
        raw = response.headers.get("X-Pages")
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    def order(self, oid: int) -> dict[str, Any]:
        return self.client.order(oid)

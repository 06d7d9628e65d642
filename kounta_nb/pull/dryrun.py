"""Know before you go: how many orders, requests and how long a pull would take.

One list request answers it when the period fits in one page (exact) or the server sends the
legacy ``X-Pages`` total. Otherwise a few sample days spread over the period are listed (up to a
few pages each): a whole day covers the daily cycle of trade, which a single page of the 25 newest
orders (often an hour of one evening) does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .. import settings
from ..errors import ConfigError
from .plan import PullSpec
from .progress import duration as _duration
from .source import OrderSource, created_ts

__all__ = ["Estimate", "dry_run"]

#: Sample days listed when the count is not given away by the first page.
PROBE_DAYS = 3
#: Pages listed at most per sample day (beyond that the day is extrapolated by time).
PROBE_PAGES = 4


@dataclass(frozen=True)
class Estimate:
    """What a pull of the period would cost."""

    orders: int
    list_requests: int
    detail_requests: int
    per_minute: float
    since: datetime
    until: datetime | None
    site: int | None
    method: str
    exact: bool
    probe_requests: int

    @property
    def requests(self) -> int:
        """List pages plus one detail request per order."""
        return self.list_requests + self.detail_requests

    @property
    def seconds(self) -> float:
        """The shortest time the rate limit allows for those requests."""
        return self.requests / self.per_minute * 60.0 if self.per_minute > 0 else math.inf

    def __str__(self) -> str:
        about = "" if self.exact else "About "
        right = f"{self.until:%Y-%m-%d %H:%M}" if self.until else "now"
        where = f" at site {self.site}" if self.site is not None else ""
        return (
            f"{about}{self.orders:,} orders from {self.since:%Y-%m-%d %H:%M} to {right}{where}: "
            f"{'~' if not self.exact else ''}{self.requests:,} requests ({self.list_requests:,} list pages + "
            f"{self.detail_requests:,} order details), at least {_duration(self.seconds)} at "
            f"{self.per_minute:.0f} requests/minute ({self.method}; this estimate used "
            f"{self.probe_requests} request{'s' if self.probe_requests != 1 else ''})."
        )

    def _repr_html_(self) -> str:
        import html

        return f"<p class='kounta-dry-run'>{html.escape(str(self))}</p>"


def dry_run(
    client: Any,
    since: datetime | date | str,
    until: datetime | date | str | None = None,
    *,
    site: int | str | None = None,
    status: str | None = "complete",
    details: bool = True,
) -> Estimate:
    """Estimate a pull of ``since``–``until`` without starting it (a handful of list requests)."""
    api = OrderSource(client)
    tz = api.tz
    if isinstance(since, str) and since.strip().lower() == "last":
        raise ConfigError("dry_run needs an explicit start; 'last' depends on the pull store.")
    site_id = api.resolve_site(site)
    spec = PullSpec.resolve(since, until, tz=tz, site=site_id, status=status)
    start, end = spec.since, spec.until
    requests = 0

    def page(lo: datetime, hi: datetime | None, url: str | None = None) -> tuple[list[dict[str, Any]], str | None, Any]:
        nonlocal requests
        requests += 1
        walk, first, params = api.start(spec.query(lo.timestamp(), hi.timestamp() if hi else None), url)
        return api.list_page(walk, first, params)

    records, nxt, response = page(start, end)
    per_minute = api.per_minute
    # extrapolate over the span that holds orders: up to the newest one (the API's clock decides)
    stop = end or datetime.now(tz)
    if records:
        stop = min(stop, datetime.fromtimestamp(max(created_ts(r) for r in records) + 1.0, tz))

    def result(orders: int, method: str, exact: bool) -> Estimate:
        pages = max(1, math.ceil(orders / settings.PAGE_SIZE))
        return Estimate(orders, pages, orders if details else 0, per_minute, start, end, site_id,
                        method, exact, requests)

    if nxt is None:
        return result(len(records), "counted: the period fits in one page", True)
    raw_pages = response.headers.get("X-Pages")
    pages_total = int(raw_pages) if raw_pages and str(raw_pages).isdigit() else None
    if pages_total:
        return result(int((pages_total - 0.5) * settings.PAGE_SIZE), "from the page count the server reports", False)

    # Sample whole local days spread over the period (each covers a full daily cycle).
    span_days = max((stop - start).total_seconds() / 86400.0, 1e-9)
    whole_days = int(span_days)
    counts: list[float] = []
    if whole_days >= 1:
        first_day = start.date() + timedelta(days=1) if start.time() != datetime.min.time() else start.date()
        usable = max(1, (stop.date() - first_day).days)
        picks = sorted({first_day + timedelta(days=int((i + 0.5) * usable / PROBE_DAYS)) for i in range(min(PROBE_DAYS, usable))})
        for day in picks:
            lo = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            hi = lo + timedelta(days=1)
            if hi > stop:
                continue
            listed, oldest = 0, hi.timestamp()
            recs, cursor, _ = page(lo, hi)
            pages = 1
            while True:
                listed += len(recs)
                if recs:
                    oldest = min(oldest, min(created_ts(r) for r in recs))
                if cursor is None or pages >= PROBE_PAGES:
                    break
                recs, cursor, _ = page(lo, hi, cursor)
                pages += 1
            if cursor is None:
                counts.append(float(listed))
            else:
                seen = max(hi.timestamp() - oldest, 60.0)
                counts.append(listed * 86400.0 / seen)
    if counts:
        per_day = sum(counts) / len(counts)
        orders = max(len(records), int(round(per_day * span_days)))
        return result(orders, f"extrapolated from {len(counts)} sample day{'s' if len(counts) != 1 else ''}", False)
    # A period shorter than a day: the newest page's pace over the whole period.
    oldest = min(created_ts(r) for r in records)
    seen = max(stop.timestamp() - oldest, 60.0)
    orders = max(len(records), int(round(len(records) * (stop - start).total_seconds() / seen)))
    return result(orders, "extrapolated from the newest page", False)

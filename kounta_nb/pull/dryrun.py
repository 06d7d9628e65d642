"""Know before you go: how many orders, requests and how long a pull would take — and how sure.

People decide to start multi-hour pulls from this answer, so it is exact whenever that is cheap
and otherwise a design-based estimate with a stated interval:

1. **Exact from the page count** (1–2 requests): the first list page is asked for with the legacy
   ``X-Page: 0`` header; a server that answers with ``X-Pages`` (docs/api.md §3) gives the page
   count, and the last page (``X-Page: n-1``) the remainder.
2. **Exact by walking** when the period holds one page, or few enough days that listing them all
   costs no more than sampling would (at most :data:`WALK_DAYS` trading days).
3. **Sampled** otherwise: the newest order (the first page) and the first one (a binary search
   over time, so ``--since 1970-01-01`` costs ~15 requests, not a wrong answer) bound the trading
   span; partial first/last days are listed exactly; the whole local days between are stratified by
   weekday (closed days and weekly rhythm), days are drawn spread over the span (seasons, trends),
   each drawn day is listed to its end (an exact count), and days are added where they reduce the
   variance most until the ``confidence`` interval is within ``precision`` of the estimate or the
   ``budget`` of requests is spent. The interval is the stratified estimator's, with Student-t
   degrees of freedom (Satterthwaite) and a floor on each weekday's day-to-day spread, because two
   sampled days say little about it.

Measured against full list walks of the sandbox (``tests/test_pull_dry_run.py``, table in
``benchmarks/RESULTS.md``): within ±10 % per site and per company for every tested range.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from .. import settings
from ..errors import ConfigError
from .estimates import t_quantile
from .plan import Moment, PullSpec
from .progress import duration
from .source import KountaLike, OrderSource, created_ts

__all__ = [
    "BUDGET_DAYS", "Estimate", "WALK_DAYS", "dry_run", "CV_FLOOR",
]

#: A period of at most this many trading days is listed completely (an exact count): sampling
#: it to ±5 % would cost about as much.
WALK_DAYS = 16
#: The default request budget is the cost of listing this many average days (the sampled
#: estimate usually stops earlier, once its interval is within ``precision``).
BUDGET_DAYS = 48
#: A weekday's day-to-day spread is taken to be at least this share of its mean.
CV_FLOOR = 0.10
_DAY = 86400.0


@dataclass(frozen=True)
class Estimate:
    """What a pull of the period would cost, and how sure the figure is.

    ``orders`` is the best figure; ``low``–``high`` the ``confidence`` interval (equal to
    ``orders`` when ``exact``). ``probe_requests`` is what this estimate itself cost.
    """

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
    low: int = 0
    high: int = 0
    confidence: float = 0.95
    days: int = 0
    sampled_days: int = 0

    @property
    def requests(self) -> int:
        """List pages plus one detail request per order."""
        return self.list_requests + self.detail_requests

    @property
    def seconds(self) -> float:
        """The shortest time the rate limit allows for those requests."""
        return self.requests / self.per_minute * 60.0 if self.per_minute > 0 else math.inf

    @property
    def relative_error(self) -> float:
        """Half the interval's width as a share of the estimate (0 when exact)."""
        return 0.0 if self.exact or not self.orders else (self.high - self.low) / 2 / self.orders

    def __str__(self) -> str:
        right = f"{self.until:%Y-%m-%d %H:%M}" if self.until else "now"
        where = f" at site {self.site}" if self.site is not None else ""
        if self.exact:
            head = f"{self.orders:,} orders"
        else:
            head = (f"About {self.orders:,} orders ({self.confidence:.0%} interval {self.low:,}–{self.high:,}, "
                    f"±{self.relative_error:.0%})")
        cost = self.probe_requests / self.per_minute * 60.0 if self.per_minute > 0 else 0.0
        return (
            f"{head} from {self.since:%Y-%m-%d %H:%M} to {right}{where}: "
            f"{'~' if not self.exact else ''}{self.requests:,} requests ({self.list_requests:,} list pages + "
            f"{self.detail_requests:,} order details), at least {duration(self.seconds)} at "
            f"{self.per_minute:.0f} requests/minute ({self.method}; this estimate used "
            f"{self.probe_requests} request{'s' if self.probe_requests != 1 else ''}, {duration(cost)})."
        )

    def _repr_html_(self) -> str:
        import html

        return f"<p class='kounta-dry-run'>{html.escape(str(self))}</p>"


def dry_run(
    client: KountaLike,
    since: Moment,
    until: Moment | None = None,
    *,
    site: int | str | None = None,
    status: str | None = "complete",
    details: bool = True,
    precision: float = 0.05,
    confidence: float = 0.95,
    budget: int | None = None,
    seed: int = 0,
) -> Estimate:
    """Estimate a pull of ``since``–``until`` without starting it.

    Exact when the server reports page counts, or the period is short; otherwise sampled until the
    ``confidence`` interval is within ±``precision`` of the estimate or ``budget`` requests are
    spent (default: the cost of listing :data:`BUDGET_DAYS` average days, typically 0.3–0.5 % of the
    pull). ``seed`` fixes which days are sampled.
    """
    if isinstance(since, str) and since.strip().lower() == "last":
        raise ConfigError("dry_run needs an explicit start; 'last' depends on the pull store.")
    if not 0.0 < precision < 1.0:
        raise ConfigError(f"precision must be between 0 and 1 (e.g. 0.05 for ±5 %), not {precision!r}.")
    if budget is not None and (not isinstance(budget, int) or budget < 1):
        raise ConfigError("budget must be a positive whole number of requests.")
    source = OrderSource(client)
    spec = PullSpec.resolve(since, until, tz=source.tz, site=source.resolve_site(site), status=status)
    return _DryRun(source, spec, details=details, precision=precision, confidence=confidence,
                   budget=budget, seed=seed).run()


class _DryRun:
    def __init__(self, source: OrderSource, spec: PullSpec, *, details: bool, precision: float,
                 confidence: float, budget: int | None, seed: int) -> None:
        self.source = source
        self.spec = spec
        self.tz: tzinfo = spec.tz
        self.details = details
        self.precision = precision
        self.confidence = confidence
        self.budget = budget
        self.rng = random.Random(f"{seed}|{spec.key}")
        self.requests = 0

    # -- requests ----------------------------------------------------------------------------

    def page(self, lo: float, hi: float | None, *, headers: Mapping[str, str] | None = None,
             ) -> tuple[list[dict[str, Any]], str | None, Any]:
        """The first page of ``[lo, hi)``."""
        walk, url, params = self.source.start(self.spec.query(lo, hi))
        self.requests += 1
        return self.source.list_page(walk, url, params, headers=headers)

    def count(self, lo: float, hi: float) -> int:
        """Every order of ``[lo, hi)``, counted by walking its pages."""
        walk, url, params = self.source.start(self.spec.query(lo, hi))
        total = 0
        while True:
            self.requests += 1
            records, nxt, _ = self.source.list_page(walk, url, params)
            total += len(records)
            if nxt is None:
                return total
            url, params = walk.update_request()

    # -- the estimate ------------------------------------------------------------------------

    def run(self) -> Estimate:
        lo = self.spec.since_ts
        hi = self.spec.until_ts
        records, nxt, response = self.page(lo, hi, headers={"X-Page": "0"})
        pages = _int(response.headers.get("X-Pages"))
        if pages is not None and pages >= 1:
            if pages == 1 and len(records) < settings.PAGE_SIZE + 1:
                return self.exact(len(records), "counted: the server reports one page")
            last, _, _ = self.page(lo, hi, headers={"X-Page": str(pages - 1)})
            if 0 < len(last) <= settings.PAGE_SIZE:
                return self.exact(settings.PAGE_SIZE * (pages - 1) + len(last),
                                  "counted from the page count the server reports")
            records, nxt, _ = self.page(lo, hi)  # an odd page count: walk the ordinary way
        if not records or nxt is None:
            return self.exact(len(records), "counted: the period fits in one page")
        # orders stop at the newest one: the API's clock, not ours, says what "now" is
        end = max(created_ts(r) for r in records) + 1.0
        if hi is not None:
            end = min(end, hi)
        start = self.first_order(lo, end)
        first_day, last_day = self.day_of(start), self.day_of(end - 1.0)
        days = (last_day - first_day).days + 1
        if days <= WALK_DAYS:
            return self.exact(self.count(lo, end), f"counted: every page of {days} day{'s' if days != 1 else ''} listed")
        return self.sample(start, end, first_day, last_day)

    def exact(self, orders: int, method: str, days: int = 0) -> Estimate:
        return self.result(orders, orders, orders, method, exact=True, days=days, sampled=days)

    def result(self, orders: int, low: int, high: int, method: str, *, exact: bool, days: int,
               sampled: int) -> Estimate:
        pages = max(1, math.ceil(orders / settings.PAGE_SIZE))
        return Estimate(orders, pages, orders if self.details else 0, self.source.per_minute, self.spec.since,
                        self.spec.until, self.spec.site, method, exact, self.requests, low=low, high=high,
                        confidence=self.confidence, days=days, sampled_days=sampled)

    def first_order(self, lo: float, end: float) -> float:
        """When the first order of ``[lo, end)`` was created, to the day (there is at least one).

        The first local day is looked at first (most periods start inside the trading span); a
        period that starts earlier is bisected over time, one page per step.
        """
        first_midnight = self.midnight(self.day_of(lo) + timedelta(days=1))
        records, _, _ = self.page(lo, min(first_midnight, end))
        if records or first_midnight >= end:
            return lo
        empty_until, has_until = first_midnight, end  # no order in [lo, empty_until); some in [lo, has_until)
        while has_until - empty_until > _DAY:
            mid = self.midnight(self.day_of((empty_until + has_until) / 2))
            if mid <= empty_until:
                mid = empty_until + _DAY
            records, nxt, _ = self.page(lo, mid)
            if not records:
                empty_until = mid
                continue
            oldest = min(created_ts(r) for r in records)
            if nxt is None:
                return oldest
            has_until = oldest + 1.0
        return empty_until

    def sample(self, start: float, end: float, first_day: date, last_day: date) -> Estimate:
        head = start > self.midnight(first_day)  # the period starts inside its first day
        tail = end < self.midnight(last_day + timedelta(days=1))  # ... or ends inside its last day
        frame_first = first_day + timedelta(days=1) if head else first_day
        frame_last = last_day - timedelta(days=1) if tail else last_day
        frame = [frame_first + timedelta(days=i) for i in range((frame_last - frame_first).days + 1)]
        days = (last_day - first_day).days + 1
        strata = _Strata(frame, self.rng)
        budget = self.budget if self.budget is not None else math.inf
        for _ in range(2):  # a day of each weekday from the earlier half of the span, then the later
            for weekday in self.rng.sample(strata.weekdays(), len(strata.weekdays())):
                if self.requests < budget:
                    self.draw(strata, weekday)
        per_day = max(1.0, strata.mean_day() / settings.PAGE_SIZE + 0.5)
        if self.budget is None:
            budget = math.ceil(BUDGET_DAYS * per_day)
        # the partial first and last days: listed when affordable, else a share of an average day
        exact, rough, rough_var = 0, 0.0, 0.0
        for wanted, lo, hi in ((head, start, self.midnight(first_day + timedelta(days=1))),
                               (tail, self.midnight(last_day), end)):
            if not wanted:
                continue
            if self.requests + per_day <= budget:
                exact += self.count(lo, hi)
            else:
                share = strata.mean_day() * (hi - lo) / _DAY
                rough += share
                rough_var += share * share
        if not rough and self.requests + strata.unsampled() * per_day <= budget:
            # listing the rest costs no more than sampling on would: count every day instead
            for weekday in strata.weekdays():
                while strata.unsampled(weekday):
                    self.draw(strata, weekday)
            return self.exact(exact + strata.counted(), f"counted: every page of {days} days listed", days=days)
        while self.requests < budget:
            est, var, df = strata.estimate()
            half = t_quantile(self.confidence, df) * math.sqrt(var + rough_var)
            if half <= self.precision * (est + exact + rough):
                break
            useful = strata.most_useful()
            if useful is None:
                break
            self.draw(strata, useful)
        est, var, df = strata.estimate()
        half = t_quantile(self.confidence, df) * math.sqrt(var + rough_var)
        total = exact + rough + est
        method = (f"estimated from {strata.sampled} of {len(frame)} whole days, stratified by weekday with a "
                  "trend over the span" + (", first/last day listed in full" if exact else ""))
        return self.result(int(round(total)), int(math.floor(max(total - half, exact))), int(math.ceil(total + half)),
                           method, exact=False, days=days, sampled=strata.sampled)

    def draw(self, strata: _Strata, weekday: int) -> None:
        day = strata.next_day(weekday)
        if day is not None:
            strata.record(weekday, day, self.count(self.midnight(day), self.midnight(day + timedelta(days=1))))

    def day_of(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.tz).date()

    def midnight(self, day: date) -> float:
        return datetime.combine(day, time(0), tzinfo=self.tz).timestamp()


class _Strata:
    """The frame's whole days by weekday, the days drawn from each and their counts."""

    def __init__(self, frame: list[date], rng: random.Random) -> None:
        self.rng = rng
        self.origin = frame[0] if frame else date(2000, 1, 1)
        self.days: dict[int, list[date]] = {}
        for day in frame:
            self.days.setdefault(day.weekday(), []).append(day)
        self.counts: dict[int, dict[int, int]] = {wd: {} for wd in self.days}  # weekday → index → count

    @property
    def sampled(self) -> int:
        return sum(len(c) for c in self.counts.values())

    def weekdays(self) -> list[int]:
        return sorted(self.days)

    def next_day(self, weekday: int) -> date | None:
        """A random day not drawn yet; the first two from the earlier and the later half of the
        span (so both ends of a season are seen), the rest from anywhere. Every day is as likely
        to be drawn as any other, so the estimate stays unbiased (choosing the day farthest from
        those drawn, tried first, favoured the ends of the span and was 2.7 % low in a test)."""
        days, got = self.days[weekday], self.counts[weekday]
        size = len(days)
        free = [i for i in range(size) if i not in got]
        if not free:
            return None
        if len(got) < 2 and size >= 2:
            half = size // 2
            part = [i for i in free if (i < half) == (len(got) == 0)]
            free = part or free
        index = self.rng.choice(free)
        got[index] = -1
        return days[index]

    def record(self, weekday: int, day: date, count: int) -> None:
        self.counts[weekday][self.days[weekday].index(day)] = count

    def unsampled(self, weekday: int | None = None) -> int:
        """Days not drawn yet (of one weekday, or all)."""
        weekdays = [weekday] if weekday is not None else list(self.days)
        return sum(len(self.days[w]) - len(self.counts[w]) for w in weekdays)

    def counted(self) -> int:
        """The orders of every drawn day."""
        return sum(c for got in self.counts.values() for c in got.values() if c >= 0)

    def mean_day(self) -> float:
        values = [c for got in self.counts.values() for c in got.values() if c >= 0]
        return sum(values) / len(values) if values else 0.0

    def _slope(self) -> float:
        """A relative linear trend over the span, pooled over weekdays (seasons, growth)."""
        top = bottom = 0.0
        for weekday, got in self.counts.items():
            pairs = [(self.days[weekday][i], v) for i, v in got.items() if v >= 0]
            if len(pairs) < 2:
                continue
            mean = sum(v for _, v in pairs) / len(pairs)
            if mean <= 0:
                continue
            xs = [(d - self.origin).days for d, _ in pairs]
            xbar = sum(xs) / len(xs)
            top += sum((v / mean - 1.0) * (x - xbar) for x, (_, v) in zip(xs, pairs, strict=True))
            bottom += sum((x - xbar) ** 2 for x in xs)
        return top / bottom if bottom > 0 else 0.0

    def _stratum(self, weekday: int, slope: float) -> tuple[float, float, float, int, int]:
        """``(trend-adjusted mean, mean, residual sum of squares, size, drawn)`` of one weekday."""
        got = [(self.days[weekday][i], v) for i, v in self.counts[weekday].items() if v >= 0]
        size, n = len(self.days[weekday]), len(got)
        mean = sum(v for _, v in got) / n if n else 0.0
        xs = [(d - self.origin).days for d, _ in got]
        xbar = sum(xs) / n if n else 0.0
        everything = sum((d - self.origin).days for d in self.days[weekday]) / size
        adjusted = max(mean * (1.0 + slope * (everything - xbar)), 0.0)
        squares = sum((v - mean * (1.0 + slope * (x - xbar))) ** 2 for x, (_, v) in zip(xs, got, strict=True))
        return adjusted, mean, squares, size, n

    def _spreads(self) -> dict[int, tuple[float, float, int, int]]:
        """weekday → ``(adjusted mean, variance of one day, size, drawn)``.

        A weekday's day-to-day variance is its own residual variance, but never below what the
        weekdays show relative to their means, pooled over every drawn day (steadier than two days
        can be; days without any order, such as Christmas, are left out of the pool so that one
        closure does not spread to every weekday), nor below :data:`CV_FLOOR`.
        """
        slope = self._slope()
        parts = {w: self._stratum(w, slope) for w in self.days}
        rel, df = 0.0, 0
        for w, (_, mean, _, _, _) in parts.items():
            open_days = [v for v in self.counts[w].values() if v > 0]
            if len(open_days) > 1 and mean > 0:
                m = sum(open_days) / len(open_days)
                rel += sum((v / m - 1.0) ** 2 for v in open_days)
                df += len(open_days) - 1
        pooled = max(rel / df if df else 0.0, CV_FLOOR**2)
        drawn = [v for got in self.counts.values() for v in got.values() if v >= 0]
        overall = sum(drawn) / len(drawn) if drawn else 0.0
        out = {}
        for w, (adjusted, mean, squares, size, n) in parts.items():
            if n == 0:  # no day of this weekday drawn (a small budget): an average day, very unsure
                out[w] = (overall, overall * overall, size, 0)
                continue
            own = squares / (n - 1) if n > 1 else 0.0
            out[w] = (adjusted, max(own, pooled * mean * mean), size, n)
        return out

    def estimate(self) -> tuple[float, float, float]:
        """``(total, variance, degrees of freedom)`` of the stratified estimator."""
        total = var = spread = 0.0
        for adjusted, s2, size, n in self._spreads().values():
            total += size * adjusted
            if n < size:
                v = size * size * (1 - n / size) * s2 / max(n, 1)
                var += v
                spread += v * v / max(n - 1, 1)
        return total, var, (var * var / spread if spread > 0 else math.inf)

    def most_useful(self) -> int | None:
        """The weekday where one more day cuts the variance most per request."""
        best: tuple[float, int] | None = None
        for weekday, (adjusted, s2, size, n) in self._spreads().items():
            if n >= size:
                continue
            gain = size * size * s2 * (1 / max(n, 1) - 1 / (n + 1)) / max(1.0, adjusted / settings.PAGE_SIZE + 0.5)
            if best is None or gain > best[0]:
                best = (gain, weekday)
        return best[1] if best is not None and best[0] > 0 else None


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None

"""The dry run must be trustworthy (issue 11 §1): measured against the sandbox's real counts.

For two seeds of a six-month sandbox that never sends ``X-Pages``, the company and each of its
three venues, and ranges that start before the first order, span Christmas closures and the summer
season, or start mid-morning: every estimate is within ±10 % of the truth, the stated intervals
cover it (at about their stated rate), and the estimate costs a small share of the pull. The old
dry run (one page, or three sample days × four pages) failed this: 6 months of The Lane Bar 3.2×
over, ``1970-01-01`` answered "25 orders, 1 request".

The truth is every COMPLETE order the sandbox's data layer holds (checked against a full list walk
over HTTP); with ``X-Pages`` (``legacy_pages="asked"|"always"``) the answer is exact in 2 requests.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from support_sandbox import SANDBOX_NOW

from kounta_nb import Kounta
from kounta_nb.dates import parse_moment
from kounta_nb.pull import dry_run
from kounta_nb.pull.store import timestamp
from kounta_nb.sandbox.server import SandboxHandle, start_sandbox

SEEDS = (7, 11)
DEVELOPER = 51642
SITES = (1201, 1202, 1203)
#: (since, until): before the first order to now; summer with Christmas; from mid-morning.
RANGES = (("1970-01-01", None), ("2025-12-10", "2026-02-20"), ("2026-03-02T09:30", "2026-05-10"))


class Truth:
    """Sorted ``created_at`` epochs of every COMPLETE order per site, from the data layer."""

    def __init__(self, handle: SandboxHandle) -> None:
        company = handle.business.companies[DEVELOPER]
        self.tz = company.tz
        self.times: dict[int, list[float]] = {}
        for site in SITES:
            day, stamps = company.first_day, []
            while day <= company.last_day():
                stamps += [timestamp(o["created_at"]) for o in company.orders_on(site, day) if o["status"] == "COMPLETE"]
                day += timedelta(days=1)
            self.times[site] = sorted(stamps)  # type: ignore[type-var]

    def count(self, site: int | None, since: str, until: str | None) -> int:
        lo = parse_moment(since, tz=self.tz).timestamp()
        hi = parse_moment(until, tz=self.tz, end=True).timestamp() if until else float("inf")
        sites = SITES if site is None else (site,)
        return sum(bisect.bisect_left(self.times[s], hi) - bisect.bisect_left(self.times[s], lo) for s in sites)


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def six_months(request: pytest.FixtureRequest) -> Iterator[tuple[SandboxHandle, Kounta, Truth]]:
    with start_sandbox(seed=request.param, months=6, now=SANDBOX_NOW, legacy_pages="never") as handle:
        client = Kounta.sandbox(handle=handle, rate_limit=60_000, cache=False, company=DEVELOPER)
        yield handle, client, Truth(handle)


def test_dry_run__the_truth_is_what_a_full_list_walk_returns(six_months: Any) -> None:
    _, client, truth = six_months
    walked = sum(1 for _ in client.iter_orders(site=1203, status="complete", since="2026-04-01", until="2026-04-30"))
    assert walked == truth.count(1203, "2026-04-01", "2026-04-30") > 1000


def test_dry_run__within_ten_percent_per_site_and_company_with_covering_intervals(six_months: Any) -> None:
    _, client, truth = six_months
    rows, covered = [], 0
    for site in (None, *SITES):
        for since, until in RANGES:
            plan = dry_run(client, since, until, site=site)
            real = truth.count(site, since, until)
            error = (plan.orders - real) / real
            rows.append((site, since, until, plan.orders, real, round(error, 3), plan.probe_requests))
            assert abs(error) <= 0.10, rows[-1]
            assert not plan.exact and plan.low < plan.orders < plan.high and plan.confidence == 0.95
            covered += plan.low <= real <= plan.high
            # modest: a small share of the pull it describes (≤ 1.5 % for six months, where it matters)
            assert plan.probe_requests <= (0.015 if since == "1970-01-01" else 0.05) * plan.requests, rows[-1]
            assert "interval" in str(plan) and f"{plan.probe_requests} requests" in str(plan)
    # 95 % intervals: at most one miss in twelve (binomial: 88 % chance for an honest 95 %)
    assert covered >= len(rows) - 1, rows


def test_dry_run__short_periods_are_counted_exactly(six_months: Any) -> None:
    _, client, truth = six_months
    week = dry_run(client, "2026-05-18", "2026-05-24", site=1202)
    assert week.exact and week.orders == truth.count(1202, "2026-05-18", "2026-05-24")
    assert week.low == week.orders == week.high and "listed" in week.method
    half_hour = dry_run(client, "2026-05-28T10:00", "2026-05-28T10:30", site=1201)
    assert half_hour.exact and half_hour.orders == truth.count(1201, "2026-05-28T10:00", "2026-05-28T10:30")
    assert half_hour.probe_requests <= 2


def test_dry_run__a_century_back_finds_the_first_order_cheaply(six_months: Any) -> None:
    _, client, truth = six_months
    plan = dry_run(client, "100y", site=1203)
    real = truth.count(1203, "1970-01-01", None)
    assert abs(plan.orders - real) / real <= 0.10 and plan.orders > 1000
    assert plan.days <= 190  # the span of trading days, not a century


@pytest.mark.parametrize("mode", ["asked", "always"])
def test_dry_run__exact_in_two_requests_when_the_server_sends_page_counts(six_months: Any, mode: str) -> None:
    handle, client, truth = six_months
    handle.set_options(legacy_pages=mode)
    try:
        for site in (None, 1202):
            plan = dry_run(client, "1970-01-01", site=site)
            assert plan.exact and plan.orders == truth.count(site, "1970-01-01", None)
            assert plan.probe_requests == 2 and "page count" in plan.method
    finally:
        handle.set_options(legacy_pages="never")

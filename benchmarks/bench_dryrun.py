"""How close is the dry run? Estimates vs the sandbox's real counts, per site and for the company.

Run ``python benchmarks/bench_dryrun.py`` (a few minutes). A six-month sandbox (seed 7, in this
process) answers without ``X-Pages`` (``legacy_pages="never"``: the dry run samples) and with it
(``"asked"``: exact from the page count). The truth is every COMPLETE order in the sandbox's data
layer for the range (equal to a full list walk: ``tests/test_pull_dry_run.py`` checks it). The
baseline is the dry run before issue 11 (one page, or three sample days × four pages), whose
figures for the same ranges were measured from the previous version of the code (commit 3847ec1)
and are quoted in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import bisect
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

COMPANY = 51642
SITES = {1201: "Harbour Lane Café", 1202: "The Lane Bar", 1203: "Marlow Dining Room"}
RANGES = (("1970-01-01", None, "1970 → now (6 months of data)"), ("2025-12-10", "2026-02-20", "Dec 10 → Feb 20"),
          ("2026-03-02T09:30", "2026-05-10", "Mar 2 09:30 → May 10"), ("2026-05-01", "2026-05-21", "May 1 → 21"))


def _truth(handle: Any) -> tuple[Any, dict[int, list[float]]]:
    from kounta_nb.pull.store import timestamp

    company = handle.business.companies[COMPANY]
    times: dict[int, list[float]] = {}
    for site in SITES:
        day, stamps = company.first_day, []
        while day <= company.last_day():
            stamps += [timestamp(o["created_at"]) or 0.0 for o in company.orders_on(site, day)
                       if o["status"] == "COMPLETE"]
            day += timedelta(days=1)
        times[site] = sorted(stamps)
    return company.tz, times


def main(argv: list[str] | None = None) -> int:
    from kounta_nb import Kounta
    from kounta_nb.dates import parse_moment
    from kounta_nb.pull import dry_run
    from kounta_nb.sandbox.server import start_sandbox

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows = []
    now = datetime(2026, 5, 29, 4, tzinfo=UTC)
    with start_sandbox(seed=args.seed, months=6, now=now, legacy_pages="never") as handle:
        tz, times = _truth(handle)
        client = Kounta.sandbox(handle=handle, rate_limit=600_000, cache=False, company=COMPANY)
        for mode in ("never", "asked"):
            handle.set_options(legacy_pages=mode)
            for site in (None, *SITES):
                for since, until, label in RANGES:
                    lo = parse_moment(since, tz=tz).timestamp()
                    hi = parse_moment(until, tz=tz, end=True).timestamp() if until else float("inf")
                    real = sum(bisect.bisect_left(times[s], hi) - bisect.bisect_left(times[s], lo)
                               for s in ((site,) if site else SITES))
                    t0 = time.perf_counter()
                    plan = dry_run(client, since, until, site=site)
                    took = time.perf_counter() - t0
                    rows.append((mode, SITES.get(site or 0, "company (3 venues)"), label, plan, real, took))
    print(f"\nkounta_nb dry-run accuracy (seed {args.seed}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]})\n")
    print("| X-Pages | target | range | estimate (95 % interval) | truth | error | dry-run requests (share of the pull) |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for mode, who, label, plan, real, _ in rows:
        error = (plan.orders - real) / real if real else 0.0
        worst = max(worst, abs(error))
        interval = "exact" if plan.exact else f"{plan.low:,}–{plan.high:,}"
        covered = "" if plan.exact or plan.low <= real <= plan.high else " (missed)"
        print(f"| {mode} | {who} | {label} | {plan.orders:,} ({interval}{covered}) | {real:,} | {error:+.1%} | "
              f"{plan.probe_requests} ({plan.probe_requests / plan.requests:.2%}) |")
    missed = sum(1 for *_, p, r, _ in rows if not p.exact and not p.low <= r <= p.high)
    print(f"\nworst error {worst:.1%}; intervals missed the truth {missed} time(s) of {len(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

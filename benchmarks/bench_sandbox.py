"""Benchmark of the sandbox server: start time, memory after a full walk, requests per second.

Run ``python benchmarks/bench_sandbox.py`` (``--quick`` walks two weeks instead of six months).
The server runs in its own process (``python -m kounta_nb.sandbox``), as a user would start it,
so its memory is measured alone and the load client does not share its interpreter lock.

Measured:

1. **start**: process spawn → first answered request, and ``start_sandbox()`` inside an already
   running interpreter;
2. **full walk**: every page of ``/orders`` over the whole history (the N+1 shape without the
   details), then the server's RSS;
3. **requests/s**: a mix of order pages, order details and product lists for a few seconds, from
   the baseline a newcomer writes (``requests.get`` in a loop: one thread, a new connection per
   call) and from 4 threads with keep-alive connections.
4. with ``--big N``: **in-process generation** of N full orders (``Business(months=24,
   extra_sites=k)``, the synthetic big-data set of issue 12), orders/s and peak RSS, against the
   baseline of counting the same orders from their skeletons (``Company.order_rows``).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

NOW = "2026-05-29T04:00:00Z"
AUTH = "Basic " + base64.b64encode(b"kounta-nb-sandbox:sandbox-secret").decode()
ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spawn_server(months: int) -> tuple[subprocess.Popen[str], str, float]:
    """Start the CLI server; return (process, base url, seconds until the first answer)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kounta_nb.sandbox", "--now", NOW, "--months", str(months)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if "running at" not in first:
        proc.kill()
        raise RuntimeError(f"the sandbox did not start: {first!r} {proc.stderr.read() if proc.stderr else ''}")
    url = first.rsplit(" ", 1)[1].strip()
    requests.get(url + "/v1/companies/me.json", headers={"Authorization": AUTH}).raise_for_status()
    return proc, url, time.perf_counter() - t0


def in_process_start() -> float:
    """Seconds for ``start_sandbox()`` (imports already done) plus one answered request."""
    from kounta_nb.sandbox.server import start_sandbox

    t0 = time.perf_counter()
    with start_sandbox(now=datetime(2026, 5, 29, 4, tzinfo=UTC)) as handle:
        requests.get(handle.api_base + "companies/me.json", headers={"Authorization": AUTH}).raise_for_status()
        return time.perf_counter() - t0


def full_walk(url: str, since: str | None) -> tuple[int, int, float]:
    """Follow X-Next-Page over every order page; (pages, orders, seconds)."""
    session = requests.Session()
    session.headers["Authorization"] = AUTH
    nxt: str | None = url + "/v1/companies/me/orders.json" + (f"?created_gte={since}" if since else "")
    pages = orders = 0
    t0 = time.perf_counter()
    while nxt:
        r = session.get(nxt)
        r.raise_for_status()
        pages += 1
        orders += len(r.json())
        nxt = r.headers.get("X-Next-Page")
    return pages, orders, time.perf_counter() - t0


def targets(url: str) -> list[str]:
    """A fixed mix of paths: order pages (cursor URLs), order details, product lists."""
    session = requests.Session()
    session.headers["Authorization"] = AUTH
    first = session.get(url + "/v1/companies/me/orders.json")
    pages = [first.headers["X-Next-Page"]]
    for _ in range(9):
        pages.append(session.get(pages[-1]).headers["X-Next-Page"])
    ids = [o["id"] for o in first.json()]
    paths = [p.split(url, 1)[1] for p in pages]
    paths += [f"/v1/companies/me/orders/{i}.json" for i in ids]
    paths += ["/v1/companies/me/products.json", "/v1/companies/me/sites.json", "/v1/companies/me.json"] * 3
    return paths


def baseline_rps(url: str, paths: list[str], seconds: float) -> float:
    """The newcomer's loop: ``requests.get`` per call (new connection each time), one thread."""
    rng = random.Random(1)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        requests.get(url + rng.choice(paths), headers={"Authorization": AUTH}).raise_for_status()
        n += 1
    return n / (time.perf_counter() - t0)


def concurrent_rps(url: str, paths: list[str], seconds: float, threads: int = 4) -> tuple[float, int]:
    """``threads`` keep-alive clients (http.client); (requests per second, errors)."""
    host, port = url.split("//", 1)[1].split(":")
    counts = [0] * threads
    errors = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        rng = random.Random(k)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.perf_counter() < stop:
            conn.request("GET", rng.choice(paths), headers={"Authorization": AUTH})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors[k] += 1
            counts[k] += 1
        conn.close()

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - t0), sum(errors)


def big_generation(target: int) -> list[tuple[str, str]]:
    """Generate ``target`` full orders in-process; rows for the table."""
    import resource
    from datetime import timedelta

    from kounta_nb.sandbox.business import Business, Clock

    now = datetime(2026, 5, 29, 4, tzinfo=UTC)
    extra, total, count_s = 0, 0, 0.0
    for extra in range(0, 251):
        business = Business(months=24, clock=Clock(now=now), extra_sites=extra)
        company = business.companies[business.developer_company_id]
        t0 = time.perf_counter()
        total = 0
        for site in company.sites:
            day = company.first_day
            while day <= company.last_day():
                total += len(company.order_rows(site, day))
                day += timedelta(days=1)
        count_s = time.perf_counter() - t0
        if total >= target:
            break
    orders = lines = 0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for site in company.sites:
        day = company.first_day
        while day <= company.last_day() and orders < target:
            for order in company.orders_on(site, day):
                orders += 1
                lines += len(order["lines"])
            day += timedelta(days=1)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        ("big: the set", f"Business(months=24, extra_sites={extra}): {total:,} orders at "
                         f"{len(company.sites)} sites of the developer company"),
        ("big: baseline, counting them from skeletons", f"{count_s:.1f} s"),
        (f"big: generating {orders:,} full orders in-process",
         f"{seconds:.0f} s wall, {cpu:.0f} s CPU ({orders / seconds:,.0f} orders/s, {lines:,} lines); "
         f"peak RSS {peak:.0f} MiB"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="walk two weeks instead of six months")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each requests/s run")
    parser.add_argument("--big", type=int, default=0, metavar="N",
                        help="also generate N full orders in-process (e.g. 1000000)")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str]] = []
    proc, url, spawn_s = spawn_server(months=6)
    try:
        rows.append(("start: process spawn → first answer", f"{spawn_s:.2f} s"))
        rows.append(("start: start_sandbox() in a running interpreter", f"{in_process_start():.2f} s"))
        rows.append(("RSS after start", f"{rss_mb(proc.pid):.0f} MiB"))
        pages, orders, walk_s = full_walk(url, "2026-05-15" if args.quick else None)
        label = "two-week" if args.quick else "6-month"
        rows.append((f"{label} walk of /orders (developer company)",
                     f"{orders} orders, {pages} pages in {walk_s:.1f} s ({pages / walk_s:.0f} pages/s)"))
        rows.append((f"RSS after the {label} walk", f"{rss_mb(proc.pid):.0f} MiB"))
        paths = targets(url)
        base = baseline_rps(url, paths, args.seconds)
        rps, errors = concurrent_rps(url, paths, args.seconds)
        rows.append(("baseline: requests.get loop, 1 thread, no keep-alive", f"{base:.0f} req/s"))
        rows.append(("4 threads, HTTP/1.1 keep-alive (http.client)",
                     f"{rps:.0f} req/s ({rps / base:.1f}x baseline, {errors} errors)"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if args.big:
        rows += big_generation(args.big)

    width = max(len(r[0]) for r in rows)
    print(f"\nkounta_nb sandbox benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})\n")
    print(f"| {'measure':<{width}} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
    print()
    print(json.dumps(dict(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

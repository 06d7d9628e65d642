"""Benchmark of the transport's HTTP cache on the sandbox (in-process, no latency, no rate limit).

Run ``python benchmarks/bench_transport.py`` (under a minute). Measured, in one run, on a week of
one venue's orders (list pages of 25 abridged orders, then every full order):

1. **footprint**: the HTTP cache file when the full orders go into it too (as the pull did before
   issue 12: every body stored twice, once here and once in the pull store) against now
   (``store=False`` for the bodies the pull store keeps): entries, bytes, bytes per entry;
2. **re-read**: the same list pages again — requests, 304s, downloads (fresh or an error: every
   cached page is revalidated, none served unasked);
3. **open**: opening a cache file (header checks, a probe of both tables) against the bare
   requests-cache open of the same file;
4. **clear**: ``clear_cache()`` — entries removed, bytes before → after (VACUUM + a truncating WAL
   checkpoint), seconds;
5. **Ctrl-C safety**: requests from the main thread (run on a helper thread so a Ctrl-C never cuts a
   cache write in half) against the same requests made directly on a worker thread — the cost of
   the hand-over per request, next to the API's ~300 ms;
6. **offline, network down**: 11 cached list pages read in offline mode with every connection
   dropped, with the default retries (6) and back-off (0.5 s base): before (every request runs its
   whole retry ladder, the outage forgotten after each answer, as the transport did) against now
   (the outage remembered: one attempt per later request). Attempts are counted; the seconds are
   the wall time plus the back-off the transport asked to sleep, counted rather than slept (it is
   random, ~24 s per ladder on average); the same attempts at a network that swallows packets are
   priced at the connect timeout each (10 s, and 3.05 s for offline GETs now).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOW = datetime(2026, 5, 29, 4, 0, tzinfo=UTC)  # Friday 14:00 in Sydney
SINCE = "2026-05-22"


def _client(handle: Any, cache: Path | bool, **options: Any) -> Any:
    from kounta_nb import Kounta

    return Kounta.basic(handle.client_id, handle.client_secret, api_base=handle.api_base,
                        cache=cache, token_store=False, rate_limit=1_000_000, **options)


def _footprint(handle: Any, path: Path, *, details_cached: bool) -> dict[str, Any]:
    k = _client(handle, path)
    site = int(k.sites()[0]["id"])
    listing = k.orders(site=site, since=SINCE)
    for record in listing:
        k.transport.request("GET", f"companies/{k.company_id}/orders/{record['id']}", store=details_cached)
    info = k.transport.cache_info()
    stats = k.stats.snapshot()
    again = k.orders(site=site, since=SINCE)
    reread = k.stats.snapshot() - stats
    k.close()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))  # closed: file only
    return {"orders": len(listing), "entries": info["entries"], "bytes": size,
            "per_entry": size / max(info["entries"], 1), "reread": reread, "same": list(again) == list(listing)}


def _open_times(path: Path, rounds: int = 5) -> tuple[float, float]:
    from requests_cache import CachedSession

    from kounta_nb.transport import HttpCache, cacheable

    ours, bare = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        cache = HttpCache(path, key_fn=lambda request, **kw: "k", filter_fn=cacheable, setup=lambda s: s)
        ours.append(time.perf_counter() - t0)
        cache.close()
        t0 = time.perf_counter()
        session: Any = CachedSession(str(path), backend="sqlite", wal=True)
        bare.append(time.perf_counter() - t0)
        session.close()
    return statistics.median(ours), statistics.median(bare)


def _clear(handle: Any, path: Path) -> dict[str, Any]:
    k = _client(handle, path)
    before = k.transport.cache_info()
    t0 = time.perf_counter()
    removed = k.transport.clear_cache()
    seconds = time.perf_counter() - t0
    after = k.transport.cache_info()
    k.close()
    return {"removed": removed, "before": before["bytes"], "after": after["bytes"], "seconds": seconds}


def _hop(handle: Any, n: int) -> tuple[float, float, float]:
    """Seconds per request from the main thread (helper hand-over) and from a worker (direct)."""
    k = _client(handle, False)
    path = f"companies/{k.company_id}/sites"
    for _ in range(20):  # warm connections
        k.transport.request("GET", path)

    def run() -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            k.transport.request("GET", path)
        return (time.perf_counter() - t0) / n

    main: list[float] = []
    worker: list[float] = []
    for _ in range(5):  # interleaved, so a busy spell of the machine hits both alike
        main.append(run())
        thread = threading.Thread(target=lambda: worker.append(run()))
        thread.start()
        thread.join()
    hand_over: list[float] = []
    for _ in range(5):  # the hand-over alone: an empty piece of work, n times
        t0 = time.perf_counter()
        for _ in range(n):
            k.transport._io(lambda: None)
        hand_over.append((time.perf_counter() - t0) / n)
    k.close()
    return statistics.median(main), statistics.median(worker), statistics.median(hand_over)


class _Forgetful:
    """The outage state of the transport before it remembered outages: never "active", so every
    failed request runs its whole retry ladder (and every stale answer warns, silenced here)."""

    active = False

    def begin(self) -> bool:
        return True

    def end(self) -> None:
        return None


def _offline_down(handle: Any, path: Path, pages: int = 11) -> dict[str, Any]:
    """11 list pages in offline mode with every connection dropped: before and now."""
    from kounta_nb import KountaWarning, settings

    clients = {name: _client(handle, path, offline=True) for name in ("before", "now")}
    site = int(clients["now"].sites()[0]["id"])
    fresh = clients["now"].orders(site=site, since=SINCE, max_pages=pages)
    for k in clients.values():
        assert k.company["id"] and k.sites()  # each client knows its company, time zone and sites
    clients["before"].transport._outage = _Forgetful()
    handle.set_options(fault_drop=1.0)
    out: dict[str, Any] = {"pages": pages}
    try:
        for name, k in clients.items():
            slept: list[float] = []
            k.transport._sleep = slept.append  # the back-off is counted, not slept
            before = k.stats.snapshot()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", KountaWarning)
                t0 = time.perf_counter()
                stale = k.orders(site=site, since=SINCE, max_pages=pages)
                wall = time.perf_counter() - t0
            done = k.stats.snapshot() - before
            k.close()
            connect = settings.TIMEOUT[0] if name == "before" else settings.OFFLINE_CONNECT_TIMEOUT_S
            out[name] = {"attempts": done.requests, "stale": done.stale, "backoff": sum(slept),
                         "seconds": wall + sum(slept), "same": list(stale) == list(fresh) and stale.meta["stale"],
                         "swallowed": done.requests * connect + sum(slept)}
    finally:
        handle.set_options(fault_drop=0.0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hop-requests", type=int, default=300, help="requests per Ctrl-C-safety round")
    args = parser.parse_args(argv)

    from kounta_nb.sandbox.server import start_sandbox

    with tempfile.TemporaryDirectory() as tmp, start_sandbox(seed=7, months=1, now=NOW) as handle:
        root = Path(tmp)
        both = _footprint(handle, root / "before.sqlite", details_cached=True)
        lists = _footprint(handle, root / "after.sqlite", details_cached=False)
        ours, bare = _open_times(root / "before.sqlite")
        cleared = _clear(handle, root / "before.sqlite")
        main_s, worker_s, hand_over = _hop(handle, args.hop_requests)
        down = _offline_down(handle, root / "offline.sqlite")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    mb = 1e6
    rows = [
        ("setting", f"sandbox in-process, no latency; one venue, {SINCE} → now: {both['orders']:,} orders; "
                    f"Python {sys.version.split()[0]}"),
        ("footprint: bodies cached too (before)",
         f"{both['entries']:,} entries, {both['bytes'] / mb:.1f} MB, {both['per_entry'] / 1e3:.1f} kB per entry"),
        ("footprint: details store=False (now)",
         f"{lists['entries']:,} entries, {lists['bytes'] / mb:.2f} MB, {lists['per_entry'] / 1e3:.1f} kB per entry "
         f"({both['bytes'] / max(lists['bytes'], 1):.0f}× smaller file)"),
        ("re-read of the list pages",
         f"{lists['reread'].requests} requests: {lists['reread'].revalidated} answered 304, "
         f"{lists['reread'].downloaded} downloaded, {lists['reread'].from_cache} served unasked; "
         f"same records: {lists['same'] and both['same']}"),
        ("open a cache file",
         f"{ours * 1e3:.1f} ms with damage checks vs {bare * 1e3:.1f} ms bare requests-cache "
         f"({both['bytes'] / mb:.1f} MB file)"),
        ("clear_cache()",
         f"{cleared['removed']:,} entries removed; {cleared['before'] / mb:.1f} MB → {cleared['after'] / mb:.2f} MB "
         f"on disk in {cleared['seconds']:.2f} s"),
        ("Ctrl-C safety (main-thread hand-over)",
         f"{hand_over * 1e6:.0f} µs per hand-over to the helper thread and back "
         f"({hand_over / 0.3:.3%} of a 300 ms API round trip); a whole request {main_s * 1e3:.2f} ms from the "
         f"main thread vs {worker_s * 1e3:.2f} ms direct (medians of 5 interleaved rounds; "
         f"load average {load:.1f} on {os.cpu_count()} CPUs)"),
    ]
    was, now = down["before"], down["now"]
    from kounta_nb import settings

    slow, quick = settings.TIMEOUT[0], settings.OFFLINE_CONNECT_TIMEOUT_S
    rows += [
        (f"offline, network down: {down['pages']} list pages",
         f"before {was['attempts']} attempts, {was['seconds']:.0f} s ({was['backoff']:.0f} s of it back-off); "
         f"now {now['attempts']} attempts, {now['seconds']:.0f} s ({was['seconds'] / max(now['seconds'], 1e-9):.0f}× "
         f"faster); all {now['stale']} pages served stale, same records: {was['same'] and now['same']}"),
        ("… at a network that swallows packets",
         f"before ≈ {was['swallowed']:,.0f} s ({was['attempts']} × {slow:g} s connect timeout + back-off); "
         f"now ≈ {now['swallowed']:.0f} s ({now['attempts']} × {quick:g} s + back-off; "
         f"{was['swallowed'] / max(now['swallowed'], 1e-9):.0f}× faster) — computed from the attempts, not run"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"kounta_nb transport benchmark (Python {sys.version.split()[0]})\n")
    print(f"| {'measure'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: what re-running a cell costs (issue 11 §2), against the URLs-to-the-second baseline.

Run ``python benchmarks/bench_rerun.py`` (or ``python -m benchmarks rerun``). A sandbox whose clock
is frozen at the real time the run starts (one month of history, 50 ms latency) answers a client
with an HTTP cache; the same cell is run twice, as a person re-running it within the hour would:

- ``orders --since 7d`` through ``tables.fetch`` and through the ``%kounta`` magic;
- the same after new orders arrived in between (POSTed by another client: trading goes on);
- ``lines --since 1d`` (one list walk plus a full order per listed order), and again after *k* of
  those orders changed (another client edits them: notes, a payment);
- the baseline: the same order list walked the way the client did before the windows — one walk
  whose first URL carries ``created_gte`` to the second, so every re-run has new cache keys.

Reported per row: requests, fresh downloads, 304s, copies proven current by the list (no
request), and the re-run's fresh downloads as a share of the first run's requests.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kounta_nb import Kounta, tables  # noqa: E402
from kounta_nb.sandbox.server import start_sandbox  # noqa: E402

FAST: dict[str, Any] = {"rate_limit": 60_000, "backoff_base": 0.001}
CHANGED = 10


def _stats(meta: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in meta["stats"].items() if k != "waited_s"}


def _row(label: str, stats: dict[str, int], first: int | None, seconds: float) -> str:
    share = f"{stats['downloaded'] / first:.1%}" if first else "—"
    return (f"| {label:<45} | {stats['requests']:>8,} | {stats['downloaded']:>10,} | {stats['revalidated']:>5,} "
            f"| {stats['from_cache']:>13,} | {share:>16} | {seconds:>6.1f} |")


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _baseline_walk(k: Kounta, since: datetime) -> dict[str, int]:
    """The order list walked as before the windows: one walk from ``created_gte`` to the second."""
    before = k.stats.snapshot()
    params = {"created_gte": since.isoformat(timespec="seconds")}
    for _ in k.iter_pages("orders/complete", params):
        pass
    return dict((k.stats.snapshot() - before).as_dict())


def _magic_runs(handle: Any, cache: Path) -> list[tuple[dict[str, int], float]]:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # "Connected to the sandbox …"
            ip.run_line_magic("load_ext", "kounta_nb")
            ip.magics_manager.registry["KountaMagics"].session.sandbox_handle = handle
            ip.run_line_magic("config", f"Kounta.cache = '{cache}'")
            ip.run_line_magic("kounta", "sandbox")
        runs = []
        for _ in range(2):
            frame, seconds = _timed(lambda: ip.run_line_magic("kounta", "orders --since 7d"))
            runs.append((_stats(frame.attrs["meta"]), seconds))
        return runs
    finally:
        magics = ip.magics_manager.registry.get("KountaMagics")
        if magics is not None:
            magics.session.sandbox_handle = None
        ip.run_line_magic("unload_ext", "kounta_nb")


def main(argv: list[str] | None = None) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    if now.minute == 59:  # the windows move on the hour: measure well inside one
        time.sleep(61 - now.second)
        now = datetime.now(UTC).replace(microsecond=0)
    folder = Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    rows: list[str] = []
    with start_sandbox(seed=7, months=1, now=now, latency_ms=50) as handle:
        k = Kounta.sandbox(handle=handle, auth="basic", cache=folder / "http.sqlite", **FAST)
        writer = Kounta.sandbox(handle=handle, auth="basic", cache=False, **FAST)
        k.company_id  # noqa: B018 - every row below counts only its own requests
        site = k.sites()[0]["id"]

        first, t1 = _timed(lambda: tables.fetch(k, "orders", since="7d"))
        one = _stats(first.attrs["meta"])
        rows.append(_row("orders --since 7d (tables.fetch), first run", one, None, t1))
        again, t2 = _timed(lambda: tables.fetch(k, "orders", since="7d"))
        rows.append(_row("  re-run, nothing changed", _stats(again.attrs["meta"]), one["requests"], t2))
        for i in range(3):
            writer.create_order({"site_id": site, "status": "COMPLETE", "notes": f"bench {i}"})
        third, t3 = _timed(lambda: tables.fetch(k, "orders", since="7d"))
        rows.append(_row("  re-run after 3 new orders", _stats(third.attrs["meta"]), one["requests"], t3))

        (m1, s1), (m2, s2) = _magic_runs(handle, folder / "magic.sqlite")
        rows.append(_row("%kounta orders --since 7d, first run", m1, None, s1))
        rows.append(_row("  re-run, nothing changed", m2, m1["requests"], s2))

        lines, t4 = _timed(lambda: tables.fetch(k, "lines", since="1d"))
        l1 = _stats(lines.attrs["meta"])
        rows.append(_row("lines --since 1d, first run", l1, None, t4))
        lines2, t5 = _timed(lambda: tables.fetch(k, "lines", since="1d"))
        rows.append(_row("  re-run, nothing changed", _stats(lines2.attrs["meta"]), l1["requests"], t5))
        listed = k.orders(since="1d", status="complete")
        method = writer.payment_methods()[0]["id"]
        for n, order in enumerate(listed[5:5 + CHANGED]):
            if n % 2:
                writer.update_order(order["id_str"], {"notes": "changed"})
            else:
                writer.add_payment(order["id_str"], {"method_id": method, "amount": 0.5})
        lines3, t6 = _timed(lambda: tables.fetch(k, "lines", since="1d"))
        l3 = _stats(lines3.attrs["meta"])
        rows.append(_row(f"  re-run after {CHANGED} orders changed", l3, l1["requests"], t6))
        pages = l1["requests"] - lines.attrs["meta"]["details"]

        exact = datetime.now(UTC) - timedelta(days=7)
        b1, t7 = _timed(lambda: _baseline_walk(k, exact))
        rows.append(_row("baseline: one walk, created_gte to the second", b1, None, t7))
        b2, t8 = _timed(lambda: _baseline_walk(k, datetime.now(UTC) - timedelta(days=7)))
        rows.append(_row("  re-run (new second, new URLs)", b2, b1["requests"], t8))
        k.close()
        writer.close()

    print("kounta_nb re-run benchmark (sandbox frozen at the run's start, 50 ms latency, HTTP cache on)\n")
    print("| cell                                          | requests | downloaded |   304 | proven copies | fresh vs 1st run | sec    |")
    print("|-----------------------------------------------|---------:|-----------:|------:|--------------:|-----------------:|-------:|")
    print("\n".join(rows))
    print(f"\nlines re-run after {CHANGED} changed orders: {l3['requests']} requests = {pages} list pages "
          f"+ {l3['requests'] - pages} details (expected list pages + {CHANGED}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

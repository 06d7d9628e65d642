"""Memory and disk of a six-month, three-venue pull (~80k orders) — to frames and to a dataset.

Run ``python benchmarks/bench_memory.py`` (several minutes). The sandbox runs in its own process
with its rate limit off; the pull runs in a fresh subprocess (so its peak RSS is its own) with
``export=`` a Parquet dataset, then builds ``job.frames()``; peak RSS (``ru_maxrss``) is read after
each step. The baseline, in another fresh subprocess, is what ``job.frames()`` did before chunking:
every full order as a dict in memory, then ``frames.order_tables`` over the list.

Targets (issue 12): peak RSS ≤ 400 MB from start to frames and to the dataset; disk ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-05-29T04:00:00Z"

_PULL = r"""
import json, resource, sys, time
from types import SimpleNamespace
from kounta_nb import Kounta
from kounta_nb.pull import pull_orders
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
handle = SimpleNamespace(**json.loads(sys.argv[1]))
client = Kounta.sandbox(handle=handle, rate_limit=600_000, cache=sys.argv[2], company=51642)
out = {"start_mb": peak()}
t0 = time.perf_counter()
job = pull_orders(client, sys.argv[3], store=sys.argv[4], export=sys.argv[5], progress=False)
job.wait()
out.update(pull_s=time.perf_counter() - t0, orders=len(job.orders), requests=job.progress.requests_done,
           after_pull_and_dataset_mb=peak(), exports=job._exporter.exports)
t0 = time.perf_counter()
tables = job.frames()
out.update(frames_s=time.perf_counter() - t0, after_frames_mb=peak(),
           rows={name: len(df) for name, df in tables.items()},
           frames_mb=sum(df.memory_usage(deep=True).sum() for df in tables.values()) / 2**20)
print(json.dumps(out))
"""

_BASELINE = r"""
import json, resource, sys, time
from kounta_nb import frames
from kounta_nb.pull import PullStore
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
store = PullStore(sys.argv[1])
t0 = time.perf_counter()
bodies = [o for chunk in store.iter_bodies() for o in chunk]   # every order as a dict, as before
after_dicts = peak()
tables = frames.order_tables(bodies, "Australia/Sydney")
print(json.dumps({"orders": len(bodies), "after_dicts_mb": after_dicts, "after_frames_mb": peak(),
                  "seconds": time.perf_counter() - t0}))
"""


def _spawn_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kounta_nb.sandbox", "--now", NOW, "--months", "6"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if "running at" not in first:
        proc.kill()
        raise RuntimeError(f"the sandbox did not start: {first!r}")
    return proc, first.rsplit(" ", 1)[1].strip()


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _run(code: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--since", default="2025-11-29", help="start of the pull (default: six months)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_memory_"))
    env = {**os.environ, "KOUNTA_CACHE_DIR": str(work / "cache"), "KOUNTA_CONFIG_DIR": str(work / "config")}
    http, store, data = work / "http.sqlite", work / "pull.sqlite", work / "dataset"
    proc, url = _spawn_sandbox()
    try:
        handle = json.dumps({
            "url": url, "api_base": url + "/v1/", "authorize_url": url + "/authorize",
            "token_url": url + "/v1/token", "redirect_uri": url + "/oauth/done",
            "client_id": "kounta-nb-sandbox", "client_secret": "sandbox-secret",
            "username": "demo@kounta.test", "password": "kounta",
        })
        pulled = _run(_PULL, handle, str(http), args.since, str(store), str(data), env=env)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    baseline = _run(_BASELINE, str(store), env=env)
    disk = {"pull store": _size(store) + _size(Path(f"{store}-wal")),
            "HTTP cache (list pages)": _size(http) + _size(Path(f"{http}-wal")),
            "Parquet dataset": _size(data)}
    total = sum(disk.values())
    peak = max(pulled["after_pull_and_dataset_mb"], pulled["after_frames_mb"])
    rows = [
        ("setting", f"sandbox in its own process, no rate limit; developer company, 3 venues, "
                    f"{args.since} → now; pull with export= a dataset, then job.frames(), in a fresh process"),
        ("pull", f"{pulled['orders']:,} orders, {pulled['requests']:,} requests in {pulled['pull_s']:.0f} s; "
                 f"{pulled['exports']} dataset exports while it ran (the last: the whole pull)"),
        ("peak RSS: start → pull + dataset", f"{pulled['after_pull_and_dataset_mb']:.0f} MB (interpreter + imports at "
                                             f"start: {pulled['start_mb']:.0f} MB)"),
        ("peak RSS: → job.frames()", f"{pulled['after_frames_mb']:.0f} MB ({pulled['frames_s']:.0f} s; the frames "
                                     f"themselves {pulled['frames_mb']:.0f} MB: "
                                     + ", ".join(f"{k} {v:,}" for k, v in pulled['rows'].items()) + " rows)"),
        ("baseline: all orders as dicts → order_tables", f"{baseline['after_frames_mb']:.0f} MB peak "
                                                          f"({baseline['after_dicts_mb']:.0f} MB with the dicts alone)"),
        ("ratio", f"peak {peak:.0f} MB = {peak / baseline['after_frames_mb']:.2f}× the baseline; "
                  f"target ≤ 400 MB: {'met' if peak <= 400 else 'NOT met'}"),
        ("disk", ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in disk.items())
                 + f"; total {total / 1e6:.0f} MB (target ≤ 150 MB: {'met' if total <= 150e6 else 'NOT met'})"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\nkounta_nb memory benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})\n")
    print(f"| {'measure':<{width}} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

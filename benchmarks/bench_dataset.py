"""Benchmark: a 1,000,000-order Parquet dataset — export rate and memory, then queries.

Orders are generated in-process from the sandbox's business model
(``kounta_nb.sandbox.business.Business`` with more months and extra venues), both companies,
streamed site by site and day by day in chunks of 2,000 (the order ``PullStore.iter_bodies``
gives), into :func:`kounta_nb.dataset.export_orders`. Each phase runs in a subprocess of its own so
its peak RSS (``resource.getrusage`` / ``VmHWM``) is its own:

- ``export``: wall and CPU time of the export, *minus* the CPU the generator spent making the
  orders (measured inside the generator); peak RSS of the whole process (generator included);
- ``duckdb``: revenue by site × day and the top-20 products by revenue, through
  :func:`kounta_nb.dataset.connect` (cold first run, then best of three);
- ``pandas``: the same two results from ``pd.read_parquet`` of the needed columns + ``groupby``
  (the baseline: what a pandas user does with the same files);
- ``dask``: the same totals from ``dask.dataframe.read_parquet``.

The machine is shared: CPU time (``process_time``) is reported beside wall time, and the
comparisons are ratios measured in the same run.

    python benchmarks/bench_dataset.py                      # 1,000,000 orders
    python benchmarks/bench_dataset.py --orders 100000      # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REVENUE_SQL = (
    "SELECT company_id, site_id, date, sum(total) AS revenue FROM orders "
    "GROUP BY ALL ORDER BY company_id, site_id, date"
)
TOP_SQL = (
    "SELECT company_id, product_id, any_value(product_name) AS product, sum(line_total) AS revenue "
    "FROM lines GROUP BY company_id, product_id ORDER BY revenue DESC, product_id LIMIT 20"
)


def peak_rss_mb() -> float:
    """The process's peak resident set (VmHWM from /proc, else getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ phase: export


class Orders:
    """Full orders of one company, by site then day, in chunks; counts the CPU it spends."""

    def __init__(self, company: Any, limit: int, chunk: int) -> None:
        self.company, self.limit, self.chunk = company, limit, chunk
        self.cpu = 0.0
        self.count = 0

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        buf: list[dict[str, Any]] = []
        for site in self.company.sites:
            day = self.company.first_day
            while day <= self.company.last_day():
                t0 = time.process_time()
                buf.extend(self.company.orders_on(site, day))
                self.cpu += time.process_time() - t0
                day += timedelta(days=1)
                while len(buf) >= self.chunk or (buf and self.count + len(buf) >= self.limit):
                    take = min(self.chunk, self.limit - self.count)
                    part, buf = buf[:take], buf[take:]
                    self.count += len(part)
                    yield part
                    if self.count >= self.limit:
                        return
        if buf:
            self.count += len(buf)
            yield buf


def phase_export(args: argparse.Namespace) -> dict[str, Any]:
    from kounta_nb import dataset
    from kounta_nb.sandbox.business import Business

    biz = Business(seed=7, months=args.months, extra_sites=args.extra_sites)
    bakery, harbour = biz.companies[61873], biz.companies[51642]
    out: dict[str, Any] = {"companies": {}}
    wall = cpu = gen = 0.0
    left = args.orders
    for company in (bakery, harbour):  # the bakery whole, the group up to the total
        source = Orders(company, left, args.chunk)
        w0, c0 = time.perf_counter(), time.process_time()
        manifest = dataset.export_orders(args.root, source, company_id=company.id, tz=company.tz)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        wall, cpu, gen = wall + w, cpu + c, gen + source.cpu
        left -= source.count
        out["companies"][company.id] = {"orders": source.count,
                                        "sites": len(manifest.companies[company.id].sites)}  # fmt: skip
    m = dataset.manifest(args.root)
    # a re-export of the group's newest month, unchanged: nothing may be rewritten
    month = max(m.companies[51642].months)
    present = set(dataset.query(args.root, f"SELECT id FROM orders WHERE company_id = 51642 AND month = '{month}'")["id"])
    again = [o for site in harbour.sites for o in _month_orders(harbour, site, month) if o["id_str"] in present]
    w0, c0 = time.perf_counter(), time.process_time()
    re = dataset.export_orders(args.root, [again[i:i + args.chunk] for i in range(0, len(again), args.chunk)],
                               company_id=harbour.id, tz=harbour.tz)  # fmt: skip
    out["reexport"] = {"orders": len(again), "wall_s": time.perf_counter() - w0,
                       "cpu_s": time.process_time() - c0, "written": len(re.written),
                       "unchanged": len(re.unchanged)}  # fmt: skip
    out.update(orders=m.rows("orders"), lines=m.rows("lines"), payments=m.rows("payments"),
               options=m.rows("options"), partitions=sum(len(e.partitions) for e in m.companies.values()),
               wall_s=wall, cpu_s=cpu, generator_cpu_s=gen, peak_rss_mb=peak_rss_mb(),
               disk_mb=sum(p.stat().st_size for p in Path(args.root).rglob("*.parquet")) / 2**20,
               period=m.period)  # fmt: skip
    return out


def _month_orders(company: Any, site: int, month: str) -> list[dict[str, Any]]:
    day = company.first_day
    out: list[dict[str, Any]] = []
    while day <= company.last_day():
        if day.strftime("%Y-%m") == month:
            out.extend(company.orders_on(site, day))
        day += timedelta(days=1)
    return out


# ------------------------------------------------------------------ phases: queries


def _timed(func: Any, repeat: int = 3) -> tuple[float, float, Any]:
    """(first run, best of ``repeat`` more, result) in wall seconds."""
    t0 = time.perf_counter()
    result = func()
    first = time.perf_counter() - t0
    best = first
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return first, best, result


def _summary(revenue: Any, top: Any) -> dict[str, Any]:
    """What every engine must agree on: revenue total and rows, and the top-20 list."""
    return {"revenue_rows": int(len(revenue)), "revenue_total": round(float(revenue["revenue"].sum()), 2),
            "top": [[int(c), int(p), round(float(r), 2)] for c, p, r in
                    zip(top["company_id"], top["product_id"], top["revenue"], strict=True)]}  # fmt: skip


def phase_duckdb(args: argparse.Namespace) -> dict[str, Any]:
    from kounta_nb import dataset

    con = dataset.connect(args.root)
    r_first, r_best, revenue = _timed(lambda: dataset.query(con, REVENUE_SQL))
    t_first, t_best, top = _timed(lambda: dataset.query(con, TOP_SQL))
    return {"revenue_first_s": r_first, "revenue_s": r_best, "top_first_s": t_first,
            "top_s": t_best, "peak_rss_mb": peak_rss_mb(), **_summary(revenue, top)}  # fmt: skip


def phase_pandas(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd
    import pyarrow.dataset as pads

    from kounta_nb import dataset

    hive = pads.partitioning(dataset.PARTITION_SCHEMA, flavor="hive")
    root = Path(args.root)

    def revenue() -> Any:
        df = pd.read_parquet(root / "orders", columns=["company_id", "site_id", "date", "total"],
                             partitioning=hive)  # fmt: skip
        out = df.groupby(["company_id", "site_id", "date"], observed=True)["total"].sum()
        return out.rename("revenue").reset_index()

    def top() -> Any:
        df = pd.read_parquet(root / "lines", columns=["company_id", "product_id", "line_total"],
                             partitioning=hive)  # fmt: skip
        out = df.groupby(["company_id", "product_id"])["line_total"].sum().rename("revenue")
        return out.reset_index().sort_values(["revenue", "product_id"], ascending=[False, True]).head(20)

    r_first, r_best, rev = _timed(revenue)
    t_first, t_best, tp = _timed(top)
    return {"revenue_first_s": r_first, "revenue_s": r_best, "top_first_s": t_first,
            "top_s": t_best, "peak_rss_mb": peak_rss_mb(), **_summary(rev, tp)}  # fmt: skip


def phase_dask(args: argparse.Namespace) -> dict[str, Any]:
    import warnings

    import dask.dataframe as dd

    from kounta_nb import dataset

    warnings.filterwarnings("ignore")  # dask's own deprecation noise under pandas 3
    part = {"partitioning": {"flavor": "hive", "schema": dataset.PARTITION_SCHEMA}}
    root = Path(args.root)

    def revenue() -> Any:
        df = dd.read_parquet(str(root / "orders"), columns=["company_id", "site_id", "date", "total"],
                             dataset=part)  # fmt: skip
        out = df.groupby(["company_id", "site_id", "date"])["total"].sum().compute()
        return out.rename("revenue").reset_index()

    def top() -> Any:
        df = dd.read_parquet(str(root / "lines"), columns=["company_id", "product_id", "line_total"],
                             dataset=part)  # fmt: skip
        out = df.groupby(["company_id", "product_id"])["line_total"].sum().compute().rename("revenue")
        return out.reset_index().sort_values(["revenue", "product_id"], ascending=[False, True]).head(20)

    r_first, r_best, rev = _timed(revenue, repeat=1)
    t_first, t_best, tp = _timed(top, repeat=1)
    return {"revenue_first_s": r_first, "revenue_s": r_best, "top_first_s": t_first,
            "top_s": t_best, "peak_rss_mb": peak_rss_mb(), **_summary(rev, tp)}  # fmt: skip


PHASES = {"export": phase_export, "duckdb": phase_duckdb, "pandas": phase_pandas, "dask": phase_dask}


def run_phase(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; its last stdout line is the JSON result."""
    cmd = [sys.executable, str(HERE), "--phase", name, "--root", args.root, "--orders", str(args.orders),
           "--months", str(args.months), "--extra-sites", str(args.extra_sites), "--chunk", str(args.chunk)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=12, help="months of history the business holds")
    ap.add_argument("--extra-sites", type=int, default=17, help="extra venues of the group")
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--root", default=None, help="dataset directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the dataset afterwards")
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = ap.parse_args(argv)
    if args.phase:
        print(json.dumps(PHASES[args.phase](args), default=str))
        return 0
    made = args.root is None
    args.root = args.root or tempfile.mkdtemp(prefix="kounta-bench-dataset-")
    try:
        results = {name: run_phase(name, args) for name in ("export", "duckdb", "pandas", "dask")}
    finally:
        if made and not args.keep:
            shutil.rmtree(args.root, ignore_errors=True)
    report(results, args)
    if args.json:
        print(json.dumps(results, default=str))
    return 0


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    e, duck, pdas, dask = r["export"], r["duckdb"], r["pandas"], r["dask"]
    export_cpu = e["cpu_s"] - e["generator_cpu_s"]
    same = duck["revenue_rows"] == pdas["revenue_rows"] == dask["revenue_rows"] and \
        abs(duck["revenue_total"] - pdas["revenue_total"]) < 0.5 and \
        abs(duck["revenue_total"] - dask["revenue_total"]) < 0.5 and \
        duck["top"] == pdas["top"] == dask["top"]  # fmt: skip
    rows = [
        ("dataset", f"{e['orders']:,} orders ({e['lines']:,} lines, {e['payments']:,} payments, "
                    f"{e['options']:,} options), 2 companies, {sum(c['sites'] for c in e['companies'].values())} "
                    f"sites, {e['partitions']} partitions, {e['period']['first'][:10]} → "
                    f"{e['period']['last'][:10]}; {e['disk_mb']:.0f} MB on disk"),
        ("export (generator excluded)", f"{e['orders'] / export_cpu:,.0f} orders/s of CPU "
                                        f"({export_cpu:.0f} s CPU); wall {e['wall_s']:.0f} s incl. generating "
                                        f"= {e['orders'] / e['wall_s']:,.0f} orders/s on this shared machine"),
        ("baseline: generating the orders", f"{e['orders'] / e['generator_cpu_s']:,.0f} orders/s of CPU "
                                            f"({e['generator_cpu_s']:.0f} s)"),
        ("export peak RSS", f"{e['peak_rss_mb']:.0f} MB (generator and its caches included)"),
        ("re-export of the newest month, unchanged", f"{e['reexport']['orders']:,} orders, "
                                                     f"{e['reexport']['written']} partitions rewritten, "
                                                     f"{e['reexport']['unchanged']} left alone, "
                                                     f"{e['reexport']['cpu_s']:.1f} s CPU"),
        ("revenue by site × day: DuckDB", f"{duck['revenue_s']:.2f} s (first run {duck['revenue_first_s']:.2f} s), "
                                          f"{duck['revenue_rows']:,} rows"),
        ("revenue by site × day: pandas", f"{pdas['revenue_s']:.2f} s (first {pdas['revenue_first_s']:.2f} s) "
                                          f"= {pdas['revenue_s'] / duck['revenue_s']:.1f}× DuckDB"),
        ("top-20 products by revenue: DuckDB", f"{duck['top_s']:.2f} s (first run {duck['top_first_s']:.2f} s)"),
        ("top-20 products by revenue: pandas", f"{pdas['top_s']:.2f} s (first {pdas['top_first_s']:.2f} s) "
                                               f"= {pdas['top_s'] / duck['top_s']:.1f}× DuckDB"),
        ("peak RSS: DuckDB / pandas", f"{duck['peak_rss_mb']:.0f} MB / {pdas['peak_rss_mb']:.0f} MB"),
        ("Dask (one run each)", f"revenue {dask['revenue_s']:.2f} s, top-20 {dask['top_s']:.2f} s, "
                                f"peak RSS {dask['peak_rss_mb']:.0f} MB"),
        ("same totals", "yes: DuckDB, pandas and Dask give the same revenue rows, total "
                        f"({duck['revenue_total']:,.2f}) and top-20" if same else
                        f"NO: duckdb {duck['revenue_total']} pandas {pdas['revenue_total']} dask {dask['revenue_total']}"),
    ]  # fmt: skip
    print(f"kounta_nb dataset benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
          f"load average {os.getloadavg()[0]:.1f} at the end)\n")  # fmt: skip
    width = max(len(k) for k, _ in rows)
    print(f"| {'measure':{width}} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for k, v in rows:
        print(f"| {k:{width}} | {v} |")


if __name__ == "__main__":
    sys.exit(main())

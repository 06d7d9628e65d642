"""Peak memory of the Binder demo: notebook 02 (six months, every venue) in one kernel.

Binder gives a session 1–2 GB of RAM; the demo must fit in 2 GB. This benchmark executes
``notebooks/02-six-months-of-sales.ipynb`` top to bottom with nbclient, exactly as the headless
demo does (a kernel of this interpreter, private config and cache directories), and after every
code cell reads the kernel process's ``VmRSS`` and ``VmHWM`` (its peak resident set so far) from
``/proc/<pid>/status``. The embedded sandbox the notebook starts runs inside that kernel, as on
Binder, so its memory is part of the figure.

Baseline in the same run: the same notebook in its fast mode (``KOUNTA_NB_FAST=1``, one week),
and the kernel after the notebook's imports (the fixed cost of pandas, matplotlib and kounta_nb).

``python -m benchmarks.bench_notebook_memory`` (``--fast`` runs only the one-week baseline;
``--json`` also prints the figures as JSON; ``--save DIR`` keeps the executed notebooks, figures
included, to look at). Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02-six-months-of-sales.ipynb"
#: What Binder gives a session at most (mybinder.org: 1–2 GB), in MiB.
BUDGET_MB = 2048.0


def proc_status(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` of a process in MiB (Linux ``/proc``)."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def folder_mb(path: Path) -> float:
    """Bytes of every file below ``path``, in MiB."""
    if not path.exists():
        return 0.0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


@dataclass
class CellMemory:
    index: int
    first_line: str
    seconds: float
    rss_mb: float
    peak_mb: float


@dataclass
class Run:
    mode: str
    seconds: float = 0.0
    cells: list[CellMemory] = field(default_factory=list)
    cache_mb: float = 0.0
    headline: str = ""

    @property
    def peak_mb(self) -> float:
        return max((c.peak_mb for c in self.cells), default=float("nan"))

    @property
    def after_imports_mb(self) -> float:
        """RSS after the cell that imports pandas, matplotlib and kounta_nb (the fixed cost)."""
        for cell in self.cells:
            if cell.first_line.startswith("import time"):
                return cell.rss_mb
        return float("nan")

    def peak_cell(self) -> CellMemory:
        """The cell during which the peak was reached (the first whose high-water mark is it)."""
        return next(c for c in self.cells if c.peak_mb == self.peak_mb)


def run_notebook(fast: bool, save: Path | None = None) -> Run:
    """Execute notebook 02 once; memory after each code cell (the executed copy into ``save``)."""
    from kounta_nb.demo import execute_notebook, headlines, kernel_env

    run = Run("fast (7 days)" if fast else "full (six months)")
    last = [time.perf_counter()]

    def after_cell(index: int, cell: Any, pid: int | None) -> None:
        now = time.perf_counter()
        if pid is None:
            raise RuntimeError("the kernel's process id is unknown: cannot read its memory")
        status = proc_status(pid)
        lines = [line for line in cell.source.splitlines() if line.strip()]
        run.cells.append(CellMemory(index, (lines[0] if lines else "")[:60], now - last[0],
                                    status["VmRSS"], status["VmHWM"]))
        last[0] = now

    with tempfile.TemporaryDirectory(prefix="kounta-nb-bench-memory-") as home:
        env = kernel_env(os.environ, Path(home), fast=fast)
        started = time.perf_counter()
        nb = execute_notebook(NOTEBOOK, env=env, timeout=3600, after_cell=after_cell)
        run.seconds = time.perf_counter() - started
        run.cache_mb = folder_mb(Path(home) / "cache")
    run.headline = " / ".join(headlines(nb))
    if save is not None:
        import nbformat

        save.mkdir(parents=True, exist_ok=True)
        # nbformat.write has no annotations
        nbformat.write(nb, save / f"{NOTEBOOK.stem}-{'fast' if fast else 'full'}.ipynb")  # type: ignore[no-untyped-call]
    return run


def report(runs: list[Run]) -> str:
    """Markdown: a summary table against the budget and the baseline, then the full run's cells."""
    base = runs[0]
    out = [
        f"kounta_nb notebook memory benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]}): "
        f"`{NOTEBOOK.relative_to(ROOT)}` executed with nbclient; kernel VmHWM from /proc "
        "(the embedded sandbox runs inside the kernel, as on Binder).",
        "",
        "| run | wall time | kernel peak RSS | × fast run | × after imports | share of 2 GiB | cache on disk |",
        "|-----|-----------|-----------------|------------|-----------------|---------------|---------------|",
    ]
    for run in runs:
        out.append(
            f"| {run.mode} | {run.seconds:.0f} s | {run.peak_mb:,.0f} MiB | {run.peak_mb / base.peak_mb:.1f} | "
            f"{run.peak_mb / run.after_imports_mb:.1f} | {run.peak_mb / BUDGET_MB:.0%} | {run.cache_mb:,.0f} MiB |"
        )
    out.append("")
    out.append(f"after imports (fixed cost): {base.after_imports_mb:,.0f} MiB.")
    out.append("")
    for run in runs:
        peak = run.peak_cell()
        out.append(f"{run.mode}: peak reached in cell {peak.index} (`{peak.first_line}`); {run.headline}")
        out.append("")
    full = runs[-1]
    out += [
        f"Cells of the {full.mode} run:",
        "",
        "| cell | first line | seconds | RSS after | peak so far |",
        "|------|------------|---------|-----------|-------------|",
    ]
    for cell in full.cells:
        out.append(f"| {cell.index} | `{cell.first_line.replace('|', '/')}` | {cell.seconds:.1f} | "
                   f"{cell.rss_mb:,.0f} MiB | {cell.peak_mb:,.0f} MiB |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fast", action="store_true", help="only the one-week run (a quick check)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--save", type=Path, help="write the executed notebooks into this folder")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("bench_notebook_memory needs Linux (/proc) to read the kernel's memory.")
        return 2
    runs = [run_notebook(fast=True, save=args.save)]
    if not args.fast:
        runs.append(run_notebook(fast=False, save=args.save))
    print(report(runs))
    if args.json:
        print(json.dumps({run.mode: {"seconds": round(run.seconds, 1), "peak_mb": round(run.peak_mb, 1),
                                     "after_imports_mb": round(run.after_imports_mb, 1),
                                     "cache_mb": round(run.cache_mb, 1)} for run in runs}))
    return 1 if runs[-1].peak_mb > BUDGET_MB else 0


if __name__ == "__main__":
    raise SystemExit(main())

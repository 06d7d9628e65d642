"""Run every benchmark (``benchmarks/bench_*.py``) and write the combined tables to RESULTS.md.

``python -m benchmarks`` (or ``make bench``) runs them all; ``python -m benchmarks pull frames``
runs only those. Each module's ``main(argv)`` prints its own markdown table; the output is shown
as it comes and collected, with the machine and the date, into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TextIO

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


class _Tee(io.TextIOBase):
    """Writes to the console and keeps a copy."""

    def __init__(self, console: TextIO) -> None:
        self.console = console
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.console.write(text)
        self.console.flush()
        return self.copy.write(text)


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmarks.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    paths = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem.removeprefix("bench_") in wanted)
    if not paths:
        print(f"No benchmark matches {', '.join(sorted(wanted))}; available: "
              f"{', '.join(p.stem.removeprefix('bench_') for p in sorted(HERE.glob('bench_*.py')))}.")
        return 2
    sections: list[str] = []
    failed = 0
    for path in paths:
        print(f"\n=== {path.name} ===", flush=True)
        tee = _Tee(sys.stdout)
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(tee):
                code = _load(path).main([])
            status = "" if not code else f" (exit code {code})"
            failed += bool(code)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            status = " (failed)"
            failed += 1
            tee.write(traceback.format_exc())
        took = time.perf_counter() - started
        sections.append(f"## {path.stem}{status}\n\n_{took:.0f} s_\n\n{tee.copy.getvalue().strip()}\n")
    header = (
        "# Benchmark results\n\n"
        f"`python -m benchmarks` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}.\n"
        "Each benchmark compares against a baseline measured in the same run.\n"
    )
    RESULTS.write_text(header + "\n" + "\n".join(sections), encoding="utf-8")
    print(f"\nWrote {RESULTS.relative_to(HERE.parent)}.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

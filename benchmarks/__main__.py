"""Run the benchmarks (``benchmarks/bench_*.py``) and write each one's table into RESULTS.md.

``python -m benchmarks`` (or ``make bench``) runs them all; ``python -m benchmarks pull frames``
runs only those. Each module's ``main(argv)`` prints its own markdown table; the output is shown
as it comes and becomes that benchmark's section of ``benchmarks/RESULTS.md`` (``## bench_pull``),
stamped with the date and the machine. Only the sections of the benchmarks that ran are replaced:
every other section (a run from another day, notes written by hand) stays as it is.
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

#: The top of a RESULTS.md that does not exist yet.
HEADER = (
    "# Benchmark results\n\n"
    "One section per benchmark, written by `python -m benchmarks <name>` (the first line says when\n"
    "and on what machine); running one benchmark replaces its own section only.\n"
    "Each benchmark compares against a baseline measured in the same run.\n"
)


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


def _is_heading(line: str) -> bool:
    return line.startswith("## ")


def _section_name(heading: str) -> str:
    """``bench_pull`` for ``## bench_pull`` or ``## bench_pull (failed)``."""
    return heading[3:].split()[0] if heading[3:].split() else ""


def merge_section(text: str, name: str, section: str) -> str:
    """``text`` (a RESULTS.md) with the section headed ``## <name>`` replaced by ``section`` (which
    starts with its own heading), or ``section`` added at the end; every other byte kept.

    A section runs from its ``## `` heading to the next one (``###`` headings and fenced code
    inside it belong to it)."""
    lines = text.splitlines(keepends=True)
    start = end = None
    fenced = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        if fenced or not _is_heading(line):
            continue
        if start is not None:
            end = i
            break
        if _section_name(line) == name:
            start = i
    new = section.rstrip("\n") + "\n"
    if start is None:
        body = text.rstrip("\n")
        return (body + "\n\n" if body else HEADER + "\n") + new
    tail = lines[end:] if end is not None else []
    return "".join(lines[:start]) + new + ("\n" + "".join(tail) if tail else "")


def main(argv: list[str] | None = None, *, folder: Path = HERE, results: Path = RESULTS) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    found = sorted(folder.glob("bench_*.py"))
    paths = [p for p in found if not wanted or p.stem.removeprefix("bench_") in wanted]
    if not paths:
        print(f"No benchmark matches {', '.join(sorted(wanted))}; available: "
              f"{', '.join(p.stem.removeprefix('bench_') for p in found)}.")
        return 2
    machine = f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
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
        name = path.stem.removeprefix("bench_")
        section = (f"## {path.stem}{status}\n\n_`python -m benchmarks {name}` on {datetime.now(UTC):%Y-%m-%d %H:%M} "
                   f"UTC, {took:.0f} s — {machine}_\n\n{tee.copy.getvalue().strip()}\n")
        # written after each benchmark, so a later one that crashes the process loses nothing
        text = results.read_text(encoding="utf-8") if results.exists() else ""
        results.write_text(merge_section(text, path.stem, section), encoding="utf-8")
        print(f"\nUpdated the {path.stem} section of {results}.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

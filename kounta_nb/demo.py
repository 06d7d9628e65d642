"""``python -m kounta_nb.demo`` — the ``make demo`` entry point, on the embedded sandbox.

With a display it starts JupyterLab on the quick start notebook. On a headless machine (no
``DISPLAY`` on Linux, a ``CI`` or ``HEADLESS`` variable set, or ``--headless``) it executes the
quick start and the six-months-of-sales notebook (in its fast mode) with nbclient, writes HTML
reports next to each other and prints where they are with a few headline figures::

    python -m kounta_nb.demo --headless --out artifacts/demo

The notebooks run in a kernel of the current interpreter, with a private config and cache
directory, so a demo never touches the user's own tokens. It exits non-zero with a one-line
reason when anything fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEMO_NOTEBOOKS",
    "HEADLINE_TAG",
    "DemoError",
    "NotebookRun",
    "execute_notebook",
    "export_html",
    "find_notebooks_dir",
    "headlines",
    "is_headless",
    "kernel_env",
    "main",
    "run_headless",
    "CELL_TIMEOUT_S",
    "DEMO_SITE",
    "FAST_ENV",
    "open_lab",
]

#: The notebooks the headless demo executes, in order.
DEMO_NOTEBOOKS = ("01-quickstart.ipynb", "02-six-months-of-sales.ipynb")
#: Cells tagged with this print the figures the demo repeats on the terminal.
HEADLINE_TAG = "headline"
#: Environment variable that switches the long notebooks to a short period (used by CI and tests).
FAST_ENV = "KOUNTA_NB_FAST"
#: The sandbox venue the headless demo picks (a display shows the venue picker instead).
DEMO_SITE = "Harbour Lane Café"
#: Seconds one cell may take before the run is declared stuck.
CELL_TIMEOUT_S = 300
_KERNEL_NAME = "kounta-nb-demo"


class DemoError(RuntimeError):
    """The demo could not run; the message is the one line shown to the user."""


@dataclass
class NotebookRun:
    """One executed notebook: where its HTML report went and what its headline cells printed."""

    name: str
    html: Path
    seconds: float
    headlines: list[str] = field(default_factory=list)


def find_notebooks_dir(start: Path | None = None) -> Path:
    """The repository's ``notebooks/`` folder (beside the package, or under the working directory)."""
    candidates = [Path(__file__).resolve().parents[1] / "notebooks"]
    candidates.append((start or Path.cwd()) / "notebooks")
    for candidate in candidates:
        if (candidate / DEMO_NOTEBOOKS[0]).is_file():
            return candidate
    raise DemoError(
        "the demo notebooks were not found: run the demo from a checkout of kounta_nb "
        "(they live in its notebooks/ folder)."
    )


def is_headless(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True when there is no display to open JupyterLab on (or CI/HEADLESS asks for headless)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    for flag in ("CI", "HEADLESS"):
        if env.get(flag, "").strip().lower() not in ("", "0", "false", "no"):
            return True
    if platform.startswith(("darwin", "win")):
        return False
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def kernel_env(
    base: Mapping[str, str], home: Path, *, fast: bool, site: str = DEMO_SITE
) -> dict[str, str]:
    """The environment of a demo kernel: private token/cache dirs, no real credentials.

    Every ``KOUNTA_*`` variable of ``base`` is dropped (the notebooks only talk to the embedded
    sandbox, whose venues are not the user's); ``site`` becomes ``KOUNTA_SITE``.
    """
    env = {k: v for k, v in base.items() if not k.startswith("KOUNTA_")}
    if site:
        env["KOUNTA_SITE"] = site
    env["KOUNTA_CONFIG_DIR"] = str(home / "config")
    env["KOUNTA_CACHE_DIR"] = str(home / "cache")
    if fast:
        env[FAST_ENV] = "1"
    # Let ipykernel pick its inline backend so that figures end up in the report.
    env.pop("MPLBACKEND", None)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _kernel_spec_manager(spec_root: Path, python: str) -> Any:
    """A kernel-spec manager whose only kernel runs ``python -m ipykernel_launcher``."""
    from jupyter_client.kernelspec import KernelSpecManager

    kernel_dir = spec_root / "kernels" / _KERNEL_NAME
    kernel_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "kounta_nb demo",
        "language": "python",
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(spec_root / "kernels")], ensure_native_kernel=False)


def execute_notebook(
    path: Path,
    *,
    env: Mapping[str, str],
    python: str | None = None,
    timeout: int = CELL_TIMEOUT_S,
    after_cell: Callable[[int, Any, int | None], None] | None = None,
) -> Any:
    """Execute the notebook at ``path`` top to bottom in a fresh kernel; return the executed node.

    The kernel runs ``python`` (default: this interpreter) with ``env``, in the notebook's folder.
    ``after_cell(index, cell, kernel_pid)`` is called after each code cell (the benchmarks read
    the kernel's memory there). Raises ``DemoError`` with the failing cell's error in one line.
    """
    try:
        import nbformat
        from jupyter_client.manager import KernelManager
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as exc:
        raise DemoError(
            f"running notebooks needs nbclient and ipykernel ({exc.name} is missing): "
            "pip install 'kounta_nb[test]'."
        ) from exc

    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]  # nbformat: no annotations
    with tempfile.TemporaryDirectory(prefix="kounta-nb-kernel-") as spec_root:
        ksm = _kernel_spec_manager(Path(spec_root), python or sys.executable)
        # IPC sockets on POSIX: nothing listens on TCP, and ipykernel has nothing to warn about.
        transport = "tcp" if os.name == "nt" else "ipc"
        km = KernelManager(kernel_name=_KERNEL_NAME, kernel_spec_manager=ksm, transport=transport)
        if transport == "ipc":
            km.ip = str(Path(spec_root) / "kernel")
        hooks: dict[str, Any] = {}
        if after_cell is not None:

            def on_cell_executed(cell: Any, cell_index: int, **_: Any) -> None:
                provisioner = getattr(km, "provisioner", None)
                after_cell(cell_index, cell, getattr(provisioner, "pid", None))

            hooks["on_cell_executed"] = on_cell_executed
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=_KERNEL_NAME,
            resources={"metadata": {"path": str(path.parent)}},
            **hooks,
        )
        log_path = Path(spec_root) / "kernel.log"
        try:
            # The kernel's own stdout/stderr (not the cells') go to a log, not the user's terminal.
            with log_path.open("wb") as log:
                client.execute(env=dict(env), stdout=log, stderr=log)
        except CellExecutionError as exc:
            raise DemoError(f"{path.name}: {_one_line_error(exc)}") from exc
        except CellTimeoutError as exc:
            raise DemoError(f"{path.name}: a cell ran longer than {timeout} s.") from exc
        except DeadKernelError as exc:
            last = log_path.read_text(errors="replace").strip().splitlines()[-1:] or [str(exc)]
            raise DemoError(f"{path.name}: the kernel died ({last[0]}).") from exc
        finally:
            # nbclient leaves a kernel it did not create running (we pass km): stop it, or every
            # run leaves a kernel — and its embedded sandbox — behind until this process exits.
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb


def _one_line_error(exc: Exception) -> str:
    """``ename: evalue`` of a cell error, without the traceback."""
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = str(getattr(exc, "evalue", "") or "").strip().splitlines()
    return f"{ename}: {evalue[0] if evalue else 'no message'}"


def headlines(nb: Any) -> list[str]:
    """The text printed by the cells tagged ``headline`` (one entry per non-empty line)."""
    lines: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code" or HEADLINE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                lines.extend(line.strip() for line in output["text"].splitlines() if line.strip())
    return lines


def export_html(nb: Any, dest: Path, title: str | None = None) -> Path:
    """Write ``nb`` as a stand-alone HTML report (figures embedded) to ``dest``."""
    try:
        from nbconvert import HTMLExporter
    except ImportError as exc:
        raise DemoError(
            "writing HTML reports needs nbconvert (it comes with jupyterlab): "
            "pip install 'kounta_nb[test]'."
        ) from exc
    exporter = HTMLExporter(template_name="lab")  # type: ignore[no-untyped-call]  # nbconvert: no annotations
    resources = {"metadata": {"name": title or dest.stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")
    return dest


def run_headless(
    out: Path,
    *,
    notebooks_dir: Path | None = None,
    names: Sequence[str] = DEMO_NOTEBOOKS,
    fast: bool = True,
    python: str | None = None,
    base_env: Mapping[str, str] | None = None,
    site: str = DEMO_SITE,
) -> list[NotebookRun]:
    """Execute ``names`` from ``notebooks_dir`` against the sandbox and write HTML into ``out``."""
    notebooks_dir = notebooks_dir or find_notebooks_dir()
    out.mkdir(parents=True, exist_ok=True)
    runs: list[NotebookRun] = []
    with tempfile.TemporaryDirectory(prefix="kounta-nb-demo-") as home:
        env = kernel_env(os.environ if base_env is None else base_env, Path(home), fast=fast, site=site)
        for name in names:
            path = notebooks_dir / name
            if not path.is_file():
                raise DemoError(f"notebook {name} is missing from {notebooks_dir}.")
            started = time.monotonic()
            nb = execute_notebook(path, env=env, python=python)
            html = export_html(nb, out / (path.stem + ".html"), title=path.stem)
            runs.append(NotebookRun(name, html, time.monotonic() - started, headlines(nb)))
    return runs


def open_lab(notebooks_dir: Path) -> int:
    """Start JupyterLab on the quick start (blocks until the user stops it with Ctrl-C)."""
    if shutil.which("jupyter-lab") is None and not _importable("jupyterlab"):
        raise DemoError("JupyterLab is not installed: pip install jupyterlab, or run with --headless.")
    cmd = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and fresh VMs often run as root; JupyterLab refuses that without the flag.
        cmd.append("--allow-root")
    cmd.append(str(notebooks_dir / DEMO_NOTEBOOKS[0]))
    print(f"Starting JupyterLab on {DEMO_NOTEBOOKS[0]} (Ctrl-C to stop) ...", flush=True)
    try:
        return subprocess.call(cmd, cwd=notebooks_dir.parent)
    except KeyboardInterrupt:
        return 0


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kounta_nb.demo",
        description="Run the kounta_nb demo on the embedded sandbox (no account, no network).",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="execute the notebooks and write HTML reports instead of opening JupyterLab "
        "(the default when there is no display, or CI/HEADLESS is set)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("artifacts") / "demo",
        help="where the HTML reports go (default: artifacts/demo)",
    )
    parser.add_argument(
        "--site",
        default=DEMO_SITE,
        help=f"the sandbox venue the quick start picks (default: {DEMO_SITE})",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="pull the full six months in notebook 02 instead of the fast, shorter period",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return the process exit code (0 = success)."""
    args = _parser().parse_args(argv)
    try:
        notebooks_dir = find_notebooks_dir()
        if not (args.headless or is_headless()):
            return open_lab(notebooks_dir)
        print("Running the demo notebooks on the embedded sandbox (headless) ...", flush=True)
        runs = run_headless(args.out, notebooks_dir=notebooks_dir, fast=not args.full, site=args.site)
    except DemoError as exc:
        print(f"kounta_nb demo failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kounta_nb demo interrupted.", file=sys.stderr)
        return 130
    for run in runs:
        print(f"  {run.name}: {run.html} ({run.seconds:.0f} s)")
        for line in run.headlines:
            print(f"    {line}")
    print(f"Open the reports in a browser: {args.out.resolve() / (Path(runs[0].name).stem + '.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m kounta_nb.demo``: headless detection, the HTML reports, and failing loudly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from kounta_nb import demo

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("env", "platform", "headless"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"DISPLAY": ":0", "CI": "true"}, "linux", True),
        ({"DISPLAY": ":0", "HEADLESS": "1"}, "linux", True),
        ({"DISPLAY": ":0", "HEADLESS": "0"}, "linux", False),
        ({}, "darwin", False),
        ({"CI": "1"}, "darwin", True),
    ],
)
def test_demo__is_headless(env: dict[str, str], platform: str, headless: bool):
    assert demo.is_headless(env, platform) is headless


def test_demo__kernel_env_hides_real_credentials(tmp_path: Path):
    base = {
        "PATH": "/usr/bin",
        "KOUNTA_ACCESS_TOKEN": "real-token-value",
        "KOUNTA_CLIENT_SECRET": "real-secret",
        "KOUNTA_SITE": "Harbour Bar",
        "MPLBACKEND": "Agg",
    }
    env = demo.kernel_env(base, tmp_path, fast=True)
    assert "KOUNTA_ACCESS_TOKEN" not in env and "KOUNTA_CLIENT_SECRET" not in env
    # The user's own venue name means nothing to the sandbox: the demo picks a sandbox venue.
    assert env["KOUNTA_SITE"] == demo.DEMO_SITE
    assert demo.kernel_env(base, tmp_path, fast=True, site="The Lane Bar")["KOUNTA_SITE"] == "The Lane Bar"
    assert env["KOUNTA_CONFIG_DIR"] == str(tmp_path / "config")
    assert env["KOUNTA_CACHE_DIR"] == str(tmp_path / "cache")
    assert env["KOUNTA_NB_FAST"] == "1"
    assert "MPLBACKEND" not in env
    assert "KOUNTA_NB_FAST" not in demo.kernel_env(base, tmp_path, fast=False)


def test_demo__failing_cell_is_one_line_error(tmp_path: Path):
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    env = demo.kernel_env(os.environ, tmp_path, fast=True)
    with pytest.raises(demo.DemoError, match=r"^broken\.ipynb: ZeroDivisionError: division by zero$"):
        demo.execute_notebook(path, env=env, timeout=60)


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while Path(f"/proc/{pid}").exists():
        state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        if state == "Z" or time.monotonic() > deadline:  # a zombie holds no memory
            return state == "Z"
        time.sleep(0.1)
    return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("last_cell", ["x = 2", "1 / 0"])
def test_demo__every_run_stops_its_kernel(tmp_path: Path, last_cell: str):
    """A kernel (with whatever sandbox it started) ends with the run, failed or not."""
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell(last_cell)])
    path = tmp_path / "stops.ipynb"
    nbformat.write(nb, path)
    pids: list[int | None] = []
    env = demo.kernel_env(os.environ, tmp_path, fast=True)
    try:
        demo.execute_notebook(path, env=env, timeout=60, after_cell=lambda _i, _c, pid: pids.append(pid))
    except demo.DemoError:
        assert last_cell == "1 / 0"
    assert pids and pids[0] is not None
    assert _gone(pids[0]), "the kernel outlived the run"


def test_demo__headlines_and_html(tmp_path: Path):
    nb = new_notebook(
        cells=[
            new_code_cell("print('not a headline')"),
            new_code_cell("print('Revenue: $1,234.50')\nprint()\nprint('second line')", metadata={"tags": ["headline"]}),
        ]
    )
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    runs = demo.run_headless(tmp_path / "out", notebooks_dir=tmp_path, names=["tiny.ipynb"])
    assert [r.name for r in runs] == ["tiny.ipynb"]
    assert runs[0].headlines == ["Revenue: $1,234.50", "second line"]
    html = runs[0].html.read_text(encoding="utf-8")
    assert runs[0].html == tmp_path / "out" / "tiny.html"
    assert "<html" in html and "Revenue: $1,234.50" in html


def test_demo__missing_notebook_fails_with_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(demo.DemoError, match="notebook nope.ipynb is missing"):
        demo.run_headless(tmp_path / "out", notebooks_dir=tmp_path, names=["nope.ipynb"])


@pytest.mark.slow
def test_demo__headless_run_writes_reports(tmp_path: Path):
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run(
        [sys.executable, "-m", "kounta_nb.demo", "--headless", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for stem in ("01-quickstart", "02-six-months-of-sales"):
        html = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert "data:image/png;base64" in html, f"{stem}.html has no figure"
    quick = (out / "01-quickstart.html").read_text(encoding="utf-8")
    assert re.search(r"Last 7 days: [\d,]+ sales, \$[\d,]+\.\d\d revenue", quick)
    sales = (out / "02-six-months-of-sales.html").read_text(encoding="utf-8")
    assert re.search(r"7 days, 3 venues: [\d,]+ sales", sales)
    # The terminal repeats the headline figures and says where the reports are.
    assert str(out / "01-quickstart.html") in proc.stdout
    assert re.search(r"Last 7 days: [\d,]+ sales", proc.stdout)
    assert "Busiest hour" in proc.stdout


def test_demo__cli_failure_is_one_line_and_nonzero(tmp_path: Path):
    """A broken notebook makes the CLI exit 1 with a single line on stderr."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("raise RuntimeError('sandbox unreachable')")]),
                   notebooks / demo.DEMO_NOTEBOOKS[0])
    code = (
        "import sys; from pathlib import Path; from kounta_nb import demo; "
        f"demo.find_notebooks_dir = lambda start=None: Path({str(notebooks)!r}); "
        "sys.exit(demo.main(['--headless', '--out', 'out']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "kounta_nb demo failed: 01-quickstart.ipynb: RuntimeError: sandbox unreachable"
    ]

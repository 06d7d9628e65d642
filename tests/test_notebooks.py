"""The tutorial notebooks: committed clean, and each runs top to bottom against the sandbox.

Every notebook is executed with nbclient in a kernel of *this* interpreter (so CI's ``.venv`` and a
developer's venv both work), with ``KOUNTA_NB_FAST=1`` and private config/cache directories.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kounta_nb.demo import HEADLINE_TAG, execute_notebook, kernel_env

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = [
    "01-quickstart.ipynb",
    "02-six-months-of-sales.ipynb",
    "03-menu-and-staff.ipynb",
    "04-your-own-account.ipynb",
    "05-teaching.ipynb",
]
# Token-shaped strings: long random-looking runs, Bearer/Basic headers, secrets assigned literally.
TOKEN_PATTERNS = [
    re.compile(r"(?=[\w\-]*\d)(?=[\w\-]*[A-Za-z])\b[\w\-]{24,}\b"),
    re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9+/=_\-.]{12,}"),
    re.compile(r"(access_token|refresh_token|client_secret)\s*[=:]\s*['\"][^'\"]{6,}['\"]", re.I),
]
# The sandbox's published demo add-on secret is not a credential; nothing else may look like one.
ALLOWED_LITERALS = {"sandbox-secret"}


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _outputs(nb: nbformat.NotebookNode, tag: str | None = None) -> list[dict]:
    return [
        output
        for cell in nb.cells
        if cell.cell_type == "code" and (tag is None or tag in cell.metadata.get("tags", []))
        for output in cell.get("outputs", [])
    ]


def _text(nb: nbformat.NotebookNode, tag: str | None = None) -> str:
    parts = []
    for output in _outputs(nb, tag):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
            parts.append(output["data"].get("text/html", ""))
    return "\n".join(parts)


def _images(nb: nbformat.NotebookNode) -> int:
    return sum(1 for output in _outputs(nb) if "image/png" in output.get("data", {}))


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, nbformat.NotebookNode]:
    """Run each notebook once (lazily) per test session; tests share the executed copies."""
    cache: dict[str, nbformat.NotebookNode] = {}
    home = tmp_path_factory.mktemp("kounta_nb_home")

    class Runs(dict):
        def __missing__(self, name: str) -> nbformat.NotebookNode:
            env = kernel_env(os.environ, home / name, fast=True)
            cache[name] = execute_notebook(NOTEBOOKS / name, env=env, timeout=180)
            self[name] = cache[name]
            return cache[name]

    return Runs()


def test_notebooks__all_present_and_valid():
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(NAMES)
    for name in NAMES:
        nbformat.validate(_read(name))


@pytest.mark.parametrize("name", NAMES)
def test_notebooks__committed_without_outputs(name: str):
    nb = _read(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: a code cell has outputs"
            assert cell.execution_count is None, f"{name}: a code cell has an execution count"
    assert "widgets" not in nb.metadata, f"{name}: saved widget state"


@pytest.mark.parametrize("name", NAMES)
def test_notebooks__no_token_like_strings(name: str):
    raw = (NOTEBOOKS / name).read_text(encoding="utf-8")
    sources = "\n".join(cell.source for cell in _read(name).cells)
    for pattern in TOKEN_PATTERNS:
        for match in pattern.finditer(sources):
            text = match.group(0)
            assert any(ok in text for ok in ALLOWED_LITERALS), f"{name}: token-like string {text!r}"
    assert "Authorization:" not in raw


def test_notebooks__generated_from_build_script(tmp_path: Path):
    """The committed notebooks are exactly what notebooks/_build.py writes (no hand edits drift)."""
    before = {name: (NOTEBOOKS / name).read_bytes() for name in NAMES}
    copy = tmp_path / "notebooks"
    copy.mkdir()
    for source in NOTEBOOKS.glob("_*.py"):
        (copy / source.name).write_bytes(source.read_bytes())
    subprocess.run([sys.executable, str(copy / "_build.py")], check=True, capture_output=True)
    for name in NAMES:
        assert (copy / name).read_bytes() == before[name], f"{name} differs from _build.py output"


@pytest.mark.slow
def test_notebooks__quickstart_runs(executed):
    nb = executed["01-quickstart.ipynb"]
    text = _text(nb)
    assert "<table" in text, "the quick start shows no DataFrame table"
    assert _images(nb) >= 1, "the quick start draws no plot"
    headline = _text(nb, HEADLINE_TAG)
    assert re.search(r"\d[\d,]* sales, \$[\d,]+\.\d\d revenue", headline), headline


@pytest.mark.slow
def test_notebooks__six_months_of_sales_runs(executed):
    nb = executed["02-six-months-of-sales.ipynb"]
    assert _images(nb) >= 6, "notebook 02 should draw its revenue, busy-hours and mix figures"
    headline = _text(nb, HEADLINE_TAG)
    assert re.search(r"7 days, 3 venues: [\d,]+ sales, \$[\d,]+\.\d\d revenue", headline), headline
    assert "Busiest hour" in headline


@pytest.mark.slow
def test_notebooks__menu_and_staff_runs(executed):
    nb = executed["03-menu-and-staff.ipynb"]
    assert _images(nb) >= 3
    text = _text(nb)
    for word in ("Star", "Plowhorse", "Puzzle", "Dog"):
        assert word in text, f"menu engineering class {word} missing"


@pytest.mark.slow
def test_notebooks__own_account_runs(executed):
    nb = executed["04-your-own-account.ipynb"]
    text = _text(nb)
    assert "TokenExpiredError" in text
    assert "0o600" in text
    # Executed output never shows a token either.
    body = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    assert not TOKEN_PATTERNS[1].search(body)


@pytest.mark.slow
def test_notebooks__teaching_solutions_checked(executed):
    nb = executed["05-teaching.ipynb"]
    text = _text(nb, "checks")
    assert "all solutions check out" in text
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert sources.count("<details>") >= 4

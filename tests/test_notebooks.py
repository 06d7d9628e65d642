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
    "05-teaching-answer-key.ipynb",
    "06-big-data.ipynb",
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


#: Notebooks run with the config directory a user has by default (``$HOME/.config/kounta_nb``,
#: ``HOME`` a fresh folder) instead of a private ``KOUNTA_CONFIG_DIR``, to see what they write there.
DEFAULT_CONFIG = {"04-your-own-account.ipynb"}


class Runs(dict):
    """Each notebook executed once (lazily) per test module; ``homes[name]`` is its HOME."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.homes: dict[str, Path] = {}

    def __missing__(self, name: str) -> nbformat.NotebookNode:
        env = kernel_env(os.environ, self.root / name, fast=True)
        if name in DEFAULT_CONFIG:
            home = self.homes[name] = self.root / name / "home"
            home.mkdir(parents=True)
            env.pop("KOUNTA_CONFIG_DIR")
            env.pop("XDG_CONFIG_HOME", None)
            env["HOME"] = str(home)
            (home / "tmp").mkdir()
            env["TMPDIR"] = str(home / "tmp")
        self[name] = execute_notebook(NOTEBOOKS / name, env=env, timeout=180)
        return self[name]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Run each notebook once (lazily) per test module; tests share the executed copies."""
    return Runs(tmp_path_factory.mktemp("kounta_nb_home"))


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
    # The pull's progress bar, as a notebook saved without widget state shows it: how it ended.
    bar = next(c for c in nb.cells if c.cell_type == "code" and "pull_orders(k" in c.source)
    (shown,) = [o["data"]["text/plain"] for o in bar.outputs if "text/plain" in o.get("data", {})]
    assert "Kounta pull: 100%" in shown and "finished" in shown, shown


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
def test_notebooks__own_account_leaves_the_real_config_alone(executed):
    """Notebook 04 logs in to the sandbox several times; none of it reaches the user's config
    directory (the token file and remembered choices of their real logins)."""
    nb = executed["04-your-own-account.ipynb"]
    assert "Token file: tokens.json in the rehearsal's temporary folder" in _text(nb)
    config = executed.homes["04-your-own-account.ipynb"] / ".config"
    written = sorted(str(p.relative_to(config)) for p in config.rglob("*")) if config.exists() else []
    assert not [p for p in written if p.startswith("kounta_nb")], written
    # ...and the rehearsal's temporary token folder is gone too.
    assert not list((config.parent / "tmp").glob("kounta-nb-rehearsal-*"))


def _teaching_solutions() -> dict[str, str]:
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import _nb05
    finally:
        sys.path.remove(str(NOTEBOOKS))
    return {name: source.strip() for name, source in _nb05.SOLUTIONS.items()}


def test_notebooks__teaching_student_version_holds_no_solution():
    solutions = _teaching_solutions()
    student, key = _read("05-teaching.ipynb"), _read("05-teaching-answer-key.ipynb")
    assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
    everything = "\n".join(c.source for c in student.cells)
    for name in solutions:
        assert f"def {name}(" not in everything, f"the student version defines {name}()"
        assert f"{name}(orders" not in everything, f"the student version calls {name}()"
    assert "<summary>Solution" not in everything and "globals()" not in everything
    assert everything.count("<summary>Hint</summary>") == 4
    # The answer key has every solution as code (tagged), and everything the students have.
    key_code = "\n".join(c.source for c in key.cells if "solution" in c.metadata.get("tags", []))
    for source in solutions.values():
        assert source in key_code
    key_sources = {c.source for c in key.cells}
    shared = [c for c in student.cells if "student" not in c.metadata.get("tags", [])]
    assert shared and all(c.source in key_sources for c in shared)


@pytest.mark.slow
def test_notebooks__teaching_student_version_runs(executed):
    nb = executed["05-teaching.ipynb"]
    text = _text(nb)
    assert text.count("not answered yet") == 4, text
    assert "correct" not in text and "check out" not in text


@pytest.mark.slow
def test_notebooks__teaching_answer_key_runs_and_proves_its_solutions(executed):
    nb = executed["05-teaching-answer-key.ipynb"]
    text = _text(nb, "checks")
    assert "all four solutions give the answers worked out on paper" in text
    assert "check() marks answers correctly" in text
    assert "all solutions check out" in text
    solved = _text(nb, "solution")
    assert solved.count(": correct!") == 4, solved


@pytest.mark.slow
def test_notebooks__big_data_runs(executed):
    """Notebook 06: two companies pulled at once into one Parquet dataset, `%kounta sql` over it,
    and Dask, polars, pandas and DuckDB agreeing on every venue's revenue."""
    nb = executed["06-big-data.ipynb"]
    text = _text(nb)
    assert "Harbour Lane Hospitality (company" in text and "Brunswick Street Bakehouse (company" in text
    assert "Exported again: 0 partitions rewritten" in text
    assert "DuckDB, pandas, polars and Dask agree to the cent" in text
    assert text.count("<table") >= 4 and _images(nb) >= 1
    sql_cells = [c for c in nb.cells
                 if c.cell_type == "code" and re.search(r"^(\w+ = )?%%?kounta sql", c.source, re.M)]
    assert len(sql_cells) >= 3 and all(c.outputs for c in sql_cells)
    # Nothing on stderr: no warning from any engine reaches the reader.
    assert not [o for o in _outputs(nb) if o.get("name") == "stderr"]

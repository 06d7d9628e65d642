"""Progress bars in a saved notebook show how they ended, not their first frame (issue 11 §4).

A real kernel runs the cells (nbclient); what nbclient keeps is what a notebook saved without
widget state shows: the plain-text twin of each bar.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kounta_nb.demo import execute_notebook, kernel_env
from kounta_nb.progress import progress_bar

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, *sources: str) -> list[list[dict]]:
    # a real kernel: not in `make test-min`, which installs no Jupyter (nbformat, nbclient)
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from nbformat.v4 import new_code_cell, new_notebook

    path = tmp_path / "bars.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    nb = execute_notebook(path, env=kernel_env(os.environ, tmp_path / "home", fast=True), timeout=120)
    return [cell.outputs for cell in nb.cells]


def _plain(outputs: list[dict]) -> list[str]:
    return [o["data"]["text/plain"] for o in outputs if "data" in o and "text/plain" in o["data"]]


def test_progress__a_saved_bar_shows_its_final_line(tmp_path):
    shown, _ = _run(
        tmp_path,
        "from kounta_nb.progress import progress_bar\n"
        "kept = progress_bar(total=40, unit='req', desc='Kounta pull')\n"
        "gone = progress_bar(total=5, desc='Kounta lines: full orders', leave=False)",
        "kept.update(40); kept.set_postfix_str('finished'); kept.close()\ngone.update(5); gone.close()",
    )
    texts = _plain(shown)
    assert len(texts) == 2, shown
    assert "40/40" in texts[0] and "100%" in texts[0] and "finished" in texts[0], texts[0]
    assert texts[1] == ""  # a bar that is not meant to stay leaves nothing behind
    # The live view is the same widget throughout.
    assert "application/vnd.jupyter.widget-view+json" in shown[0]["data"]


def test_progress__plain_tqdm_outside_a_notebook():
    bar = progress_bar(total=3, disable=True)
    bar.update(3)
    bar.close()
    assert type(bar).__module__.startswith("tqdm")

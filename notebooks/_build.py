"""Write the tutorial notebooks of kounta_nb from the cell lists below (outputs empty).

Run ``python notebooks/_build.py`` after editing a cell here; commit the script and the
regenerated ``*.ipynb`` together. Keeping the sources in one Python file lets the teaching
notebook show its solutions in collapsed markdown *and* run the very same code in its checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True

import importlib  # noqa: E402

#: notebook file -> the module (beside this script) whose ``CELLS`` it is built from.
SOURCES = {
    "01-quickstart.ipynb": "_nb01",
    "02-six-months-of-sales.ipynb": "_nb02",
    "03-menu-and-staff.ipynb": "_nb03",
    "04-your-own-account.ipynb": "_nb04",
    "05-teaching.ipynb": "_nb05",
}


def build(name: str, cells: list[tuple]) -> nbformat.NotebookNode:
    """One notebook from ``(kind, source[, metadata])`` tuples; kind is ``md`` or ``code``."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    for number, cell in enumerate(cells):
        kind, source = cell[0], cell[1].strip("\n")
        metadata = dict(cell[2]) if len(cell) > 2 else {}
        new = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        new.metadata.update(metadata)
        # Stable ids keep diffs of regenerated notebooks small.
        new.id = f"{Path(name).stem[:2]}-{number:02d}"
        nb.cells.append(new)
    nbformat.validate(nb)
    return nb


def main() -> int:
    only = set(sys.argv[1:])
    for name, module in SOURCES.items():
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        nb = build(name, importlib.import_module(module).CELLS)
        nbformat.write(nb, HERE / name)
        print(f"wrote notebooks/{name} ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

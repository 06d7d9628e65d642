"""Write the tutorial notebooks of kounta_nb from the cell lists below (outputs empty).

Run ``python notebooks/_build.py`` after editing a cell here; commit the script and the
regenerated ``*.ipynb`` together (``python notebooks/_build.py 05`` rebuilds only those whose
name starts with ``05``).

One source can give several notebooks: the teaching notebook ``_nb05.py`` gives the student
version (every cell tagged ``solution`` left out) and the answer key (every cell tagged
``student`` left out), so the solutions are written once and the key's proofs test exactly them.
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

#: notebook file -> (the module beside this script whose ``CELLS`` it is built from, the tag
#: whose cells are left out of this notebook or None).
SOURCES: dict[str, tuple[str, str | None]] = {
    "01-quickstart.ipynb": ("_nb01", None),
    "02-six-months-of-sales.ipynb": ("_nb02", None),
    "03-menu-and-staff.ipynb": ("_nb03", None),
    "04-your-own-account.ipynb": ("_nb04", None),
    "05-teaching.ipynb": ("_nb05", "solution"),  # the student version
    "05-teaching-answer-key.ipynb": ("_nb05", "student"),  # the teacher's
    "06-big-data.ipynb": ("_nb06", None),
}


def build(name: str, cells: list[tuple], leave_out: str | None = None) -> nbformat.NotebookNode:
    """One notebook from ``(kind, source[, metadata])`` tuples (kind ``md`` or ``code``),
    without the cells tagged ``leave_out``."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    kept = [cell for cell in cells if leave_out is None or leave_out not in _tags(cell)]
    for number, cell in enumerate(kept):
        kind, source = cell[0], cell[1].strip("\n")
        metadata = dict(cell[2]) if len(cell) > 2 else {}
        new = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        new.metadata.update(metadata)
        # Stable ids keep diffs of regenerated notebooks small.
        new.id = f"{Path(name).stem[:2]}-{number:02d}"
        nb.cells.append(new)
    nbformat.validate(nb)
    return nb


def _tags(cell: tuple) -> list[str]:
    return list(cell[2].get("tags", [])) if len(cell) > 2 else []


def main() -> int:
    only = set(sys.argv[1:])
    for name, (module, leave_out) in SOURCES.items():
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        nb = build(name, importlib.import_module(module).CELLS, leave_out)
        nbformat.write(nb, HERE / name)
        print(f"wrote notebooks/{name} ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

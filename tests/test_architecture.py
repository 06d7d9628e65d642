"""Imports run one way, in the layer order written in ``docs/architecture.md``.

Every ``import`` and ``from … import`` of every module in ``kounta_nb`` is read with :mod:`ast`
(function-level and ``TYPE_CHECKING`` imports included) and checked against the layer table of
the doc: a module imports from its own layer or a lower one; the few lazy upward imports the doc
names are allowed only inside a function; ``kounta_nb/sandbox`` imports nothing from the rest of
the package, and nothing but the package's ``__init__`` imports it. A module missing from the
table (or a name in it that is no module) fails too, so the map stays complete.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kounta_nb"
DOC = ROOT / "docs" / "architecture.md"

#: The package itself (``from . import start_sandbox``, ``import kounta_nb``): the public surface.
SURFACE = "__init__"
SANDBOX = "sandbox"

#: The upward imports docs/architecture.md allows, each lazy (inside a function): importer → imported.
LAZY_UPWARD = {
    ("client", "pull"),  # Kounta.pull_orders: a way in to the engine built on the client
    ("consent", SURFACE),  # kounta_nb.start_sandbox: the one door to the sandbox
    ("session", SURFACE),
}


@dataclass(frozen=True)
class Import:
    importer: str  # the top-level unit (module or package) of kounta_nb that imports
    imported: str  # the unit it imports from ("__init__" for the package itself)
    lazy: bool  # inside a function
    where: str  # file:line, for the message


def unit_of(path: Path, package: Path) -> str:
    """``client`` for kounta_nb/client.py, ``pull`` for kounta_nb/pull/job.py."""
    parts = path.relative_to(package).with_suffix("").parts
    return SURFACE if parts == ("__init__",) else parts[0]


def _unit_of_name(dotted: list[str], package: Path) -> str:
    """The unit of ``kounta_nb.<dotted>`` (an attribute of the package is the surface)."""
    if not dotted:
        return SURFACE
    head = dotted[0]
    return head if (package / f"{head}.py").exists() or (package / head).is_dir() else SURFACE


def imports_of(path: Path, package: Path) -> list[Import]:
    """Every import of ``path`` that reaches into ``package``."""
    name = package.name
    module = path.relative_to(package.parent).with_suffix("").parts
    here = list(module[:-1])  # the package the module sits in
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lazy_nodes = {
        id(inner)
        for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
    }
    importer = unit_of(path, package)
    found: list[Import] = []

    def add(target: list[str], node: ast.stmt) -> None:
        if not target or target[0] != name:
            return
        imported = _unit_of_name(target[1:], package)
        found.append(Import(importer, imported, id(node) in lazy_nodes,
                            f"{path.relative_to(package.parent)}:{node.lineno}"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name.split("."), node)
        elif isinstance(node, ast.ImportFrom):
            # ``from .x`` is the module's own package, each further dot one package up
            base = here[: len(here) - (node.level - 1)] if node.level else []
            target = base + (node.module.split(".") if node.module else [])
            if node.module is None or target == [name]:
                for alias in node.names:  # ``from . import x``: x may be a module or an attribute
                    add(target + [alias.name], node)
            else:
                add(target, node)
    return found


def layers_from(text: str) -> dict[str, int]:
    """The layer table of docs/architecture.md: the fenced block whose first line is ``layer …``,
    then one line per layer, ``<number>  <module> <module> …``."""
    block = re.search(r"```text\nlayer[^\n]*\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md lost its layer table"
    layers: dict[str, int] = {}
    for line in block.group(1).splitlines():
        match = re.match(r"\s*(\d+)\s+(.*)", line)
        if match:
            for unit in re.findall(r"[a-z_]+", match.group(2)):
                assert unit not in layers, f"{unit} stands in two layers"
                layers[unit] = int(match.group(1))
    return layers


def violations(package: Path, layers: dict[str, int], lazy_upward: set[tuple[str, str]]) -> list[str]:
    """Every import that breaks the one-way rule, one line each (empty: the rule holds)."""
    units = {unit_of(p, package) for p in package.rglob("*.py")} - {SURFACE, SANDBOX}
    problems = [f"{u}: not in the layer table" for u in sorted(units - set(layers))]
    problems += [f"{u}: in the layer table but not a module" for u in sorted(set(layers) - units)]
    for path in sorted(package.rglob("*.py")):
        for imp in imports_of(path, package):
            a, b = imp.importer, imp.imported
            if a in (b, SURFACE):
                continue  # within one unit; the package's __init__ is the surface above every layer
            if a == SANDBOX or b == SANDBOX:
                problems.append(f"{imp.where}: {a} imports {b} (the sandbox and the rest share no code)")
            elif (a, b) in lazy_upward:
                if not imp.lazy:
                    problems.append(f"{imp.where}: {a} imports {b} at module level (allowed only lazily)")
            elif b == SURFACE:
                problems.append(f"{imp.where}: {a} imports the package itself")
            elif a in layers and b in layers and layers[b] > layers[a]:
                problems.append(f"{imp.where}: {a} (layer {layers[a]}) imports {b} (layer {layers[b]})")
    return problems


def test_architecture__imports_run_one_way() -> None:
    layers = layers_from(DOC.read_text(encoding="utf-8"))
    assert violations(PACKAGE, layers, LAZY_UPWARD) == []


def test_architecture__the_doc_names_each_allowed_upward_import() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "Kounta.pull_orders" in text and "kounta_nb.start_sandbox" in text


def _tree(root: Path, files: dict[str, str]) -> Path:
    package = root / "kounta_nb"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return package


def test_architecture__the_check_catches_each_kind_of_bad_import(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "__init__.py": "from .client import Kounta\n",
        "errors.py": "",
        "transport/__init__.py": "from ..errors import X\nfrom ..magics import load\n",  # upward
        "client.py": "from .pull import pull_orders\n",  # upward, at module level
        "pull/__init__.py": "from kounta_nb.transport import T\n",
        "magics.py": "from . import start_sandbox\n",  # the package itself, not allowed here
        "sandbox/__init__.py": "from ..errors import KountaError\n",  # the sandbox shares nothing
        "stray.py": "import kounta_nb.sandbox.app\n",  # the client side reaching into the sandbox
    })
    layers = {"errors": 0, "transport": 1, "client": 2, "pull": 3, "magics": 4}
    found = violations(package, layers, {("client", "pull")})
    assert found == [
        "stray: not in the layer table",
        "kounta_nb/client.py:1: client imports pull at module level (allowed only lazily)",
        "kounta_nb/magics.py:1: magics imports the package itself",
        "kounta_nb/sandbox/__init__.py:1: sandbox imports errors (the sandbox and the rest share no code)",
        "kounta_nb/stray.py:1: stray imports sandbox (the sandbox and the rest share no code)",
        "kounta_nb/transport/__init__.py:2: transport (layer 1) imports magics (layer 4)",
    ]
    (package / "client.py").write_text("def later():\n    from .pull import pull_orders\n", encoding="utf-8")
    assert not any("client" in line for line in violations(package, layers, {("client", "pull")}))


@pytest.mark.parametrize("line, expected", [
    ("from . import start_sandbox", "__init__"),
    ("from .errors import ConfigError", "errors"),
    ("from . import settings", "settings"),
    ("import kounta_nb", "__init__"),
])
def test_architecture__imports_are_resolved_to_their_module(tmp_path: Path, line: str, expected: str) -> None:
    package = _tree(tmp_path, {"__init__.py": "", "errors.py": "", "settings.py": "", "consent.py": line + "\n"})
    assert [i.imported for i in imports_of(package / "consent.py", package)] == [expected]

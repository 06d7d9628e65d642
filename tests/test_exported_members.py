"""The public surface is curated: everything in __all__ resolves, and nothing else is advertised.

For every public module of kounta_nb (no part of its dotted name after ``kounta_nb`` starts with
``_``), ``__all__`` is checked both ways: every name it lists exists and is public (no leading
underscore), and every public name the module itself defines at its top level (``def``, ``class``,
an assignment) is listed. A helper meant for the module alone starts with ``_``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import kounta_nb


def _public_modules() -> list[str]:
    names = ["kounta_nb"]
    for info in pkgutil.walk_packages(kounta_nb.__path__, "kounta_nb."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return names


PUBLIC_MODULES = _public_modules()

#: Public names a module defines for the package's own use and deliberately leaves out of its
#: __all__: kounta_nb re-exports errors.__all__ whole (the exception tree), and the helpers that
#: issue a warning or suggest a name are not part of that surface.
PACKAGE_HELPERS = {"kounta_nb.errors": {"did_you_mean", "warn"}}


def _import(name: str) -> ModuleType:
    """The module; a skip when a third-party package it needs is not installed (``make test-min``
    has no Jupyter server, for ``kounta_nb.server_ext``)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] != "kounta_nb":
            pytest.skip(f"{name} needs {exc.name}, which is not installed here")
        raise


def _defined_names(module: ModuleType) -> set[str]:
    """The names bound at the top level of the module's source (imports aside)."""
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names - {"__all__"}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_public_modules_are_found():
    assert {"kounta_nb", "kounta_nb.client", "kounta_nb.sandbox.server"} <= set(PUBLIC_MODULES)
    assert not [name for name in PUBLIC_MODULES if "._" in name]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all__lists_only_public_names_that_exist(name: str) -> None:
    module = _import(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    assert [n for n in exported if _is_private(n)] == [], f"{name}.__all__ exports private names"
    assert [n for n in exported if not hasattr(module, n)] == [], f"{name}.__all__ names what is not there"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all__leaves_out_no_public_name_the_module_defines(name: str) -> None:
    module = _import(name)
    public = {n for n in _defined_names(module) if not n.startswith("_")} - PACKAGE_HELPERS.get(name, set())
    assert sorted(public - set(module.__all__)) == [], f"public names of {name} missing from __all__"


def test_all__the_checks_can_fail() -> None:
    fake = ModuleType("kounta_nb.fake")
    fake.__file__ = __file__  # this file defines PUBLIC_MODULES (public, and in no __all__)
    assert "PUBLIC_MODULES" in _defined_names(fake)
    assert "_defined_names" in _defined_names(fake) and _is_private("_defined_names")
    assert not _is_private("__version__")


def test_all_names_resolve():
    for name in kounta_nb.__all__:
        assert getattr(kounta_nb, name) is not None, name


def test_errors_form_one_tree():
    for name in kounta_nb.__all__:
        obj = getattr(kounta_nb, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, kounta_nb.KountaError | kounta_nb.KountaWarning), name


def test_token_expired_message_says_how_to_reconnect():
    msg = str(kounta_nb.TokenExpiredError())
    assert "reconnect" in msg and "%kounta login" in msg

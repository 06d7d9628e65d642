"""kounta_nb: the Kounta (Lightspeed Restaurant O-Series) POS API in Jupyter.

``%load_ext kounta_nb`` for the ``%kounta`` magics, ``kounta_nb.Kounta`` for the Python client,
``kounta_nb.start_sandbox()`` for a local, account-free fake Kounta.

Heavy modules (pandas, ipywidgets, the sandbox) are imported lazily so that importing the package
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .errors import *  # noqa: F403 - the exception tree, named once in errors.__all__

__version__ = "0.1.0"

__all__ = [
    "Kounta",
    "__version__",
    "load_ipython_extension",
    "start_sandbox",
    "unload_ipython_extension",
]
__all__ += errors.__all__

if TYPE_CHECKING:
    from .client import Kounta
    from .sandbox.server import start_sandbox

# name -> (module, attribute): resolved on first access (PEP 562).
_LAZY = {
    "Kounta": (".client", "Kounta"),
    "start_sandbox": (".sandbox.server", "start_sandbox"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kounta_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%kounta`` / ``%%kounta`` magics (called by ``%load_ext kounta_nb``)."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics again (called by ``%unload_ext kounta_nb``)."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)

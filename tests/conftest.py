"""Shared fixtures: a clean environment (no real KOUNTA_* variables), temp config/cache dirs.

The fixtures of the ``support_*`` modules reach every test module as plugins (``pytest_plugins``):
a test names them as arguments and imports only the helpers it calls.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES_REAL = SHARED / "fixtures" / "real"  # what they are: docs/api.md §7

pytest_plugins = ["support_sandbox", "support_magics", "support_jupyter"]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hide the developer's real KOUNTA_* variables and keep tokens and caches in temp dirs."""
    for key in list(os.environ):
        if key.startswith("KOUNTA_"):
            monkeypatch.delenv(key, raising=False)
    base = tmp_path_factory.mktemp("kounta_home")
    monkeypatch.setenv("KOUNTA_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("KOUNTA_CACHE_DIR", str(base / "cache"))

"""Shared fixtures: a clean environment (no real KOUNTA_* variables), temp config/cache dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES_REAL = SHARED / "fixtures" / "real"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hide the developer's real KOUNTA_* variables and keep tokens and caches in temp dirs."""
    for key in list(os.environ):
        if key.startswith("KOUNTA_"):
            monkeypatch.delenv(key, raising=False)
    base = tmp_path_factory.mktemp("kounta_home")
    monkeypatch.setenv("KOUNTA_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("KOUNTA_CACHE_DIR", str(base / "cache"))

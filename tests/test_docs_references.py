"""The docs name the tests and benchmarks that back their claims: those files must exist.

A renamed or deleted test module would otherwise leave a promise in ``docs/`` or the README
pointing at nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
TEST_NAME = re.compile(r"\b(test_[a-z0-9_]+\.py)\b")
BENCH_NAME = re.compile(r"\b(bench_[a-z0-9_]+)\b")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs__named_test_modules_exist(doc: Path) -> None:
    named = set(TEST_NAME.findall(doc.read_text(encoding="utf-8")))
    missing = sorted(n for n in named if not (ROOT / "tests" / n).exists())
    assert missing == [], f"{doc.name} names test modules that do not exist"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs__named_benchmarks_exist(doc: Path) -> None:
    named = set(BENCH_NAME.findall(doc.read_text(encoding="utf-8")))
    missing = sorted(n for n in named if not (ROOT / "benchmarks" / f"{n}.py").exists())
    assert missing == [], f"{doc.name} names benchmarks that do not exist"


def test_docs__the_checks_can_fail(tmp_path: Path) -> None:
    assert TEST_NAME.findall("see `tests/test_nowhere_at_all.py`") == ["test_nowhere_at_all.py"]
    assert not (ROOT / "tests" / "test_nowhere_at_all.py").exists()

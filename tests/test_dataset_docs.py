"""docs/dataset.md's notebook example runs as written (against the embedded sandbox, over real
sockets) and gives what it says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "dataset.md"


def _example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A notebook example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "docs/dataset.md lost its notebook example"
    return match.group(1)


def test_dataset_docs__the_notebook_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # the sandbox client's default pace (it does not limit); set so a KOUNTA_RATE_LIMIT in the
    # environment cannot slow the example down
    monkeypatch.setenv("KOUNTA_RATE_LIMIT", "60000")
    namespace: dict[str, Any] = {}
    exec(compile(_example(), str(DOC), "exec"), namespace)  # noqa: S102 - the documented example
    out = capsys.readouterr().out
    daily, top, job = namespace["daily"], namespace["top"], namespace["job"]
    m = job.exported
    assert "Manifest(" in out and "orders" in out
    assert (tmp_path / "sales-data" / "manifest.json").is_file()
    frames = job.frames()
    assert m.rows("orders") == len(frames["orders"]) > 0
    assert int(daily["orders"].sum()) == len(frames["orders"])
    assert float(daily["revenue"].sum()) == pytest.approx(float(frames["orders"]["total"].sum()))
    assert 0 < len(top) <= 10 and top["revenue"].is_monotonic_decreasing

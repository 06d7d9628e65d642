"""The pull → dataset wiring (issue 12), over real sockets against the sandbox.

``pull_orders(..., export=path)`` grows a Parquet dataset while the pull runs and ends with one
that equals ``job.frames()`` row for row; exporting again writes nothing; an incremental pull after
another client changed some orders and a trading day went by rewrites only the partitions that
changed, replaces the changed orders' rows and never duplicates one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_pull_sandbox import Recorder, _client, _site

from kounta_nb import Kounta, dataset
from kounta_nb.pull import export as pull_export
from kounta_nb.pull import pull_orders

SINCE = "2026-05-27"


def _table(root: Path, name: str) -> pd.DataFrame:
    return dataset.read(str(root), name)


def _same_rows(a: pd.DataFrame, b: pd.DataFrame, key: list[str]) -> None:
    cols = [c for c in a.columns if c in b.columns and c not in ("company_id",)]
    left = a[cols].sort_values(key).reset_index(drop=True)
    right = b[cols].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False, check_categorical=False)


def test_export__the_dataset_grows_while_the_pull_runs_and_equals_the_frames(
    sandbox_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull_export, "EXPORT_EVERY_S", 0.3)
    handle = sandbox_factory()
    root = tmp_path / "data"
    client = _client(handle, tmp_path, Recorder(), rate=2400)  # 40/s: several exports before the end
    site = _site(client)
    job = pull_orders(client, SINCE, site=site, store=tmp_path / "pull.sqlite", progress=False, workers=4,
                      export=root)
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while not job.done and time.monotonic() < deadline:
        manifest = job.exported
        if manifest is not None:
            seen.append(manifest.rows("orders"))
        time.sleep(0.2)
    job.wait(10)
    assert job.state == "finished" and job.done
    grown = sorted(set(seen))
    assert len(grown) >= 2 and 0 < grown[0] < len(job.orders), grown  # it grew while the pull ran
    tables = job.frames()
    for name, key in (("orders", ["id"]), ("lines", ["order_id", "number"]), ("payments", ["order_id", "number"]),
                      ("options", ["order_id", "line_number", "product_id"]), ("listed", ["id"])):
        got = _table(root, name)
        assert len(got) == len(tables[name]), name
        if len(got):
            _same_rows(got, tables[name], key)
    assert job.exported is not None and job.exported.rows("orders") == len(tables["orders"])

    again = job.export(root)
    assert again.written == () and again.rows("orders") == len(tables["orders"])  # nothing changed


def test_export__an_incremental_pull_replaces_changed_orders_and_adds_new_ones(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    handle = sandbox_factory()
    root, store = tmp_path / "data", tmp_path / "pull.sqlite"
    client = _client(handle, tmp_path, Recorder())
    site = _site(client)
    first = pull_orders(client, "2026-04-29", site=site, store=store, progress=False, export=root).wait(120)
    before = _table(root, "orders")
    changed = sorted(int(i) for i in before["id"])[-3:]  # the newest: inside the incremental window
    other = Kounta.sandbox(handle=handle, rate_limit=60_000, cache=False)
    for oid in changed:
        other.update_order(oid, {"notes": f"changed {oid}"})
    handle.advance(86400)  # a trading day later

    client2 = _client(handle, tmp_path, Recorder())
    job = pull_orders(client2, "last", site=site, store=store, progress=False, export=root).wait(60)
    after = _table(root, "orders")
    assert after["id"].is_unique  # never a duplicate row
    new = set(after["id"]) - set(before["id"])
    assert new and len(after) == len(before) + len(new)
    notes = after.set_index("id")["notes"]
    assert all(notes[str(oid)] == f"changed {oid}" for oid in changed)
    lines = _table(root, "lines")
    assert not lines.duplicated(["order_id", "number"]).any()
    assert set(lines["order_id"]) == set(after["id"]) - _without_lines(first, job)
    assert {"2026-04", "2026-05"} <= set(before["created_at"].dt.strftime("%Y-%m"))
    months = {m.split("/")[-1] for m in job.exported.written}  # type: ignore[union-attr]
    assert months == {"2026-05"}  # only the partitions with changed or new orders: April stays


def _without_lines(*jobs: Any) -> set[str]:
    """Orders without lines (none in the sandbox, but say so rather than assume)."""
    out: set[str] = set()
    for job in jobs:
        out |= {str(o["id_str"]) for o in job.orders if not o.get("lines")}
    return out

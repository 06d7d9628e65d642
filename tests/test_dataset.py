"""kounta_nb.dataset: Hive-partitioned Parquet from full orders — contents equal frames row for row
(dtypes included), partitions replaced only when an order in them changed, never a duplicate row,
atomic commits, concurrent exports of two companies, and a manifest that says what is there.

Orders come from the sandbox's business model (its data layer; the tests over real sockets are in
test_dataset_sandbox.py)."""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import random
import stat
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from support_dataset import assert_same_rows, business, chunks, orders_of, sorted_rows

from kounta_nb import dataset, frames
from kounta_nb.errors import ConfigError, DataFileError

HARBOUR, BAKERY = 51642, 61873
SYD, MEL = "Australia/Sydney", "Australia/Melbourne"
CHILDREN = ("lines", "payments", "options")


@pytest.fixture(scope="module")
def biz() -> Any:
    return business()


@pytest.fixture(scope="module")
def harbour(biz: Any) -> list[dict[str, Any]]:
    return orders_of(biz, HARBOUR)


@pytest.fixture(scope="module")
def bakery(biz: Any) -> list[dict[str, Any]]:
    return orders_of(biz, BAKERY)


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every live data file → (inode, mtime_ns): what a rewrite changes."""
    out = {}
    for path in root.glob("*/company_id=*/site_id=*/month=*/*.parquet"):
        info = path.stat()
        out[str(path.relative_to(root))] = (info.st_ino, info.st_mtime_ns)
    return out


def _listed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The abridged list items of full orders (docs/api.md §5)."""
    keep = ("id", "id_str", "sale_number", "status", "notes", "site_id", "register_id", "staff_id",
            "customer_id", "total", "total_tax", "paid", "deleted", "order_type", "is_refund",
            "refunded_order_id", "created_at", "updated_at")  # fmt: skip
    return [{k: r.get(k) for k in keep} for r in records]


def _bump(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``order`` as the API shows it after a change: new fields and a later updated_at."""
    changed = copy.deepcopy(order)
    changed.update(changes)
    changed["updated_at"] = changed["updated_at"].replace(changed["updated_at"][11:13], "23", 1)
    return changed


# ------------------------------------------------------------------ contents and layout


def test_dataset__tables_equal_frames_row_for_row_dtypes_included(tmp_path, harbour):
    root = tmp_path / "data"
    manifest = dataset.export_orders(root, chunks(harbour), company_id=HARBOUR, tz=SYD,
                                     listed=_listed(harbour), pull_id="test-pull")  # fmt: skip
    expected = frames.order_tables(harbour, SYD)
    expected["listed"] = frames.frame("orders", _listed(harbour), tz=SYD)
    for table in dataset.TABLES:
        got = dataset.read(root, table)
        assert len(got) == len(expected[table]) > 0, table
        assert_same_rows(got, expected[table], table, HARBOUR)
        # the frame's columns in its order, then the partition columns it lacks
        names = list(expected[table].columns)
        assert list(got.columns) == names + [c for c in ("company_id", "month") if c not in names]
    assert manifest.rows("orders") == len(harbour)
    assert manifest.rows("lines") == len(expected["lines"])
    assert set(manifest.written) >= {f"{t}/{HARBOUR}/1201/2026-04" for t in dataset.TABLES}


def test_dataset__hive_layout_types_in_the_files_and_private_modes(tmp_path, harbour):
    root = tmp_path / "data"
    dataset.export_orders(root, [harbour], company_id=HARBOUR, tz=SYD)
    parts = sorted(p.relative_to(root).as_posix() for p in root.glob("orders/*/*/*/*.parquet"))
    assert parts == [f"orders/company_id={HARBOUR}/site_id={s}/month={m}/part-0.parquet"
                     for s in (1201, 1202, 1203) for m in ("2026-04", "2026-05")]  # fmt: skip
    schema = pq.read_schema(root / parts[0])
    # partition columns live in the path only; the rest keeps the frame's exact Arrow types
    assert "site_id" not in schema.names and "company_id" not in schema.names
    assert schema.field("created_at").type == pa.timestamp("us", tz=SYD)
    assert schema.field("date").type == pa.date32()
    assert schema.field("status").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("weekday").type == pa.dictionary(pa.int32(), pa.string(), ordered=True)
    assert schema.field("customer_id").type == pa.int64()
    lines = pq.read_schema(next(root.glob("lines/*/*/*/*.parquet")))
    assert lines.field("modifiers").type == pa.list_(pa.int64())
    # customer data: private like every file kounta_nb keeps
    assert stat.S_IMODE((root / parts[0]).stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "orders").stat().st_mode) == 0o700
    # plain pandas (the pandas metadata in the files) gives the frame's dtypes back too
    plain = pd.read_parquet(root / parts[0])
    want = frames.empty("orders", SYD).drop(columns=["site_id", "company_id"]).dtypes
    assert plain.dtypes.astype(str).to_dict() == want.astype(str).to_dict()


def test_dataset__manifest_says_what_is_there(tmp_path, harbour, bakery):
    root = tmp_path / "data"
    dataset.export_orders(root, [harbour], company_id=HARBOUR, tz=SYD, pull_id="p1")
    dataset.export_orders(root, [bakery], company_id=BAKERY, tz=MEL, pull_id="p2")
    data = json.loads((root / "manifest.json").read_text())
    assert data["format"] == "kounta_nb.dataset" and data["schema_version"] == dataset.SCHEMA_VERSION
    assert data["tables"] == list(dataset.TABLES)
    h, b = data["companies"][str(HARBOUR)], data["companies"][str(BAKERY)]
    assert h["tz"] == SYD and b["tz"] == MEL
    assert h["sites"] == [1201, 1202, 1203] and b["sites"] == [1301]
    assert h["rows"]["orders"] == len(harbour) and b["rows"]["orders"] == len(bakery)
    assert h["pull_ids"] == ["p1"] and b["pull_ids"] == ["p2"]
    created = sorted(o["created_at"] for o in harbour)
    assert pd.Timestamp(h["period"]["first"]) == pd.Timestamp(created[0])
    assert pd.Timestamp(h["period"]["last"]) == pd.Timestamp(created[-1])
    assert sorted(h["partitions"]) == [f"{s}/{m}" for s in (1201, 1202, 1203)
                                       for m in ("2026-04", "2026-05")]  # fmt: skip
    m = dataset.manifest(str(root))
    assert m.sites == {HARBOUR: [1201, 1202, 1203], BAKERY: [1301]}
    assert "2 companies" in repr(m) and m.pull_ids == ["p1", "p2"]


def test_dataset__unsorted_input_and_chunking_give_the_same_dataset(tmp_path, harbour):
    shuffled = list(harbour)
    random.Random(3).shuffle(shuffled)
    dataset.export_orders(tmp_path / "a", [harbour], company_id=HARBOUR, tz=SYD)
    dataset.export_orders(tmp_path / "b", chunks(shuffled, 97), company_id=HARBOUR, tz=SYD)
    for table in ("orders", "lines", "payments", "options"):
        a, b = dataset.read(tmp_path / "a", table), dataset.read(tmp_path / "b", table)
        pd.testing.assert_frame_equal(sorted_rows(a, table), sorted_rows(b, table))


def test_dataset__flat_list_of_records_is_one_chunk(tmp_path, bakery):
    m = dataset.export_orders(tmp_path / "d", bakery, company_id=BAKERY, tz=MEL)
    assert m.rows("orders") == len(bakery)


# ------------------------------------------------------------------ re-export and increments


def test_dataset__re_export_of_the_same_orders_rewrites_nothing(tmp_path, harbour):
    root = tmp_path / "data"
    dataset.export_orders(root, chunks(harbour), company_id=HARBOUR, tz=SYD, listed=_listed(harbour))
    before = _files(root)
    again = dataset.export_orders(root, chunks(harbour), company_id=HARBOUR, tz=SYD,
                                  listed=_listed(harbour))  # fmt: skip
    assert again.written == ()
    assert len(again.unchanged) == 12  # 3 sites × 2 months, orders family + listed
    assert _files(root) == before
    assert dataset.read(root, "orders")["id"].is_unique


def test_dataset__a_changed_order_is_rewritten_in_place_only_its_partition(tmp_path, harbour):
    root = tmp_path / "data"
    dataset.export_orders(root, chunks(harbour), company_id=HARBOUR, tz=SYD)
    before = _files(root)
    target = next(o for o in harbour if o["site_id"] == 1202 and o["created_at"] >= "2026-05")
    pay = copy.deepcopy(target["payments"][0]) | {"number": len(target["payments"]) + 1,
                                                  "amount": 5.0, "id": 1, "id_str": "1"}  # fmt: skip
    changed = _bump(target, notes="table 12 — birthday", payments=[*target["payments"], pay])
    m = dataset.export_orders(root, [[changed]], company_id=HARBOUR, tz=SYD)
    assert sorted(m.written) == sorted(f"{t}/{HARBOUR}/1202/2026-05"
                                       for t in ("orders", "lines", "payments", "options"))  # fmt: skip
    after = _files(root)
    moved = {k for k in after if after[k] != before.get(k)}
    assert moved == {f"{t}/company_id={HARBOUR}/site_id=1202/month=2026-05/part-0.parquet"
                     for t in ("orders", "lines", "payments", "options")}  # fmt: skip
    orders = dataset.read(root, "orders")
    assert orders["id"].is_unique and len(orders) == len(harbour)
    row = orders.set_index("id").loc[target["id_str"]]
    assert row["notes"] == "table 12 — birthday"
    pays = dataset.read(root, "payments")
    mine = pays[pays["order_id"] == target["id_str"]]
    assert len(mine) == len(target["payments"]) + 1 and mine["number"].is_unique
    lines = dataset.read(root, "lines")
    assert len(lines[lines["order_id"] == target["id_str"]]) == len(target["lines"])


def test_dataset__new_orders_in_a_new_month_write_only_new_partitions(tmp_path, biz, harbour):
    root = tmp_path / "data"
    april = [o for o in harbour if o["created_at"] < "2026-05"]
    may = [o for o in harbour if o["created_at"] >= "2026-05"]
    dataset.export_orders(root, [april], company_id=HARBOUR, tz=SYD)
    before = _files(root)
    m = dataset.export_orders(root, [harbour], company_id=HARBOUR, tz=SYD)  # april again + may
    assert all("/2026-05" in p for p in m.written) and len(m.unchanged) == 3
    after = _files(root)
    assert {k: v for k, v in after.items() if k in before} == before
    assert dataset.read(root, "orders")["id"].is_unique
    assert m.rows("orders") == len(april) + len(may)


def test_dataset__an_order_received_twice_in_one_export_keeps_its_last_arrival(tmp_path, harbour):
    root = tmp_path / "data"
    first = harbour[0]
    later = _bump(first, notes="second version")
    dataset.export_orders(root, [harbour[:50], [later], harbour[:10]], company_id=HARBOUR, tz=SYD)
    orders = dataset.read(root, "orders")
    assert orders["id"].is_unique
    # the last arrival (harbour[:10] again) wins over the bumped one in between
    assert pd.isna(orders.set_index("id").loc[first["id_str"], "notes"])
    lines = dataset.read(root, "lines")
    assert len(lines[lines["order_id"] == first["id_str"]]) == len(first["lines"])


# ------------------------------------------------------------------ two companies, at once


def test_dataset__two_companies_in_threads_never_mix(tmp_path, harbour, bakery):
    root = tmp_path / "data"
    errors: list[BaseException] = []

    def run(records: list[dict[str, Any]], cid: int, tz: str) -> None:
        try:
            dataset.export_orders(root, chunks(records, 200), company_id=cid, tz=tz)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(harbour, HARBOUR, SYD)),
               threading.Thread(target=run, args=(bakery, BAKERY, MEL))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    orders = dataset.read(root, "orders")
    assert set(orders["company_id"]) == {HARBOUR, BAKERY}
    for cid, records in ((HARBOUR, harbour), (BAKERY, bakery)):
        mine = orders[orders["company_id"] == cid]
        assert set(mine["id"]) == {o["id_str"] for o in records}
        assert (mine["company_id"] == mine["company_id"].iloc[0]).all()
    assert set(dataset.manifest(str(root)).companies) == {HARBOUR, BAKERY}


def _export_in_process(root: str, records: list[dict[str, Any]], cid: int, tz: str) -> int:
    return dataset.export_orders(root, chunks(records, 100), company_id=cid, tz=tz).rows("orders")


def test_dataset__two_processes_export_two_companies_into_one_root(tmp_path, harbour, bakery):
    root = str(tmp_path / "data")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        a = pool.apply_async(_export_in_process, (root, harbour, HARBOUR, SYD))
        b = pool.apply_async(_export_in_process, (root, bakery, BAKERY, MEL))
        a.get(300), b.get(300)
    manifest = dataset.manifest(root)
    # each process's manifest update kept the other's entry (the manifest lock)
    assert manifest.companies[HARBOUR].rows("orders") == len(harbour)
    assert manifest.companies[BAKERY].rows("orders") == len(bakery)
    assert len(dataset.read(root, "orders")) == len(harbour) + len(bakery)


# ------------------------------------------------------------------ crashes


def test_dataset__a_crash_between_renames_is_finished_by_the_next_reader(tmp_path, harbour, monkeypatch):
    root = tmp_path / "data"
    dataset.export_orders(root, [harbour[:100]], company_id=HARBOUR, tz=SYD)
    real_replace = os.replace
    calls = {"n": 0}

    def dying_replace(src: Any, dst: Any) -> None:
        if ".tmp-" in str(src):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt  # the process dies half-way through the renames
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        dataset.export_orders(root, [harbour], company_id=HARBOUR, tz=SYD)
    monkeypatch.setattr(os, "replace", real_replace)
    assert list((root / ".kounta").glob("journal-*.json"))  # the commit is written down
    con = dataset.connect(root)  # finishes it (nobody holds the company's lock)
    n = con.execute("SELECT count(*), count(DISTINCT id) FROM orders").fetchone()
    assert n == (len(harbour), len(harbour))
    assert not list((root / ".kounta").glob("journal-*.json"))
    assert not list(root.glob("*/*/*/*/.*tmp-*"))
    assert dataset.manifest(str(root)).rows("orders") == len(harbour)


def test_dataset__a_failure_before_the_commit_changes_nothing_and_leaves_nothing(tmp_path, harbour):
    root = tmp_path / "data"
    dataset.export_orders(root, [harbour[:100]], company_id=HARBOUR, tz=SYD)
    before = _files(root)

    def broken() -> Any:
        yield harbour[100:300]
        raise RuntimeError("the pull failed")

    with pytest.raises(RuntimeError):
        dataset.export_orders(root, broken(), company_id=HARBOUR, tz=SYD)
    assert _files(root) == before
    assert not list((root / ".kounta" / "staging").iterdir())
    assert not list(root.glob("*/*/*/*/.*tmp-*"))
    assert len(dataset.read(root, "orders")) == 100


# ------------------------------------------------------------------ bad input, one line each


def test_dataset__bad_input_is_one_clear_error(tmp_path, harbour):
    root = tmp_path / "data"
    cases = [
        (dict(company_id=HARBOUR, tz=None), ConfigError, "time zone"),
        (dict(company_id="abc", tz=SYD), ConfigError, "company_id"),
        (dict(company_id=0, tz=SYD), ConfigError, "company_id"),
        (dict(company_id=HARBOUR, tz="Mars/Base"), ConfigError, "time zone"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words) as info:
            dataset.export_orders(root, [harbour[:5]], **kwargs)
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="no site_id"):
        dataset.export_orders(root, [[{**harbour[0], "site_id": None}]], company_id=HARBOUR, tz=SYD)
    with pytest.raises(ConfigError, match="dicts"):
        dataset.export_orders(root, [[1, 2]], company_id=HARBOUR, tz=SYD)
    with pytest.raises(ConfigError, match="without an id"):
        dataset.export_orders(root, [[{"sale_number": "X1"}]], company_id=HARBOUR, tz=SYD)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        dataset.export_orders(tmp_path / "file", [harbour[:5]], company_id=HARBOUR, tz=SYD)
    dataset.export_orders(root, [harbour[:5]], company_id=HARBOUR, tz=SYD)
    with pytest.raises(ConfigError, match="time zone Australia/Sydney"):
        dataset.export_orders(root, [harbour[:5]], company_id=HARBOUR, tz="UTC")
    with pytest.raises(DataFileError, match="not a kounta_nb dataset"):
        dataset.connect(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="Unknown dataset table"):
        dataset.read(root, "order")


def test_dataset__a_manifest_of_another_schema_version_is_refused(tmp_path, harbour):
    root = tmp_path / "data"
    dataset.export_orders(root, [harbour[:5]], company_id=HARBOUR, tz=SYD)
    data = json.loads((root / "manifest.json").read_text())
    data["schema_version"] = 0
    (root / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(DataFileError, match="schema version 0"):
        dataset.export_orders(root, [harbour[:5]], company_id=HARBOUR, tz=SYD)
    (root / "manifest.json").write_text("{not json")
    with pytest.raises(DataFileError, match="manifest"):
        dataset.export_orders(root, [harbour[:5]], company_id=HARBOUR, tz=SYD)


# ------------------------------------------------------------------ frames in chunks


def test_frames__order_tables_from_chunks_equals_one_big_call(harbour):
    parts = chunks(harbour, 333) + [[]]
    streamed = frames.order_tables_from_chunks(iter(parts), SYD, meta={"source": "test"})
    whole = frames.order_tables(harbour, SYD)
    for kind in frames.ORDER_TABLES:
        pd.testing.assert_frame_equal(streamed[kind], whole[kind])
        assert streamed[kind].attrs["meta"] == {"source": "test"}
    empty = frames.order_tables_from_chunks([], SYD)
    for kind in frames.ORDER_TABLES:
        assert list(empty[kind].dtypes.astype(str)) == list(whole[kind].dtypes.astype(str))


def test_frames__chunks_joined_a_few_at_a_time_equal_one_big_call(harbour, monkeypatch):
    # far more chunks than are joined at a time, so parts are joined in groups, then the groups;
    # an unknown status in the first chunk and one in the last that sorts before it: the
    # categories still come in the order one big frame has (the schema's, then the rest sorted)
    records = copy.deepcopy(harbour[:900])
    records[0]["status"], records[-1]["status"] = "ZZ_LEGACY", "AA_LEGACY"
    monkeypatch.setattr(frames, "_STACK_PARTS", 3)
    parts = chunks(records, 40)
    assert len(parts) > 3 * 3
    streamed = frames.order_tables_from_chunks(iter(parts), SYD)
    whole = frames.order_tables(records, SYD)
    for kind in frames.ORDER_TABLES:
        pd.testing.assert_frame_equal(streamed[kind], whole[kind])
        assert list(streamed[kind].columns) == list(whole[kind].columns)
    listed = frames.frame_from_chunks("orders", iter(parts), tz=SYD, meta={"source": "test"})
    pd.testing.assert_frame_equal(listed, frames.frame("orders", records, tz=SYD))
    assert list(listed["status"].cat.categories)[-2:] == ["AA_LEGACY", "ZZ_LEGACY"]
    assert listed.attrs == {"kind": "orders", "tz": SYD, "meta": {"source": "test"}}
    empty = frames.frame_from_chunks("orders", [], tz=SYD)
    assert list(empty.dtypes.astype(str)) == list(whole["orders"].dtypes.astype(str)) and len(empty) == 0


def test_dataset__pyarrow_dataset_reads_with_declared_partition_types(tmp_path, harbour):
    root = tmp_path / "data"
    dataset.export_orders(root, [harbour], company_id=HARBOUR, tz=SYD)
    ds = pads.dataset(root / "orders", format="parquet",
                      partitioning=pads.partitioning(dataset.PARTITION_SCHEMA, flavor="hive"))  # fmt: skip
    table = ds.to_table(filter=pads.field("site_id") == 1201)
    assert table.schema.field("site_id").type == pa.int64()
    assert table.num_rows == sum(o["site_id"] == 1201 for o in harbour)


def test_dataset__a_fixed_offset_zone_is_written_as_an_offset(tmp_path, bakery):
    from datetime import timedelta, timezone

    root = tmp_path / "data"
    dataset.export_orders(root, [bakery[:20]], company_id=BAKERY, tz=timezone(timedelta(hours=10)))
    schema = pq.read_schema(next(root.glob("orders/*/*/*/*.parquet")))
    assert schema.field("created_at").type == pa.timestamp("us", tz="+10:00")
    assert dataset.manifest(str(root)).companies[BAKERY].tz == "+10:00"
    assert len(dataset.read(root, "orders")) == 20

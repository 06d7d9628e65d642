"""The pull store without a server: each body once and compressed, bounded streaming, the schema-1
conversion, and the claims two processes share the work with."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from kounta_nb.errors import KountaWarning
from kounta_nb.pull._codec import TRAIN_AFTER
from kounta_nb.pull._storefile import SCHEMA_VERSION
from kounta_nb.pull.store import PullStore, timestamp

BASE = 2**60


def _order(i: int, *, site: int = 1201, day: int = 1, updated: str | None = None) -> dict[str, Any]:
    created = f"2026-05-{day:02d}T{8 + i % 10:02d}:{i % 60:02d}:00+10:00"
    return {
        "id": BASE + i, "id_str": str(BASE + i), "site_id": site, "status": "COMPLETE", "total": 10.0 + i,
        "created_at": created, "updated_at": updated or created, "notes": f"order {i}",
        "lines": [{"number": 1, "product": {"id": 310001 + i % 7, "name": f"Flat white {i % 7}"},
                   "quantity": 1 + i % 3, "unit_price": 4.3636, "unit_tax": 0.4364}],
        "payments": [{"number": 1, "method": {"id": 612, "name": "Card"}, "amount": 10.0 + i}],
    }


def _summary(order: dict[str, Any]) -> dict[str, Any]:
    return {k: order[k] for k in ("id", "id_str", "site_id", "status", "total", "created_at", "updated_at")}


def _fill(store: PullStore, orders: list[dict[str, Any]], key: str = "k") -> None:
    store.begin_pull(key, site=None, status="complete", since_ts=0.0, until_ts=None, slices=[(0.0, None)])
    store.record_page(key, 0.0, [_summary(o) for o in orders], [timestamp(o["created_at"]) or 0.0 for o in orders],
                      "http://x/next")
    for order in orders:
        store.save_detail(order)


def test_store__each_body_once_compressed_and_read_back_exactly(tmp_path: Path) -> None:
    store = PullStore(tmp_path / "s.sqlite")
    orders = [_order(i) for i in range(3 * TRAIN_AFTER)]
    _fill(store, orders)
    assert list(store.details([BASE + 5])) == [orders[5]]
    assert store.counts() == {"orders": len(orders), "details": len(orders), "pulls": 1}
    blobs = store._db.execute("SELECT id, body FROM details ORDER BY fetched_at").fetchall()
    # the first bodies are packed alone; a dictionary trained from them packs the rest
    assert blobs[0][1][0] == 0 and blobs[-1][1][0] == 1
    raw = sum(len(json.dumps(o, separators=(",", ":"))) for o in orders)
    assert sum(len(b) for _, b in blobs) < raw / 3
    # one row per order: saving a changed version replaces the body, it does not add one
    changed = dict(orders[0], notes="changed", updated_at="2026-05-02T09:00:00+10:00")
    store.save_detail(changed)
    assert store.counts()["details"] == len(orders)
    assert list(store.details([BASE])) == [changed]
    assert store.detail_versions([BASE]) == {BASE: ("2026-05-02T09:00:00+10:00", False)}


def test_store__iter_bodies_is_ordered_by_site_and_time_in_bounded_chunks(tmp_path: Path) -> None:
    store = PullStore(tmp_path / "s.sqlite")
    orders = [_order(i, site=1203 - i % 3, day=1 + i % 5) for i in range(250)]
    _fill(store, orders[:200], key="a")
    _fill(store, orders[150:], key="b")
    chunks = list(store.iter_bodies(chunk=32))
    assert [len(c) for c in chunks] == [32] * 7 + [26]
    flat = [o for c in chunks for o in c]
    keys = [(o["site_id"], timestamp(o["created_at"]), int(o["id_str"])) for o in flat]
    assert keys == sorted(keys) and len(set(keys)) == 250
    assert [o for c in store.iter_bodies("b", chunk=7) for o in c] == [o for o in flat if int(o["id_str"]) >= BASE + 150]
    only = [o for c in store.iter_bodies(site=1202) for o in c]
    assert only and {o["site_id"] for o in only} == {1202}
    day3 = timestamp("2026-05-03T00:00:00+10:00")
    part = [o for c in store.iter_bodies(since_ts=day3, until_ts=day3 + 86400) for o in c]  # type: ignore[operator]
    assert part and {o["created_at"][:10] for o in part} == {"2026-05-03"}
    assert list(store.iter_bodies("nothing")) == []
    with pytest.raises(ValueError, match="chunk"):
        next(store.iter_bodies(chunk=0))
    summaries = [s for c in store.iter_summaries("a", chunk=9) for s in c]
    assert len(summaries) == 200 and [s["created_at"] for s in summaries] == sorted(
        (s["created_at"] for s in summaries), reverse=True)


def test_store__in_partition_order_sorts_ids_by_site_then_time(tmp_path: Path) -> None:
    # the exporter stages a random batch of ids in this order, so a chunk lands in few partitions
    store = PullStore(tmp_path / "s.sqlite")
    orders = [_order(i, site=1203 - i % 3, day=1 + i % 5) for i in range(60)]
    _fill(store, orders[:50])
    store.record_orders("k", [_summary(o) for o in orders[50:]], [timestamp(o["created_at"]) or 0.0 for o in orders[50:]])
    asked = [int(o["id_str"]) for o in reversed(orders)] + [BASE + 999]  # 999: not in the store

    def key(o: dict[str, Any]) -> tuple[Any, ...]:
        return (o["site_id"], timestamp(o["created_at"]), int(o["id_str"]))

    assert store.in_partition_order(asked) == [int(o["id_str"]) for o in sorted(orders[:50], key=key)]
    assert store.in_partition_order(asked, listed=True) == [int(o["id_str"]) for o in sorted(orders, key=key)]
    assert store.in_partition_order([]) == []


_V1 = """
CREATE TABLE orders (id INTEGER PRIMARY KEY, created_ts REAL NOT NULL, updated_at TEXT, status TEXT,
    site_id INTEGER, total REAL, summary TEXT NOT NULL);
CREATE INDEX orders_created ON orders (created_ts);
CREATE TABLE details (id INTEGER PRIMARY KEY, updated_at TEXT, record TEXT, missing INTEGER NOT NULL DEFAULT 0,
    fetched_at REAL NOT NULL);
CREATE TABLE pulls (key TEXT PRIMARY KEY, site INTEGER, status TEXT NOT NULL, since_ts REAL NOT NULL,
    until_ts REAL, state TEXT NOT NULL, started REAL NOT NULL, finished REAL, high_water REAL);
CREATE TABLE slices (pull_key TEXT NOT NULL, lo_ts REAL NOT NULL, hi_ts REAL, next_url TEXT,
    done INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, listed INTEGER NOT NULL DEFAULT 0,
    oldest_ts REAL, PRIMARY KEY (pull_key, lo_ts));
CREATE TABLE members (pull_key TEXT NOT NULL, order_id INTEGER NOT NULL, PRIMARY KEY (pull_key, order_id))
    WITHOUT ROWID;
"""


def test_store__a_schema_1_store_is_converted_once_and_stale_keys_are_dropped(tmp_path: Path) -> None:
    """The store of the previous version is no dead end: converted in place, smaller, and a body
    that schema 1 saved under a newer *listed* updated_at is keyed by its own (so it is refetched)."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_V1)
    orders = [_order(i) for i in range(600)]
    for o in orders:
        db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", (int(o["id_str"]), timestamp(o["created_at"]),
                   o["updated_at"], o["status"], o["site_id"], o["total"], json.dumps(_summary(o))))
        db.execute("INSERT INTO members VALUES ('k', ?)", (int(o["id_str"]),))
        listed = "2026-06-01T00:00:00+10:00" if o is orders[7] else o["updated_at"]  # the poisoned row
        db.execute("INSERT INTO details VALUES (?, ?, ?, 0, ?)", (int(o["id_str"]), listed, json.dumps(o), 1.0))
    db.execute("INSERT INTO details VALUES (?, 'u', NULL, 1, 1.0)", (BASE + 999,))
    db.execute("INSERT INTO pulls VALUES ('k', NULL, 'complete', 0, NULL, 'finished', 1, 2, 3)")
    db.commit()
    db.close()
    before = path.stat().st_size

    with pytest.warns(KountaWarning, match="compact format") as seen:
        store = PullStore(path)
    assert [str(w.message) for w in seen if issubclass(w.category, KountaWarning)] == [
        m for m in (str(w.message) for w in seen) if "compact format" in m]
    assert len(seen) == 1 and "600 full orders" in str(seen[0].message)
    assert store.counts() == {"orders": 600, "details": 600, "pulls": 1}
    assert [o for c in store.iter_bodies("k") for o in c] == sorted(orders, key=lambda o: (o["created_at"], o["id"]))
    versions = store.detail_versions()
    assert versions[BASE + 7] == (orders[7]["updated_at"], False)  # its own, not the listed one
    assert versions[BASE + 999] == ("u", True)
    assert store.pull("k").state == "finished"  # type: ignore[union-attr]
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert path.stat().st_size < before  # the real figure (six months: 5x smaller) is in bench_pull
    store.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PullStore(path).close()  # converted once: no second warning


_V2 = """
CREATE TABLE dictionaries (id INTEGER PRIMARY KEY, data BLOB NOT NULL, created REAL NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, created_ts REAL NOT NULL, updated_at TEXT, status TEXT,
    site_id INTEGER, total REAL, summary BLOB NOT NULL);
CREATE INDEX orders_created ON orders (created_ts);
CREATE TABLE details (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL DEFAULT -1, created_ts REAL NOT NULL
    DEFAULT 0, updated_at TEXT, updated_ts REAL, body BLOB, missing INTEGER NOT NULL DEFAULT 0, fetched_at REAL
    NOT NULL);
CREATE INDEX details_site_created ON details (site_id, created_ts, id);
CREATE INDEX details_fetched ON details (fetched_at);
CREATE TABLE claims (order_id INTEGER PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL);
""" + _V1.split("CREATE TABLE pulls", 1)[1].join(["CREATE TABLE pulls", ""])


def test_store__a_schema_2_store_is_relaid_silently_with_every_row(tmp_path: Path) -> None:
    """Schema 2 (this round's first layout, rows keyed by order id) becomes schema 3 quietly."""
    from kounta_nb.pull._codec import Codec

    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_V2)
    codec = Codec()
    orders = [_order(i, site=1201 + i % 3) for i in range(300)]
    for o in orders:
        oid, ts = int(o["id_str"]), timestamp(o["created_at"])
        db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (oid, ts, o["updated_at"], o["status"], o["site_id"], o["total"], codec.pack(_summary(o))))
        db.execute("INSERT INTO details VALUES (?, ?, ?, ?, ?, ?, 0, 1.0)",
                   (oid, o["site_id"], ts, o["updated_at"], timestamp(o["updated_at"]), codec.pack(o)))
        db.execute("INSERT INTO members VALUES ('k', ?)", (oid,))
    db.execute("INSERT INTO pulls VALUES ('k', NULL, 'complete', 0, NULL, 'finished', 1, 2, 3)")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = PullStore(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.counts() == {"orders": 300, "details": 300, "pulls": 1}
    expected = sorted(orders, key=lambda o: (o["site_id"], o["created_at"], o["id"]))
    assert [o for c in store.iter_bodies("k", chunk=64) for o in c] == expected
    assert len(store.members("k")) == 300 and len(store.summaries("k")) == 300


def test_store__claims_share_the_work_between_owners(tmp_path: Path) -> None:
    store = PullStore(tmp_path / "s.sqlite")
    other = PullStore(tmp_path / "s.sqlite")  # a second connection, as a second process has
    order = _order(1)
    listed = order["updated_at"]
    alive = {"A": True, "B": True}

    def is_alive(owner: str) -> bool:
        return alive[owner]

    result, expires = store.claim(BASE + 1, listed, "A", lease_s=60, alive=is_alive)
    assert result == "mine" and expires > time.time() + 50
    assert other.claim(BASE + 1, listed, "B", lease_s=60, alive=is_alive)[0] == "busy"
    alive["A"] = False  # the claimer died: its claim is void at once
    assert other.claim(BASE + 1, listed, "B", lease_s=60, alive=is_alive)[0] == "mine"
    alive["A"] = True
    assert store.claim(BASE + 1, listed, "A", lease_s=60, alive=is_alive)[0] == "busy"
    other.save_detail(order, owner="B")  # stored and released in one transaction
    assert store.claim(BASE + 1, listed, "A", lease_s=60, alive=is_alive)[0] == "have"
    newer = "2026-06-01T00:00:00+10:00"
    assert store.claim(BASE + 1, newer, "A", lease_s=60, alive=is_alive)[0] == "mine"  # changed since
    store.release("A")
    assert other.claim(BASE + 2, None, "B", lease_s=0.01, alive=is_alive)[0] == "mine"
    time.sleep(0.05)
    assert store.claim(BASE + 2, None, "A", lease_s=60, alive=is_alive)[0] == "mine"  # lease lapsed
    store.save_missing(BASE + 3, listed, owner="A")
    assert other.claim(BASE + 3, listed, "B", lease_s=60, alive=is_alive)[0] == "missing"
    store.renew("A", 600)
    (left,) = store._db.execute("SELECT expires FROM claims WHERE owner = 'A'").fetchone()
    assert left > time.time() + 500
    assert os.stat(tmp_path / "s.sqlite").st_mode & 0o777 == 0o600

"""The dataset over real sockets: pulls from the sandbox exported with kounta_nb.dataset.

- the dataset equals the pull's own frames row for row, dtypes included (listed too);
- another client changes orders (PUT notes, a new payment) and the sandbox clock moves on: a
  re-run and an incremental pull, exported again, rewrite only what changed, never a duplicate;
- two logins (both sandbox companies) pulled concurrently, each under its own token's rate
  limit, exported concurrently into one dataset: the rows never mix;
- DuckDB, polars and Dask read the same totals.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support_dataset import assert_same_rows

from kounta_nb import Kounta, dataset
from kounta_nb.pull import pull_orders

FAST = 60_000  # client-side requests/minute when the sandbox does not limit
SINCE, UNTIL = "2026-05-27", "2026-05-28"  # two local days before the frozen "now"
HARBOUR, BAKERY = 51642, 61873


def _export(root: Path, job: Any, client: Kounta) -> dataset.Manifest:
    return dataset.export_orders(
        root, job.store.iter_bodies(job.key, chunk=300), company_id=client.company_id,
        tz=client.tz, pull_id=job.key, listed=job.store.iter_summaries(job.key),
    )  # fmt: skip


def test_dataset_sandbox__export_of_a_pull_equals_its_frames_and_follows_changes(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    client = Kounta.sandbox(handle=fresh_sandbox, rate_limit=FAST, cache=tmp_path / "http.sqlite")
    store = tmp_path / "pull.sqlite"
    root = tmp_path / "data"
    job = pull_orders(client, SINCE, UNTIL, store=store, progress=False, workers=8).wait(240)
    assert job.state == "finished"
    m = _export(root, job, client)
    tables = job.frames()
    assert m.rows("orders") == len(tables["orders"]) > 100
    for table in dataset.TABLES:
        assert_same_rows(dataset.read(root, table), tables[table], table, client.company_id)
    assert m.companies[client.company_id].pull_ids == [job.key]

    # another login changes two orders: new notes on one, a new payment on another
    other = Kounta.sandbox(handle=fresh_sandbox, rate_limit=FAST, cache=tmp_path / "other.sqlite")
    orders = tables["orders"].sort_values("created_at")
    noted, paid = orders.iloc[5], orders.iloc[-5]
    other.update_order(noted["id"], {"notes": "window table, birthday"})
    method = other.payment_methods()[0]["id"]
    other.add_payment(paid["id"], {"method_id": method, "amount": 4.5})

    again = pull_orders(client, SINCE, UNTIL, store=store, progress=False, workers=8).wait(240)
    before = {p: p.stat().st_ino for p in root.glob("*/*/*/*/*.parquet")}
    m2 = _export(root, again, client)
    touched = {(int(s), str(mo)) for s, mo in ((noted["site_id"], noted["date"].strftime("%Y-%m")),
                                               (paid["site_id"], paid["date"].strftime("%Y-%m")))}
    written = {(int(w.split("/")[2]), w.split("/")[3]) for w in m2.written}
    assert written == touched  # only the partitions of the changed orders were rewritten
    untouched = [p for p in before if not any(f"site_id={s}/month={mo}" in str(p) for s, mo in touched)]
    assert untouched and all(p.stat().st_ino == before[p] for p in untouched)
    now = dataset.read(root, "orders")
    assert now["id"].is_unique and len(now) == len(tables["orders"])
    assert now.set_index("id").loc[noted["id"], "notes"] == "window table, birthday"
    pays = dataset.read(root, "payments")
    mine = pays[pays["order_id"] == paid["id"]]
    assert 4.5 in mine["amount"].tolist() and mine["number"].is_unique
    assert_same_rows(dataset.read(root, "payments"), again.frames()["payments"], "payments",
                     client.company_id)  # fmt: skip

    # the clock moves a day on: an incremental pull brings new orders, exported beside the old
    fresh_sandbox.advance(86400)
    later = pull_orders(client, "last", store=store, progress=False, workers=8).wait(240)
    new_ids = {o["id_str"] for o in later.orders} - set(now["id"])
    assert new_ids
    m3 = _export(root, later, client)
    final = dataset.read(root, "orders")
    assert final["id"].is_unique
    assert set(final["id"]) == set(now["id"]) | new_ids
    assert m3.rows("orders") == len(final)
    assert len(m3.companies[client.company_id].pull_ids) == 2  # the re-run has the same key


def test_dataset_sandbox__two_companies_pulled_and_exported_concurrently(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    # each OAuth token has its own budget: 60 requests per 3 s window (time_scale 20), i.e.
    # 1,200/min, and each client paces itself at exactly that
    handle = sandbox_factory(rate_limit=True, rate_oauth=60, time_scale=20)
    per_minute = 60 * 20
    clients = {
        cid: Kounta.sandbox(handle=handle, company=cid, rate_limit=per_minute,
                            cache=tmp_path / f"http-{cid}.sqlite")  # fmt: skip
        for cid in (HARBOUR, BAKERY)
    }
    assert {cid: c.company_id for cid, c in clients.items()} == {HARBOUR: HARBOUR, BAKERY: BAKERY}
    site = {HARBOUR: 1201, BAKERY: 1301}
    jobs = {cid: pull_orders(c, "2026-05-28", site=site[cid], store=tmp_path / f"pull-{cid}.sqlite",
                             progress=False, workers=4)  # fmt: skip
            for cid, c in clients.items()}
    root = tmp_path / "data"
    errors: list[BaseException] = []

    def finish(cid: int) -> None:
        try:
            job = jobs[cid].wait(300)
            _export(root, job, clients[cid])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(cid,)) for cid in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # both pulls ran side by side, each at its own token's limit: had they shared one budget,
    # about half of the requests would have been refused; a client pacing itself at exactly the
    # limit sees at most the odd 429 at a window's edge (and retries it)
    stats = handle.stats()
    assert stats["rate_limited"] <= 0.03 * stats["requests"], stats
    for job in jobs.values():
        assert job.progress.limit_per_minute == pytest.approx(per_minute, rel=0.05)
    orders = dataset.read(root, "orders")
    for cid, job in jobs.items():
        mine = orders[orders["company_id"] == cid]
        assert set(mine["id"]) == {o["id_str"] for o in job.orders}
        assert set(mine["site_id"]) == {site[cid]}
    assert len(orders) == sum(len(j.orders) for j in jobs.values())
    lines = dataset.read(root, "lines")
    by_order = dict(zip(orders["id"], orders["company_id"], strict=True))
    assert (lines["order_id"].map(by_order) == lines["company_id"]).all()  # children never mix

    # every engine sees both companies with the same totals
    import dask.dataframe as dd
    import polars as pl

    duck = dataset.query(root, "SELECT company_id, round(sum(total), 2) AS revenue FROM orders "
                               "GROUP BY 1 ORDER BY 1")  # fmt: skip
    scan = pl.scan_parquet(str(root / "orders" / "**" / "*.parquet"), hive_partitioning=True,
                           hive_schema={"company_id": pl.Int64, "site_id": pl.Int64,
                                        "month": pl.String})  # fmt: skip
    polars = scan.group_by("company_id").agg(pl.col("total").sum()).sort("company_id").collect()
    part = {"partitioning": {"flavor": "hive", "schema": dataset.PARTITION_SCHEMA}}
    dask = dd.read_parquet(str(root / "orders"), dataset=part).groupby("company_id")[
        "total"].sum().compute().sort_index()  # fmt: skip
    pandas = orders.groupby("company_id")["total"].sum().sort_index()
    assert duck["company_id"].tolist() == [HARBOUR, BAKERY]
    for other in (polars["total"].to_numpy(), dask.to_numpy(), pandas.to_numpy()):
        np.testing.assert_allclose(duck["revenue"].to_numpy(dtype=float), other, atol=0.005)


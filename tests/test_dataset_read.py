"""Reading a dataset: DuckDB views and queries, pandas with the frames' dtypes, polars and Dask
giving the same totals; write_frame for one frame to .parquet / .csv."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from support_dataset import business, orders_of

from kounta_nb import dataset, frames
from kounta_nb.errors import ConfigError, DataFileError

HARBOUR, BAKERY = 51642, 61873
SYD, MEL = "Australia/Sydney", "Australia/Melbourne"

REVENUE_BY_SITE_DAY = """
    SELECT company_id, site_id, date, round(sum(total), 2) AS revenue, count(*) AS orders
    FROM orders GROUP BY ALL ORDER BY company_id, site_id, date
"""
TOP_PRODUCTS = """
    SELECT product_id, any_value(product_name) AS product, round(sum(line_total), 2) AS revenue
    FROM lines GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT 20
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    biz = business()
    path = tmp_path_factory.mktemp("dataset") / "data"
    dataset.export_orders(path, [orders_of(biz, HARBOUR)], company_id=HARBOUR, tz=SYD)
    dataset.export_orders(path, [orders_of(biz, BAKERY)], company_id=BAKERY, tz=MEL)
    return path


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A one-company dataset (one time zone) and the orders in it."""
    records = orders_of(business(), HARBOUR, sites=[1201])
    path = tmp_path_factory.mktemp("one") / "data"
    dataset.export_orders(path, [records], company_id=HARBOUR, tz=SYD)
    return path, records


# ------------------------------------------------------------------ DuckDB


def test_connect__views_have_the_frame_columns_then_partitions(root):
    con = dataset.connect(root)
    for table in dataset.TABLES:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        names = [c.name for c in frames.SCHEMAS["orders" if table == "listed" else table].columns]
        assert cols == names + [c for c in ("company_id", "month") if c not in names], table
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE orders)").fetchall())
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE" and types["date"] == "DATE"
    assert types["site_id"] == "BIGINT" and types["company_id"] == "BIGINT"
    assert dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE lines)").fetchall())[
        "modifiers"] == "BIGINT[]"
    # listed was never exported: an empty view with the same columns, not an error
    assert con.execute("SELECT count(*) FROM listed").fetchone() == (0,)
    n = con.execute("SELECT count(*) FROM orders WHERE company_id = ?", [BAKERY]).fetchone()
    assert n[0] == dataset.manifest(str(root)).companies[BAKERY].rows("orders")


def test_connect__one_zone_sets_the_session_zone(one):
    path, records = one
    con = dataset.connect(path)
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == (SYD,)
    # created_at::DATE is the local day, the same as the date column
    bad = con.execute("SELECT count(*) FROM orders WHERE created_at::DATE <> date").fetchone()
    assert bad == (0,)


def test_query__pandas_result_keeps_the_frames_conventions(one):
    path, records = one
    df = dataset.query(path, "SELECT o.sale_number, o.created_at, o.site_id, o.customer_id, "
                             "o.date, o.status, l.modifiers FROM orders o JOIN lines l "
                             "ON l.order_id = o.id ORDER BY o.created_at LIMIT 50")  # fmt: skip
    assert str(df["site_id"].dtype) == "Int64" and str(df["customer_id"].dtype) == "Int64"
    assert str(df["sale_number"].dtype) == "string"
    assert str(df["created_at"].dtype) == f"datetime64[us, {SYD}]"
    assert str(df["date"].dtype) == "date32[day][pyarrow]"
    assert str(df["modifiers"].dtype) == "list<item: int64>[pyarrow]"
    assert isinstance(df.loc[0, "modifiers"], list)


def test_query__polars_when_asked_and_one_line_errors(one):
    path, _ = one
    pl_df = dataset.query(path, "SELECT site_id, count(*) AS n FROM orders GROUP BY 1",
                          dataframe="polars")  # fmt: skip
    assert type(pl_df).__module__.startswith("polars")
    assert pl_df["n"].sum() == dataset.manifest(str(path)).rows("orders")
    con = dataset.connect(path)
    with pytest.raises(ConfigError, match="SQL error") as info:
        dataset.query(con, "SELECT nope FROM orders")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="pandas' or 'polars"):
        dataset.query(con, "SELECT 1", dataframe="arrow")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs an SQL"):
        dataset.query(con, "  ")
    assert dataset.query(con, "SELECT ? AS x", [7])["x"].tolist() == [7]


# ------------------------------------------------------------------ every engine, same totals


def test_engines__duckdb_pandas_polars_and_dask_agree(root):
    import dask.dataframe as dd
    import polars as pl

    duck = dataset.query(root, REVENUE_BY_SITE_DAY)
    duck_top = dataset.query(root, TOP_PRODUCTS)

    orders = dataset.read(root, "orders")
    lines = dataset.read(root, "lines")
    pandas_rev = (orders.groupby(["company_id", "site_id", "date"], observed=True)["total"]
                  .agg(["sum", "count"]).reset_index())  # fmt: skip
    pandas_top = lines.groupby("product_id")["line_total"].sum().round(2)
    pandas_top = pandas_top.sort_values(ascending=False, kind="stable").head(20)

    hive = {"company_id": pl.Int64, "site_id": pl.Int64, "month": pl.String}
    scan = pl.scan_parquet(str(root / "orders" / "**" / "*.parquet"), hive_partitioning=True,
                           hive_schema=hive)  # fmt: skip
    polars_rev = (scan.group_by(["company_id", "site_id", "date"])
                  .agg(pl.col("total").sum().round(2).alias("revenue"), pl.len().alias("orders"))
                  .sort(["company_id", "site_id", "date"]).collect())  # fmt: skip

    part = {"partitioning": {"flavor": "hive", "schema": dataset.PARTITION_SCHEMA}}
    dask_orders = dd.read_parquet(str(root / "orders"), dataset=part)
    dask_rev = dask_orders.groupby(["company_id", "site_id"])["total"].sum().compute()
    dask_lines = dd.read_parquet(str(root / "lines"), dataset=part)
    dask_top = dask_lines.groupby("product_id")["line_total"].sum().compute()

    # revenue by site × day: DuckDB = pandas = polars, to the cent, with the same row counts
    assert len(duck) == len(pandas_rev) == polars_rev.height > 10
    np.testing.assert_allclose(duck["revenue"].to_numpy(dtype=float),
                               pandas_rev["sum"].round(2).to_numpy(), atol=0.005)  # fmt: skip
    np.testing.assert_allclose(duck["revenue"].to_numpy(dtype=float),
                               polars_rev["revenue"].to_numpy(), atol=0.005)  # fmt: skip
    assert duck["orders"].tolist() == pandas_rev["count"].tolist() == polars_rev["orders"].to_list()
    assert [d.isoformat() for d in duck["date"]] == [d.isoformat() for d in polars_rev["date"]]
    # …and Dask's per-site totals are DuckDB's summed over days
    by_site = duck.groupby(["company_id", "site_id"])["revenue"].sum()
    for (cid, sid), total in by_site.items():
        assert dask_rev.loc[(cid, sid)] == pytest.approx(total, abs=0.05)
    # top-20 products by revenue: the same products and amounts everywhere
    assert duck_top["product_id"].tolist() == pandas_top.index.tolist()
    np.testing.assert_allclose(duck_top["revenue"].to_numpy(dtype=float), pandas_top.to_numpy(),
                               atol=0.005)  # fmt: skip
    dask_top = dask_top.round(2).loc[duck_top["product_id"].tolist()]
    np.testing.assert_allclose(dask_top.to_numpy(), duck_top["revenue"].to_numpy(dtype=float),
                               atol=0.005)  # fmt: skip


def test_read__two_zones_read_in_utc_and_filters_narrow_partitions(root):
    orders = dataset.read(root, "orders")
    assert str(orders["created_at"].dtype) == "datetime64[us, UTC]"  # two companies, two zones
    bakery = dataset.read(root, "orders", company_id=BAKERY)
    assert set(bakery["site_id"]) == {1301} and set(bakery["company_id"]) == {BAKERY}
    may = dataset.read(root, "lines", company_id=HARBOUR, site_id=1202, months=["2026-05"])
    assert set(may["month"]) == {"2026-05"} and set(may["site_id"]) == {1202}
    assert (may["created_at"].dt.tz_convert(SYD).dt.month == 5).all()
    assert may.attrs["kind"] == "lines"


def test_read__the_local_date_survives_parquet_as_a_date(one):
    path, records = one
    orders = dataset.read(path, "orders")
    assert isinstance(orders.loc[0, "date"], date)
    local = orders["created_at"].dt.tz_convert(SYD).dt.date
    assert (orders["date"].astype(object) == local).all()


# ------------------------------------------------------------------ write_frame


def test_write_frame__parquet_keeps_every_dtype_and_attrs(tmp_path, one):
    _, records = one
    for kind, df in frames.order_tables(records[:40], SYD, meta={"endpoint": "orders"}).items():
        path = dataset.write_frame(df, tmp_path / "out" / f"{kind}.parquet")
        back = dataset.read_frame(path)
        pd.testing.assert_frame_equal(back, df)
        assert back.attrs == df.attrs
        # every reader opens it: plain pyarrow → pandas too (lists as arrays, the rest exact)
        plain = pq.read_table(path).to_pandas()
        assert len(plain) == len(df)
        assert plain.drop(columns=[c for c in df if "list" in str(df[c].dtype)]).dtypes.astype(
            str).to_dict() == df.drop(columns=[c for c in df if "list" in str(df[c].dtype)]
                                      ).dtypes.astype(str).to_dict()  # fmt: skip
    products = frames.frame("products", [{"id": 1, "name": "Latte"},
                                         {"id": 2, "name": "Flat white", "tags": [],
                                          "categories": [{"id": 7}]}])  # fmt: skip
    back = dataset.read_frame(dataset.write_frame(products, tmp_path / "p.parquet"))
    assert pd.isna(back.loc[0, "category_ids"]) and back.loc[1, "category_ids"] == [7]
    assert back.loc[1, "tags"] == []


def test_write_frame__csv_lists_as_json_na_empty_iso_times(tmp_path, one):
    _, records = one
    lines = frames.frame("lines", records[:30], tz=SYD)
    path = dataset.write_frame(lines, tmp_path / "lines.csv")
    text = path.read_text(encoding="utf-8")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back.columns) == list(lines.columns)
    for got, want in zip(back["modifiers"], lines["modifiers"], strict=True):
        assert json.loads(got) == want  # JSON, not a Python or numpy repr
    assert "array(" not in text and "' '" not in text
    assert back.loc[0, "created_at"] == lines.loc[0, "created_at"].isoformat()
    products = frames.frame("products", [{"id": 1, "name": "Latte"}, {"id": 2, "tags": ["a b"]}])
    back = pd.read_csv(dataset.write_frame(products, tmp_path / "p.csv"), dtype=str,
                       keep_default_na=False)  # fmt: skip
    assert back.loc[0, "tags"] == "" and json.loads(back.loc[1, "tags"]) == ["a b"]
    grouped = lines.groupby("product_name")["line_total"].sum()
    back = pd.read_csv(dataset.write_frame(grouped, tmp_path / "g.csv"))
    assert list(back.columns) == ["product_name", "line_total"]  # a meaningful index is kept


def test_write_frame__polars_and_bad_paths(tmp_path):
    import polars as pl

    path = dataset.write_frame(pl.DataFrame({"a": [1, 2], "b": [[1], []]}), tmp_path / "x.parquet")
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]
    with pytest.raises(ConfigError, match=r"\.parquet or \.csv"):
        dataset.write_frame(pd.DataFrame({"a": [1]}), tmp_path / "x.xlsx")
    with pytest.raises(ConfigError, match="DataFrames"):
        dataset.write_frame([1, 2], tmp_path / "x.csv")
    with pytest.raises(ConfigError, match="is a directory"):
        (tmp_path / "d.csv").mkdir()
        dataset.write_frame(pd.DataFrame({"a": [1]}), tmp_path / "d.csv")
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(DataFileError, match="Cannot create the folder"):
        dataset.write_frame(pd.DataFrame({"a": [1]}), tmp_path / "plain" / "x.csv")
    assert not list(tmp_path.glob(".*tmp"))

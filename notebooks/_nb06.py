"""Cells of 06-big-data.ipynb (see _build.py)."""

CELLS = [
    ("md", r"""
# Beyond one DataFrame: a Parquet dataset, SQL, Dask and polars

`job.frames()` loads every order of a pull into pandas: fine for a few months of a few venues, not
for a group with twenty venues and two years of sales (millions of orders) on a 2 GB Binder. This
notebook keeps the data **on disk**, in the format the data tools share, and brings to memory only
what a question needs:

1. pull **two companies at the same time** (one login each, each under its own rate limit);
2. write both into one **Parquet dataset**, partitioned by company, venue and month, which grows
   while the pulls run (streamed from the pull store a chunk of orders at a time);
3. ask it questions in SQL with **`%kounta sql`** (DuckDB reads only the columns and partitions a
   query touches);
4. read the very same files with **Dask** and **polars** — and get the same totals to the cent.
"""),
    ("md", r"""
## Parameters

`MONTHS` is the period to pull. The automated checks of this project set `KOUNTA_NB_FAST=1`, which
shortens it to a week. The sandbox has no rate limit, hence `SANDBOX_RATE`; on a real account leave
the client at its default, which keeps under Kounta's 180 requests a minute per login.
"""),
    ("code", r"""
import os

MONTHS = 3
FAST = os.environ.get("KOUNTA_NB_FAST") == "1"
PERIOD_DAYS = 7 if FAST else round(MONTHS * 30.4)
SANDBOX_RATE = 30_000  # requests per minute; the sandbox does not limit them
""", {"tags": ["parameters"]}),
    ("code", r"""
import warnings
from datetime import timedelta

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from kounta_nb import Kounta, dataset, settings
from kounta_nb.pull import pull_orders

# Where `%kounta sql` looks unless `%config Kounta.dataset` says otherwise: beside the HTTP cache
# and the pull stores.
DATA = settings.cache_dir() / "dataset"
"""),
    ("md", r"""
## 1. Two companies, pulled at once, into one dataset

The sandbox's demo login reaches two companies: a group of three venues and a single bakery. Each
gets its own login (`Kounta.sandbox(company=…)` goes through the consent page, as a person would,
and picks that company) and its own pull; both run in the background at the same time. On a real
account each login has its own rate limit, so two companies take as long as the bigger one.

`export=DATA` writes what each pull has fetched into the dataset as it goes (every minute or so),
and once more at the end: a pull is done when the dataset holds all of it.
"""),
    ("code", r"""
clients = {name: Kounta.sandbox(company=name, rate_limit=SANDBOX_RATE)
           for name in ("Harbour Lane Hospitality", "Brunswick Street Bakehouse")}
jobs = {}
for name, k in clients.items():
    until = pd.Timestamp.now(tz=k.tz).normalize().to_pydatetime()
    jobs[name] = pull_orders(k, until - timedelta(days=PERIOD_DAYS), until, progress=True, export=DATA)
for name, job in jobs.items():
    job.wait()
    print(f"{name} (company {clients[name].company_id}): {job.progress.summary()}")
"""),
    ("md", r"""
## 2. The dataset on disk

The export streams each company's orders out of its pull store, 500 at a time, into Hive-style
partitions:

```
dataset/manifest.json
dataset/<table>/company_id=<id>/site_id=<id>/month=<YYYY-MM>/part-0.parquet
```

with the tables `orders`, `lines`, `payments`, `options` (from the full orders) and `listed` (the
abridged list items), with exactly the columns and types of the DataFrames `kounta_nb` returns
elsewhere (time zones, nullable integers, categories, lists).
"""),
    ("code", r"""
files = sorted(DATA.rglob("*.parquet"))
size = sum(f.stat().st_size for f in files) / 2**20
print(f"{len(files)} Parquet files, {size:,.1f} MiB; the orders table:")
for f in sorted((DATA / "orders").rglob("*.parquet")):
    print("  ", f.relative_to(DATA.parent))
manifest = dataset.manifest(DATA)
print({table: f"{manifest.rows(table):,} rows" for table in manifest.tables})
"""),
    ("md", r"""
Exporting again — after an incremental pull, say — rewrites only the partitions in which an order
is new or has changed, replacing that order's rows: a row is never there twice. Nothing changed
here, so nothing is rewritten:
"""),
    ("code", r"""
again = jobs["Harbour Lane Hospitality"].export(DATA)
print(f"Exported again: {len(again.written)} partitions rewritten; {again.rows('orders'):,} order rows, "
      f"as before ({manifest.rows('orders'):,})")
assert not again.written and again.rows("orders") == manifest.rows("orders")
"""),
    ("md", r"""
## 3. SQL with `%kounta sql`

`%kounta sql` (one line) and `%%kounta sql` (a cell) run DuckDB over the dataset's views `orders`,
`lines`, `payments`, `options` and `listed` — every company in it — and return a pandas DataFrame
(`%config Kounta.dataframe = "polars"` for polars). DuckDB reads only the columns and the
partitions a query needs, so the dataset can be far bigger than memory.
"""),
    ("code", r"""
%load_ext kounta_nb
"""),
    ("code", r"""
by_site = %kounta sql SELECT company_id, site_id, count(*) AS orders, round(sum(total), 2) AS revenue FROM orders GROUP BY ALL ORDER BY ALL
names = {site["id"]: site["name"] for k in clients.values() for site in k.sites()}
by_site.assign(venue=by_site["site_id"].map(names))
"""),
    ("code", r"""
%%kounta sql
-- The ten best-selling products over both companies: lines of sales only (no refunds, nothing deleted)
SELECT l.product_name,
       sum(l.quantity)              AS units,
       round(sum(l.line_total), 2)  AS revenue
FROM lines AS l
JOIN orders AS o ON o.company_id = l.company_id AND o.id = l.order_id
WHERE NOT coalesce(o.is_refund, false) AND NOT coalesce(o.deleted, false)
GROUP BY l.product_name
ORDER BY revenue DESC
LIMIT 10
"""),
    ("code", r"""
# `date` is each order's local day at its venue; the pulls cover whole local days, so no point
# stands for a cut-short period.
daily = %kounta sql SELECT date AS day, site_id, sum(total) AS revenue FROM orders GROUP BY ALL ORDER BY ALL
table = (daily.assign(venue=daily["site_id"].map(names), day=pd.to_datetime(daily["day"]))
         .pivot_table(index="day", columns="venue", values="revenue", aggfunc="sum").fillna(0))
ax = table.plot(figsize=(9, 3.8), marker="o" if len(table) < 15 else None)
ax.set_title("Revenue per day, both companies, straight from the dataset")
ax.set_xlabel("")
ax.set_ylim(bottom=0)
ax.yaxis.set_major_formatter(StrMethodFormatter("${x:,.0f}"))
ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside, not over, the lines
plt.tight_layout()
plt.show()
"""),
    ("md", r"""
Two companies' rows never mix: every venue belongs to exactly one company, and the partitions
carry the company id.
"""),
    ("code", r"""
mixed = %kounta sql SELECT site_id FROM orders GROUP BY site_id HAVING count(DISTINCT company_id) > 1
per_company = %kounta sql SELECT company_id, count(DISTINCT site_id) AS venues, count(*) AS orders FROM orders GROUP BY ALL ORDER BY ALL
assert mixed.empty and len(per_company) == 2
per_company
"""),
    ("md", r"""
## 4. The same files, other engines

The dataset is plain Parquet with Hive partitions, so anything that reads Parquet reads it. Revenue
per venue from **Dask** (partitioned, out-of-core, and the way to a cluster), **polars** (a lazy
scan), **pandas** (`dataset.read`, with exactly the frames' types) and DuckDB above:
"""),
    ("code", r"""
import dask.dataframe as dd
import polars as pl

# Dask with pandas 3.1 warns about its own use of reset_index(inplace=True): not ours to fix.
warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.reset_index")

hive = {"partitioning": {"flavor": "hive", "schema": dataset.PARTITION_SCHEMA}}
dask_revenue = (dd.read_parquet(str(DATA / "orders"), dataset=hive)
                .groupby(["company_id", "site_id"])["total"].sum().compute())

polars_revenue = (pl.scan_parquet(str(DATA / "orders" / "**" / "*.parquet"), hive_partitioning=True,
                                  hive_schema={"company_id": pl.Int64, "site_id": pl.Int64, "month": pl.String})
                  .group_by(["company_id", "site_id"]).agg(pl.col("total").sum()).collect())

pandas_revenue = dataset.read(DATA, "orders").groupby(["company_id", "site_id"], observed=True)["total"].sum()

engines = by_site.set_index(["company_id", "site_id"])[["revenue"]].rename(columns={"revenue": "DuckDB"})
engines["pandas"] = pandas_revenue
engines["polars"] = polars_revenue.to_pandas().set_index(["company_id", "site_id"])["total"]
engines["Dask"] = dask_revenue
assert np.allclose(engines.to_numpy(dtype=float), engines[["DuckDB"]].to_numpy(dtype=float), atol=0.005)
print("DuckDB, pandas, polars and Dask agree to the cent on every venue's revenue.")
engines.round(2)
"""),
    ("md", r"""
Spark reads it the same way (not run here):

```python
orders = spark.read.parquet(str(DATA / "orders"))      # company_id, site_id, month come from the paths
orders.groupBy("company_id", "site_id").sum("total").show()
```

## How this scales

- **Pulling is bound by the API**, not by this machine: each login may make about 180 requests a
  minute, and every order's lines cost one request. So a pull scales *across companies*: one job
  per company (one login each), on as many machines as you like, each writing only its own
  `company_id=` partitions — they never overlap.
- **Analysis scales with the engine** that reads the dataset: DuckDB on a laptop for tens of
  millions of rows, Dask or Spark on a cluster beyond that, reading the same files.
- **Memory stays bounded while exporting**: the export holds one chunk of orders (2,000) at a time.
"""),
    ("code", r"""
for k in clients.values():
    k.close()
"""),
]

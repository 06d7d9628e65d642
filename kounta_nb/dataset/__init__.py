"""Orders on disk as a Parquet dataset any engine can read, and DuckDB on top.

>>> from kounta_nb import dataset
>>> m = dataset.export_orders("data", job.store.iter_bodies(job.key), company_id=k.company_id,
...                           tz=k.tz, listed=job.store.iter_summaries(job.key))
>>> con = dataset.connect("data")                       # views orders, lines, payments, options, listed
>>> dataset.query(con, "SELECT site_id, date, sum(total) FROM orders GROUP BY ALL")
>>> dataset.read("data", "lines", company_id=51642)     # pandas, exactly the frames' dtypes
>>> dataset.write_frame(df, "sales.parquet")            # one frame → .parquet / .csv

Layout (Hive partitioning; the partition columns live in the path only)::

    data/manifest.json
    data/<table>/company_id=<id>/site_id=<id>/month=<YYYY-MM>/part-0.parquet

Tables ``orders``, ``lines``, ``payments``, ``options`` (from full orders) and ``listed`` (the
abridged list items), each with exactly the columns and Arrow types of its
:mod:`kounta_nb.frames` kind (see :mod:`kounta_nb.frames.arrow`). An export streams: one chunk of
orders in memory, one partition at a time when merging. Exporting again (or an incremental
pull) rewrites only partitions where an order is new or its ``updated_at`` changed, replacing
that order's rows — never a duplicate. Files are replaced atomically and an export is all or
nothing (a journal finishes an interrupted one); exports of different companies into one
directory may run at once (file locks). See ``docs/dataset.md``.
"""

from __future__ import annotations

from ._export import export_orders
from ._layout import PARTITION_SCHEMA, SCHEMA_VERSION, TABLES
from ._manifest import CompanyEntry, Manifest, load_manifest
from ._read import arrow_to_pandas, connect, query, read
from ._write import read_frame, write_frame

__all__ = [
    "PARTITION_SCHEMA",
    "SCHEMA_VERSION",
    "TABLES",
    "CompanyEntry",
    "Manifest",
    "arrow_to_pandas",
    "connect",
    "export_orders",
    "load_manifest",
    "manifest",
    "query",
    "read",
    "read_frame",
    "write_frame",
]


def manifest(root: str) -> Manifest:
    """The manifest of the dataset at ``root`` (what it holds: companies, sites, period, rows)."""
    from pathlib import Path

    return load_manifest(Path(root).expanduser())

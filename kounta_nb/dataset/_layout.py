"""Where everything lives in a dataset directory, and the Arrow schema of each table's files.

::

    root/
      manifest.json                      what the dataset holds (see _manifest.py)
      orders/company_id=51642/site_id=1201/month=2026-05/part-0.parquet
      lines/…   payments/…   options/…   listed/…          (same partitions)
      .kounta/locks/…  .kounta/journal-…json  .kounta/staging/…   (internal; dot-names are
                                                                   skipped by every reader)

Partition columns live in the path only (the Hive convention Spark, Dask, DuckDB and polars
follow): the files hold every other column of the frame, with the frame's exact Arrow types.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..files import private_dir
from ..frames.arrow import arrow_schema

__all__ = [
    "DATA_FILE",
    "KIND",
    "PARTITION_SCHEMA",
    "SCHEMA_VERSION",
    "TABLES",
    "file_schema",
    "internal_dir",
    "make_dir",
    "partition_dir",
    "partition_key",
    "read_file",
    "release_arrow_memory",
]

#: Bumped whenever a table's columns or types change: a dataset written with another version is
#: not mixed with new files (the export says to start a new directory).
SCHEMA_VERSION = 1

#: The tables of a dataset, and the frame kind each one holds.
KIND: dict[str, str] = {
    "orders": "orders",
    "lines": "lines",
    "payments": "payments",
    "options": "options",
    "listed": "orders",  # every abridged order a list page returned (the pull's ``listed``)
}
TABLES: tuple[str, ...] = tuple(KIND)

#: The partition columns and their types, as readers should declare them.
PARTITION_SCHEMA = pa.schema(
    [("company_id", pa.int64()), ("site_id", pa.int64()), ("month", pa.string())]
)

DATA_FILE = "part-0.parquet"


def file_schema(table: str, tz: Any) -> pa.Schema:
    """The Arrow schema of ``table``'s files: the frame's columns minus the partition columns."""
    return arrow_schema(KIND[table], tz, drop=("company_id", "site_id"))


def read_file(path: Path, columns: list[str] | None = None, schema: pa.Schema | None = None) -> pa.Table:
    """One staging or partition file, read on the calling thread, then :func:`release_arrow_memory`.

    Not on Arrow's thread pools (``use_threads=False``, no ``pre_buffer``): a file here is one
    site-month of one company, a few MB, so the pools buy no speed, but each pool thread that
    decodes a column allocates from a heap of its own in Arrow's bundled allocator (mimalloc in
    pyarrow >= 21), which keeps the pages it freed resident (apache/arrow#47266). Exporting the
    six-month benchmark store in a fresh process (81,863 orders, 42 partition merges), the
    threaded reads raised RSS by 100-140 MB while Arrow's pool never held more than 9 MB at once.
    """
    table = pq.read_table(path, columns=columns, schema=schema, use_threads=False, pre_buffer=False)
    release_arrow_memory()
    return table


def release_arrow_memory() -> None:
    """Hand back the pages Arrow's allocator kept after a step of an export (a file read, a
    staged chunk, a partition table written), before the next step allocates again.

    mimalloc keeps freed pages resident in a per-thread heap for reuse, and the Parquet reader's
    and writer's own buffers come from Arrow's process-wide default pool whatever pool pyarrow is
    given, so the way to give them back is the pool's ``release_unused`` on the thread that used
    them (this one). With the single-threaded reads of :func:`read_file` and this after each step,
    the export above peaks at 233 MB instead of 300-356 MB; a merge of a full partition still
    rises ~20-40 MB and falls back (with ``ARROW_DEFAULT_MEMORY_POOL=system``: ~10). Cheap
    (milliseconds); jemalloc and the system allocator purge or trim the same way.
    """
    pa.default_memory_pool().release_unused()


def partition_key(site_id: int, month: str) -> str:
    """``"1201/2026-05"``: how the manifest names a partition."""
    return f"{site_id}/{month}"


def partition_dir(root: Path, table: str, company_id: int, site_id: int, month: str) -> Path:
    return root / table / f"company_id={company_id}" / f"site_id={site_id}" / f"month={month}"


def internal_dir(root: Path, *parts: str) -> Path:
    """A directory under ``root/.kounta`` (created 0700)."""
    return make_dir(root.joinpath(".kounta", *parts))


def make_dir(path: Path) -> Path:
    """Create ``path`` and missing parents 0700 (customer data); an existing directory is left as
    it is (a root the user chose, e.g. a shared project folder, keeps its mode)."""
    if path.is_dir():
        return path
    missing = []
    for level in (path, *path.parents):
        if level.is_dir():
            break
        missing.append(level)
    for level in reversed(missing):  # each level 0700, not only the last one
        private_dir(level)
    return path


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

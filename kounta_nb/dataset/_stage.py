"""Staging: chunks of orders → typed Arrow rows, split by partition, appended to staging files.

Nothing here is visible to readers: staging files live under ``root/.kounta/staging/`` and are
merged into the dataset (``_merge``) only once every chunk is in. Memory holds one chunk at a
time; each partition's rows go straight to a Parquet writer on disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import frames
from ..errors import ConfigError
from ..frames.arrow import to_arrow
from ._layout import KIND, file_schema, read_file, release_arrow_memory

__all__ = ["SEQ", "Stage", "iter_chunks"]

#: Staging-only column: the arrival number of the order a row belongs to (the last arrival of an
#: order wins when one export receives it twice).
SEQ = "_seq"
_MAX_OPEN = 48  # staging writers kept open at once (unsorted input touches many partitions)
_FAMILY = ("orders", "lines", "payments", "options")


def iter_chunks(source: Any, size: int = 5000) -> Iterator[list[Mapping[str, Any]]]:
    """Chunks (lists of records) from chunks, from a flat iterable of records, or from one record."""
    if source is None:
        return
    if isinstance(source, Mapping):
        yield [source]
        return
    if isinstance(source, (str, bytes)) or not isinstance(source, Iterable):
        raise ConfigError(
            f"Expected chunks of order records (lists of dicts), got {type(source).__name__}."
        )
    buf: list[Mapping[str, Any]] = []
    for item in source:
        if isinstance(item, Mapping):
            buf.append(item)
            if len(buf) >= size:
                yield buf
                buf = []
        elif isinstance(item, (list, tuple)):
            if buf:
                yield buf
                buf = []
            if item:
                yield list(item)
        else:
            raise ConfigError(
                f"Expected order records (dicts) or chunks of them, got a {type(item).__name__}."
            )
    if buf:
        yield buf


def _order_key(record: Mapping[str, Any]) -> str:
    if not isinstance(record, Mapping):
        raise ConfigError(
            f"Expected order records (dicts) in each chunk, got a {type(record).__name__}."
        )
    value = record.get("id_str")
    if value in (None, ""):
        value = record.get("id")
    if value in (None, "") or isinstance(value, bool):
        raise ConfigError(
            f"An order without an id cannot go into a dataset (sale {record.get('sale_number')!r})."
        )
    return str(value)


def _dedupe(chunk: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The chunk with each order once (its last occurrence), in arrival order."""
    try:  # the common case, at C speed: every record a dict with an id_str
        keys = list(map(itemgetter("id_str"), chunk))
        if None in keys or "" in keys:
            raise KeyError("id_str")
    except (KeyError, TypeError):
        keys = [_order_key(r) for r in chunk]
    if len(set(keys)) == len(keys):
        return chunk
    by_id = dict(zip(keys, chunk, strict=True))
    return list(by_id.values())


@dataclass
class _Writer:
    path: Path
    writer: pq.ParquetWriter


@dataclass
class Stage:
    """The staging area of one export: ``root/.kounta/staging/<company>-<token>/``."""

    directory: Path
    tz: Any
    files: dict[tuple[str, int, str], list[Path]] = field(default_factory=dict)
    rows_in: dict[str, int] = field(default_factory=dict)
    _seq: int = 0
    _open: OrderedDict[tuple[str, int, str], _Writer] = field(default_factory=OrderedDict)
    _schemas: dict[str, pa.Schema] = field(default_factory=dict)

    def schema(self, table: str) -> pa.Schema:
        """The staging schema of ``table``: its file schema plus :data:`SEQ`."""
        if table not in self._schemas:
            self._schemas[table] = file_schema(table, self.tz).append(pa.field(SEQ, pa.int64()))
        return self._schemas[table]

    # ------------------------------------------------------------------ adding rows

    def add_orders(self, chunk: list[Mapping[str, Any]]) -> None:
        """Full orders → rows of orders, lines, payments and options, by partition."""
        recs = _dedupe(chunk)
        tables = frames.order_tables(recs, self.tz)
        orders = tables["orders"]
        codes, keys = _partitions(orders)
        seqs = np.arange(self._seq, self._seq + len(orders), dtype=np.int64)
        self._seq += len(orders)
        position = pd.Index(orders["id"].astype(object))
        for table in _FAMILY:
            df = tables[table]
            if table == "orders":
                rows = np.arange(len(df))
            else:
                rows = position.get_indexer(df["order_id"].astype(object))
            self._put(table, df, codes[rows], keys, seqs[rows])
        release_arrow_memory()

    def add_listed(self, chunk: list[Mapping[str, Any]]) -> None:
        """Abridged orders (list items) → rows of ``listed``, by partition."""
        recs = _dedupe(chunk)
        df = frames.frame("orders", recs, tz=self.tz)
        codes, keys = _partitions(df)
        seqs = np.arange(self._seq, self._seq + len(df), dtype=np.int64)
        self._seq += len(df)
        self._put("listed", df, codes, keys, seqs)
        release_arrow_memory()

    def _put(
        self,
        table: str,
        df: pd.DataFrame,
        codes: np.ndarray,
        keys: list[tuple[int, str]],
        seqs: np.ndarray,
    ) -> None:
        self.rows_in[table] = self.rows_in.get(table, 0) + len(df)
        if not len(df):
            return
        arrow = to_arrow(df, KIND[table], self.tz, drop=("company_id", "site_id"))
        arrow = arrow.append_column(SEQ, pa.array(seqs, type=pa.int64()))
        for code, (site, month) in enumerate(keys):
            rows = np.flatnonzero(codes == code)
            if len(rows):
                part = arrow if len(rows) == len(df) else arrow.take(pa.array(rows))
                self._writer(table, site, month).writer.write_table(part)

    def _writer(self, table: str, site: int, month: str) -> _Writer:
        key = (table, site, month)
        open_ = self._open.get(key)
        if open_ is not None:
            self._open.move_to_end(key)
            return open_
        while len(self._open) >= _MAX_OPEN:
            _, oldest = self._open.popitem(last=False)
            oldest.writer.close()
        paths = self.files.setdefault(key, [])
        path = self.directory / f"{table}-{site}-{month}-{len(paths)}.parquet"
        paths.append(path)
        writer = _Writer(path, pq.ParquetWriter(path, self.schema(table), compression="lz4"))
        self._open[key] = writer
        return writer

    # ------------------------------------------------------------------ reading back

    def close(self) -> None:
        """Close every staging writer (their files become readable)."""
        while self._open:
            _, w = self._open.popitem(last=False)
            w.writer.close()

    def partitions(self, tables: tuple[str, ...]) -> list[tuple[int, str]]:
        """The (site, month) partitions any of ``tables`` received, sorted."""
        return sorted({(s, m) for (t, s, m) in self.files if t in tables})

    def read(self, table: str, site: int, month: str, columns: list[str] | None = None) -> pa.Table:
        """Every staged row of one table's partition (empty with the staging schema if none)."""
        schema = self.schema(table)
        paths = self.files.get((table, site, month), [])
        parts = [read_file(p, columns=columns, schema=schema) for p in paths]
        if not parts:
            names = columns or schema.names
            return pa.schema([schema.field(n) for n in names]).empty_table()
        return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _partitions(orders: pd.DataFrame) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Each order's partition as a code into a list of ``(site_id, "YYYY-MM")``."""
    site = orders["site_id"]
    day = orders["date"]
    bad = site.isna() | day.isna()
    if bad.any():
        first = orders.loc[bad[bad].index[0]]
        what = "site_id" if pd.isna(first["site_id"]) else "created_at"
        raise ConfigError(
            f"Order {first['id']} (sale {first['sale_number']}) has no {what}: a dataset places "
            "every order by site and month, so it cannot go in."
        )
    year = day.dt.year.to_numpy(dtype=np.int64)
    month = day.dt.month.to_numpy(dtype=np.int64)
    combined = site.to_numpy(dtype=np.int64) * 1_000_000 + year * 100 + month
    codes, uniques = pd.factorize(combined)
    keys = [(int(u) // 1_000_000, f"{(int(u) % 1_000_000) // 100:04d}-{int(u) % 100:02d}") for u in uniques]
    return np.asarray(codes), keys

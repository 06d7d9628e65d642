"""Reading a dataset back: DuckDB views (``connect``/``query``) and pandas frames (``read``).

DuckDB is the embedded engine: :func:`connect` opens an in-memory database with one view per
table over every company's files (Hive partitioning, partition types declared), so a query reads
only the columns and partitions it needs. :func:`read` gives a pandas frame with exactly the
dtypes :mod:`kounta_nb.frames` gives (pyarrow dataset, partition columns typed).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from .. import frames
from ..errors import ConfigError, DataFileError
from ..frames.arrow import arrow_schema
from ._export import recover_all
from ._layout import KIND, PARTITION_SCHEMA, TABLES
from ._manifest import MANIFEST, load_manifest

if TYPE_CHECKING:
    import duckdb

__all__ = ["arrow_to_pandas", "connect", "query", "read"]

_HIVE_TYPES = "{'company_id': BIGINT, 'site_id': BIGINT, 'month': VARCHAR}"


def _existing_root(root: Any) -> Path:
    if not isinstance(root, (str, os.PathLike)) or not str(root).strip():
        raise ConfigError(f"The dataset root must be a directory path, not {root!r}.")
    path = Path(root).expanduser()
    if not (path / MANIFEST).is_file():
        raise DataFileError(
            f"{path} is not a kounta_nb dataset (no {MANIFEST}): export one first, e.g. "
            "job.export(path) or kounta_nb.dataset.export_orders(path, …).",
            path,
        )
    return path


def _columns(table: str) -> list[str]:
    """A table's columns in the frame's order, then the partition columns the frame lacks."""
    names = [c.name for c in frames.SCHEMAS[KIND[table]].columns]
    return names + [c for c in ("company_id", "month") if c not in names]


def _view_schema(table: str, tz: Any) -> pa.Schema:
    base = arrow_schema(KIND[table], tz)
    extra = [PARTITION_SCHEMA.field(c) for c in ("company_id", "month") if c not in base.names]
    return pa.schema([*[base.field(n) for n in base.names], *extra])


def _zone(root: Path) -> str | None:
    """The one time zone every company of the dataset shares (None when they differ)."""
    zones = {entry.tz for entry in load_manifest(root).companies.values()}
    return zones.pop() if len(zones) == 1 else None


def connect(root: str | os.PathLike[str], *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``orders``, ``lines``, ``payments``, ``options`` and
    ``listed`` over every company of the dataset at ``root``.

    Views have the frame's columns in its order plus ``company_id`` and ``month`` (the partition
    columns). Timestamps are ``TIMESTAMPTZ``; the session's ``TimeZone`` is the companies' zone when
    they share one, so ``created_at::DATE`` and ``date_trunc`` are local. ``date`` is the local
    day (``DATE``). A table with no files yet is an empty view with the same columns.
    """
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - duckdb is in the sql and test extras
        raise ConfigError(
            "DuckDB is not installed: pip install 'kounta_nb[sql]' (or duckdb)."
        ) from exc
    path = _existing_root(root)
    recover_all(path)
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    zone = _zone(path)
    if zone:
        # a DuckDB build without ICU time zones keeps UTC (timestamps stay right, shown in UTC)
        with contextlib.suppress(duckdb.Error):
            con.execute(f"SET TimeZone = '{_sql_text(zone)}'")
    for table in TABLES:
        columns = ", ".join(f'"{c}"' for c in _columns(table))
        files = list((path / table).glob("company_id=*/site_id=*/month=*/*.parquet"))
        if files:
            glob = _sql_text(str(path / table / "*" / "*" / "*" / "*.parquet"))
            source = (
                f"read_parquet('{glob}', hive_partitioning = true, hive_types = {_HIVE_TYPES})"
            )
        else:
            empty = _view_schema(table, zone or "UTC").empty_table()
            con.register(f"_empty_{table}", empty)
            source = f"_empty_{table}"
        con.execute(f'CREATE VIEW "{table}" AS SELECT {columns} FROM {source}')
    return con


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _to_arrow(result: Any) -> pa.Table:
    """A DuckDB result as an Arrow table, across DuckDB versions (1.1 … 2.x)."""
    # to_arrow_table since DuckDB 1.4; .arrow() before (a reader, not a table, after)
    table = result.to_arrow_table() if hasattr(result, "to_arrow_table") else result.arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    return table


_MAPPED: dict[pa.DataType, Any] = {
    pa.int8(): pd.Int64Dtype(), pa.int16(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(),
    pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(),
}  # fmt: skip


def _types_mapper(typ: pa.DataType) -> Any:
    if typ in _MAPPED:
        return _MAPPED[typ]
    if pa.types.is_date32(typ) or pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return pd.ArrowDtype(typ)
    return None


def _plain_lists(table: pa.Table) -> pa.Table:
    """List columns with the standard child name (DuckDB names it ``l``; frames say ``item``)."""
    fields, renamed = [], False
    for f in table.schema:
        if pa.types.is_list(f.type) and f.type.value_field.name != "item":
            fields.append(pa.field(f.name, pa.list_(f.type.value_type), f.nullable))
            renamed = True
        else:
            fields.append(f)
    return table.cast(pa.schema(fields, metadata=table.schema.metadata)) if renamed else table


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table → pandas with the frames' conventions: nullable ``Int64``/``boolean``,
    ``string``, dates and lists as Arrow dtypes, time zones kept."""
    return _plain_lists(table).to_pandas(types_mapper=_types_mapper)


def query(
    con_or_root: Any,
    sql: str,
    params: list[Any] | None = None,
    *,
    dataframe: Literal["pandas", "polars"] = "pandas",
) -> Any:
    """Run ``sql`` on a :func:`connect` connection (or a dataset root) → a pandas DataFrame
    (nullable ints, ``string``, tz-aware timestamps), or a polars DataFrame with
    ``dataframe="polars"``."""
    if dataframe not in ("pandas", "polars"):
        raise ConfigError(f"dataframe must be 'pandas' or 'polars', not {dataframe!r}.")
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError("query needs an SQL statement, e.g. SELECT site_id, sum(total) FROM orders GROUP BY 1.")
    own = not hasattr(con_or_root, "execute")
    con = connect(con_or_root) if own else con_or_root
    try:
        import duckdb

        try:
            result = con.sql(sql, params=params) if params else con.sql(sql)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"SQL error: {first}") from None
        if result is None:
            return None
        table = _to_arrow(result)
        if dataframe == "polars":
            try:
                import polars as pl
            except ImportError as exc:
                raise ConfigError("polars is not installed: pip install 'kounta_nb[polars]'.") from exc
            return pl.from_arrow(table)
        return arrow_to_pandas(table)
    finally:
        if own:
            con.close()


def read(
    root: str | os.PathLike[str],
    table: str = "orders",
    *,
    company_id: int | None = None,
    site_id: int | None = None,
    months: list[str] | None = None,
) -> pd.DataFrame:
    """One table of the dataset as a pandas frame with exactly the frame's dtypes and columns
    (``company_id`` and ``month`` added where the frame has none), read with only the
    partitions asked for. Timestamps are in the companies' zone (UTC if they differ)."""
    if table not in TABLES:
        raise ConfigError(f"Unknown dataset table {table!r}: choose one of {', '.join(TABLES)}.")
    path = _existing_root(root)
    recover_all(path)
    zone = _zone(path) or "UTC"
    schema = _view_schema(table, zone)
    files = sorted((path / table).glob("company_id=*/site_id=*/month=*/*.parquet"))
    if not files:
        return _frame_dtypes(schema.empty_table(), table, zone, path)
    partitioning = pads.partitioning(PARTITION_SCHEMA, flavor="hive")
    data = pads.dataset([str(f) for f in files], format="parquet", partitioning=partitioning,
                        partition_base_dir=str(path / table))  # fmt: skip
    cond = None
    for name, value in (("company_id", company_id), ("site_id", site_id)):
        if value is not None:
            term = pads.field(name) == int(value)
            cond = term if cond is None else cond & term
    if months:
        term = pads.field("month").isin([str(m) for m in months])
        cond = term if cond is None else cond & term
    arrow = data.to_table(filter=cond).select(schema.names).cast(schema)
    return _frame_dtypes(arrow, table, zone, path)


def _frame_dtypes(arrow: pa.Table, table: str, zone: str, path: Path) -> pd.DataFrame:
    """Arrow rows of ``table`` → pandas with the frame's dtypes (as :func:`frames.empty` has them)."""
    like = frames.empty(KIND[table], zone)
    out = arrow.to_pandas(types_mapper=_types_mapper)
    for col in out.columns:
        if col in like.columns:
            want = like[col].dtype
            if isinstance(want, pd.CategoricalDtype):
                known = list(want.categories)
                seen = sorted(set(out[col].dropna().astype(str)) - set(known))
                out[col] = pd.Categorical(out[col].astype(object), categories=[*known, *seen],
                                          ordered=want.ordered)  # fmt: skip
            elif out[col].dtype != want:
                out[col] = out[col].astype(want)
        elif col == "company_id":
            out[col] = out[col].astype("Int64")
        elif col == "month":
            out[col] = out[col].astype("string")
    frames.stamp(out, KIND[table], zone, {"dataset": str(path), "table": table})
    return out

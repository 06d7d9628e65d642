"""``write_frame``: one DataFrame to a ``.parquet`` or ``.csv`` file, for foreground reads
(``%kounta orders --since 30d --to sales.parquet``).

Parquet keeps every dtype (nullable ints, ``string``, categoricals, tz-aware timestamps, dates,
Arrow lists) and ``df.attrs`` (provenance): :func:`read_frame` gives the same frame back, and
``pd.read_parquet`` too except that list columns come back as object columns of arrays (their
pandas metadata is written so that every reader — pyarrow, Dask, Spark — can open the file).
CSV writes lists as JSON (``[829, 830]``, ``["a@x.test"]``), not Python reprs, NA as an empty
field, and timestamps as ISO 8601 with their offset. Both are written to a hidden file beside
the target and renamed over it: a failed write never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError, DataFileError
from ..frames.arrow import portable

__all__ = ["read_frame", "write_frame"]

_FORMATS = (".parquet", ".csv")


def write_frame(df: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to ``path`` (``.parquet`` or ``.csv``, by its suffix); returns the path.

    Parent directories are created. A polars DataFrame is written as well (through Arrow).
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ConfigError(f"write_frame needs a file path ending in .parquet or .csv, not {path!r}.")
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in _FORMATS:
        raise ConfigError(
            f"write_frame writes .parquet or .csv files, not {target.suffix or 'no suffix'!r} "
            f"({target.name})."
        )
    frame = _as_pandas(df)
    if target.is_dir():
        raise ConfigError(f"{target} is a directory; give a file name ending in {suffix}.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFileError(f"Cannot create the folder {target.parent}: {exc.strerror}.", target) from exc
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
    os.close(fd)
    try:
        if suffix == ".parquet":
            _parquet(frame, tmp)
        else:
            _csv(frame, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise DataFileError(f"Cannot write {target}: {exc.strerror or exc}.", target) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _as_pandas(df: Any) -> pd.DataFrame:
    if isinstance(df, pd.DataFrame):
        return df
    if isinstance(df, pd.Series):
        return df.to_frame()
    to_pandas = getattr(df, "to_pandas", None)  # polars (and pyarrow) frames
    if callable(to_pandas) and hasattr(df, "columns"):
        out = to_pandas()
        if isinstance(out, pd.DataFrame):
            return out
    raise ConfigError(f"write_frame writes DataFrames, not {type(df).__name__}.")


def _keeps_index(df: pd.DataFrame) -> bool:
    """A meaningful index (a groupby result, a date index) is written; a plain 0…n-1 one is not."""
    index = df.index
    return not (
        isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    )


def _parquet(df: pd.DataFrame, tmp: str) -> None:
    table = portable(pa.Table.from_pandas(df, preserve_index=_keeps_index(df)))
    if df.attrs:
        try:
            attrs = json.dumps(df.attrs)
        except (TypeError, ValueError):
            attrs = None
        if attrs is not None:
            # the key pandas itself uses, so pd.read_parquet restores df.attrs
            meta = dict(table.schema.metadata or {})
            meta[b"PANDAS_ATTRS"] = attrs.encode()
            table = table.replace_schema_metadata(meta)
    pq.write_table(table, tmp, compression="zstd")


def _json_cell(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "tolist"):  # numpy arrays (lists read back from Parquet)
        value = value.tolist()
    return json.dumps(value, default=str, ensure_ascii=False)


def _csv(df: pd.DataFrame, tmp: str) -> None:
    out = df.copy()
    for name in out.columns:
        col = out[name]
        dtype = col.dtype
        is_list = isinstance(dtype, pd.ArrowDtype) and (
            pa.types.is_list(dtype.pyarrow_dtype) or pa.types.is_large_list(dtype.pyarrow_dtype)
            or pa.types.is_struct(dtype.pyarrow_dtype)
        )
        if not is_list and dtype == np.dtype(object):
            sample = col.dropna()
            is_list = bool(len(sample)) and isinstance(sample.iloc[0], (list, dict, tuple))
            is_list = is_list or (bool(len(sample)) and hasattr(sample.iloc[0], "tolist"))
        if is_list:
            out[name] = pd.Series([_json_cell(v) for v in col], index=col.index, dtype=object)
        elif isinstance(dtype, pd.DatetimeTZDtype) or (
            hasattr(dtype, "kind") and getattr(dtype, "kind", "") == "M"
        ):
            out[name] = pd.Series(
                [None if pd.isna(v) else v.isoformat() for v in col], index=col.index, dtype=object
            )
    out.to_csv(tmp, index=_keeps_index(df), encoding="utf-8")


def _nested_only(typ: pa.DataType) -> Any:
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return pd.ArrowDtype(pa.list_(typ.value_type))
    return None


def read_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A file :func:`write_frame` wrote, back as the same frame (dtypes, list columns, attrs)."""
    source = Path(path).expanduser()
    if source.suffix.lower() != ".parquet":
        raise ConfigError(f"read_frame reads .parquet files, not {source.name!r}.")
    try:
        table = pq.read_table(source)
    except FileNotFoundError as exc:
        raise DataFileError(f"{source} does not exist.", source) from exc
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataFileError(f"{source} is not a readable Parquet file ({exc}).", source) from exc
    df = table.to_pandas(types_mapper=_nested_only)
    for name in df.columns:
        dtype = df[name].dtype
        if isinstance(dtype, pd.DatetimeTZDtype) and not isinstance(dtype.tz, ZoneInfo):
            # older pyarrow hands back pytz zones; frames use zoneinfo (equal dtypes, equal frames)
            with contextlib.suppress(ValueError, KeyError):
                df[name] = df[name].dt.tz_convert(ZoneInfo(str(dtype.tz)))
    raw = (table.schema.metadata or {}).get(b"PANDAS_ATTRS")
    if raw:
        with contextlib.suppress(ValueError):
            df.attrs = json.loads(raw)
    return df

"""The frames' dtypes as an Arrow schema, so a frame written to Parquet reads back exactly.

======================== ==================================================================
pandas dtype             Arrow / Parquet type
======================== ==================================================================
``Int64``                ``int64`` (nullable)
``string``               ``string`` (UTF-8)
``float64``              ``double``
``boolean``              ``bool`` (nullable)
``category``             ``dictionary<int32, string>`` (``weekday``: ordered)
``datetime64[us, tz]``   ``timestamp[us, tz]`` (Parquet: UTC instants; the zone travels in the
                         Arrow schema metadata)
``date32[day][pyarrow]`` ``date32`` (Parquet ``DATE``)
``list<…>[pyarrow]``     ``list<int64>`` / ``list<string>``
======================== ==================================================================
"""

from __future__ import annotations

import functools
import json
from datetime import timezone
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa

from ._build import resolve_tz, schema_of
from ._convert import TS_UNIT, list_type
from .schemas import Col

__all__ = ["arrow_schema", "arrow_type", "portable", "to_arrow", "zone_name"]

_PLAIN: dict[str, pa.DataType] = {
    "id": pa.int64(), "int": pa.int64(), "len": pa.int64(),
    "bigid": pa.string(), "str": pa.string(), "join": pa.string(),
    "float": pa.float64(), "money": pa.float64(), "price": pa.float64(), "sum": pa.float64(),
    "bool": pa.bool_(), "date": pa.date32(),
}  # fmt: skip


def zone_name(tz: Any) -> str:
    """The zone as Arrow writes it: an IANA name, or a fixed offset ``+10:00``; UTC for None."""
    zone = resolve_tz(tz)
    if zone is None:
        return "UTC"
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None)
    if isinstance(zone, timezone) and offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return str(zone)


def arrow_type(col: Col, tz: Any = None) -> pa.DataType:
    """The Arrow type of one column (timestamps in ``tz``, UTC when None)."""
    if col.type in _PLAIN:
        return _PLAIN[col.type]
    if col.type == "timestamp":
        return pa.timestamp(TS_UNIT, tz=zone_name(tz))
    if col.type == "category":
        # ordered when the categories are a fixed scale (weekday), as the frame's dtype is
        return pa.dictionary(pa.int32(), pa.string(), ordered=col.name == "weekday")
    return list_type(col.item)  # list, keys


def arrow_schema(kind: str, tz: Any = None, *, drop: tuple[str, ...] = ()) -> pa.Schema:
    """The Arrow schema of frames of ``kind`` (minus the columns in ``drop``)."""
    return pa.schema(
        [pa.field(c.name, arrow_type(c, tz)) for c in schema_of(kind).columns if c.name not in drop]
    )


def to_arrow(df: pd.DataFrame, kind: str, tz: Any = None, *, drop: tuple[str, ...] = ()) -> pa.Table:
    """A frame of ``kind`` → an Arrow table with :func:`arrow_schema` (and pandas metadata, so
    ``pd.read_parquet`` gives back the same dtypes; see :func:`portable` for list columns)."""
    schema = _schema_with_metadata(kind, zone_name(tz) if tz is not None else None, drop)
    # column by column: every frames dtype converts straight to its Arrow type; the pandas
    # metadata is the same for every frame of a kind, so it is made once (below), not per call
    arrays = [pa.array(df[f.name], type=f.type, from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


@functools.lru_cache(maxsize=64)
def _schema_with_metadata(kind: str, tz: str | None, drop: tuple[str, ...]) -> pa.Schema:
    from . import empty  # the package's public constructor (imported late: it imports us)

    schema = arrow_schema(kind, tz, drop=drop)
    like = empty(kind, tz)[schema.names]
    return portable(pa.Table.from_pandas(like, schema=schema, preserve_index=False)).schema


def _nested(typ: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_struct(typ)
        or pa.types.is_map(typ)
    )  # fmt: skip


def portable(table: pa.Table) -> pa.Table:
    """``table`` with pandas metadata every reader understands.

    pandas records a list column's dtype as ``list<item: int64>[pyarrow]``, a string that
    ``pandas_dtype`` itself cannot parse, so ``pyarrow.Table.to_pandas()`` and Dask fail on such
    files. Those columns are described as plain object columns instead (what pandas writes for
    Python lists); :func:`kounta_nb.dataset.read` and ``read_frame`` give them back as Arrow lists.
    """
    meta = table.schema.metadata or {}
    raw = meta.get(b"pandas")
    if raw is None:
        return table
    info = json.loads(raw)
    changed = False
    for col in info.get("columns", []):
        name = col.get("field_name") or col.get("name")
        nested = name in table.schema.names and _nested(table.schema.field(name).type)
        if nested and col.get("numpy_type") != "object":
            col["numpy_type"] = "object"
            col["pandas_type"] = "object"
            col["metadata"] = None
            changed = True
    if not changed:
        return table
    return table.replace_schema_metadata({**meta, b"pandas": json.dumps(info).encode()})

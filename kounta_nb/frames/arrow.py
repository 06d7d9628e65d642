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

from typing import Any

import pandas as pd
import pyarrow as pa

from ._build import resolve_tz, schema_of
from ._convert import TS_UNIT, list_type
from .schemas import Col

__all__ = ["arrow_schema", "arrow_type", "to_arrow"]

_PLAIN: dict[str, pa.DataType] = {
    "id": pa.int64(), "int": pa.int64(), "len": pa.int64(),
    "bigid": pa.string(), "str": pa.string(), "join": pa.string(),
    "float": pa.float64(), "money": pa.float64(), "price": pa.float64(), "sum": pa.float64(),
    "bool": pa.bool_(), "date": pa.date32(),
}  # fmt: skip


def arrow_type(col: Col, tz: Any = None) -> pa.DataType:
    """The Arrow type of one column (timestamps in ``tz``, UTC when None)."""
    if col.type in _PLAIN:
        return _PLAIN[col.type]
    if col.type == "timestamp":
        zone = resolve_tz(tz)
        return pa.timestamp(TS_UNIT, tz=str(zone) if zone is not None else "UTC")
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
    ``pd.read_parquet`` gives back the same dtypes)."""
    schema = arrow_schema(kind, tz, drop=drop)
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)

"""The conversion: records → rows (``_extract``) → one typed array per column (``_convert``) →
derived columns (``_derive``) → the DataFrame, constructed once in the schema's column order.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._convert import convert, ragged_lists, ragged_sums
from ._derive import DERIVE
from ._extract import column_values, flat_items, levels_of, list_source
from .schemas import SCHEMAS, Schema

__all__ = ["as_records", "build", "jsonable", "resolve_tz", "schema_of"]


_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


def resolve_tz(tz: Any) -> tzinfo | None:
    """``None``, a ``tzinfo``, an IANA name or a fixed offset (``"+10:00"``, as Arrow writes one)
    → ``tzinfo`` (ConfigError for an unknown zone)."""
    if tz is None or isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str) and (offset := _OFFSET.fullmatch(tz.strip())):
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (KeyError, ValueError) as exc:
            raise ConfigError(
                f"Unknown time zone {tz!r}: use an IANA name such as 'Australia/Sydney'."
            ) from exc
    raise ConfigError(f"tz must be a time zone name or tzinfo, not {type(tz).__name__}.")


def schema_of(kind: str) -> Schema:
    """The schema for ``kind``; ConfigError naming the valid kinds otherwise."""
    try:
        return SCHEMAS[kind]
    except (KeyError, TypeError):
        raise ConfigError(
            f"Unknown frame kind {kind!r}: choose one of {', '.join(sorted(SCHEMAS))}."
        ) from None


def as_records(records: Any) -> list[Any]:
    """A list of records from a list, a tuple, a single record (detail) or ``None``."""
    if records is None:
        return []
    if isinstance(records, Mapping):
        return [records]
    if isinstance(records, (list, tuple)):
        return list(records)
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise ConfigError(f"Expected a list of records (dicts), got {type(records).__name__}.")
    return list(records)


def build(kind: str, records: Any, tz: Any = None) -> pd.DataFrame:
    """Records → the typed frame of ``kind`` (no attrs)."""
    schema = schema_of(kind)
    zone = resolve_tz(tz)
    recs = as_records(records)
    levels = levels_of(recs, schema)
    n = len(levels[0])
    data: dict[str, Any] = {}
    raw: dict[str, list[Any]] = {}
    for col in schema.columns:
        if col.derived:
            continue
        src = list_source(col) if col.type in ("list", "sum") else None
        if src is not None:
            flat, counts, absent = flat_items(src, levels)
            if col.type == "list":
                data[col.name] = ragged_lists(flat, counts, absent, col.item)
            else:
                data[col.name] = ragged_sums(flat, counts, absent)
            continue
        vals = column_values(col, levels)
        if col.type == "timestamp":
            raw[col.name] = vals
        data[col.name] = convert(col, vals, zone)
    df = pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
    derive = DERIVE.get(kind)
    if derive is not None:
        derive(df, raw, levels[0], zone)
    return df[[c.name for c in schema.columns]]


# --------------------------------------------------------------------------- attrs


_SECRET_KEYS = ("token", "secret", "password", "authorization", "cookie")


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A JSON-safe copy of provenance metadata; keys that look secret are dropped."""
    if _depth > 8:
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, tzinfo):
        return str(value)
    if isinstance(value, Mapping):
        return {
            str(k): jsonable(v, _depth + 1)
            for k, v in value.items()
            if not any(s in str(k).lower() for s in _SECRET_KEYS)
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, _depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), _depth + 1)
    if hasattr(value, "_asdict"):
        return jsonable(value._asdict(), _depth + 1)
    if isinstance(value, np.generic):
        return jsonable(value.item(), _depth + 1)
    return str(value)

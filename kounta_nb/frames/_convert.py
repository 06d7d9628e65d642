"""Raw JSON values of one column → a typed array, one vectorised call per column.

Each converter tries the fast path first (pyarrow's or numpy's own conversion of the whole list,
which refuses anything unexpected) and only then converts value by value with the scalar rules
below — e.g. ``"3.0"`` mixed with ``""`` in a money column, or a float where an id was expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .schemas import Col

__all__ = [
    "TS_UNIT", "convert", "list_type", "ragged_lists", "ragged_sums", "strings", "to_bool",
    "to_float", "to_int", "to_str",
]  # fmt: skip

TS_UNIT = "us"
_ARROW_ITEM = {"int": pa.int64(), "str": pa.string()}
_FAST_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


# --------------------------------------------------------------------------- one value


def to_int(v: Any) -> int | None:
    """An int64 from an int, a whole float or a numeric string; ``None`` otherwise."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if -(2**63) <= v < 2**63 else None
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    if isinstance(v, str):
        s = v.strip()
        try:
            return to_int(int(s))
        except ValueError:
            try:
                return to_int(float(s))
            except ValueError:
                return None
    return None


def to_float(v: Any) -> float:
    """A float from a number or a numeric string; NaN otherwise."""
    if v is None or isinstance(v, bool):
        return math.nan
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return math.nan
    return math.nan


def to_bigid(v: Any) -> str | None:
    """A 64-bit id as exact text: strings as given, ints written out in full."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None


def to_str(v: Any) -> str | None:
    """Text as given (``""`` → ``None``); numbers written out (``1.0`` → ``"1"``)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v or None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    return None


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def to_bool(v: Any) -> bool | None:
    """A bool from a bool, 0/1 or ``"true"``/``"false"``-like text; ``None`` otherwise."""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
        return bool(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    return None


# --------------------------------------------------------------------------- one column


def _inferred(vals: list[Any], *wanted: pa.DataType) -> pa.Array | None:
    """pyarrow's own conversion when it infers one of ``wanted`` (or all-null), else ``None``.

    Inference instead of a target type: pyarrow would silently truncate 1.5 to 1 for int64.
    """
    try:
        arr = pa.array(vals)
    except _FAST_ERRORS:
        return None
    if arr.type in wanted:
        return arr
    if pa.types.is_null(arr.type):
        return arr.cast(wanted[0])
    return None


def ints(vals: list[Any]) -> Any:
    arr = _inferred(vals, pa.int64())
    if arr is None:
        arr = pa.array([to_int(v) for v in vals], type=pa.int64())
    return pd.Int64Dtype().__from_arrow__(arr)


def floats(vals: list[Any], decimals: int | None = None) -> np.ndarray:
    try:
        arr = np.array(vals, dtype="float64")
    except (TypeError, ValueError):
        arr = np.array([to_float(v) for v in vals], dtype="float64")
    if arr.ndim != 1:  # lists where scalars were expected
        arr = np.array([to_float(v) for v in vals], dtype="float64")
    if decimals is not None:
        arr = np.round(arr, decimals)
    return arr


def _blank_to_null(arr: pa.Array, vals: list[Any]) -> pa.Array:
    if "" in vals:
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return arr


def _string_array(vals: list[Any]) -> pa.Array:
    arr = _inferred(vals, pa.string())
    if arr is None:
        return pa.array([to_str(v) for v in vals], type=pa.string())
    return _blank_to_null(arr, vals)


def strings(vals: list[Any]) -> Any:
    """The ``string`` dtype (``""`` becomes NA)."""
    return pd.StringDtype().__from_arrow__(_string_array(vals))


def bigids(vals: list[Any]) -> Any:
    arr = _inferred(vals, pa.string())
    if arr is None:
        arr = pa.array([to_bigid(v) for v in vals], type=pa.string())
    else:
        arr = _blank_to_null(arr, vals)
    return pd.StringDtype().__from_arrow__(arr)


def bools(vals: list[Any]) -> Any:
    arr = _inferred(vals, pa.bool_())
    if arr is None:
        arr = pa.array([to_bool(v) for v in vals], type=pa.bool_())
    return pd.BooleanDtype().__from_arrow__(arr)


def categorical(vals: list[Any], known: tuple[str, ...]) -> pd.Categorical:
    """Known values first, then any others seen (sorted), kept as written."""
    encoded = _string_array(vals).dictionary_encode()
    seen: list[str] = encoded.dictionary.to_pylist()
    categories = [*known, *sorted(set(seen) - set(known))]
    position = {c: i for i, c in enumerate(categories)}
    # codes of the dictionary's values in `categories`; the extra last slot (-1) stands for null
    remap = np.array([*(position[v] for v in seen), -1], dtype=np.int64)
    indices = encoded.indices.fill_null(len(seen)).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(remap[indices], categories=categories)


def timestamps(vals: list[Any], tz: tzinfo | str | None) -> pd.DatetimeIndex:
    clean = np.array([v if type(v) is str and v else None for v in vals], dtype=object)
    if not len(clean):
        idx = pd.DatetimeIndex([], dtype=f"datetime64[{TS_UNIT}, UTC]")
    else:
        # Child rows repeat their parent's stamp (every line of an order): parse each text once.
        codes, uniques = pd.factorize(clean)
        parsed = pd.DatetimeIndex(
            pd.to_datetime(
                np.asarray(uniques, dtype=object), utc=True, format="ISO8601", errors="coerce"
            )
        ).as_unit(TS_UNIT)
        idx = parsed.take(codes, allow_fill=True, fill_value=pd.NaT)
    return idx.tz_convert(tz) if tz is not None else idx


def list_type(item: str | None) -> pa.DataType:
    """The Arrow type of a list column whose elements are ``item`` (``"int"`` or ``"str"``)."""
    return pa.list_(_ARROW_ITEM[item or "str"])


def lists(vals: list[Any], item: str | None) -> Any:
    """Lists (or ``None`` = the record does not carry the field) → an Arrow list column.

    ``None`` elements are dropped; elements are converted to ``item`` (ints or text), dropping
    those that are not one. A present empty list stays ``[]``; an absent one is NA.
    """
    typ = list_type(item)
    arr = _inferred(vals, typ)
    if arr is not None and arr.type == typ and pc.list_flatten(arr).null_count == 0:
        return pd.ArrowDtype(typ).__from_arrow__(arr)
    one = to_int if item == "int" else to_str
    clean: list[list[Any] | None] = []
    for v in vals:
        if type(v) is list:
            items = [one(x) for x in v if x is not None]
            clean.append([x for x in items if x is not None])
        else:
            clean.append(None)
    return pd.ArrowDtype(typ).__from_arrow__(pa.array(clean, type=typ))


def ragged_lists(flat: list[Any], counts: list[int], absent: list[bool], item: str | None) -> Any:
    """An Arrow list column from ragged items (see ``_extract.flat_items``): ``None`` items and
    items that are not ``item`` (ints / text) are dropped; rows without a list are NA."""
    typ = list_type(item)
    values = _inferred(flat, typ.value_type)
    if values is None:
        one = to_int if item == "int" else to_str
        values = pa.array([one(x) for x in flat], type=typ.value_type)
    sizes = np.asarray(counts, dtype=np.int64)
    if values.null_count:
        keep = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        kept = np.concatenate([[0], np.cumsum(keep)])
        ends = np.cumsum(sizes)
        sizes = kept[ends] - kept[ends - sizes]
        values = values.filter(pa.array(keep))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    arr = pa.ListArray.from_arrays(
        pa.array(offsets), values, type=typ, mask=pa.array(np.asarray(absent, dtype=bool))
    )
    return pd.ArrowDtype(typ).__from_arrow__(arr)


def ragged_sums(flat: list[Any], counts: list[int], absent: list[bool]) -> np.ndarray:
    """Per-row sums of ragged numbers (NaN for rows without a list, 0 for an empty one)."""
    values = floats(flat)
    sizes = np.asarray(counts, dtype=np.int64)
    out = np.zeros(len(sizes), dtype="float64")
    full = sizes > 0
    if full.any():
        starts = (np.cumsum(sizes) - sizes)[full]
        out[full] = np.add.reduceat(values, starts)  # segment by segment: exact per row
    out[np.asarray(absent, dtype=bool)] = np.nan
    return np.round(out, 6)


def _sum(v: Any) -> float:
    if type(v) is not list:
        return math.nan
    if len(v) == 1 and type(v[0]) is float:
        return v[0]
    return math.fsum(to_float(x) for x in v)


def convert(col: Col, vals: list[Any], tz: tzinfo | str | None) -> Any:
    """The typed array of ``col`` from its raw values (see the type table in ``schemas``)."""
    t = col.type
    if t == "id" or t == "int":
        return ints(vals)
    if t == "bigid":
        return bigids(vals)
    if t == "money":
        return floats(vals, 2)
    if t == "price":
        return floats(vals, 4)
    if t == "float":
        return floats(vals)
    if t == "str":
        return strings(vals)
    if t == "category":
        return categorical(vals, col.categories)
    if t == "bool":
        return bools(vals)
    if t == "timestamp":
        return timestamps(vals, tz)
    if t == "list":
        return lists(vals, col.item)
    if t == "sum":
        return np.round(np.array([_sum(v) for v in vals], dtype="float64"), 6)
    if t == "len":
        return pd.array([len(v) if isinstance(v, list) else None for v in vals], dtype="Int64")
    if t == "join":
        return strings(
            [", ".join(str(x) for x in v if x) if isinstance(v, list) else None for v in vals]
        )
    if t == "keys":
        return lists([[str(k) for k in v] if isinstance(v, Mapping) else None for v in vals], "str")
    raise AssertionError(t)  # unreachable: Col validates its type

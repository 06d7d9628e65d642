"""Records (lists of dicts in the API's JSON shape) → tidy, typed pandas DataFrames.

>>> from kounta_nb import frames
>>> orders = frames.frame("orders", client.orders(since="2026-05-01"), tz=client.tz)
>>> tables = frames.order_tables(full_orders, tz=client.tz)   # orders, lines, payments, options

The columns of every kind are declared as data in :mod:`kounta_nb.frames.schemas`. The rules:

- ids are nullable ``Int64``; order, line, payment and reconciliation ids (and the foreign keys
  that point at them) are ``string``, taken from ``id_str`` when present, else written out exactly;
- timestamps are tz-aware: parsed as UTC from any offset, then converted to ``tz`` when given;
- money is ``float64`` rounded to cents (unit prices to 4 places); ints, floats and numeric
  strings (``"3.0"``) are accepted, ``""`` and garbage become NaN;
- text is ``string``: numeric-looking values (postal codes, barcodes, ledger codes, phone numbers,
  sale numbers) stay text, ``""`` becomes NA;
- ``status``, ``order_type`` and payment ``method`` are categoricals: the documented values first,
  then any other value seen, kept as written (an old ``COMPLETED`` stays ``COMPLETED``);
- lists (tags, e-mail addresses, modifiers, tax ids) are Arrow list columns
  (``list<int64>[pyarrow]`` / ``list<string>[pyarrow]``; each cell reads as a Python list). A field
  the record does not carry is **NA, not** ``[]`` (list items are abridged: a product list item has
  no ``categories``, so its ``category_ids`` is NA); a present empty list stays ``[]``;
  address lines are joined with ", ";
- ``date`` (orders) is the local calendar day, ``date32[day][pyarrow]``: a date with no time and
  no zone, the day in ``tz`` (or, without ``tz``, in the offset each timestamp is written with —
  the company's). It reads back from Parquet as the same type and is ``DATE`` in SQL engines;
- columns come in the order a person reads them: identity, time and money first
  (``sale_number, created_at, site_id, total, …``), columns that are empty on list items or only
  serve joins (``id``, ``company_id``, ``line_id``) last;
- missing keys give NA, never ``KeyError``; an empty input gives the same columns and dtypes;
- ``df.attrs`` holds ``kind``, ``tz`` and ``meta`` (provenance: endpoint, filters, fetched_at,
  request stats), always JSON-serialisable.

:func:`describe` documents every column; :func:`order_tables_from_chunks` builds the four order
tables from a stream of chunks (bounded memory: no dict per order kept alive), and
:func:`frame_from_chunks` one frame of any kind;
:func:`kounta_nb.frames.arrow.arrow_schema` gives the Arrow/Parquet schema of each kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ._build import as_records, build, jsonable, resolve_tz, schema_of
from .docs import column_doc
from .schemas import ORDER_STATUSES, SCHEMAS, WEEKDAYS, Col, Schema

__all__ = [
    "KINDS",
    "ORDER_STATUSES",
    "ORDER_TABLES",
    "WEEKDAYS",
    "SCHEMAS",
    "Col",
    "Schema",
    "as_records",
    "concat",
    "describe",
    "empty",
    "frame",
    "frame_from_chunks",
    "order_tables",
    "order_tables_from_chunks",
    "resolve_tz",
    "stamp",
]

#: Every frame kind, in the order of :data:`SCHEMAS`.
KINDS: tuple[str, ...] = tuple(SCHEMAS)

#: The four tables a list of full orders becomes.
ORDER_TABLES: tuple[str, ...] = ("orders", "lines", "payments", "options")


def frame(
    kind: str,
    records: Any,
    *,
    tz: Any = None,
    meta: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Convert ``records`` (a list of API records, or one record) into the typed frame ``kind``.

    Child kinds (``lines``, ``payments``, ``options``, ``product_prices``, ``product_categories``,
    ``breaks``, ``reconciliation_takings``, ``reconciliation_income``, ``price_list_products``)
    accept either their parents (full orders, products, shifts, reconciliations …) or the child
    records themselves. ``tz`` (IANA name or tzinfo) converts every timestamp; ``meta`` (default:
    ``records.meta`` when the records carry one) goes to ``df.attrs["meta"]``.
    """
    df = build(kind, records, tz)
    stamp(df, kind, tz, meta if meta is not None else getattr(records, "meta", None))
    return df


def order_tables(
    full_orders: Any,
    tz: Any = None,
    *,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """Full order records → ``{"orders", "lines", "payments", "options"}`` frames.

    ``lines``, ``payments`` and ``options`` carry ``order_id`` (string, as ``orders.id``) and the
    order's ``site_id``, so they can be joined or grouped without touching ``orders``.
    """
    recs = as_records(full_orders)
    info = meta if meta is not None else getattr(full_orders, "meta", None)
    out = {}
    for kind in ORDER_TABLES:
        df = build(kind, recs, tz)
        stamp(df, kind, tz, info)
        out[kind] = df
    return out


def order_tables_from_chunks(
    chunks: Iterable[Any],
    tz: Any = None,
    *,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`order_tables` over a stream of chunks (lists of full orders), e.g.
    ``PullStore.iter_bodies()``: each chunk is framed and let go, so memory holds the frames
    and one chunk of dicts, never every order as a dict. Dtypes are those of one big call
    (categoricals unioned as :func:`concat` does); no chunks give the empty frames."""
    stacks = {kind: _Stack() for kind in ORDER_TABLES}
    for chunk in chunks:
        for kind, df in order_tables(chunk, tz).items():
            stacks[kind].add(df)
        del chunk  # before the next chunk is read: never two chunks of dicts at once
    out = {}
    for kind, stack in stacks.items():
        df = stack.result() if stack else build(kind, [], tz)
        stamp(df, kind, tz, meta)
        out[kind] = df
    return out


def frame_from_chunks(
    kind: str,
    chunks: Iterable[Any],
    *,
    tz: Any = None,
    meta: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """:func:`frame` over a stream of chunks (lists of records), e.g.
    ``PullStore.iter_summaries()``, with the memory behaviour of :func:`order_tables_from_chunks`."""
    stack = _Stack()
    for chunk in chunks:
        stack.add(frame(kind, chunk, tz=tz))  # its attrs name the kind: concat orders categories by it
        del chunk
    df = stack.result() if stack else build(kind, [], tz)
    stamp(df, kind, tz, meta)
    return df


#: Parts of one kind joined at a time while chunks are framed (see :class:`_Stack`).
_STACK_PARTS = 16


class _Stack:
    """The parts of one frame kind, joined :data:`_STACK_PARTS` at a time as they come.

    A six-month pull framed 500 orders at a time is 164 parts per table. Kept as a list to the
    end, the parts' small arrays and Python objects stay spread over the memory the chunks' dicts
    came and went in, and one final :func:`concat` needs every part plus the whole table at once.
    Joined in groups as they come (and the groups joined column by column, see
    :func:`_concat_consuming`), each row is copied twice in all and the last join holds the table
    plus one column. The frames are the same: ``concat`` unions categories the same way whatever the
    grouping. The six-month benchmark's frames (81,863 orders, 104 MB) built in a fresh process:
    peak +150 MB, against +210 MB for 2,000-order parts joined once (groups of 4 or 64 parts:
    +157, +154; 500-order parts joined once: +185). An empty part (a chunk without options) is
    dropped unless it is the first: it adds no rows and no categories, and the first one keeps
    the kind's columns and dtypes.
    """

    __slots__ = ("_blocks", "_parts")

    def __init__(self) -> None:
        self._blocks: list[pd.DataFrame] = []
        self._parts: list[pd.DataFrame] = []

    def __bool__(self) -> bool:
        return bool(self._blocks or self._parts)

    def add(self, df: pd.DataFrame) -> None:
        if len(df) == 0 and self:
            return
        self._parts.append(df)
        if len(self._parts) >= _STACK_PARTS:
            self._blocks.append(_concat_consuming(self._parts))
            self._parts = []

    def result(self) -> pd.DataFrame:
        """Every part as one frame (the stack is empty afterwards)."""
        if self._parts:
            self._blocks.append(_concat_consuming(self._parts))
        blocks, self._blocks, self._parts = self._blocks, [], []
        return _concat_consuming(blocks)


def empty(kind: str, tz: Any = None) -> pd.DataFrame:
    """The frame of ``kind`` with no rows: the same columns and dtypes as a full one."""
    return frame(kind, [], tz=tz)


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack frames of one kind (e.g. day by day) keeping every dtype.

    ``pd.concat`` turns a categorical into ``object`` when the parts saw different values (one
    day had no "Delivery" orders); here the categories are unioned instead, in the order one
    frame of all the rows would have them (the schema's values first, then the others sorted).
    ``attrs`` come from the first part. An empty list is a ConfigError (the kind would be unknown).
    """
    if not parts:
        raise ConfigError("concat needs at least one frame.")
    first = parts[0]
    if len(parts) == 1:
        return first.copy()
    columns = _same_columns(parts)
    aligned = list(parts)
    for col in columns:
        cats = _union_categories(parts, col)
        if cats is not None:
            aligned = [df.assign(**{col: df[col].cat.set_categories(cats)}) for df in aligned]
    out = pd.concat(aligned, ignore_index=True)
    out.attrs = dict(first.attrs)
    return out


def _same_columns(parts: list[pd.DataFrame]) -> list[str]:
    columns = list(parts[0].columns)
    for df in parts[1:]:
        if list(df.columns) != columns:
            raise ConfigError("concat needs frames of one kind: their columns differ.")
    return columns


def _union_categories(parts: list[pd.DataFrame], col: str) -> list[Any] | None:
    """The categories of ``col`` in all ``parts`` together (None: not a categorical): the order one
    big frame would have, the schema's values first, then the rest sorted."""
    first = parts[0]
    dtype = first[col].dtype
    if not isinstance(dtype, pd.CategoricalDtype):
        return None
    schema = SCHEMAS.get(str(first.attrs.get("kind")))
    known = {c.name: c.categories for c in schema.columns} if schema is not None else {}
    head = list(known[col]) if col in known else list(dtype.categories)
    seen = {c for df in parts for c in df[col].cat.categories}
    return [*head, *sorted(seen - set(head), key=str)]


def _concat_consuming(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`concat` of frames nobody else holds, column by column, each column let go from the
    parts as soon as it is joined (``parts`` is left empty).

    ``concat`` needs every part and the whole result at once (twice the table at its peak);
    here the parts shrink as the result grows, so the peak is the table plus one column. The
    frame is the same: each column is joined as ``pd.concat`` joins it inside a frame, and a
    frame of kounta_nb keeps one block per column either way.
    """
    first = parts[0]
    if len(parts) == 1:
        return parts.pop()
    columns = _same_columns(parts)
    attrs = dict(first.attrs)
    cats = {col: _union_categories(parts, col) for col in columns}
    # the parts as their columns (views, no copies), the frames themselves let go
    pending = [dict(df.items()) for df in parts]
    parts.clear()
    del first
    joined: dict[str, pd.Series] = {}
    for col in columns:
        pieces = [part.pop(col) for part in pending]
        if cats[col] is not None:
            pieces = [piece.cat.set_categories(cats[col]) for piece in pieces]
        joined[col] = pd.concat(pieces, ignore_index=True)
        del pieces
    out = pd.DataFrame(joined, copy=False)
    out.attrs = attrs
    return out


def describe(kind: str | None = None) -> pd.DataFrame:
    """The schema(s) as a table: kind, column, type, dtype, description, sources (for help texts
    and docs). ``description`` says what each column holds, in one sentence."""
    kinds = [kind] if kind is not None else list(SCHEMAS)
    rows = []
    for k in kinds:
        schema = schema_of(k)
        dtypes = empty(k).dtypes
        for col in schema.columns:
            rows.append(
                {
                    "kind": k,
                    "column": col.name,
                    "type": col.type,
                    "dtype": str(dtypes[col.name]),
                    "description": column_doc(k, col.name),
                    "sources": "derived" if col.derived else " | ".join(col.sources),
                }
            )
    return pd.DataFrame(rows)


def stamp(df: pd.DataFrame, kind: str, tz: Any, meta: Mapping[str, Any] | None) -> None:
    """Set ``df.attrs`` to ``{"kind", "tz", "meta"}``, ``meta`` made JSON-safe (secret-looking
    keys dropped)."""
    zone = resolve_tz(tz)
    if meta is not None and not isinstance(meta, Mapping):
        raise ConfigError(f"meta must be a mapping, not {type(meta).__name__}.")
    df.attrs["kind"] = kind
    df.attrs["tz"] = str(zone) if zone is not None else None
    df.attrs["meta"] = jsonable(dict(meta)) if meta is not None else {}

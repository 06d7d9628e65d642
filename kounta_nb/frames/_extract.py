"""Finding rows inside records, and pulling one column's raw values out of them, column by column.

A column is extracted with one list comprehension per source path over all rows (the first source
that gives a value wins; later sources are read only while some rows still lack one). Plain
comprehensions over the JSON dicts, no generated code: framing is never the bottleneck behind an
API that answers 180 requests a minute, and ``benchmarks/bench_frames.py`` keeps it honest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from ..errors import ConfigError
from .schemas import Col, Schema

__all__ = ["Source", "column_values", "flat_items", "levels_of", "list_source", "sources_of"]


class Source:
    """A parsed source path: how many levels up, the keys to follow, and an optional list map.

    ``"^id"`` → up 1, keys ``("id",)``; ``"taxes[].id"`` → keys ``("taxes",)``, each ``("id",)``;
    ``"modifiers[]"`` → keys ``("modifiers",)``, each ``()``.
    """

    __slots__ = ("up", "keys", "each")

    def __init__(self, text: str) -> None:
        up = len(text) - len(text.lstrip("^"))
        head, sep, tail = text[up:].partition("[]")
        self.up = up
        self.keys = tuple(k for k in head.split(".") if k)
        self.each: tuple[str, ...] | None = tuple(k for k in tail.split(".") if k) if sep else None

    def __repr__(self) -> str:
        return f"Source(up={self.up}, keys={self.keys}, each={self.each})"


@cache
def sources_of(col: Col) -> tuple[Source, ...]:
    """The parsed source paths of ``col`` (cached: schemas are immutable)."""
    return tuple(Source(text) for text in col.sources)


def step(value: Any, key: str) -> Any:
    """``value[key]`` for a mapping, ``value[int(key)]`` for a list; ``None`` otherwise."""
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list) and key.isdigit():
        i = int(key)
        return value[i] if i < len(value) else None
    return None


def follow(value: Any, keys: tuple[str, ...]) -> Any:
    """``value[k0][k1]…``; ``None`` wherever the path breaks."""
    for key in keys:
        if value is None:
            return None
        value = step(value, key)
    return value


def _get_each(objs: list[Any], key: str) -> list[Any]:
    """``obj[key]`` (or ``None``) for every object; ``None`` objects give ``None``."""
    try:
        # C speed when every object is a mapping holding the key (the common case: full
        # records carry every field, if only as null)
        return list(map(itemgetter(key), objs))
    except (KeyError, TypeError, IndexError):
        return [
            o.get(key) if type(o) is dict else (None if o is None else step(o, key)) for o in objs
        ]


def pluck(objs: list[Any], keys: tuple[str, ...]) -> list[Any]:
    """``obj[k0][k1]…`` for every object (``None`` where the path breaks), one key at a time."""
    if not keys:
        return list(objs)
    out = objs
    for key in keys:
        out = _get_each(out, key)
    return out


def map_each(value: Any, keys: tuple[str, ...]) -> list[Any] | None:
    """``[follow(item, keys) for item in value]`` for a list ``value``; ``None`` otherwise."""
    if type(value) is not list:
        return None
    if not keys:
        return list(value)
    if len(keys) == 1:
        try:
            return list(map(itemgetter(keys[0]), value))
        except (KeyError, TypeError, IndexError):
            key = keys[0]
            return [v.get(key) if type(v) is dict else follow(v, keys) for v in value]
    return [follow(v, keys) for v in value]


def _missing(values: list[Any]) -> bool:
    # `in` compares in C; a value is missing when it is None or "" (see schemas: sources)
    return None in values or "" in values


def column_values(col: Col, levels: list[list[Any]]) -> list[Any]:
    """The raw values of one column: the first source (per row) that is neither None nor ``""``."""
    n = len(levels[0])
    out: list[Any] | None = None
    for src in sources_of(col):
        if src.up >= len(levels):
            continue
        vals = pluck(levels[src.up], src.keys)
        if src.each == ():
            # the list itself ("modifiers[]"): no copy, the converter reads it and lets it go
            vals = [v if type(v) is list else None for v in vals]
        elif src.each is not None:
            each = src.each
            vals = [map_each(v, each) if v is not None else None for v in vals]
        if out is None:
            out = vals
        else:
            out = [b if a is None or a == "" else a for a, b in zip(out, vals, strict=True)]
        if not _missing(out):
            break
    return out if out is not None else [None] * n


def list_source(col: Col) -> Source | None:
    """The one ``a[].b`` source of a list/sum column, when it has exactly one (all of ours do)."""
    srcs = sources_of(col)
    if len(srcs) == 1 and srcs[0].each is not None:
        return srcs[0]
    return None


def flat_items(
    src: Source, levels: list[list[Any]]
) -> tuple[list[Any], list[int], list[bool]]:
    """A list column in ragged form: every row's items one after another (``each`` applied),
    each row's item count, and whether the row has no list at all.

    Column-wise over all items at once instead of one small list per row: the converters build
    the Arrow list (or the per-row sums) straight from it.
    """
    n = len(levels[0])
    if src.up >= len(levels):
        return [], [0] * n, [True] * n
    lists = pluck(levels[src.up], src.keys)
    absent = [type(v) is not list for v in lists]
    if any(absent):
        lists = [() if a else v for v, a in zip(lists, absent, strict=True)]
    counts = list(map(len, lists))
    flat = list(chain.from_iterable(lists))
    if src.each:
        flat = pluck(flat, src.each)
    return flat, counts, absent


def levels_of(records: Sequence[Any], schema: Schema) -> list[list[Any]]:
    """Rows and their enclosing records: ``levels[0]`` are the rows, ``levels[1]`` their parents…

    A record that holds the schema's list key (or a parent marker) is a parent and contributes
    its children; otherwise it already is a row.
    """
    for i, rec in enumerate(records):
        if type(rec) is not dict and not isinstance(rec, Mapping):
            raise ConfigError(
                f"Record {i} is a {type(rec).__name__}, not a JSON object: "
                f"frames are built from lists of records (dicts)."
            )
    depth = len(schema.explode)
    if depth == 0:
        return [list(records)]
    levels: list[list[Any]] = [[] for _ in range(depth + 1)]
    if depth == 1:
        _one_level(records, schema, levels[0], levels[1])
    else:
        _walk(records, schema, levels)
    return levels


def _level_of(rec: Mapping[str, Any], schema: Schema) -> int:
    """How deep ``rec`` sits: 0 = a top-level parent … ``depth`` = already a row."""
    for i, key in enumerate(schema.explode):
        if isinstance(rec.get(key), list):
            return i
        markers = schema.parent_markers[i] if i < len(schema.parent_markers) else ()
        if any(m in rec for m in markers):
            return i
    return len(schema.explode)


def _one_level(records: Sequence[Any], schema: Schema, rows: list[Any], parents: list[Any]) -> None:
    key = schema.explode[0]
    children = _get_each(list(records), key)
    if set(map(type, children)) <= {list}:  # parents only (full orders): all at C speed
        rows.extend(chain.from_iterable(children))
        parents.extend(chain.from_iterable(map(repeat, records, map(len, children))))
        _drop_non_records(rows, parents)
        return
    for rec in records:
        children = rec.get(key)
        if type(children) is list:
            rows.extend(children)
            parents.extend([rec] * len(children))
        elif _level_of(rec, schema) == 1:  # a child record given directly (e.g. a POST body)
            rows.append(rec)
            parents.append(None)
    _drop_non_records(rows, parents)


def _drop_non_records(rows: list[Any], parents: list[Any]) -> None:
    if set(map(type, rows)) - {dict}:  # rare: drop children that are not records
        keep = [i for i, row in enumerate(rows) if isinstance(row, Mapping)]
        rows[:] = [rows[i] for i in keep]
        parents[:] = [parents[i] for i in keep]


def _walk(records: Sequence[Any], schema: Schema, levels: list[list[Any]]) -> None:
    depth = len(schema.explode)
    chain: list[Any] = [None] * (depth + 1)

    def descend(rec: Any, level: int) -> None:
        chain[level] = rec
        if level == depth:
            for up in range(depth + 1):
                levels[up].append(chain[depth - up])
            return
        children = rec.get(schema.explode[level])
        if isinstance(children, list):
            for child in children:
                if isinstance(child, Mapping):
                    descend(child, level + 1)
        chain[level] = None

    for rec in records:
        level = _level_of(rec, schema)
        for i in range(level):
            chain[i] = None
        descend(rec, level)

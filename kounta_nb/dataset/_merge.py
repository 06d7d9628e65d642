"""Merging: a staged partition + the partition on disk → the new partition, written beside it.

For each partition the export received, the orders decide: an order whose ``(id, updated_at)``
is already on disk is unchanged; if every staged order is unchanged, the partition is left alone
(not rewritten). Otherwise every table of the partition is rewritten in full: the rows on disk
minus those of the staged orders, plus the staged rows (the last arrival of an order wins), sorted
by time. New files are written as hidden ``.part-0.parquet.tmp-<token>`` beside the live ones; the
commit (``_export``) renames them over the old ones. One partition is in memory at a time.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import frames
from ..errors import DataFileError
from ..frames.arrow import to_arrow, zone_name
from ._layout import (
    DATA_FILE,
    KIND,
    make_dir,
    partition_dir,
    partition_key,
    read_file,
    release_arrow_memory,
)
from ._stage import SEQ, Stage

__all__ = ["Plan", "merge_all"]

#: The order id column of each table, and the sort order of its rows.
_KEY = {"orders": "id", "listed": "id", "lines": "order_id", "payments": "order_id",
        "options": "order_id"}  # fmt: skip
_SORT = {
    "orders": ("created_at", "id"),
    "listed": ("created_at", "id"),
    "lines": ("created_at", "order_id", "number"),
    "payments": ("created_at", "order_id", "number"),
    "options": ("created_at", "order_id", "line_number"),
}
_ROW_GROUP = 64 * 1024


@dataclass
class Plan:
    """What an export will commit: hidden files to rename over live ones, and the new stats."""

    renames: list[tuple[str, str]] = field(default_factory=list)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # partition key → stats
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _canonical(table: str, tz: Any) -> pa.Schema:
    """The file schema of ``table`` with the pandas metadata a frame of its kind carries."""
    return _canonical_by_name(table, zone_name(tz))


@functools.lru_cache(maxsize=64)
def _canonical_by_name(table: str, tz: str) -> pa.Schema:
    kind = KIND[table]
    return to_arrow(frames.empty(kind, tz), kind, tz, drop=("company_id", "site_id")).schema


def _read_live(path: Path, schema: pa.Schema, columns: list[str] | None = None) -> pa.Table | None:
    if not path.exists():
        return None
    try:
        table = read_file(path, columns=columns)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataFileError(
            f"{path} cannot be read ({exc}); move the partition aside or export into a new "
            "directory.",
            path,
        ) from exc
    want = pa.schema([schema.field(n) for n in (columns or schema.names)])
    try:
        return table.select(want.names).cast(want)
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataFileError(
            f"{path} has other columns than this version writes ({exc}); export into a new "
            "directory.",
            path,
        ) from exc


def _pairs(table: pa.Table) -> set[tuple[Any, Any]]:
    ids = table.column("id").to_pylist()
    stamps = table.column("updated_at").cast(pa.int64()).to_pylist()
    return set(zip(ids, stamps, strict=True))


def merge_all(stage: Stage, root: Path, company_id: int, token: str) -> Plan:
    """Merge every staged partition of ``stage`` with the dataset at ``root`` (see module doc)."""
    plan = Plan()
    for family in (("orders", "lines", "payments", "options"), ("listed",)):
        for site, month in stage.partitions(family):
            _merge_partition(stage, root, company_id, token, family, site, month, plan)
            release_arrow_memory()
    return plan


def _merge_partition(
    stage: Stage,
    root: Path,
    company_id: int,
    token: str,
    family: tuple[str, ...],
    site: int,
    month: str,
    plan: Plan,
) -> None:
    head = family[0]  # orders (or listed): it decides for the whole family
    key = partition_key(site, month)
    label = f"{head}/{company_id}/{key}"
    staged = stage.read(head, site, month, ["id", "updated_at", SEQ])
    live_file = partition_dir(root, head, company_id, site, month) / DATA_FILE
    live = _read_live(live_file, _canonical(head, stage.tz), ["id", "updated_at"])
    if live is not None and staged.num_rows and not any(
        v is None for v in staged.column("updated_at").to_pylist()
    ) and _pairs(staged) <= _pairs(live):
        plan.unchanged.append(label)
        return
    ids = staged.column("id")
    unique = pc.unique(ids)
    keep_seq = None
    if len(unique) != staged.num_rows:  # an order arrived twice: its last arrival wins
        last = staged.group_by("id").aggregate([(SEQ, "max")])
        keep_seq = last.column(f"{SEQ}_max")
    stats = dict(plan.stats.get(key, {}))
    for table in family:
        schema = _canonical(table, stage.tz)
        new = stage.read(table, site, month)
        if keep_seq is not None:
            new = new.filter(pc.is_in(new.column(SEQ), value_set=keep_seq))
        new = new.drop_columns([SEQ]).cast(schema)
        path = partition_dir(root, table, company_id, site, month) / DATA_FILE
        old = _read_live(path, schema)
        if old is not None and old.num_rows:
            old = old.filter(pc.invert(pc.is_in(old.column(_KEY[table]), value_set=unique)))
            new = pa.concat_tables([old, new])
        new = new.sort_by([(c, "ascending") for c in _SORT[table]])
        tmp = path.with_name(f".{DATA_FILE}.tmp-{token}")
        make_dir(path.parent)
        pq.write_table(new, tmp, compression="zstd", row_group_size=_ROW_GROUP)
        os.chmod(tmp, 0o600)  # customer data (e-mails): private like every kounta_nb file
        release_arrow_memory()  # the writer's buffers, before the next table is read
        plan.renames.append((str(tmp), str(path)))
        plan.written.append(f"{table}/{company_id}/{key}")
        stats[table] = new.num_rows
        if table == head:
            created = new.column("created_at")
            if len(created) and created.null_count < len(created):
                low, high = pc.min(created).as_py(), pc.max(created).as_py()
                stats["first"], stats["last"] = low.isoformat(), high.isoformat()
    plan.stats[key] = stats

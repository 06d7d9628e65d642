"""Plain records of the pull store: ids, timestamps, pull and slice rows, the file name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings
from ..dates import parse_timestamp

__all__ = ["PullRecord", "SliceState", "order_id", "store_path", "timestamp"]


def store_path(api_base: str, company_id: int, directory: Path | None = None) -> Path:
    """The store file for one company on one API base (a hash, so no URL ends up in a file name)."""
    digest = hashlib.sha256(f"{api_base.rstrip('/')}|{company_id}".encode()).hexdigest()[:16]
    return (directory or settings.cache_dir()) / f"pull-{company_id}-{digest}.sqlite"


def timestamp(text: object) -> float | None:
    """An API timestamp (ISO 8601 with offset, or ``Z``) as epoch seconds; None when unreadable."""
    moment = parse_timestamp(text)
    return moment.timestamp() if moment is not None else None


def order_id(record: dict[str, Any]) -> int:
    """The order's id, preferring ``id_str`` (64-bit ids lose precision as JSON numbers elsewhere)."""
    value = record.get("id_str") or record.get("id")
    if value is None:
        raise ValueError("order record without an id")
    return int(value)


@dataclass(frozen=True, slots=True)
class SliceState:
    """One time slice of a pull: ``[lo_ts, hi_ts)`` (``hi_ts`` None = open) and how far it got."""

    lo_ts: float
    hi_ts: float | None
    next_url: str | None
    done: bool
    pages: int
    listed: int
    oldest_ts: float | None


@dataclass(frozen=True, slots=True)
class PullRecord:
    """A stored pull definition and where it stands."""

    key: str
    site: int | None
    status: str
    since_ts: float
    until_ts: float | None
    state: str
    started: float
    finished: float | None
    high_water: float | None

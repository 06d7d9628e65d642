"""``manifest.json``: what a dataset holds, small enough to read at a glance.

.. code-block:: json

    {
      "format": "kounta_nb.dataset",
      "schema_version": 1,
      "tables": ["orders", "lines", "payments", "options", "listed"],
      "layout": "<table>/company_id=<id>/site_id=<id>/month=<YYYY-MM>/part-0.parquet",
      "updated_at": "2026-05-29T04:00:12+00:00",
      "companies": {
        "51642": {
          "tz": "Australia/Sydney",
          "sites": [1201, 1202, 1203],
          "period": {"first": "2026-04-29T06:31:02+10:00", "last": "2026-05-29T13:58:40+10:00"},
          "rows": {"orders": 12203, "lines": 36002, "payments": 13110, "options": 4021, "listed": 0},
          "pull_ids": ["site=*|status=COMPLETE|since=…"],
          "exported_at": "2026-05-29T04:00:12+00:00",
          "partitions": {"1201/2026-05": {"orders": 4100, "lines": …, "first": …, "last": …}}
        }
      }
    }

It is replaced atomically (write, fsync, rename) under the dataset's manifest lock, so readers
never see half of one and two exports of different companies never lose each other's entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataFileError
from ..files import write_private_text
from ._layout import DATA_FILE, SCHEMA_VERSION, TABLES

__all__ = ["FORMAT", "MANIFEST", "CompanyEntry", "Manifest", "load_manifest", "save_manifest"]

FORMAT = "kounta_nb.dataset"
MANIFEST = "manifest.json"
_LAYOUT = f"<table>/company_id=<id>/site_id=<id>/month=<YYYY-MM>/{DATA_FILE}"


@dataclass
class CompanyEntry:
    """One company's part of the dataset."""

    company_id: int
    tz: str
    partitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    pull_ids: list[str] = field(default_factory=list)
    exported_at: str | None = None

    @property
    def sites(self) -> list[int]:
        return sorted({int(key.split("/")[0]) for key in self.partitions})

    @property
    def months(self) -> list[str]:
        return sorted({key.split("/")[1] for key in self.partitions})

    def rows(self, table: str) -> int:
        return sum(int(p.get(table, 0)) for p in self.partitions.values())

    @property
    def period(self) -> dict[str, str | None]:
        """First and last order ``created_at`` (ISO, local offset) over every partition."""
        firsts = [p["first"] for p in self.partitions.values() if p.get("first")]
        lasts = [p["last"] for p in self.partitions.values() if p.get("last")]
        return {"first": min(firsts) if firsts else None, "last": max(lasts) if lasts else None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "tz": self.tz,
            "sites": self.sites,
            "period": self.period,
            "rows": {t: self.rows(t) for t in TABLES},
            "pull_ids": list(self.pull_ids),
            "exported_at": self.exported_at,
            "partitions": {k: dict(v) for k, v in sorted(self.partitions.items())},
        }

    @classmethod
    def from_dict(cls, company_id: int, data: Mapping[str, Any]) -> CompanyEntry:
        return cls(
            company_id=company_id,
            tz=str(data["tz"]),
            partitions={str(k): dict(v) for k, v in dict(data.get("partitions") or {}).items()},
            pull_ids=[str(p) for p in data.get("pull_ids") or []],
            exported_at=data.get("exported_at"),
        )


@dataclass
class Manifest:
    """What a dataset holds (``manifest.json``), as returned by :func:`export_orders`.

    ``written`` and ``unchanged`` describe the export that returned it: the partitions
    (``"<table>/<company>/<site>/<month>"``) it rewrote, and those it received but left alone
    because nothing in them had changed.
    """

    root: Path
    companies: dict[int, CompanyEntry] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    updated_at: str | None = None
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return TABLES

    @property
    def sites(self) -> dict[int, list[int]]:
        """Company id → its site ids."""
        return {cid: entry.sites for cid, entry in sorted(self.companies.items())}

    def rows(self, table: str = "orders") -> int:
        """Rows of ``table`` over every company."""
        return sum(entry.rows(table) for entry in self.companies.values())

    @property
    def period(self) -> dict[str, str | None]:
        """First and last order over every company (ISO; compare within a zone with care)."""
        periods = [e.period for e in self.companies.values()]
        firsts = [p["first"] for p in periods if p["first"]]
        lasts = [p["last"] for p in periods if p["last"]]
        return {"first": min(firsts) if firsts else None, "last": max(lasts) if lasts else None}

    @property
    def pull_ids(self) -> list[str]:
        return sorted({p for e in self.companies.values() for p in e.pull_ids})

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema_version": self.schema_version,
            "tables": list(TABLES),
            "layout": _LAYOUT,
            "updated_at": self.updated_at,
            "companies": {
                str(cid): entry.to_dict() for cid, entry in sorted(self.companies.items())
            },
        }

    def __repr__(self) -> str:
        period = self.period
        span = f"{period['first'][:10]} → {period['last'][:10]}" if period["first"] and period["last"] else "empty"
        return (
            f"Manifest({str(self.root)!r}: {len(self.companies)} companies, "
            f"{sum(len(s) for s in self.sites.values())} sites, {self.rows('orders'):,} orders, "
            f"{span}; this export wrote {len(self.written)} partitions, "
            f"left {len(self.unchanged)} unchanged)"
        )


def load_manifest(root: Path) -> Manifest:
    """The manifest of the dataset at ``root`` (an empty one when there is none yet)."""
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest(root=root)
    except OSError as exc:
        raise DataFileError(f"Cannot read the dataset manifest {path}: {exc.strerror}.", path) from exc
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError("not a kounta_nb dataset manifest")
        companies = {
            int(cid): CompanyEntry.from_dict(int(cid), entry)
            for cid, entry in dict(data.get("companies") or {}).items()
        }
        return Manifest(
            root=root,
            companies=companies,
            schema_version=int(data.get("schema_version", 0)),
            updated_at=data.get("updated_at"),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DataFileError(
            f"{path} is not a readable kounta_nb dataset manifest ({exc}); move it aside "
            "or export into a new directory.",
            path,
        ) from exc


def save_manifest(manifest: Manifest) -> None:
    write_private_text(manifest.root / MANIFEST, json.dumps(manifest.to_dict(), indent=2) + "\n")

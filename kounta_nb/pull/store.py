"""The durable pull store: one SQLite file per company and API base, so a pull is never paid twice.

What is kept:

- ``orders``  every abridged order a list page returned (id, created/updated time, status, site,
  total and the summary JSON), whichever pull listed it;
- ``details`` the full order records fetched one by one, with the ``updated_at`` they were fetched
  at (an order whose listed ``updated_at`` is unchanged is never fetched again);
- ``pulls``   one row per pull definition (site, status, period) with its state and high-water mark;
- ``slices``  the time slices a pull walks, with the ``X-Next-Page`` cursor reached so far, written in
  the same transaction as the page's orders (a pull killed at any point resumes exactly there);
- ``members`` which orders belong to which pull.

The file lives in :func:`kounta_nb.settings.cache_dir`; its name carries a hash of the API base and
the company id, so two companies (or the sandbox and production) never mix.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings

__all__ = ["PullRecord", "PullStore", "SliceState", "store_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    created_ts REAL NOT NULL,
    updated_at TEXT,
    status TEXT,
    site_id INTEGER,
    total REAL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_created ON orders (created_ts);
CREATE TABLE IF NOT EXISTS details (
    id INTEGER PRIMARY KEY,
    updated_at TEXT,
    record TEXT,
    missing INTEGER NOT NULL DEFAULT 0,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pulls (
    key TEXT PRIMARY KEY,
    site INTEGER,
    status TEXT NOT NULL,
    since_ts REAL NOT NULL,
    until_ts REAL,
    state TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    high_water REAL
);
CREATE TABLE IF NOT EXISTS slices (
    pull_key TEXT NOT NULL,
    lo_ts REAL NOT NULL,
    hi_ts REAL,
    next_url TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    listed INTEGER NOT NULL DEFAULT 0,
    oldest_ts REAL,
    PRIMARY KEY (pull_key, lo_ts)
);
CREATE TABLE IF NOT EXISTS members (
    pull_key TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    PRIMARY KEY (pull_key, order_id)
) WITHOUT ROWID;
"""


def store_path(api_base: str, company_id: int, directory: Path | None = None) -> Path:
    """The store file for one company on one API base (a hash, so no URL ends up in a file name)."""
    digest = hashlib.sha256(f"{api_base.rstrip('/')}|{company_id}".encode()).hexdigest()[:16]
    return (directory or settings.cache_dir()) / f"pull-{company_id}-{digest}.sqlite"


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


class PullStore:
    """Thread-safe access to one company's pull store (one connection guarded by a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"PullStore({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self._lock:
            self._db.close()

    # -- pulls -------------------------------------------------------------------------------

    def pull(self, key: str) -> PullRecord | None:
        """The stored pull with this key, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT key, site, status, since_ts, until_ts, state, started, finished, high_water "
                "FROM pulls WHERE key = ?",
                (key,),
            ).fetchone()
        return PullRecord(*row) if row else None

    def last_finished(self, site: int | None, status: str) -> PullRecord | None:
        """The finished pull for this site and status that reached furthest (for ``since="last"``)."""
        with self._lock:
            row = self._db.execute(
                "SELECT key, site, status, since_ts, until_ts, state, started, finished, high_water "
                "FROM pulls WHERE site IS ? AND status = ? AND state = 'finished' "
                "AND high_water IS NOT NULL ORDER BY high_water DESC, finished DESC LIMIT 1",
                (site, status),
            ).fetchone()
        return PullRecord(*row) if row else None

    def begin_pull(
        self,
        key: str,
        *,
        site: int | None,
        status: str,
        since_ts: float,
        until_ts: float | None,
        slices: Sequence[tuple[float, float | None]],
    ) -> tuple[PullRecord, bool]:
        """Create the pull (with its slices) or reopen a stored one; returns ``(pull, resumed)``.

        Reopening a *finished* pull starts its list walk again from the first page of every slice
        (cheap revalidation through the HTTP cache); an unfinished one keeps its cursors.
        """
        now = time.time()
        with self._lock, self._tx():
            existing = self.pull(key)
            if existing is None:
                self._db.execute(
                    "INSERT INTO pulls (key, site, status, since_ts, until_ts, state, started) "
                    "VALUES (?, ?, ?, ?, ?, 'running', ?)",
                    (key, site, status, since_ts, until_ts, now),
                )
                self._db.executemany(
                    "INSERT INTO slices (pull_key, lo_ts, hi_ts) VALUES (?, ?, ?)",
                    [(key, lo, hi) for lo, hi in slices],
                )
                resumed = False
            else:
                if existing.state == "finished":
                    self._db.execute(
                        "UPDATE slices SET next_url = NULL, done = 0, pages = 0, listed = 0, "
                        "oldest_ts = NULL WHERE pull_key = ?",
                        (key,),
                    )
                self._db.execute(
                    "UPDATE pulls SET state = 'running', started = ? WHERE key = ?", (now, key)
                )
                resumed = True
            record = self.pull(key)
        assert record is not None
        return record, resumed

    def set_pull_state(self, key: str, state: str, *, high_water: float | None = None) -> None:
        """Record a pull's state (``running``, ``finished``, ``failed``, ``cancelled``)."""
        with self._lock:
            if state == "finished":
                self._db.execute(
                    "UPDATE pulls SET state = ?, finished = ?, "
                    "high_water = MAX(COALESCE(high_water, 0), COALESCE(?, 0)) WHERE key = ?",
                    (state, time.time(), high_water, key),
                )
            else:
                self._db.execute("UPDATE pulls SET state = ? WHERE key = ?", (state, key))

    def slices(self, key: str) -> list[SliceState]:
        """The pull's slices, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT lo_ts, hi_ts, next_url, done, pages, listed, oldest_ts FROM slices "
                "WHERE pull_key = ? ORDER BY lo_ts DESC",
                (key,),
            ).fetchall()
        return [SliceState(lo, hi, nxt, bool(done), pages, listed, old) for lo, hi, nxt, done, pages, listed, old in rows]

    def record_orders(self, key: str, summaries: Sequence[dict[str, Any]], created: Sequence[float]) -> None:
        """Store listed orders as members of the pull without moving any cursor."""
        rows = _order_rows(summaries, created)
        with self._lock, self._tx():
            self._upsert_orders(rows)
            self._db.executemany(
                "INSERT OR IGNORE INTO members (pull_key, order_id) VALUES (?, ?)", [(key, r[0]) for r in rows]
            )

    def _upsert_orders(self, rows: list[tuple[Any, ...]]) -> None:
        self._db.executemany(
            "INSERT INTO orders (id, created_ts, updated_at, status, site_id, total, summary) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "created_ts = excluded.created_ts, updated_at = excluded.updated_at, "
            "status = excluded.status, site_id = excluded.site_id, total = excluded.total, "
            "summary = excluded.summary",
            rows,
        )

    def record_page(
        self,
        key: str,
        lo_ts: float,
        summaries: Sequence[dict[str, Any]],
        created: Sequence[float],
        next_url: str | None,
    ) -> int:
        """Store one list page and move the slice's cursor, atomically; returns new members."""
        rows = _order_rows(summaries, created)
        with self._lock, self._tx():
            self._upsert_orders(rows)
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO members (pull_key, order_id) VALUES (?, ?)",
                [(key, r[0]) for r in rows],
            )
            added = self._db.total_changes - before
            oldest = min(created) if created else None
            self._db.execute(
                "UPDATE slices SET next_url = ?, done = ?, pages = pages + 1, listed = listed + ?, "
                "oldest_ts = CASE WHEN ? IS NULL THEN oldest_ts "
                "WHEN oldest_ts IS NULL OR ? < oldest_ts THEN ? ELSE oldest_ts END "
                "WHERE pull_key = ? AND lo_ts = ?",
                (next_url, int(next_url is None), len(rows), oldest, oldest, oldest, key, lo_ts),
            )
        return added

    # -- orders and details --------------------------------------------------------------------

    def members(self, key: str) -> list[tuple[int, float, str | None, int | None, float | None]]:
        """``(id, created_ts, updated_at, site_id, total)`` of every order listed by the pull."""
        with self._lock:
            return self._db.execute(
                "SELECT o.id, o.created_ts, o.updated_at, o.site_id, o.total FROM members m "
                "JOIN orders o ON o.id = m.order_id WHERE m.pull_key = ?",
                (key,),
            ).fetchall()

    def summaries(self, key: str) -> list[dict[str, Any]]:
        """The abridged list records of the pull's orders."""
        with self._lock:
            rows = self._db.execute(
                "SELECT o.summary FROM members m JOIN orders o ON o.id = m.order_id "
                "WHERE m.pull_key = ? ORDER BY o.created_ts DESC",
                (key,),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def detail_versions(self, ids: Iterable[int] | None = None) -> dict[int, tuple[str | None, bool]]:
        """``id → (updated_at, missing)`` of the stored details (all, or only ``ids``)."""
        with self._lock:
            if ids is None:
                rows = self._db.execute("SELECT id, updated_at, missing FROM details").fetchall()
            else:
                rows = []
                id_list = list(ids)
                for start in range(0, len(id_list), 500):
                    chunk = id_list[start : start + 500]
                    rows += self._db.execute(
                        f"SELECT id, updated_at, missing FROM details WHERE id IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
        return {i: (u, bool(m)) for i, u, m in rows}

    def save_detail(self, record: dict[str, Any], listed_updated_at: str | None) -> None:
        """Store one full order; ``listed_updated_at`` is what the list said (the freshness key)."""
        oid = order_id(record)
        updated = listed_updated_at or record.get("updated_at")
        with self._lock:
            self._db.execute(
                "INSERT INTO details (id, updated_at, record, missing, fetched_at) VALUES (?, ?, ?, 0, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, "
                "record = excluded.record, missing = 0, fetched_at = excluded.fetched_at",
                (oid, updated, json.dumps(record, separators=(",", ":")), time.time()),
            )

    def save_missing(self, oid: int, listed_updated_at: str | None) -> None:
        """Remember that an order listed earlier is gone (404), so it is not asked for again."""
        with self._lock:
            self._db.execute(
                "INSERT INTO details (id, updated_at, record, missing, fetched_at) VALUES (?, ?, NULL, 1, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, record = NULL, "
                "missing = 1, fetched_at = excluded.fetched_at",
                (oid, listed_updated_at, time.time()),
            )

    def details(self, ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """The stored full records of ``ids`` (missing ones are skipped)."""
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            with self._lock:
                rows = self._db.execute(
                    f"SELECT record FROM details WHERE missing = 0 AND id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            for (text,) in rows:
                yield json.loads(text)

    def counts(self) -> dict[str, int]:
        """How many orders, details and pulls the store holds."""
        with self._lock:
            return {
                "orders": self._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0],
                "details": self._db.execute("SELECT COUNT(*) FROM details WHERE missing = 0").fetchone()[0],
                "pulls": self._db.execute("SELECT COUNT(*) FROM pulls").fetchone()[0],
            }

    # -- helpers -------------------------------------------------------------------------------

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _order_rows(summaries: Sequence[dict[str, Any]], created: Sequence[float]) -> list[tuple[Any, ...]]:
    return [
        (
            order_id(record),
            ts,
            record.get("updated_at"),
            record.get("status"),
            record.get("site_id"),
            record.get("total"),
            json.dumps(record, separators=(",", ":")),
        )
        for record, ts in zip(summaries, created, strict=True)
    ]


def order_id(record: dict[str, Any]) -> int:
    """The order's id, preferring ``id_str`` (64-bit ids lose precision as JSON numbers elsewhere)."""
    value = record.get("id_str") or record.get("id")
    if value is None:
        raise ValueError("order record without an id")
    return int(value)

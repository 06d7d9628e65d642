"""Convert a schema-1 pull store (order JSON as text) to the compact layout, in place and once.

Schema 1 kept each full order as text next to the ``updated_at`` the *list* showed when it was
fetched; a stale body saved under a newer listed ``updated_at`` then looked current for good
(issue 10 §1). The conversion keys every body by its own ``updated_at`` instead, so such a body is
fetched again by the next run. Called by :meth:`PullStore._migrate` inside its transaction, with
the old tables renamed to ``details_old`` / ``orders_old``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from ._codec import TRAIN_AFTER, Codec, train
from ._storefile import SCHEMA, SCHEMA_VERSION

__all__ = ["convert_v1", "migrate"]

_CHUNK = 2000


def migrate(db: sqlite3.Connection, codec: Codec,
            disk_bytes: Callable[[], int]) -> tuple[int, int, int, bool] | None:
    """Create the layout (one transaction), converting an older store when it is one; returns
    ``(orders, bodies, bytes before, from schema 1)`` after a conversion, else None."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        old = version < SCHEMA_VERSION and "details" in tables
        v1 = old and "record" in {r[1] for r in db.execute("PRAGMA table_info(details)")}
        if old:
            for table in ("details", "orders", "members"):
                if table in tables:
                    db.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
            for index in ("orders_created", "details_site_created", "details_fetched"):
                db.execute(f"DROP INDEX IF EXISTS {index}")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        converted = None
        if old:
            before = disk_bytes()
            orders, bodies = convert_v1(db, codec) if v1 else _copy_v2(db)
            if "members" in tables:
                db.execute("INSERT OR IGNORE INTO members (pull, order_id) SELECT p.rowid, m.order_id "
                           "FROM members_old m JOIN pulls p ON p.key = m.pull_key")
                db.execute("DROP TABLE members_old")
            db.execute("DROP TABLE details_old")
            db.execute("DROP TABLE orders_old")
            converted = (orders, bodies, before, v1)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return converted


def _copy_v2(db: sqlite3.Connection) -> tuple[int, int]:
    """Schema 2 → 3: the same packed rows, appended in the order they are read back."""
    db.execute("INSERT INTO orders (id, created_ts, updated_at, status, site_id, total, summary) "
               "SELECT id, created_ts, updated_at, status, site_id, total, summary FROM orders_old "
               "ORDER BY created_ts, id")
    db.execute("INSERT INTO details (id, site_id, created_ts, updated_at, updated_ts, body, missing, fetched_at) "
               "SELECT id, site_id, created_ts, updated_at, updated_ts, body, missing, fetched_at FROM details_old "
               "ORDER BY site_id, created_ts, id")
    orders = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    bodies = db.execute("SELECT COUNT(*) FROM details WHERE missing = 0").fetchone()[0]
    return int(orders), int(bodies)


def convert_v1(db: sqlite3.Connection, codec: Codec) -> tuple[int, int]:
    """Move ``orders_old``/``details_old`` into the new tables; returns ``(orders, bodies)`` moved."""
    from .store import timestamp

    samples = [r[0].encode() for r in db.execute(
        "SELECT record FROM details_old WHERE missing = 0 AND record IS NOT NULL LIMIT ?", (TRAIN_AFTER,))]
    if len(samples) >= TRAIN_AFTER:
        data = train(samples)
        db.execute("INSERT INTO dictionaries (id, data, created) VALUES (1, ?, ?)", (data, time.time()))
        codec.add(1, data)

    orders = 0
    cursor = db.execute("SELECT id, created_ts, updated_at, status, site_id, total, summary FROM orders_old")
    while rows := cursor.fetchmany(_CHUNK):
        db.executemany(
            "INSERT OR REPLACE INTO orders (id, created_ts, updated_at, status, site_id, total, summary) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*row[:6], codec.pack(json.loads(row[6]))) for row in rows],
        )
        orders += len(rows)

    bodies = 0
    cursor = db.execute("SELECT id, updated_at, record, missing, fetched_at FROM details_old")
    while rows := cursor.fetchmany(_CHUNK):
        out: list[tuple[Any, ...]] = []
        for oid, listed, text, missing, fetched in rows:
            if missing or text is None:
                out.append((oid, -1, 0.0, listed, timestamp(listed), None, 1, fetched))
                continue
            record = json.loads(text)
            own = record.get("updated_at")  # the body's own version, not what the list said
            site = record.get("site_id")
            out.append((oid, site if isinstance(site, int) else -1, timestamp(record.get("created_at")) or 0.0,
                        own, timestamp(own), codec.pack(record), 0, fetched))
            bodies += 1
        db.executemany(
            "INSERT OR REPLACE INTO details (id, site_id, created_ts, updated_at, updated_ts, body, missing, "
            "fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            out,
        )
    return orders, bodies

"""Opening the pull store's SQLite file: private, checked for damage, migrated from older versions.

- The file is created ``0600`` in a ``0700`` directory before SQLite touches it
  (:func:`kounta_nb.files.private_file`), so the ``-wal``/``-shm`` side files follow.
- A damaged file (zero bytes, cut short, garbled, not a database) is moved aside to
  ``<name>.corrupt-<UTC time>`` with one :class:`~kounta_nb.errors.KountaWarning`, and a fresh
  store takes its place: the pull starts again from the API, never from a dead end.
- A store written by kounta_nb before the compact format (schema 1: order JSON as text, one copy
  per body) is converted in place, once, and its ``updated_at`` keys are re-read from the bodies
  themselves (schema 1 kept the *listed* ``updated_at``, which could mark a stale body as current).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..errors import DataFileError, warn
from ..files import is_damaged_database, move_aside, private_file

__all__ = ["SCHEMA", "SCHEMA_VERSION", "connect", "damaged", "file_identity", "header_problem"]

#: ``PRAGMA user_version`` of the current layout (1: text JSON; 2: packed, rows keyed by order id).
#: In layout 3 the order tables are appended to in arrival order (``seq``) with a unique index on
#: the order id: rows keyed by the (random-order) id split pages and left a six-month store 1.5×
#: larger than its data; members refer to their pull by number, not by its text key.
SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS dictionaries (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY,
    id INTEGER NOT NULL UNIQUE,
    created_ts REAL NOT NULL,
    updated_at TEXT,
    status TEXT,
    site_id INTEGER,
    total REAL,
    summary BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_created ON orders (created_ts, id);
CREATE TABLE IF NOT EXISTS details (
    seq INTEGER PRIMARY KEY,
    id INTEGER NOT NULL UNIQUE,
    site_id INTEGER NOT NULL DEFAULT -1,
    created_ts REAL NOT NULL DEFAULT 0,
    updated_at TEXT,
    updated_ts REAL,
    body BLOB,
    missing INTEGER NOT NULL DEFAULT 0,
    fetched_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS details_site_created ON details (site_id, created_ts, id);
CREATE INDEX IF NOT EXISTS details_fetched ON details (fetched_at);
CREATE TABLE IF NOT EXISTS claims (
    order_id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
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
    pull INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    PRIMARY KEY (pull, order_id)
) WITHOUT ROWID;
"""

_MAGIC = b"SQLite format 3\x00"


def file_identity(path: Path) -> tuple[int, int] | None:
    """``(device, inode)`` of the file now at ``path`` (None when nothing is there)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


def header_problem(path: Path) -> str | None:
    """What is visibly wrong with the file before SQLite reads it (None when nothing is).

    Catches the cheap cases without reading the whole file: zero bytes, a header that is not
    SQLite's, and a file shorter than the page count its own header states (cut short by a full
    disk or an interrupted copy).
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return None
    if size == 0:
        return "it is empty (zero bytes)"
    if len(head) < 100 or not head.startswith(_MAGIC):
        return "it is not a SQLite database"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    change_counter = int.from_bytes(head[24:28], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    if page_size < 512 or page_size & (page_size - 1):
        return "its header is garbled"
    # the header's page count is only meaningful when it was written with the current counter
    if pages and valid_for == change_counter and size < pages * page_size:
        return f"it is cut short ({size:,} of {pages * page_size:,} bytes)"
    return None


def damaged(exc: BaseException) -> bool:
    """Whether a SQLite error means the file is damaged (not busy, locked or misused)."""
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return False
    return is_damaged_database(exc)


def connect(path: Path, migrate: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """Open (or create) the store at ``path``; a damaged file is moved aside once, with a warning.

    ``migrate(db)`` brings an older layout up to :data:`SCHEMA_VERSION` (called inside the open,
    so damage found while migrating is handled the same way).
    """
    problem = header_problem(path) if path.exists() else None
    if problem is None:
        try:
            return _open(path, migrate)
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise DataFileError(
                    f"The pull store {path} cannot be opened ({_reason(exc)}); close other programs "
                    "using it and try again.",
                    path,
                ) from None
            problem = _reason(exc)
    aside = move_aside(path)
    warn(
        f"The pull store {path.name} was damaged ({problem}); it was moved aside to {aside.name} "
        "and the pull starts again from the API.",
        stacklevel=5,
    )
    try:
        return _open(path, migrate)
    except sqlite3.DatabaseError as exc:
        raise DataFileError(f"A new pull store could not be created at {path}: {_reason(exc)}.", path) from None


def _open(path: Path, migrate: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    private_file(path)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        row = db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({row[0] if row else 'no answer'})")
        migrate(db)
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.close()
        raise
    # SQLite creates -wal/-shm with the database file's mode; tighten any left from before
    private_file(path)
    return db


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.rstrip(".")

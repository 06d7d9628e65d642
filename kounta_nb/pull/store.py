"""The durable pull store: one SQLite file per company and API base, so a pull is never paid twice.

What is kept:

- ``orders``   every abridged order a list page returned (id, created/updated time, status, site,
  total and the packed summary), whichever pull listed it;
- ``details``  each full order **once**, packed (zlib with a dictionary trained on the store's own
  first orders, see :mod:`kounta_nb.pull._codec`), with the ``updated_at`` *of the body itself*:
  an order is reused only while a list fetched in the same run shows that same ``updated_at``;
- ``pulls``    one row per pull definition (site, status, period) with its state and high-water mark;
- ``slices``   the time slices a pull walks, with the ``X-Next-Page`` cursor reached so far, written
  in the same transaction as the page's orders (a pull killed at any point resumes exactly there);
- ``members``  which orders belong to which pull;
- ``claims``   which process is fetching which order right now (a lease), so two kernels pulling
  into one store share the work instead of fetching the same details twice.

The file lives in :func:`kounta_nb.settings.cache_dir` (``0600`` in a ``0700`` directory); its name
carries a hash of the API base and the company id, so two companies (or the sandbox and
production) never mix. A damaged file is moved aside and started afresh with one warning; a file
removed or replaced while a pull runs stops the pull with one sentence (see :mod:`._storefile`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from ..errors import DataFileError, warn
from ._codec import TRAIN_AFTER, Codec, train
from ._records import PullRecord, SliceState, order_id, store_path, timestamp
from ._storefile import connect, damaged, file_identity

__all__ = ["ClaimResult", "PullRecord", "PullStore", "SliceState", "order_id", "store_path", "timestamp"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
#: Rows per ``IN (…)`` query (SQLite's default limit on variables is far above it).
_BATCH = 500
ClaimResult = Literal["mine", "have", "missing", "busy"]
#: The columns of ``pulls`` a :class:`PullRecord` is made of, in its field order.
_PULL_COLUMNS = "key, site, status, since_ts, until_ts, state, started, finished, high_water"


def _guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn SQLite's exceptions into one-line :class:`DataFileError`s naming the file."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            store = args[0]
            assert isinstance(store, PullStore)
            raise store._failure(exc) from None

    return wrapper


class PullStore:
    """Thread-safe access to one company's pull store (one connection guarded by a lock).

    Several processes may use one file at once (SQLite WAL): they share details through
    :meth:`claim`. Every write first checks that the file at :attr:`path` is still the one opened.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._codec = Codec()
        self._numbers: dict[str, int] = {}
        self._migrated: tuple[int, int, int, bool] | None = None
        self._db = connect(self.path, self._migrate)
        self._identity = file_identity(self.path)
        self._closed = False
        self._load_dictionaries()
        if self._migrated is not None:
            self._finish_migration(*self._migrated)

    def __repr__(self) -> str:
        return f"PullStore({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    # -- pulls -------------------------------------------------------------------------------

    @_guarded
    def pull(self, key: str) -> PullRecord | None:
        """The stored pull with this key, if any."""
        with self._lock:
            row = self._db.execute(f"SELECT {_PULL_COLUMNS} FROM pulls WHERE key = ?", (key,)).fetchone()
        return PullRecord(*row) if row else None

    @_guarded
    def last_finished(self, site: int | None, status: str) -> PullRecord | None:
        """The finished pull for this site and status that reached furthest (for ``since="last"``)."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_PULL_COLUMNS} FROM pulls WHERE site IS ? AND status = ? AND state = 'finished' "
                "AND high_water IS NOT NULL ORDER BY high_water DESC, finished DESC LIMIT 1",
                (site, status),
            ).fetchone()
        return PullRecord(*row) if row else None

    @_guarded
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
                self._db.execute("UPDATE pulls SET state = 'running', started = ? WHERE key = ?", (now, key))
                resumed = True
            record = self.pull(key)
        assert record is not None
        return record, resumed

    @_guarded
    def set_pull_state(self, key: str, state: str, *, high_water: float | None = None) -> None:
        """Record a pull's state (``running``, ``finished``, ``failed``, ``cancelled``)."""
        with self._lock, self._tx():
            if state == "finished":
                self._db.execute(
                    "UPDATE pulls SET state = ?, finished = ?, "
                    "high_water = MAX(COALESCE(high_water, 0), COALESCE(?, 0)) WHERE key = ?",
                    (state, time.time(), high_water, key),
                )
            else:
                self._db.execute("UPDATE pulls SET state = ? WHERE key = ?", (state, key))

    @_guarded
    def slices(self, key: str) -> list[SliceState]:
        """The pull's slices, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT lo_ts, hi_ts, next_url, done, pages, listed, oldest_ts FROM slices "
                "WHERE pull_key = ? ORDER BY lo_ts DESC",
                (key,),
            ).fetchall()
        return [SliceState(lo, hi, nxt, bool(done), pages, listed, old) for lo, hi, nxt, done, pages, listed, old in rows]

    @_guarded
    def record_orders(self, key: str, summaries: Sequence[dict[str, Any]], created: Sequence[float]) -> None:
        """Store listed orders as members of the pull without moving any cursor."""
        with self._lock, self._tx():
            self._add_orders(key, summaries, created)

    @_guarded
    def record_page(
        self,
        key: str,
        lo_ts: float,
        summaries: Sequence[dict[str, Any]],
        created: Sequence[float],
        next_url: str | None,
    ) -> int:
        """Store one list page and move the slice's cursor, atomically; returns new members."""
        with self._lock, self._tx():
            added = self._add_orders(key, summaries, created)
            oldest = min(created) if created else None
            self._db.execute(
                "UPDATE slices SET next_url = ?, done = ?, pages = pages + 1, listed = listed + ?, "
                "oldest_ts = CASE WHEN ? IS NULL THEN oldest_ts "
                "WHEN oldest_ts IS NULL OR ? < oldest_ts THEN ? ELSE oldest_ts END "
                "WHERE pull_key = ? AND lo_ts = ?",
                (next_url, int(next_url is None), len(summaries), oldest, oldest, oldest, key, lo_ts),
            )
        return added

    # -- orders and details --------------------------------------------------------------------

    @_guarded
    def members(self, key: str) -> list[tuple[int, float, str | None, int | None, float | None]]:
        """``(id, created_ts, updated_at, site_id, total)`` of every order listed by the pull."""
        with self._lock:
            return self._db.execute(
                "SELECT o.id, o.created_ts, o.updated_at, o.site_id, o.total FROM members m "
                "JOIN orders o ON o.id = m.order_id WHERE m.pull = ?",
                (self._pull_number(key),),
            ).fetchall()

    def summaries(self, key: str) -> list[dict[str, Any]]:
        """The abridged list records of the pull's orders, newest first (all in memory: prefer
        :meth:`iter_summaries` for big pulls)."""
        return [record for chunk in self.iter_summaries(key) for record in chunk]

    def iter_summaries(self, key: str, *, chunk: int = 2000) -> Iterator[list[dict[str, Any]]]:
        """The pull's abridged list records, newest first, ``chunk`` at a time."""
        return self._walk(lambda after: self._summary_rows(key, after, chunk), chunk)

    @_guarded
    def _summary_rows(self, key: str, after: tuple[Any, ...] | None, chunk: int) -> list[tuple[Any, ...]]:
        cursor = "" if after is None else "AND (o.created_ts, o.id) < (?, ?) "
        # walk the created_ts index backwards (no sort per chunk), keeping the pull's members
        with self._lock:
            return self._db.execute(
                "SELECT o.created_ts, o.id, o.summary FROM orders o INDEXED BY orders_created "
                "WHERE EXISTS (SELECT 1 FROM members m WHERE m.pull = ? AND m.order_id = o.id) "
                f"{cursor}ORDER BY o.created_ts DESC, o.id DESC LIMIT ?",
                (self._pull_number(key), *(after or ()), chunk),
            ).fetchall()

    def listed(self, ids: list[int], *, chunk: int = _BATCH) -> Iterator[list[dict[str, Any]]]:
        """The abridged list records of ``ids``, ``chunk`` at a time."""
        for start in range(0, len(ids), chunk):
            rows = self._rows_of("SELECT summary FROM orders WHERE id IN ({ids})", ids[start : start + chunk])
            yield [self._unpack(blob) for (blob,) in rows]

    def in_partition_order(self, ids: Iterable[int], *, listed: bool = False) -> list[int]:
        """``ids`` ordered by ``(site_id, created_ts, id)`` — by dataset partition, then time —
        as the store knows them: full orders (or, with ``listed``, list records); ids it does not
        hold are left out."""
        table = "orders" if listed else "details"
        rows = self._rows_of(f"SELECT site_id, created_ts, id FROM {table} WHERE id IN ({{ids}})", list(ids))
        rows.sort(key=lambda row: (row[0] if row[0] is not None else -1, row[1], row[2]))
        return [row[2] for row in rows]

    @_guarded
    def detail_versions(self, ids: Iterable[int] | None = None) -> dict[int, tuple[str | None, bool]]:
        """``id → (updated_at of the stored body, missing)`` (all, or only ``ids``)."""
        if ids is None:
            with self._lock:
                rows = self._db.execute("SELECT id, updated_at, missing FROM details").fetchall()
        else:
            rows = self._rows_of("SELECT id, updated_at, missing FROM details WHERE id IN ({ids})", list(ids))
        return {i: (u, bool(m)) for i, u, m in rows}

    @_guarded
    def save_detail(self, record: dict[str, Any], *, owner: str | None = None) -> None:
        """Store one full order as fetched, keyed by the body's own ``updated_at`` (and release
        ``owner``'s claim on it in the same transaction)."""
        oid = order_id(record)
        updated = record.get("updated_at")
        site = record.get("site_id")
        row = (oid, site if isinstance(site, int) else -1, timestamp(record.get("created_at")) or 0.0, updated,
               timestamp(updated), self._pack(record), time.time())
        with self._lock, self._tx():
            self._db.execute(
                "INSERT INTO details (id, site_id, created_ts, updated_at, updated_ts, body, missing, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT(id) DO UPDATE SET site_id = excluded.site_id, "
                "created_ts = excluded.created_ts, updated_at = excluded.updated_at, "
                "updated_ts = excluded.updated_ts, body = excluded.body, missing = 0, fetched_at = excluded.fetched_at",
                row,
            )
            if owner is not None:
                self._release(owner, oid)
        self._maybe_train()

    @_guarded
    def save_missing(self, oid: int, listed_updated_at: str | None, *, owner: str | None = None) -> None:
        """Remember that an order listed earlier is gone (404), so it is not asked for again."""
        with self._lock, self._tx():
            self._db.execute(
                "INSERT INTO details (id, updated_at, updated_ts, body, missing, fetched_at) "
                "VALUES (?, ?, ?, NULL, 1, ?) ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, "
                "updated_ts = excluded.updated_ts, body = NULL, missing = 1, fetched_at = excluded.fetched_at",
                (oid, listed_updated_at, timestamp(listed_updated_at), time.time()),
            )
            if owner is not None:
                self._release(owner, oid)

    def details(self, ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        """The stored full records of ``ids`` (missing ones are skipped)."""
        id_list = list(ids)
        for start in range(0, len(id_list), _BATCH):
            part = id_list[start : start + _BATCH]
            for (blob,) in self._rows_of("SELECT body FROM details WHERE missing = 0 AND id IN ({ids})", part):
                yield self._unpack(blob)

    def iter_bodies(
        self,
        key: str | None = None,
        *,
        chunk: int = 2000,
        site: int | None = None,
        since_ts: float | None = None,
        until_ts: float | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Full orders, decompressed, ``chunk`` at a time, ordered by ``(site_id, created_at)``.

        ``key``: only the orders of that pull (None: every order in the store). ``site``,
        ``since_ts``/``until_ts`` (epoch seconds, ``[since, until)`` on ``created_at``) narrow it
        further, e.g. to one partition. Memory stays bounded by ``chunk``: each chunk is read by
        one query that resumes after the last row of the previous one (orders stored meanwhile
        appear if they sort after it).
        """
        if not isinstance(chunk, int) or chunk < 1:
            raise ValueError("chunk must be a positive whole number")
        return self._walk(lambda after: self._body_rows(key, after, chunk, site, since_ts, until_ts), chunk)

    @_guarded
    def _body_rows(
        self,
        key: str | None,
        after: tuple[Any, ...] | None,
        chunk: int,
        site: int | None,
        since_ts: float | None,
        until_ts: float | None,
    ) -> list[tuple[Any, ...]]:
        where = ["d.missing = 0"]
        args: list[Any] = []
        join = ""
        if key is not None:
            join = "JOIN members m ON m.order_id = d.id AND m.pull = ? "
            args.append(self._pull_number(key))
        for clause, value in (("d.site_id = ?", site), ("d.created_ts >= ?", since_ts), ("d.created_ts < ?", until_ts)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if after is not None:
            where.append("(d.site_id, d.created_ts, d.id) > (?, ?, ?)")
            args.extend(after)
        sql = (
            "SELECT d.site_id, d.created_ts, d.id, d.body FROM details d INDEXED BY details_site_created "
            f"{join}WHERE {' AND '.join(where)} ORDER BY d.site_id, d.created_ts, d.id LIMIT ?"
        )
        with self._lock:
            return self._db.execute(sql, (*args, chunk)).fetchall()

    @_guarded
    def counts(self) -> dict[str, int]:
        """How many orders, details and pulls the store holds."""
        with self._lock:
            return {
                "orders": self._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0],
                "details": self._db.execute("SELECT COUNT(*) FROM details WHERE missing = 0").fetchone()[0],
                "pulls": self._db.execute("SELECT COUNT(*) FROM pulls").fetchone()[0],
            }

    def disk_bytes(self) -> int:
        """Bytes on disk: the file and its SQLite side files."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(f"{self.path}{suffix}").st_size
        return total

    # -- claims: two processes, one store --------------------------------------------------------

    @_guarded
    def claim(self, oid: int, listed_updated_at: str | None, owner: str, *, lease_s: float,
              alive: Callable[[str], bool]) -> tuple[ClaimResult, float]:
        """Take the right to fetch order ``oid`` for ``lease_s`` seconds, in one transaction.

        Returns ``("have", 0)`` when the store already holds a body at least as new as the list
        says (another process fetched it), ``("missing", 0)`` when it is known to be gone,
        ``("busy", expires)`` while another live owner holds the claim, else ``("mine", expires)``.
        ``alive(owner)`` says whether another claimer still runs (a claim of a dead process is void
        at once; one of another host lapses when its lease expires).
        """
        wanted = timestamp(listed_updated_at)
        now = time.time()
        with self._lock, self._tx():
            row = self._db.execute("SELECT updated_ts, missing FROM details WHERE id = ?", (oid,)).fetchone()
            if row is not None:
                stored, missing = row
                if missing and (wanted is None or (stored is not None and stored >= wanted)):
                    return "missing", 0.0
                if not missing and stored is not None and wanted is not None and stored >= wanted:
                    return "have", 0.0
            held = self._db.execute("SELECT owner, expires FROM claims WHERE order_id = ?", (oid,)).fetchone()
            if held is not None and held[0] != owner and held[1] > now and alive(held[0]):
                return "busy", float(held[1])
            expires = now + lease_s
            self._db.execute(
                "INSERT INTO claims (order_id, owner, expires) VALUES (?, ?, ?) ON CONFLICT(order_id) "
                "DO UPDATE SET owner = excluded.owner, expires = excluded.expires",
                (oid, owner, expires),
            )
        return "mine", expires

    @_guarded
    def release(self, owner: str, oid: int | None = None) -> None:
        """Give up ``owner``'s claim on ``oid`` (or all of its claims)."""
        with self._lock, self._tx():
            self._release(owner, oid)

    def _release(self, owner: str, oid: int | None) -> None:
        if oid is None:
            self._db.execute("DELETE FROM claims WHERE owner = ?", (owner,))
        else:
            self._db.execute("DELETE FROM claims WHERE order_id = ? AND owner = ?", (oid, owner))

    @_guarded
    def renew(self, owner: str, lease_s: float) -> None:
        """Extend every claim of ``owner`` (the running pull's heartbeat)."""
        with self._lock, self._tx():
            self._db.execute("UPDATE claims SET expires = ? WHERE owner = ?", (time.time() + lease_s, owner))

    # -- helpers -------------------------------------------------------------------------------

    def check_file(self) -> None:
        """Raise :class:`DataFileError` when the file at :attr:`path` is gone or is another file
        than the one opened (deleted or replaced while in use): nothing is written into the void."""
        if self._closed:
            raise DataFileError(f"The pull store {self.path} was closed.", self.path)
        now = file_identity(self.path)
        if now is None:
            raise DataFileError(
                f"The pull store {self.path} was removed while in use; nothing more was written to it. "
                "Run the pull again to start a new store.",
                self.path,
            )
        if now != self._identity:
            raise DataFileError(
                f"The pull store {self.path} was replaced by another file while in use; nothing more "
                "was written to the old one. Run the pull again to use the new file.",
                self.path,
            )

    def _failure(self, exc: sqlite3.Error) -> DataFileError:
        text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
        if damaged(exc):
            return DataFileError(
                f"The pull store {self.path} is damaged ({text}); run the pull again: the damaged file "
                "is moved aside and the pull starts again from the API.",
                self.path,
            )
        return DataFileError(f"The pull store {self.path} could not be used ({text}).", self.path)

    def _pull_number(self, key: str) -> int:
        """The pull's row number (members refer to it; -1 for an unknown key: no members)."""
        number = self._numbers.get(key)
        if number is None:
            with self._lock:
                row = self._db.execute("SELECT rowid FROM pulls WHERE key = ?", (key,)).fetchone()
            if row is None:
                return -1
            number = self._numbers[key] = int(row[0])
        return number

    @_guarded
    def _rows_of(self, sql: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (whose ``{ids}`` is an ``IN`` list) for ``ids``, :data:`_BATCH` at a time."""
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(ids), _BATCH):
                part = ids[start : start + _BATCH]
                rows += self._db.execute(sql.format(ids=",".join("?" * len(part))), part).fetchall()
        return rows

    def _walk(self, fetch: Callable[[tuple[Any, ...] | None], list[tuple[Any, ...]]],
              chunk: int) -> Iterator[list[dict[str, Any]]]:  # fmt: skip
        """Unpack rows ``(*sort key, blob)`` ``chunk`` at a time; each ``fetch(after)`` resumes after
        the sort key of the previous chunk's last row (keyset paging: no OFFSET, bounded memory)."""
        after: tuple[Any, ...] | None = None
        while True:
            rows = fetch(after)
            if not rows:
                return
            after = tuple(rows[-1][:-1])
            yield [self._unpack(row[-1]) for row in rows]
            if len(rows) < chunk:
                return

    def _tx(self) -> _Transaction:
        self.check_file()
        return _Transaction(self._db)

    def _add_orders(self, key: str, summaries: Sequence[dict[str, Any]], created: Sequence[float]) -> int:
        """Upsert listed orders and make them members of the pull (inside the caller's
        transaction); returns how many were not members yet."""
        rows = [
            (order_id(record), ts, record.get("updated_at"), record.get("status"), record.get("site_id"),
             record.get("total"), self._pack(record))
            for record, ts in zip(summaries, created, strict=True)
        ]
        self._db.executemany(
            "INSERT INTO orders (id, created_ts, updated_at, status, site_id, total, summary) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "created_ts = excluded.created_ts, updated_at = excluded.updated_at, "
            "status = excluded.status, site_id = excluded.site_id, total = excluded.total, "
            "summary = excluded.summary",
            rows,
        )
        before = self._db.total_changes
        number = self._pull_number(key)
        self._db.executemany("INSERT OR IGNORE INTO members (pull, order_id) VALUES (?, ?)",
                             [(number, row[0]) for row in rows])
        return self._db.total_changes - before

    def _pack(self, record: dict[str, Any]) -> bytes:
        return self._codec.pack(record)

    def _unpack(self, blob: bytes) -> dict[str, Any]:
        if not self._codec.knows(blob[0]):
            self._load_dictionaries()  # trained by another process sharing the file
        return self._codec.unpack(blob)

    @_guarded
    def _load_dictionaries(self) -> None:
        with self._lock:
            for dict_id, data in self._db.execute("SELECT id, data FROM dictionaries").fetchall():
                self._codec.add(int(dict_id), bytes(data))

    @_guarded
    def _maybe_train(self) -> None:
        """Once :data:`TRAIN_AFTER` bodies are in, train the dictionary later bodies are packed with."""
        if self._codec.active:
            return
        with self._lock:
            count = self._db.execute("SELECT COUNT(*) FROM details WHERE missing = 0").fetchone()[0]
            if count < TRAIN_AFTER:
                return
            with self._tx():
                if self._db.execute("SELECT COUNT(*) FROM dictionaries").fetchone()[0] == 0:
                    blobs = self._db.execute(
                        "SELECT body FROM details WHERE missing = 0 ORDER BY fetched_at LIMIT ?", (TRAIN_AFTER,)
                    ).fetchall()
                    data = train(self._codec.unpack_bytes(b) for (b,) in blobs)
                    self._db.execute("INSERT INTO dictionaries (id, data, created) VALUES (1, ?, ?)",
                                     (data, time.time()))
        self._load_dictionaries()

    def _finish_migration(self, orders: int, bodies: int, before: int, announce: bool) -> None:
        with self._lock:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if not announce:  # a layout change of the same compact data: nothing worth a word
            return
        warn(
            f"The pull store {self.path.name} was converted to the compact format ({orders:,} listed orders, "
            f"{bodies:,} full orders): {before / 1e6:,.1f} MB → {self.disk_bytes() / 1e6:,.1f} MB on disk.",
            stacklevel=4,
        )

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Create the layout, or convert a schema-1 store (text JSON) in place."""
        from ._migrate import migrate

        self._migrated = migrate(db, self._codec, self.disk_bytes)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


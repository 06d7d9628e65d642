"""The HTTP cache file: a requests-cache SQLite database that is private, disposable and never a
dead end.

* **Private**: the file is created ``0600`` in a ``0700`` directory (:func:`files.private_file`)
  before SQLite opens it, so its ``-wal``/``-shm`` side files are ``0600`` too.
* **Never served unconfirmed**: entries are stored already expired (``expire_after=0``) and
  revalidated on every use (``always_revalidate``) with ``stale_if_error`` off: requests-cache
  hands a stored body back only after a 304. (With ``expire_after=-1`` an entry never expires, and
  requests-cache ≥ 1.3 returns such an entry, with a logged traceback, when its revalidation
  raises: ``CachedSession._resend`` → ``_handle_error`` → ``CacheActions.is_usable(error=True)``.)
* **Damage is repaired, not reported as a traceback**: a garbled header, a file cut short or a
  write-ahead log that is not one is found when the file is opened; a ``sqlite3.DatabaseError``
  that says "malformed" mid-use is found when it happens. Either way the file (and its side files)
  is moved aside to ``<name>.corrupt-<time>``, a new one is started, and one
  :class:`~kounta_nb.errors.KountaWarning` says so. If no cache file can be opened at all, the
  transport carries on without one (one warning).
* **Generations**: requests use the current :class:`CachedSession` through :meth:`HttpCache.use`;
  a rebuild waits until the requests still using the damaged file have left, closes it, and only
  then moves it aside (an SQLite connection deletes its ``-wal`` by name when it closes, so it must
  not outlive the rename next to a new file).
* :meth:`HttpCache.info` and :meth:`HttpCache.clear` (which really shrinks the file: ``VACUUM``
  and a truncating WAL checkpoint) serve ``%kounta cache info|clear``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
from requests_cache import CachedSession
from requests_cache.backends.sqlite import SQLiteCache, SQLiteDict
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS

from ..errors import warn
from ..files import SQLITE_SIDE_FILES, is_damaged_database, move_aside, private_file

__all__ = [
    "IGNORED_PARAMETERS", "HttpCache", "inspect_file", "DRAIN_S", "heal",
]

_log = logging.getLogger(__name__)
# requests-cache logs warnings and errors of its own (with tracebacks on some paths); with no
# handler configured, Python's last-resort handler would print them to stderr, i.e. into the
# notebook. Our own errors and KountaWarnings say what matters, once.
logging.getLogger("requests_cache").addHandler(logging.NullHandler())

#: Never part of a cache key and redacted from stored requests.
IGNORED_PARAMETERS = (*DEFAULT_IGNORED_PARAMS, "refresh_token", "client_secret", "code")
#: How long a rebuild waits for requests still using a damaged file (a request in flight may be
#: waiting for the network up to its read timeout).
DRAIN_S = 90.0

_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_WAL_VERSION = 3007000


# --------------------------------------------------------------------------------------------
# Inspecting a file before SQLite opens it


def inspect_file(path: Path) -> str | None:
    """Why the cache file at ``path`` is damaged, or ``None`` when it looks sound.

    Cheap checks only (a few header bytes): a header that is not SQLite's (garbled), a file
    shorter than its header says (cut off), a ``-wal`` whose header is not a write-ahead log's. A
    missing or empty file is sound: SQLite treats it as an empty database (and
    :func:`files.private_file` creates it empty on purpose). Damage deeper inside is found by the
    first query that reaches it.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "it is not an SQLite database (garbled or cut off)"
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "its header is garbled"
    wal = _side(path, "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    if wal_size:
        if not _wal_header_ok(wal):
            time.sleep(0.05)  # read again: another process may be rewriting a live log's header
            if not _wal_header_ok(wal):
                return "its write-ahead log (-wal) is not one"
        return None  # pages beyond the end of the file may legitimately live in the log
    change, pages = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    if pages and change == valid_for and size < pages * page_size:
        return f"it is cut off ({size:,} of {pages * page_size:,} bytes)"
    return None


def _wal_header_ok(wal: Path) -> bool:
    try:
        with wal.open("rb") as fh:
            head = fh.read(32)
    except OSError:
        return True  # gone (checkpointed and removed by its owner): nothing to judge
    if len(head) == 0:
        return True
    if len(head) < 32:
        return False
    magic, version = struct.unpack(">II", head[:8])
    if magic not in _WAL_MAGIC or version != _WAL_VERSION:
        return False
    expected = struct.unpack(">II", head[24:32])
    return _wal_checksum(head[:24], big_endian=magic & 1 == 1) == expected


def _wal_checksum(data: bytes, *, big_endian: bool) -> tuple[int, int]:
    """The WAL header checksum (sqlite.org/fileformat2.html#walformat)."""
    words = struct.unpack((">" if big_endian else "<") + f"{len(data) // 4}I", data)
    s0 = s1 = 0
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


# --------------------------------------------------------------------------------------------
# Generations of the open cache


class _Generation:
    """One opened cache file and the requests using it."""

    def __init__(self, session: CachedSession) -> None:
        self.session = session
        self.users = 0
        self.retiring = False
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            _close(self.session)


def _close(session: Any) -> None:
    with contextlib.suppress(sqlite3.Error):
        session.close()


def _tables(session: CachedSession) -> tuple[SQLiteDict, SQLiteDict]:
    """The session's two SQLite tables (responses, redirects)."""
    cache = session.cache
    assert isinstance(cache, SQLiteCache)
    return cache.responses, cache.redirects


def heal(session: CachedSession) -> None:
    """Roll back a write transaction an error left open on the session's SQLite connections.

    requests-cache ≥ 1.3 writes inside ``BEGIN IMMEDIATE`` and rolls back only on
    ``OperationalError``: after a ``DatabaseError`` (a damaged page) the shared connection stays in
    its transaction and every later write spins forever on "cannot start a transaction within a
    transaction" while holding the backend's lock. Called right after such an error.
    """
    for store in _tables(session):
        connection = getattr(store, "_connection", None)
        lock = getattr(store, "_lock", None)
        if not isinstance(connection, sqlite3.Connection):
            continue
        # A writer holding the lock finishes in milliseconds; one spinning on our leftover
        # transaction never lets go, so after a short wait the rollback goes ahead without it.
        held = bool(lock.acquire(timeout=0.5)) if lock is not None else False
        try:
            if connection.in_transaction:
                connection.rollback()
        except sqlite3.Error:
            pass
        finally:
            if held and lock is not None:
                lock.release()


class HttpCache:
    """The SQLite HTTP cache at ``path`` (see the module docstring).

    ``key_fn`` is requests-cache's key callback (the transport mixes in the company namespace);
    ``filter_fn`` decides what may be stored; ``setup`` prepares each new session like the
    transport's plain one (headers, adapters, no ``trust_env``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        key_fn: Callable[..., str],
        filter_fn: Callable[[requests.Response], bool],
        setup: Callable[[CachedSession], CachedSession],
    ) -> None:
        self.path = Path(path).expanduser()
        self._key_fn = key_fn
        self._filter_fn = filter_fn
        self._setup = setup
        self._cond = threading.Condition()
        self._current: _Generation | None = None
        #: Why the cache is off (it could not be opened), or ``None``.
        self.unavailable: str | None = None
        self._current = self._open()

    # -- opening ---------------------------------------------------------------------------

    def _session(self) -> CachedSession:
        session = CachedSession(
            str(self.path),
            backend="sqlite",
            # Stored already expired, revalidated on every use, never served on error.
            expire_after=0,
            always_revalidate=True,
            stale_if_error=False,
            stale_while_revalidate=False,
            allowable_codes=(200,),
            allowable_methods=("GET",),
            ignored_parameters=IGNORED_PARAMETERS,
            key_fn=self._key_fn,
            filter_fn=self._filter_fn,
            wal=True,
        )
        return self._setup(session)

    def _open(self) -> _Generation | None:
        """Open the file (moving a damaged one aside first); ``None`` if no file can be opened."""
        for _ in range(2):
            reason: str | None = None
            session: CachedSession | None = None
            try:
                private_file(self.path)
                reason = inspect_file(self.path)
                if reason is None:
                    session = self._session()
                    _probe(session)
                    return _Generation(session)
            except sqlite3.DatabaseError as exc:
                if session is not None:
                    heal(session)
                    _close(session)
                if not is_damaged_database(exc):
                    self._give_up(f"SQLite said: {exc}")
                    return None
                reason = f"SQLite said: {exc}"
            except OSError as exc:
                self._give_up(exc.strerror or type(exc).__name__)
                return None
            try:
                self._move_aside(reason)
            except OSError as exc:
                self._give_up(f"it is damaged ({reason}) and could not be moved aside: {exc.strerror}")
                return None
        self._give_up("a new file was damaged at once")
        return None

    def _move_aside(self, reason: str) -> None:
        moved = move_aside(self.path)
        warn(f"The HTTP cache file {self.path} was damaged ({reason}); it was moved aside to "
             f"{moved.name} and a new, empty cache started (nothing else is affected).", stacklevel=6)

    def _give_up(self, why: str) -> None:
        self.unavailable = why
        warn(f"The HTTP cache file {self.path} cannot be used ({why}); kounta_nb carries on "
             "without a cache (every answer is downloaded).", stacklevel=6)

    # -- use and recovery -------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether a cache file is open right now."""
        current = self._current
        return current is not None and not current.retiring

    @contextlib.contextmanager
    def use(self) -> Iterator[CachedSession | None]:
        """The current session for one request (``None`` while there is none: go uncached)."""
        with self._cond:
            generation = self._current
            if generation is None or generation.retiring:
                generation = None
            else:
                generation.users += 1
        try:
            yield generation.session if generation is not None else None
        finally:
            if generation is not None:
                with self._cond:
                    generation.users -= 1
                    self._cond.notify_all()

    def failed(self, session: CachedSession, exc: sqlite3.Error) -> None:
        """A request using ``session`` met ``exc``; called after leaving :meth:`use`.

        A damaged file is rebuilt (once, by the first thread that reports it); a busy or locked
        one is left alone (the request goes on without the cache this time).
        """
        heal(session)
        if not is_damaged_database(exc):
            _log.debug("HTTP cache busy or unavailable (%s); this request goes uncached.", exc)
            return
        with self._cond:
            generation = self._current
            if generation is None or generation.session is not session or generation.retiring:
                return  # someone else is rebuilding (or has rebuilt) it
            generation.retiring = True
            drained = self._cond.wait_for(lambda: generation.users == 0, timeout=DRAIN_S)
            if not drained:
                self._current = None
        if not drained:
            self._give_up(f"it is damaged (SQLite said: {exc}) and still in use")
            return
        generation.close()
        try:
            self._move_aside(f"SQLite said: {exc}")
        except OSError as err:
            with self._cond:
                self._current = None
            self._give_up(f"it is damaged and could not be moved aside: {err.strerror}")
            return
        fresh = self._open()
        with self._cond:
            self._current = fresh

    def close(self) -> None:
        """Close the file (the transport calls this once no request uses it any more)."""
        with self._cond:
            generation, self._current = self._current, None
        if generation is not None:
            generation.close()

    # -- entries ----------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The stored response under ``key`` (a ``CachedResponse``) or ``None``."""
        with self.use() as session:
            if session is None:
                return None
            try:
                return session.cache.get_response(key)
            except sqlite3.Error as exc:
                failure = exc
        self.failed(session, failure)
        return None

    def save(self, response: requests.Response, key: str, expires: Any) -> None:
        """Store ``response`` under ``key`` (a failure only costs the entry)."""
        with self.use() as session:
            if session is None:
                return
            try:
                session.cache.save_response(response, key, expires)
                return
            except sqlite3.Error as exc:
                failure = exc
        self.failed(session, failure)

    def delete(self, key: str) -> None:
        """Drop the entry under ``key`` (if any)."""
        with self.use() as session:
            if session is None:
                return
            try:
                session.cache.delete(key)
                return
            except sqlite3.Error as exc:
                failure = exc
        self.failed(session, failure)

    def key(self, url: str, params: dict[str, Any] | None) -> str | None:
        """requests-cache's key for a GET of ``url`` with ``params`` (``None`` without a file)."""
        with self.use() as session:
            if session is None:
                return None
            request = session.prepare_request(requests.Request("GET", url, params=params))
            return str(session.cache.create_key(request))

    # -- info and clear ---------------------------------------------------------------------

    def size(self) -> int:
        """Bytes on disk: the file and its side files."""
        total = 0
        for candidate in (self.path, *(_side(self.path, s) for s in SQLITE_SIDE_FILES)):
            with contextlib.suppress(OSError):
                total += candidate.stat().st_size
        return total

    def info(self, namespace: str | None) -> dict[str, Any]:
        """``path``, ``bytes`` on disk (with side files), ``entries`` of ``namespace`` and
        ``entries_total``."""
        entries = total = 0
        with self.use() as session:
            failure: sqlite3.Error | None = None
            if session is not None:
                try:
                    with _tables(session)[0].connection() as con:
                        total = con.execute("SELECT count(*) FROM responses").fetchone()[0]
                        if namespace is not None:
                            entries = con.execute(
                                "SELECT count(*) FROM responses WHERE key >= ? AND key < ?",
                                _prefix_range(namespace)).fetchone()[0]
                except sqlite3.Error as exc:
                    failure = exc
        if failure is not None and session is not None:
            self.failed(session, failure)
        return {"path": str(self.path), "bytes": self.size(), "entries": int(entries),
                "entries_total": int(total), "available": self.available}

    def clear(self, namespace: str | None) -> int:
        """Remove the entries of ``namespace`` (every entry with ``None``), then compact the file
        so it really shrinks. Returns the number of responses removed."""
        removed = 0
        with self.use() as session:
            failure: sqlite3.Error | None = None
            if session is not None:
                try:
                    removed = _delete(session, namespace)
                    _compact(session)
                except sqlite3.Error as exc:
                    failure = exc
        if failure is not None and session is not None:
            if is_damaged_database(failure):
                self.failed(session, failure)  # rebuilt empty: everything is gone anyway
            else:
                warn(f"The HTTP cache file {self.path} could not be compacted now ({failure}); "
                     f"{removed} entries were removed.", stacklevel=4)
        return removed


def _prefix_range(namespace: str) -> tuple[str, str]:
    """Keys ``"<namespace>:…"`` as a range the primary-key index answers."""
    return f"{namespace}:", f"{namespace};"  # ';' sorts right after ':'


def _probe(session: CachedSession) -> None:
    """Read both tables once, so a damaged file says so now rather than mid-request."""
    for store in _tables(session):
        with store.connection() as con:
            con.execute(f"SELECT count(*) FROM {store.table_name}").fetchone()


def _delete(session: CachedSession, namespace: str | None) -> int:
    responses, redirects = _tables(session)
    where, args = ("WHERE key >= ? AND key < ?", _prefix_range(namespace)) if namespace else ("", ())
    with responses.connection(commit=True) as con:
        removed = int(con.execute(f"DELETE FROM responses {where}", args).rowcount)
    with redirects.connection(commit=True) as con:
        con.execute(f"DELETE FROM redirects {where}", args)
    return removed


def _compact(session: CachedSession) -> None:
    """VACUUM, then fold the write-ahead log back so the file on disk shrinks."""
    responses = _tables(session)[0]
    with responses._lock, responses.connection() as con:  # no writer may run meanwhile
        if con.in_transaction:
            con.commit()
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

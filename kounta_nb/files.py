"""Local files: private by construction, and never a dead end when damaged.

Every file kounta_nb keeps on disk (the HTTP cache, pull stores, the token file, remembered
choices, datasets' manifests) holds customer or credential data, so:

* :func:`private_dir` makes the directory (and its missing parents) ``0700`` and tightens an
  existing one that we own to ``0700``, whatever mode it had before;
* :func:`private_file` creates a file ``0600`` (or tightens an existing one) *before* anything
  else opens it: SQLite gives its ``-wal``/``-shm`` side files the mode of the database file, so a
  database created this way stays private with every side file;
* :func:`write_private_text` replaces a small file atomically, ``0600`` from its first byte;
* :func:`move_aside` renames a damaged file (and its SQLite side files) to
  ``<name>.corrupt-<UTC time>`` so the caller can rebuild it and the user can still inspect it;
* :func:`is_damaged_database` tells a damaged SQLite file from a busy or missing one.

This module sits at the bottom of the import graph (``settings`` and ``errors`` only).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "SQLITE_SIDE_FILES",
    "is_damaged_database",
    "move_aside",
    "private_dir",
    "private_file",
    "write_private_text",
]

#: What SQLite keeps beside a database file (WAL mode and rollback journal).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) as ``0700``; tighten it to ``0700`` if it exists.

    Only a directory owned by the current user and without the sticky bit is tightened: pointing
    ``KOUNTA_CACHE_DIR`` at ``/tmp`` must not change ``/tmp``. Parents that already existed are
    left as they are.
    """
    directory = Path(path).expanduser()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        info = directory.stat()
        ours = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if ours and not info.st_mode & stat.S_ISVTX and stat.S_IMODE(info.st_mode) != 0o700:
            directory.chmod(0o700)
    return directory


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists as a ``0600`` file in a private directory (created empty if missing).

    Call it before handing the path to SQLite or requests-cache, so the file is never readable
    by others, not even for the moment between creation and a later chmod.
    """
    target = Path(path).expanduser()
    private_dir(target.parent)
    fd = os.open(target, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in SQLITE_SIDE_FILES:
        side = target.with_name(target.name + suffix)
        with contextlib.suppress(OSError):
            if side.exists() and stat.S_IMODE(side.stat().st_mode) != 0o600:
                side.chmod(0o600)
    return target


def write_private_text(path: str | os.PathLike[str], text: str) -> Path:
    """Replace ``path`` with ``text`` atomically; the file is ``0600`` from its first byte."""
    target = Path(path).expanduser()
    private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def move_aside(path: str | os.PathLike[str], *, now: datetime | None = None) -> Path:
    """Rename a damaged file to ``<name>.corrupt-<YYYYmmddTHHMMSSZ>`` (side files follow).

    Returns the new path. The caller then starts a fresh file at the old path and says so in one
    line. Nothing is deleted: the damaged copy stays for inspection until the user removes it.
    """
    source = Path(path)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = source.with_name(f"{source.name}.corrupt-{stamp}-{n}")
    os.replace(source, target)
    for suffix in SQLITE_SIDE_FILES:
        side = source.with_name(source.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.replace(side, target.with_name(target.name + suffix))
    return target


#: Messages of ``sqlite3.OperationalError`` that mean "busy or unavailable", not "damaged".
_TRANSIENT = ("locked", "busy", "unable to open", "readonly", "disk i/o", "interrupted")


def is_damaged_database(exc: BaseException) -> bool:
    """Whether ``exc`` says a SQLite file is damaged (garbled, truncated, not a database).

    A locked or busy database, a missing directory or a read-only file is not damage: moving
    such a file aside would throw good data away.
    """
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError):
        return "malformed" in text or "not a database" in text
    return not any(word in text for word in _TRANSIENT)

"""Advisory file locks that hold across processes *and* threads.

``flock`` locks belong to an open file description, so each acquisition opens the lock file
anew: two threads of one process exclude each other exactly as two processes do (POSIX
``fcntl`` record locks would not — they belong to the process). On Windows ``msvcrt.locking``
gives the same exclusion.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataFileError
from ..files import private_file

__all__ = ["exclusive"]

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int, blocking: bool) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, blocking: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive(path: Path, *, timeout: float | None = None, what: str = "the dataset") -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created 0600 if missing) for the ``with`` block.

    ``timeout`` None waits as long as it takes; otherwise a ``DataFileError`` after that many
    seconds names ``what`` is busy.
    """
    private_file(path)
    fd = os.open(path, os.O_RDWR)
    try:
        if timeout is None:
            _lock(fd, True)
        else:
            deadline = time.monotonic() + timeout
            while not _lock(fd, False):
                if time.monotonic() >= deadline:
                    raise DataFileError(
                        f"{what} is busy: another export holds {path.name}; try again when it ends."
                    )
                time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)

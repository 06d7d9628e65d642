"""Fewer glibc malloc arenas for a process that runs pulls (Linux only).

glibc gives each new thread a malloc arena of its own, up to eight per core (16 on a 2-core
Binder, 512 on a 64-core server). An arena keeps the memory its threads freed for its own
threads: freed in one arena, it is no use to a thread of another. A pull runs up to 32 worker
threads and an exporter, all of them Python code, whose allocations the GIL serialises anyway, so
the extra arenas buy no speed; they only keep freed memory apart. Measured on the pull of
``benchmarks/bench_memory.py`` (six months, 81,863 orders, 32 workers): glibc held 31 MB free
after the pull with the default arenas and 15 MB with two (``MALLOC_ARENA_MAX=2`` from the
start); peak RSS at ``job.frames()`` 380 MB against 365 MB.

So before a pull starts its threads, the process is limited to :data:`ARENAS` arenas (glibc's
``M_ARENA_MAX``, what the ``MALLOC_ARENA_MAX`` environment variable sets at start-up), for the
rest of its life: arenas are never removed, and new threads share the existing ones (glibc fixes
its limit once a process has more than eight, so this only takes effect before that). Left alone
when the user chose (``MALLOC_ARENA_MAX`` or a ``glibc.malloc.arena_max`` tunable), and off
glibc (macOS, musl, Windows), where there is nothing to set.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

__all__ = ["ARENAS", "limit_malloc_arenas"]

#: Arenas a process running pulls may use: the main thread's and one for every other thread.
ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h
_lock = threading.Lock()
_done = False


def limit_malloc_arenas() -> bool:
    """Limit glibc to :data:`ARENAS` malloc arenas, once per process; returns whether it did."""
    global _done
    with _lock:
        if _done:
            return False
        _done = True
        if not _glibc() or _user_chose():
            return False
        try:
            return bool(_libc().mallopt(_M_ARENA_MAX, ARENAS))
        except (OSError, AttributeError):
            return False


def _glibc() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return False
    return version.startswith("glibc")


def _user_chose() -> bool:
    return "MALLOC_ARENA_MAX" in os.environ or "arena_max" in os.environ.get("GLIBC_TUNABLES", "")


def _libc() -> Any:
    return ctypes.CDLL(None)  # the C library this process already runs on

"""A pull's Parquet dataset, kept in step while the pull runs (``pull_orders(..., export=path)``).

The pull store stays the source: an :class:`Exporter` hands chunks of stored full orders to
:func:`kounta_nb.dataset.export_orders`, which merges them into Hive partitions (an order already
there with the same ``updated_at`` changes nothing; a changed one replaces its rows; never a
duplicate). While the pull runs, the details fetched since the last export go out every
:data:`EXPORT_EVERY_S` seconds (or every :data:`EXPORT_EVERY_N` orders) on a thread of their own;
when it ends, every order of the pull not exported yet goes out (those reused from the store
without a fetch, the listed orders without details), so the dataset holds exactly the pull's
orders. Memory stays bounded by one chunk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store import PullStore

if TYPE_CHECKING:
    from ..dataset import Manifest

__all__ = ["EXPORT_EVERY_N", "EXPORT_EVERY_S", "Exporter", "export_pull"]

#: While a pull runs, fetched orders go to the dataset at least this often (seconds) ...
EXPORT_EVERY_S = 60.0
#: ... or as soon as this many are waiting.
EXPORT_EVERY_N = 5000
#: Orders decoded and staged at a time. Each is ~11 kB of Python objects while it is framed, and
#: the memory a chunk came from stays split up after it is freed (beside a running pull, its
#: workers' own allocations land in between): 500 at a time (~6 MB) rather than 2,000 (~22 MB).
#: Exporting a two-month store (25,107 orders) in random batches of 5,000, as a pull does: peak
#: 10 MB lower, 15 MB less left behind.
_CHUNK = 500


def export_pull(root: str | Path, store: PullStore, key: str, *, company_id: int, tz: tzinfo) -> Manifest:
    """Every full order (and listed order) of pull ``key`` into the dataset at ``root``."""
    from ..dataset import export_orders

    return export_orders(root, store.iter_bodies(key, chunk=_CHUNK), company_id=company_id, tz=tz,
                         pull_id=key, listed=store.iter_summaries(key, chunk=_CHUNK))


class Exporter:
    """Exports the orders a running pull fetches, in the background, then the whole pull."""

    def __init__(self, root: str | Path, store: PullStore, key: str, *, company_id: int, tz: tzinfo) -> None:
        self.root = Path(root).expanduser()
        self._store = store
        self._key = key
        self._company_id = company_id
        self._tz = tz
        self._lock = threading.Condition()
        self._pending: set[int] = set()
        # the ids the background exports sent, each with its list record: one set, not one per
        # table (82k ids cost ~5 MB a set)
        self._out: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.exports = 0
        self.error: BaseException | None = None
        self.manifest: Manifest | None = None

    def fetched(self, oid: int) -> None:
        """A detail came in (called by the scheduler's worker threads)."""
        with self._lock:
            self._pending.add(oid)
            if len(self._pending) >= EXPORT_EVERY_N:
                self._lock.notify_all()

    def start(self) -> None:
        """Start exporting in the background."""
        self._thread = threading.Thread(target=self._loop, name="kounta-pull-export", daemon=True)
        self._thread.start()

    def finish(self, done: set[int], listed: set[int]) -> Manifest | None:
        """Stop the background exports and export what of the pull is not in the dataset yet:
        the full orders ``done`` and the list records ``listed`` not exported by this job.
        Returns the manifest (an error is kept in :attr:`error`; the pull's data stays in the store)."""
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join()
        if self.error is None:
            bodies = self._store.in_partition_order(done - self._out)
            records = self._store.in_partition_order(listed - self._out, listed=True)
            if bodies or records or self.manifest is None:
                try:
                    self._export(bodies, records)
                except Exception as exc:  # noqa: BLE001 - reported through the job
                    self.error = exc
        self._out = set()  # the pull is out: nothing asks again (82k ids hold ~4 MB)
        return self.manifest

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if len(self._pending) < EXPORT_EVERY_N:
                    self._lock.wait(EXPORT_EVERY_S)
                ids, self._pending = self._pending, set()
            if ids and not self._stop.is_set():
                try:
                    ordered = self._store.in_partition_order(ids)
                    self._export(ordered, ordered)
                except Exception as exc:  # noqa: BLE001 - the first failure stops the exports
                    self.error = exc
                    return
                self._out.update(ids)

    def _export(self, ids: list[int], listed: list[int]) -> None:
        from ..dataset import export_orders

        self.manifest = export_orders(self.root, self._bodies(ids), company_id=self._company_id, tz=self._tz,
                                      pull_id=self._key, listed=self._store.listed(listed, chunk=_CHUNK))
        self.exports += 1

    def _bodies(self, ids: list[int]) -> Iterator[list[dict[str, Any]]]:
        # ``ids`` in partition order (the fetch order is random): a chunk then lands in one or two
        # site-months, not in all of them, so staging writes few, larger row groups
        for start in range(0, len(ids), _CHUNK):
            yield list(self._store.details(ids[start : start + _CHUNK]))


"""A read-only sequence of full orders that lives in the pull store, not in memory.

``PullJob.orders`` used to be a list of every full order fetched (hundreds of MB for a six-month
pull). :class:`StoredOrders` keeps only the ids (8 bytes each) and reads bodies from the store when
asked: iterating streams them ``chunk`` at a time, indexing reads one, ``list(job.orders)`` still
materialises everything for those who want it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from .store import PullStore

__all__ = ["StoredOrders"]


class StoredOrders(Sequence[dict[str, Any]]):
    """Full orders ``ids`` (in that order) as stored in ``store``; bodies are read on demand."""

    def __init__(self, store: PullStore, ids: Sequence[int], *, chunk: int = 2000) -> None:
        self._store = store
        self._ids = list(ids)
        self._chunk = chunk

    @property
    def ids(self) -> list[int]:
        """The order ids, in sequence order."""
        return list(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> StoredOrders: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | StoredOrders:
        if isinstance(index, slice):
            return StoredOrders(self._store, self._ids[index], chunk=self._chunk)
        oid = self._ids[index]
        for record in self._store.details([oid]):
            return record
        raise IndexError(f"order {oid} is no longer in the pull store")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for chunk in self.chunks():
            yield from chunk

    def chunks(self, size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """The orders ``size`` at a time (default: the chunk given at construction)."""
        step = size or self._chunk
        for start in range(0, len(self._ids), step):
            ids = self._ids[start : start + step]
            by_id = {}
            for record in self._store.details(ids):
                by_id[int(record.get("id_str") or record["id"])] = record
            yield [by_id[i] for i in ids if i in by_id]

    def __repr__(self) -> str:
        return f"<StoredOrders: {len(self._ids):,} full orders read from {self._store.path.name} on demand>"

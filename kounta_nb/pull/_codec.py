"""How the pull store packs a JSON record: compact JSON, zlib, and a dictionary trained on the store's
own first orders.

A full order is ~2.2 kB of JSON; zlib alone brings it to ~730 bytes because one record is too
short for zlib to learn the field names and the menu. A *preset dictionary* (zlib's ``zdict``) made
of a few dozen real orders of the same company gives the compressor that context up front: the
same records pack to ~300 bytes (measured on sandbox orders, see ``benchmarks/RESULTS.md``).

A packed blob is one header byte, the id of the dictionary it was packed with (0 = none), then
the zlib stream. Dictionaries live in the store (table ``dictionaries``) and never change once
written, so every blob stays readable for the life of the file.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DICTIONARY_BYTES", "TRAIN_AFTER", "Codec", "train"]

#: zlib's window: a preset dictionary longer than this is cut to its last 32 kB.
DICTIONARY_BYTES = 32 * 1024
#: Bodies packed without a dictionary before one is trained from them.
TRAIN_AFTER = 48
_LEVEL = 6


def dumps(record: Mapping[str, Any]) -> bytes:
    """Compact JSON (the form that is compressed and measured)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


def train(samples: Iterable[bytes]) -> bytes:
    """A preset dictionary from sample records: their concatenation, the most typical last.

    zlib finds matches nearest the end of the dictionary most cheaply, so the samples go in as
    given (any order works) and the total is cut to the last :data:`DICTIONARY_BYTES`.
    """
    joined = b"".join(samples)
    return joined[-DICTIONARY_BYTES:]


class Codec:
    """Packs and unpacks records with the dictionaries of one store (thread-safe: no shared state
    but the read-only dictionary map, which only ever grows)."""

    def __init__(self, dictionaries: Mapping[int, bytes] | None = None) -> None:
        self._dicts: dict[int, bytes] = dict(dictionaries or {})

    @property
    def active(self) -> int:
        """The dictionary new blobs are packed with (the newest; 0 = none yet)."""
        return max(self._dicts, default=0)

    def knows(self, dict_id: int) -> bool:
        """Whether blobs packed with ``dict_id`` can be unpacked."""
        return dict_id == 0 or dict_id in self._dicts

    def add(self, dict_id: int, data: bytes) -> None:
        """Learn a dictionary (from this process or another one sharing the store)."""
        if not 0 < dict_id < 256:
            raise ValueError("dictionary ids run from 1 to 255")
        self._dicts[dict_id] = bytes(data)

    def pack(self, record: Mapping[str, Any]) -> bytes:
        """``record`` as a blob: header byte + zlib stream (with the active dictionary, if any)."""
        raw = dumps(record)
        dict_id = self.active
        if dict_id:
            packer = zlib.compressobj(_LEVEL, zdict=self._dicts[dict_id])
            return bytes((dict_id,)) + packer.compress(raw) + packer.flush()
        return b"\x00" + zlib.compress(raw, _LEVEL)

    def unpack_bytes(self, blob: bytes) -> bytes:
        """The JSON text of a blob."""
        dict_id = blob[0]
        if dict_id == 0:
            return zlib.decompress(blob[1:])
        unpacker = zlib.decompressobj(zdict=self._dicts[dict_id])
        return unpacker.decompress(blob[1:]) + unpacker.flush()

    def unpack(self, blob: bytes) -> dict[str, Any]:
        """The record of a blob."""
        value = json.loads(self.unpack_bytes(blob))
        if not isinstance(value, dict):
            raise ValueError("a stored record is not a JSON object")
        return value

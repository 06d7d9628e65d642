"""What a request gives back: :class:`ApiResponse` (the answer and where it came from) and the
:class:`RequestStats` counters, plus the small body readers the policy shares."""

from __future__ import annotations

import json as jsonlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from ..errors import APIError

__all__ = ["ApiResponse", "RequestStats", "decode_json", "looks_json", "summary"]


def decode_json(content: bytes) -> Any:
    """The body as JSON (raises ``ValueError``/``UnicodeDecodeError`` when it is not)."""
    return jsonlib.loads(content.decode("utf-8"))


def looks_json(content: bytes) -> bool:
    """Whether a body starts like a JSON object or array."""
    head = content[:1].strip() or content.lstrip()[:1]
    return head in (b"{", b"[")


_TAG = re.compile(r"<[^>]+>")


def summary(content: bytes, content_type: str) -> tuple[str | None, str | None]:
    """(error, description) from an error body of any shape, without echoing anything long."""
    try:
        body = decode_json(content)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        description = body.get("error_description") or body.get("message") or body.get("errors")
        return (str(error) if error else None, str(description)[:300] if description else None)
    text = content.decode("utf-8", "replace").strip()
    if "html" in content_type.lower() or text.startswith("<"):
        return None, "the answer was an HTML page, not JSON"
    text = _TAG.sub(" ", text).split("\n", 1)[0].strip()
    return None, (text[:200] or None)


# --------------------------------------------------------------------------------------------
# Statistics


@dataclass
class RequestStats:
    """Counters of what the transport did; ``snapshot()`` and subtraction give per-call figures.

    ``requests`` went over the network (each retry and revalidation counts); ``downloaded``
    brought a fresh body; ``revalidated`` were answered 304 and served from the cache;
    ``from_cache`` were served from the cache without a request (:meth:`Transport.cached`);
    ``stale`` were served from the cache in offline mode after a failed request; ``retries``
    repeated an attempt; ``rate_limited`` answers said ``Limit exceeded``; ``waited_s`` seconds went
    to the rate limiter and back-off.
    """

    requests: int = 0
    downloaded: int = 0
    revalidated: int = 0
    from_cache: int = 0
    retries: int = 0
    rate_limited: int = 0
    stale: int = 0
    waited_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: float) -> None:
        """Increase counters atomically."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def snapshot(self) -> RequestStats:
        """A frozen copy of the current figures."""
        with self._lock:
            return RequestStats(**self._values())

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}

    def as_dict(self) -> dict[str, Any]:
        """Plain counters (for ``meta`` and display)."""
        values = self._values()
        values["waited_s"] = round(values["waited_s"], 3)
        return values

    def __sub__(self, other: RequestStats) -> RequestStats:
        a, b = self._values(), other._values()
        return RequestStats(**{k: a[k] - b[k] for k in a})

    def __add__(self, other: RequestStats) -> RequestStats:
        a, b = self._values(), other._values()
        return RequestStats(**{k: a[k] + b[k] for k in a})


# --------------------------------------------------------------------------------------------
# Response


class ApiResponse:
    """What :meth:`Transport.request` returns: the answer plus where it came from.

    ``from_cache``: the body came from the HTTP cache; ``revalidated``: after a 304 (the API said
    it is unchanged); ``stale``: served in offline mode after the API could not be reached, as it
    was at ``fetched_at``. A fresh download has all three False.
    """

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        from_cache: bool = False,
        revalidated: bool = False,
        stale: bool = False,
        fetched_at: datetime | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status_code = status_code
        self.headers = CaseInsensitiveDict(headers)
        self.content = content
        self.from_cache = from_cache
        self.revalidated = revalidated
        self.stale = stale
        self.fetched_at = fetched_at or datetime.now(UTC)
        self._json: Any = ...

    @property
    def path(self) -> str:
        """The URL path (no query), for messages."""
        return urlsplit(self.url).path

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The decoded body; ``None`` for an empty body (201/204). A body that is not JSON raises
        :class:`~kounta_nb.errors.APIError` with a readable sentence, never a JSONDecodeError."""
        if self._json is ...:
            if not self.content.strip() or self.content.strip() == b"null":
                self._json = None
            else:
                try:
                    self._json = decode_json(self.content)
                except (ValueError, UnicodeDecodeError):
                    _, description = summary(self.content, self.headers.get("Content-Type", ""))
                    raise APIError(
                        self.status_code,
                        "invalid_json",
                        f"the answer was not valid JSON ({description or 'unreadable body'})",
                        method=self.method,
                        path=self.path,
                    ) from None
        return self._json

    def __repr__(self) -> str:
        source = ("stale" if self.stale else "revalidated" if self.revalidated
                  else "cache" if self.from_cache else "network")
        return f"<ApiResponse {self.status_code} {self.method} {self.path} ({source})>"



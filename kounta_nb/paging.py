"""The ``X-Next-Page`` follower, as a small stateful object (after dlt's paginators).

The API answers at most 25 records per page and puts the *complete* URL of the next page, with
the original filters already inside, in ``X-Next-Page`` (docs/api.md §3). The paginator:

* follows it (absolute or relative to the page it came from) and never re-appends the query;
* stops when the header is absent or a page is empty, or after ``max_pages``;
* raises :class:`~kounta_nb.errors.PagingError` when the cursor repeats an earlier URL;
* drops records already seen (by ``id_str``, else ``id``) when data shifts under the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

from .endpoints import record_id
from .errors import APIError, ConfigError, PagingError

__all__ = [
    "NEXT_PAGE_HEADER", "Page", "Paginator", "paginate", "ResponseLike", "SAFETY_MAX_PAGES",
]

NEXT_PAGE_HEADER = "X-Next-Page"
#: A hard ceiling so a server that keeps inventing fresh cursors cannot page forever.
SAFETY_MAX_PAGES = 200_000


class ResponseLike(Protocol):
    """What the paginator needs from a response."""

    @property
    def headers(self) -> Any: ...

    @property
    def url(self) -> str: ...

    def json(self) -> Any: ...


@dataclass
class Page:
    """One page: its new (de-duplicated) records, the response it came from and its number (1-based)."""

    records: list[dict[str, Any]]
    response: Any
    number: int
    url: str


class Paginator:
    """Cursor state for one walk through a list."""

    def __init__(self, *, max_pages: int | None = None, dedupe: bool = True) -> None:
        if max_pages is not None and (not isinstance(max_pages, int) or max_pages < 1):
            raise ConfigError("max_pages must be a positive whole number.")
        self.max_pages = max_pages
        self.dedupe = dedupe
        self.pages = 0
        self.duplicates = 0
        self.next_url: str | None = None
        self._seen_urls: set[str] = set()
        self._seen_ids: set[str] = set()
        self._done = False

    def init_request(self, url: str, params: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
        """The first request: the caller's URL and filters."""
        self._seen_urls.add(url)
        return url, params

    def has_next_page(self) -> bool:
        """Whether another request is due."""
        return not self._done

    def update_state(self, request_url: str, response: ResponseLike, records: Any) -> list[dict[str, Any]]:
        """Digest one page; returns its records minus those already seen."""
        if not isinstance(records, list):
            raise APIError(
                getattr(response, "status_code", 200),
                "unexpected_body",
                "a list was expected but the answer was not a list",
            )
        self.pages += 1
        self._seen_urls.add(request_url)
        if getattr(response, "url", None):
            self._seen_urls.add(response.url)
        fresh = self._dedupe(records) if self.dedupe else list(records)
        header = response.headers.get(NEXT_PAGE_HEADER) if response.headers is not None else None
        if not header or not records or self.max_pages is not None and self.pages >= self.max_pages:
            self._done = True
        else:
            base = getattr(response, "url", None) or request_url
            nxt = urljoin(base, header.strip())
            if nxt in self._seen_urls:
                raise PagingError(
                    f"The X-Next-Page cursor repeated an earlier page after {self.pages} pages; "
                    "the listing stopped to avoid an endless loop."
                )
            if self.pages >= SAFETY_MAX_PAGES:
                raise PagingError(f"The listing exceeded {SAFETY_MAX_PAGES} pages and was stopped.")
            self._seen_urls.add(nxt)
            self.next_url = nxt
        return fresh

    def update_request(self) -> tuple[str, None]:
        """The next request: the cursor URL exactly as given (it already carries the filters)."""
        if self._done or self.next_url is None:
            raise PagingError("There is no next page to request.")
        return self.next_url, None

    def _dedupe(self, records: list[Any]) -> list[dict[str, Any]]:
        fresh = []
        for record in records:
            key = record_id(record) if isinstance(record, dict) else None
            if key is not None:
                if key in self._seen_ids:
                    self.duplicates += 1
                    continue
                self._seen_ids.add(key)
            fresh.append(record)
        return fresh


def paginate(
    fetch: Callable[[str, dict[str, Any] | None], ResponseLike],
    url: str,
    params: dict[str, Any] | None = None,
    *,
    max_pages: int | None = None,
    decode: Callable[[ResponseLike], Any] | None = None,
    first: ResponseLike | None = None,
) -> Iterator[Page]:
    """Walk a list: ``fetch(url, params)`` performs one GET; yields one :class:`Page` per answer.
    ``first`` is the already fetched answer to ``url`` (so a caller can look at it before
    deciding it is a list)."""
    paginator = Paginator(max_pages=max_pages)
    request_url, request_params = paginator.init_request(url, params)
    while True:
        if first is not None:
            response, first = first, None
        else:
            response = fetch(request_url, request_params)
        body = decode(response) if decode is not None else response.json()
        records = paginator.update_state(request_url, response, body)
        yield Page(records, response, paginator.pages, request_url)
        if not paginator.has_next_page():
            return
        request_url, request_params = paginator.update_request()

"""Where the pull engine gets orders from: the few things it needs of a client, typed.

:class:`KountaLike` is the part of :class:`kounta_nb.client.Kounta` the engine uses (a Protocol,
so tests may pass a stand-in); :class:`OrderSource` wraps one and is the engine's only way to the
API: list pages (walked with :class:`kounta_nb.paging.Paginator`, whose cursor state is kept per
slice so a pull resumes exactly where it stopped), order details fetched fresh and without a
second copy in the HTTP cache (the pull store keeps them), and the rate limiter's figures.
Everything else (auth, refresh, ETag revalidation, retries, error mapping) stays in the transport.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from ..dates import parse_timestamp
from ..endpoints import OrderQuery, is_all_sites
from ..errors import APIError, ConfigError
from ..paging import Paginator

__all__ = ["KountaLike", "LimiterLike", "OrderSource", "ResponseLike", "TransportLike", "created_ts", "iso"]


class ResponseLike(Protocol):
    """What the engine reads from an answer."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def url(self) -> str: ...

    @property
    def revalidated(self) -> bool: ...

    def json(self) -> Any: ...


class LimiterLike(Protocol):
    """The client's rate limiter, as far as progress figures go."""

    @property
    def per_minute(self) -> float: ...

    def current_wait(self) -> float: ...


class TransportLike(Protocol):
    """The client's transport: one request at a time, shared by every worker thread."""

    @property
    def api_base(self) -> str: ...

    @property
    def limiter(self) -> LimiterLike: ...

    def request(self, method: str, path_or_url: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, store: bool = True) -> Any: ...


class KountaLike(Protocol):
    """The part of :class:`kounta_nb.client.Kounta` the pull engine uses."""

    @property
    def company_id(self) -> int: ...

    @property
    def tz(self) -> tzinfo: ...

    @property
    def transport(self) -> TransportLike: ...

    @property
    def stats(self) -> Any: ...

    def resolve_site(self, site: int | str) -> int: ...

    def sites(self) -> Sequence[dict[str, Any]]: ...

    def categories(self) -> Sequence[dict[str, Any]]: ...

    def category_products(self, id: int) -> Sequence[dict[str, Any]]: ...


def iso(moment: datetime) -> str:
    """A full datetime with its offset, the way the API's ``created_*`` filters want it."""
    return moment.isoformat(timespec="seconds")


def created_ts(record: Mapping[str, Any]) -> float:
    """``created_at`` of a listed order as epoch seconds."""
    moment = parse_timestamp(record.get("created_at"))
    if moment is None:
        raise ConfigError("An order in the list has no readable created_at timestamp.")
    return moment.timestamp()


class OrderSource:
    """The engine's adapter to one client: list pages, fresh details, limiter figures, identity."""

    def __init__(self, client: KountaLike) -> None:
        self.client = client
        self.transport = client.transport

    @property
    def company_id(self) -> int:
        """The company the client's token reaches."""
        return int(self.client.company_id)

    @property
    def tz(self) -> tzinfo:
        """The company's time zone."""
        return self.client.tz

    @property
    def api_base(self) -> str:
        """The API base URL (part of the store's identity)."""
        return str(self.transport.api_base)

    @property
    def per_minute(self) -> float:
        """The configured requests-per-minute budget of the client's limiter."""
        return float(self.transport.limiter.per_minute)

    def current_wait(self) -> float:
        """Seconds until the limiter lets the next request out (0 when free)."""
        return max(0.0, float(self.transport.limiter.current_wait()))

    def resolve_site(self, site: int | str | None) -> int | None:
        """A site id from an id, code or name (None or ``"all"``: every site, None)."""
        return None if site is None or is_all_sites(site) else int(self.client.resolve_site(site))

    def list_path(self, query: OrderQuery) -> str:
        """The company-relative path of an order list."""
        return query.path(self.company_id)

    def start(self, query: OrderQuery, cursor: str | None = None) -> tuple[Paginator, str, dict[str, Any] | None]:
        """A new walk of ``query`` (from a stored ``cursor`` URL when resuming): the paginator and
        the first request's URL and params."""
        paginator = Paginator()
        if cursor:
            url, params = paginator.init_request(cursor, None)
        else:
            url, params = paginator.init_request(self.list_path(query), dict(query.params()))
        return paginator, url, params

    def list_page(self, paginator: Paginator, url: str, params: Mapping[str, Any] | None,
                  *, headers: Mapping[str, str] | None = None) -> tuple[list[dict[str, Any]], str | None, ResponseLike]:
        """One list page: ``(new records, next URL or None, response)``; the paginator keeps the
        cursor, de-duplicates and stops on a cursor loop (:class:`~kounta_nb.errors.PagingError`)."""
        response = self.transport.request("GET", url, params=dict(params) if params else None,
                                          headers=dict(headers) if headers else None)
        body = response.json() if response.status_code != 204 else []
        records = paginator.update_state(url, response, [] if body is None else body)
        records = [r for r in records if isinstance(r, dict)]
        return records, paginator.next_url if paginator.has_next_page() else None, response

    def order(self, oid: int) -> dict[str, Any]:
        """The full order, fetched now (never from the HTTP cache, and not stored there: the pull
        store keeps the one copy)."""
        path = f"companies/{self.company_id}/orders/{int(oid)}"
        body = self.transport.request("GET", path, store=False).json()
        if not isinstance(body, dict):
            raise APIError(200, "unexpected_body", f"order {oid} did not come back as a record",
                           method="GET", path=path)
        return body

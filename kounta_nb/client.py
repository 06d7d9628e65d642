"""``Kounta``: the Python client — JSON records in, JSON records out (never imports pandas).

Make one with a constructor (:mod:`kounta_nb.connect`): :meth:`Kounta.basic`,
:meth:`Kounta.from_token`, :meth:`Kounta.from_env`, :meth:`Kounta.from_store`,
:meth:`Kounta.oauth` → :class:`~kounta_nb.auth.OAuthFlow` → :meth:`Kounta.from_flow`, and
:meth:`Kounta.sandbox` (the embedded fake Kounta, logged in through its real consent form).

Every read is a row of the endpoint catalogue (:mod:`kounta_nb.endpoints`) and goes through
:meth:`Kounta.read`; the named methods (``sites()``, ``orders()``, ``product(id)`` …) are one-line
wrappers. Lists return a :class:`RecordList` (a ``list`` of dicts with ``.meta``); single records
a ``dict``. Every value is what the API answers now: cached copies are only used after a 304 (see
docs/freshness.md). Bad arguments are one :class:`ConfigError` line, with
a "did you mean" for near-misses of filter and endpoint names.

Orders: ``since``/``until`` take a ``datetime``, a ``date`` or text such as ``"2026-05-01"``,
``"30d"`` or ``"today"`` (as in the magics), in the company's time zone; a date-only ``until``
includes that whole day. ``Kounta.orders()`` returns every status unless ``status=`` says one (as
the API does); tables and the magics default to ``complete``. Order lists are walked in windows
cut on local-day (and hour) boundaries and trimmed to the exact period here, so that re-running a
relative period (``7d``) asks the same URLs again and is answered by 304s.

Writes and what is safe to repeat are in :mod:`kounta_nb.writes` and docs/writes.md.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import settings
from .auth import Credentials, OAuthCredentials, Token, TokenStore
from .connect import Connectors, api_base_from, authorize_url_from, check_options, rate_limit_from
from .dates import parse_timestamp, to_day
from .endpoints import (
    ALL_SITES,
    ORDER_FILTERS,
    Endpoint,
    OrderQuery,
    as_id,
    check_filters,
    endpoint,
    is_all_sites,
    quote_segment,
    record_id,
)
from .errors import APIError, ConfigError
from .paging import Page, paginate
from .reads import NamedReads
from .transport import ApiResponse, RequestStats, Transport
from .writes import Writes

__all__ = ["ALL_SITES", "Kounta", "RecordList"]

_log = logging.getLogger(__name__)

#: Options every list read takes besides its filters.
_LIST_OPTIONS = ("max_pages", "limit")
#: How each filter value becomes a path segment or query value.
_FILTER_KINDS = {
    "site": "site", "register": "id", "staff": "id", "customer": "id", "id": "id",
    "date": "day", "since": "day", "unprocessed": "flag", "sale_number": "segment",
    "reference_id": "text", "email": "email",
}  # fmt: skip


class RecordList(list[dict[str, Any]]):
    """A list of API records with ``.meta``: ``endpoint``, ``filters``, ``fetched_at``,
    ``stats`` (this call's requests), ``company_id``, ``stale`` (True when any part came from
    the cache in offline mode) and, when stale, ``stale_since`` (the oldest part's fetch time)."""

    meta: dict[str, Any]

    def __init__(self, records: Iterable[dict[str, Any]] = (), meta: dict[str, Any] | None = None) -> None:
        super().__init__(records)
        self.meta = meta or {}


class Kounta(Connectors, NamedReads, Writes):
    """A client for one Kounta company. Build it with one of the class methods.

    Options (every constructor takes them): ``api_base``, ``authorize_url``, ``cache`` (a path,
    True for the default file, False for none), ``rate_limit`` (requests per minute; None = the
    API's figure), ``burst``, ``timeout``, ``max_retries``, ``token_store`` (a
    :class:`~kounta_nb.auth.TokenStore`, or False), ``backoff_base`` and ``offline`` (serve the
    cached answer, marked stale, when revalidation fails; off by default).
    """

    def __init__(self, credentials: Credentials, **options: Any) -> None:
        check_options(options)
        self.api_base = api_base_from(options.get("api_base"))
        self.authorize_url = authorize_url_from(options.get("authorize_url"))
        self.token_store = _token_store(options.get("token_store"), credentials)
        self.credentials = credentials
        if isinstance(credentials, OAuthCredentials):
            credentials.on_refresh = self._save_token
        cache = options.get("cache")
        if not (cache is None or isinstance(cache, bool | str | Path)):
            raise ConfigError(f"cache must be a file path, True or False, not {cache!r}.")
        self.offline = _flag(options.get("offline", False), "offline")
        self.transport = Transport(
            self.api_base,
            credentials,
            cache_path=False if cache is False else (None if cache in (None, True) else Path(str(cache))),
            rate_limit=rate_limit_from(options.get("rate_limit")),
            burst=options.get("burst", settings.RATE_LIMIT_BURST),
            max_retries=options.get("max_retries", settings.MAX_RETRIES),
            timeout=options.get("timeout", settings.TIMEOUT),
            backoff_base=options.get("backoff_base", settings.BACKOFF_BASE_S),
            offline=self.offline,
        )
        self._company: dict[str, Any] | None = None
        self._sites: list[dict[str, Any]] | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ the company

    def verify_company(self) -> int:
        """The company id, as ``/companies/me`` names it (asked once, never from the cache).

        The company a saved token was filed under or a ``company_id=`` hint is only a claim: one
        that disagrees is a ConfigError, and nothing is cached before this answer (the transport
        takes its cache namespace from it alone)."""
        with self._lock:
            if self._company is None:
                record = self._get("companies/me", store=False).json()
                if not isinstance(record, dict) or not str(record.get("id", "")).isdigit():
                    raise APIError(200, "unexpected_body", "companies/me did not return a company")
                real, claimed = int(record["id"]), self.credentials.company_id
                if claimed is not None and int(claimed) != real:
                    name = f" ({record['name']})" if record.get("name") else ""
                    raise ConfigError(
                        f"These credentials reach company {real}{name}, not company {claimed}: drop the "
                        "company_id hint or log in to the company you meant."
                    )
                self.credentials.company_id = real
                self._company = record
            return int(self._company["id"])

    @property
    def company_id(self) -> int:
        """The id of the company these credentials reach."""
        return self.verify_company()

    @property
    def company(self) -> dict[str, Any]:
        """The company record (``/companies/me``), fetched once (``me()`` asks again)."""
        self.verify_company()
        assert self._company is not None
        return self._company

    @property
    def tz(self) -> tzinfo:
        """The company's time zone (from its ``timezone`` record)."""
        info = self.company.get("timezone") or {}
        name = info.get("name") if isinstance(info, dict) else None
        if name:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                return ZoneInfo(str(name))
        offset = info.get("offset") if isinstance(info, dict) else None
        if isinstance(offset, str) and len(offset) >= 5 and offset[0] in "+-":
            hours, _, minutes = offset[1:].partition(":")
            with contextlib.suppress(ValueError):
                delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
                return timezone(delta if offset[0] == "+" else -delta)
        return UTC

    @property
    def stats(self) -> RequestStats:
        """Live request counters (``.snapshot()`` and subtraction give per-call figures)."""
        return self.transport.stats

    def _save_token(self, token: Token) -> None:
        if self.token_store is None or token.company_id is None or self._company is None:
            return
        try:
            self.token_store.save(self.api_base, token)
        except OSError as exc:
            _log.warning("Could not update the token file (%s).", type(exc).__name__)

    def _company_path(self, path: str) -> str:
        return f"companies/{self.verify_company()}/{path.lstrip('/')}"

    def _resolve_path(self, path: str) -> str:
        """``sites`` → ``companies/{id}/sites``; absolute URLs, ``/v1/…`` and ``companies/…`` stay."""
        if not isinstance(path, str) or not path.strip():
            raise ConfigError("get() needs a path such as 'sites' or 'orders/complete'.")
        path = path.strip()
        if path.startswith(("http://", "https://", "/")) or path.startswith("companies/") \
                or path in ("companies", "token"):
            return path
        return self._company_path(path)

    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, store: bool = True) -> ApiResponse:
        """One GET. ``store=False``: past the HTTP cache both ways (no ``If-None-Match``, nothing
        stored, no offline fallback) — for answers that must come from the server itself: who
        the credentials belong to, "did my write land?"."""
        return self.transport.request("GET", path, params=dict(params) if params else None, store=store)

    # ------------------------------------------------------------------ reading the catalogue

    def read(self, name: str, *, site: Any = None, **filters: Any) -> RecordList | dict[str, Any]:
        """Read the catalogue endpoint ``name`` (see :data:`kounta_nb.endpoints.CATALOGUE`) with
        its filters (``None`` values are ignored): a list → :class:`RecordList`, a single record
        → ``dict``. ``site`` is an id, code or name (``"all"``: every site). Lists also take
        ``max_pages`` and ``limit`` (at most that many records)."""
        row = endpoint(name)
        if row.kind == "list":
            return self._records(row.name, site=site, **filters)
        return self._record(row.name, site=site, **filters)

    def _records(self, name: str, *, site: Any = None, **filters: Any) -> RecordList:
        row = endpoint(name)
        given = _given(filters, site)
        options = {k: given.pop(k) for k in _LIST_OPTIONS if k in given}
        max_pages, limit = _positive(options.get("max_pages"), "max_pages"), _positive(options.get("limit"), "limit")
        if row.name == "orders":
            return self._order_list(self.order_query(**given), given, max_pages=max_pages, limit=limit)
        before = self.transport.stats.snapshot()
        path, params, narrow, shown = self._fill(row, given)
        records: list[dict[str, Any]] = []
        responses: list[ApiResponse] = []
        for page in self._pages(path, params, max_pages):
            responses.append(page.response)
            records.extend(r for r in page.records if _matches(r, narrow))
            if limit is not None and len(records) >= limit:
                break
        return RecordList(records[:limit], self._meta(row.name, {**shown, **params}, before, responses))

    def _record(self, name: str, *, site: Any = None, **filters: Any) -> dict[str, Any]:
        row = endpoint(name)
        path, params, _, _ = self._fill(row, _given(filters, site))
        response = self._get(path, params)
        body = response.json()
        if not isinstance(body, dict):
            raise APIError(200, "unexpected_body", f"{path} did not return a record", method="GET", path=path)
        return body

    def _fill(self, row: Endpoint, given: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any], dict[str, Any]]:
        """``(path, query params, client-side narrowing, filters for meta)`` for one read."""
        check_filters(row.name, given, row.filters + (_LIST_OPTIONS if row.kind == "list" else ()))
        for a, b in row.exclusive:
            if a in given and b in given:
                raise ConfigError(f"{row.name} takes {a}= or {b}=, not both.")
        if row.needs_one_of and not any(n in given for n in row.needs_one_of):
            one = " or ".join(f"{n}=" for n in row.needs_one_of)
            raise ConfigError(f"{row.name} needs {'exactly one of ' if len(row.needs_one_of) > 1 else ''}{one}.")
        shown = {key: self._value(row, key, value) for key, value in given.items()}
        segments = {k: _segment(k, v) for k, v in shown.items() if k not in row.query}
        path, used = row.render({k: v for k, v in segments.items() if v is not None})
        params = {k: str(shown[k]) for k in row.query if k in shown}
        narrow = {row.narrow[k]: shown[k] for k in shown if k not in used and k not in row.query and k in row.narrow}
        return (path if not row.in_company else self._company_path(path)), params, narrow, shown

    def _value(self, row: Endpoint, key: str, value: Any) -> Any:
        kind = _FILTER_KINDS.get(key, "text")
        if kind == "site":
            return self.resolve_site(value)
        if kind == "id":
            if isinstance(value, str) and value.strip().lower() in row.id_words:
                return value.strip().lower()
            return as_id(value, f"{key} id" if key != "id" else f"{row.name} id")
        if kind == "day":
            return to_day(value, tz=self.tz, name=key).isoformat()
        if kind == "flag":
            return _flag(value, key)
        if kind == "email" and (not isinstance(value, str) or "@" not in value):
            raise ConfigError(f"{row.name} needs an e-mail address, not {value!r}.")
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise ConfigError(f"{key} must be text, not {value!r}.")
        return str(value).strip()

    def _meta(self, name: str, filters: Mapping[str, Any], before: RequestStats,
              responses: Iterable[ApiResponse] = ()) -> dict[str, Any]:  # fmt: skip
        stale = [r for r in responses if getattr(r, "stale", False)]
        meta: dict[str, Any] = {
            "endpoint": name,
            "filters": {k: v for k, v in filters.items() if v is not None},
            "fetched_at": datetime.now(UTC),
            "stats": (self.transport.stats.snapshot() - before).as_dict(),
            "company_id": self.credentials.company_id,
            "stale": bool(stale),
        }
        if stale:
            meta["stale_since"] = min(r.fetched_at for r in stale)
        return meta

    def _pages(self, path: str, params: Mapping[str, Any] | None, max_pages: int | None, *,
               store: bool = True) -> Iterator[Page]:  # fmt: skip
        def fetch(url: str, query: dict[str, Any] | None) -> ApiResponse:
            return self._get(url, query, store=store)

        return paginate(fetch, path, dict(params) if params else None, max_pages=max_pages)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, paged: bool | None = None,
            max_pages: int | None = None) -> Any:  # fmt: skip
        """Any GET endpoint. Paths are relative to the company (``"sites"``,
        ``"orders/complete"``) unless they start with ``companies/``, ``/`` or ``http``. Lists are
        followed across pages (``paged=None`` decides from the answer) and returned as a
        :class:`RecordList`; records come back as dicts."""
        before = self.transport.stats.snapshot()
        target = self._resolve_path(path)
        response = self._get(target, params)
        body = response.json()
        if not isinstance(body, list):
            if paged:
                raise APIError(200, "unexpected_body", f"{path} is not a list", method="GET", path=path)
            return body
        if paged is False:
            return RecordList(body, self._meta(path, params or {}, before, [response]))
        records: list[dict[str, Any]] = []
        responses = []
        for page in paginate(lambda url, query: self._get(url, query), target,
                             dict(params) if params else None, max_pages=max_pages, first=response):  # fmt: skip
            records.extend(page.records)
            responses.append(page.response)
        return RecordList(records, self._meta(path, params or {}, before, responses))

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                   max_pages: int | None = None) -> Iterator[Page]:  # fmt: skip
        """Walk any list page by page; each :class:`~kounta_nb.paging.Page` carries its response
        (``page.response.from_cache`` / ``.revalidated``)."""
        return self._pages(self._resolve_path(path), params, max_pages)

    # ------------------------------------------------------------------ orders

    def order_query(self, **filters: Any) -> OrderQuery:
        """The :class:`~kounta_nb.endpoints.OrderQuery` for order-list filters (the same ones as
        :meth:`orders`), read in the company's time zone with sites resolved by name."""
        return OrderQuery.parse(filters, tz=self.tz, resolve_site=self._site_id)

    def _order_pages(self, query: OrderQuery, *, max_pages: int | None = None) -> Iterator[tuple[Page, list[dict[str, Any]]]]:
        """Every page of the query's windows, newest first, with the records inside the exact
        period. With ``max_pages`` (the newest few pages: a probe, a preview) the period is one
        window, so ``max_pages=1`` is still "the newest page of orders"."""
        company = self.verify_company()
        pages = 0
        for window in query.windows(datetime.now(self.tz), cut=max_pages is None):
            left = None if max_pages is None else max_pages - pages
            if left is not None and left <= 0:
                return
            for page in self._pages(window.path(company), window.params(), left):
                pages += 1 if page.records else 0
                yield page, [r for r in page.records if query.contains(r)]
                if _all_before(page.records, query.since):
                    return  # newest first: everything after this page is older than `since`

    def _order_list(self, query: OrderQuery, given: Mapping[str, Any], *, max_pages: int | None = None,
                    limit: int | None = None) -> RecordList:  # fmt: skip
        before = self.transport.stats.snapshot()
        records: list[dict[str, Any]] = []
        responses = []
        for page, kept in self._order_pages(query, max_pages=max_pages):
            responses.append(page.response)
            records.extend(kept)
            if limit is not None and len(records) >= limit:
                break
        return RecordList(records[:limit], self._meta("orders", {**given, **query.params()}, before, responses))

    def orders(self, **filters: Any) -> RecordList:
        """Order list items (abridged, newest first), every status unless ``status=`` names one.
        Filters: ``site`` (id, code, name or ``"all"``), ``status`` (``"complete"`` …, ``"any"``),
        ``register``, ``staff``, ``customer``, ``since``/``until`` (company time; a date-only
        ``until`` includes that day), ``created`` (one day or moment), ``value``/``value_gt``/
        ``value_gte``/``value_lt``/``value_lte`` (dollars); ``max_pages``, ``limit``."""
        return self._records("orders", **filters)

    def iter_orders(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Like :meth:`orders`, but streams records page by page."""
        given = _given(filters, None)
        max_pages = _positive(given.pop("max_pages", None), "max_pages")
        check_filters("iter_orders", given, ORDER_FILTERS)
        query = self.order_query(**given)
        for _, kept in self._order_pages(query, max_pages=max_pages):
            yield from kept

    def details(self, listing: Iterable[Mapping[str, Any]], *, name: str = "order",
                listed_now: bool = False) -> Iterator[dict[str, Any]]:  # fmt: skip
        """The full record of every listed item, in order (``name`` is the detail endpoint, e.g.
        ``"product"``); items without an id are passed through as they are.

        Each is asked from the API (one request; a 304 when unchanged) — except, with
        ``listed_now=True``, an item whose listed ``updated_at`` equals that of the copy in the
        HTTP cache: the caller fetched or revalidated ``listing`` in this same call (and it is
        not stale), which proves that copy current, so it is used without a request. This is the
        one shortcut "fresh or an error" allows; ``tables`` uses it for lines and payments.
        """
        row = endpoint(name)
        proven = listed_now and not (getattr(listing, "meta", None) or {}).get("stale", False)
        for item in listing:
            key = record_id(item)
            if key is None:
                yield dict(item)
                continue
            if proven:
                kept = self._proven_copy(row, key, item.get("updated_at"))
                if kept is not None:
                    yield kept
                    continue
            yield self._record(row.name, id=key)

    def _proven_copy(self, row: Endpoint, key: str, listed: Any) -> dict[str, Any] | None:
        """The cached detail when its ``updated_at`` is the listed one (no request), else None."""
        when = parse_timestamp(listed)
        if when is None:
            return None
        path, _ = row.render({"id": key})
        hit = self.transport.cached(self._company_path(path))
        if hit is None:
            return None
        body = hit.json()
        if isinstance(body, dict) and parse_timestamp(body.get("updated_at")) == when:
            return body
        # Looked at, not served: ``from_cache`` counts what callers were given from the cache.
        self.transport.stats.add(from_cache=-1)
        return None

    def pull_orders(self, since: Any, until: Any = None, **options: Any) -> Any:
        """Start a background pull of every order of a period, with details; returns the
        :class:`~kounta_nb.pull.PullJob` (progress, ``estimate()``, ``frames()``, ``cancel()``,
        ``wait()``). Same arguments as :func:`kounta_nb.pull.pull_orders` (``site``, ``status``,
        ``details``, ``seed``, ``store``, ``progress``, ``workers``)."""
        # The one upward import: the engine is built on this client, and this method is only a
        # convenient way in (imported here so that ``import kounta_nb.client`` stays light).
        from .pull import pull_orders

        return pull_orders(self, since, until, **options)

    # ------------------------------------------------------------------ sites

    def _refresh_company(self) -> dict[str, Any]:
        record = self._record("company")
        with self._lock:
            self._company = record
        return record

    def _refresh_sites(self) -> RecordList:
        records = self._records("sites")
        with self._lock:
            self._sites = list(records)
        return records

    def _site_list(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._sites is None:
                self._sites = list(self._records("sites"))
            return self._sites

    def _forget_sites(self) -> None:
        with self._lock:
            self._sites = None

    def resolve_site(self, site: int | str) -> int:
        """A site id from its id, code or (case-insensitive) name; ConfigError listing the valid
        names (with a "did you mean") when it is unknown."""
        if isinstance(site, bool) or not isinstance(site, numbers.Integral | str) or not str(site).strip():
            raise ConfigError(f"site must be a site id, code or name, not {site!r}.")
        sites = self._site_list()
        wanted = str(int(site)) if isinstance(site, numbers.Integral) else site.strip()
        for record in sites:
            if str(record.get("id")) == wanted:
                return int(record["id"])
        for key in ("code", "name"):
            for record in sites:
                if str(record.get(key) or "").strip().lower() == wanted.lower():
                    return int(record["id"])
        from .errors import did_you_mean

        names = ", ".join(f"{s.get('name')} ({s.get('code') or s.get('id')})" for s in sites) or "none"
        hint = did_you_mean(wanted, [str(s.get("name")) for s in sites] + [str(s.get("code")) for s in sites])
        raise ConfigError(f"Unknown site {site!r}{hint}; this company's sites are: {names}.")

    def _site_id(self, site: Any) -> int | None:
        """``resolve_site``, with ``"all"`` meaning every site (None)."""
        return None if is_all_sites(site) else self.resolve_site(site)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close connections and the cache file."""
        self.transport.close()

    def __enter__(self) -> Kounta:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        company = self.credentials.company_id
        return f"Kounta(api_base={self.api_base!r}, auth={self.credentials.kind!r}, company={company})"


# ---------------------------------------------------------------------------- helpers


def _token_store(value: Any, credentials: Credentials) -> TokenStore | None:
    if value is None or value is True:
        return TokenStore() if credentials.kind == "oauth" else None
    if value is False:
        return None
    if isinstance(value, TokenStore):
        return value
    raise ConfigError("token_store must be a TokenStore, True, False or None.")


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, not {value!r}.")
    return value


def _positive(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {value!r}.")
    return value


def _given(filters: Mapping[str, Any], site: Any) -> dict[str, Any]:
    """The filters that are set; ``site="all"`` (every site) is no site filter."""
    given = {k: v for k, v in filters.items() if v is not None}
    if site is not None and not is_all_sites(site):
        given["site"] = site
    return given


def _segment(key: str, value: Any) -> str | None:
    """A filter value as a path segment (flags name themselves; False leaves the segment out)."""
    if isinstance(value, bool):
        return key if value else None
    return quote_segment(value) if key == "sale_number" else str(value)


def _matches(record: Mapping[str, Any], narrow: Mapping[str, Any]) -> bool:
    for dotted, wanted in narrow.items():
        value: Any = record
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value != wanted:
            return False
    return True


def _all_before(records: list[dict[str, Any]], since: datetime | None) -> bool:
    """True when the page is in descending ``created_at`` order and ends before ``since`` (so the
    rest of a newest-first list is too); False whenever that cannot be told for sure."""
    if since is None or not records:
        return False
    stamps = [parse_timestamp(r.get("created_at")) for r in records]
    if any(s is None for s in stamps):
        return False
    ordered = [s for s in stamps if s is not None]
    return all(a >= b for a, b in zip(ordered, ordered[1:], strict=False)) and ordered[-1] < since

"""``Kounta``: the Python client — JSON records in, JSON records out (never imports pandas).

Constructors: :meth:`Kounta.basic`, :meth:`Kounta.from_token`, :meth:`Kounta.from_env`,
:meth:`Kounta.from_store`, :meth:`Kounta.oauth` → :class:`~kounta_nb.auth.OAuthFlow` →
:meth:`Kounta.from_flow`, and :meth:`Kounta.sandbox` (the embedded fake Kounta, logged in through
its real consent form).

Reads return a :class:`RecordList` (a ``list`` of dicts with ``.meta``); detail reads return the
record ``dict``. ``since``/``until`` accept a ``datetime``, a ``date`` or a string such as
``"2026-05-01"``, ``"2026-05-01T14:00"``, ``"30d"``, ``"6m"`` or ``"today"`` (as in the magics) and are
sent as full datetimes with the company's UTC offset (kounta-api.md §6.4):
a date means local midnight; a date-only ``until`` includes that whole day.

``create_order`` is never retried blindly (kounta-api.md §6.5): after a failure it first looks the
order up — by ``sale_number`` when the body has one, otherwise by a client reference
``[kounta_nb:<key>]`` that it appends to the order's ``notes`` — and only POSTs again when the
order is not there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from . import settings
from .auth import (
    BasicCredentials,
    Credentials,
    OAuthCredentials,
    OAuthFlow,
    Token,
    TokenStore,
    consent_login,
)
from .dates import parse_moment
from .endpoints import ORDER_QUERY_FILTERS, order_path
from .errors import APIError, ConfigError, NotFoundError, TransportError
from .paging import Page, paginate
from .transport import ApiResponse, RequestStats, Transport, backoff_delay

__all__ = ["Kounta", "RecordList"]

log = logging.getLogger(__name__)

_SANDBOX_LOCK = threading.Lock()
_SANDBOX: Any = None
#: Orders scanned (newest first) when looking for an order whose POST failed mid-way.
_CREATE_LOOKUP_PAGES = 2


#: Keyword options every constructor accepts.
_OPTIONS = ("api_base", "authorize_url", "cache", "rate_limit", "burst", "timeout", "max_retries",
            "token_store", "backoff_base")


class RecordList(list):  # type: ignore[type-arg]
    """A list of API records with ``.meta = {endpoint, filters, fetched_at, stats}``."""

    meta: dict[str, Any]

    def __init__(self, records: Any = (), meta: dict[str, Any] | None = None) -> None:
        super().__init__(records)
        self.meta = meta or {}


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def _opt_rate(value: Any) -> float | None:
    if value is None:
        env = _env(settings.ENV_RATE_LIMIT)
        if env is None:
            return None
        try:
            value = float(env)
        except ValueError:
            raise ConfigError(f"{settings.ENV_RATE_LIMIT} must be a number of requests per minute.") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError("rate_limit must be a positive number of requests per minute (or None).")
    return float(value)


class Kounta:
    """A client for one Kounta company. Build it with one of the class methods."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_base: str | None = None,
        authorize_url: str | None = None,
        cache: str | Path | bool | None = None,
        rate_limit: float | None = None,
        burst: int = settings.RATE_LIMIT_BURST,
        timeout: float | tuple[float, float] = settings.TIMEOUT,
        max_retries: int = settings.MAX_RETRIES,
        token_store: TokenStore | bool | None = None,
        backoff_base: float = settings.BACKOFF_BASE_S,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise ConfigError(
                f"Unknown Kounta option {sorted(unknown)[0]!r}; the options are: {', '.join(_OPTIONS)}."
            )
        self.api_base = api_base or _env(settings.ENV_API_BASE) or settings.API_BASE
        if not self.api_base.endswith("/"):
            self.api_base += "/"
        self.authorize_url = authorize_url or _env(settings.ENV_AUTHORIZE_URL) or settings.AUTHORIZE_URL
        if token_store is None or token_store is True:
            self.token_store: TokenStore | None = TokenStore() if credentials.kind == "oauth" else None
        elif token_store is False:
            self.token_store = None
        elif isinstance(token_store, TokenStore):
            self.token_store = token_store
        else:
            raise ConfigError("token_store must be a TokenStore, True, False or None.")
        self.credentials = credentials
        if isinstance(credentials, OAuthCredentials):
            credentials.on_refresh = self._save_token
        self.transport = Transport(
            self.api_base,
            credentials,
            cache_path=False if cache is False else (None if cache in (None, True) else cache),  # type: ignore[arg-type]
            rate_limit=_opt_rate(rate_limit),
            burst=burst,
            max_retries=max_retries,
            timeout=timeout,
            backoff_base=backoff_base,
        )
        self._company: dict[str, Any] | None = None
        self._sites: list[dict[str, Any]] | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ constructors

    @classmethod
    def basic(cls, client_id: str | None = None, client_secret: str | None = None, **opts: Any) -> Kounta:
        """Basic authentication (the developer's own company); falls back to
        ``KOUNTA_CLIENT_ID`` / ``KOUNTA_CLIENT_SECRET``."""
        client_id = client_id or _env(settings.ENV_CLIENT_ID)
        client_secret = client_secret or _env(settings.ENV_CLIENT_SECRET)
        if not client_id or not client_secret:
            raise ConfigError(
                "Basic authentication needs a client id and secret: pass them or set "
                f"{settings.ENV_CLIENT_ID} and {settings.ENV_CLIENT_SECRET}."
            )
        return cls(BasicCredentials(client_id, client_secret), **opts)

    @classmethod
    def from_token(
        cls,
        access_token: str | None = None,
        refresh_token: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        expires_at: float | datetime | None = None,
        company_id: int | None = None,
        **opts: Any,
    ) -> Kounta:
        """An OAuth token you already have (env fallback: ``KOUNTA_ACCESS_TOKEN``,
        ``KOUNTA_REFRESH_TOKEN``, ``KOUNTA_CLIENT_ID``, ``KOUNTA_CLIENT_SECRET``). With a refresh
        token and the client id/secret it refreshes itself; with a refresh token only, it starts by
        refreshing."""
        access_token = access_token or _env(settings.ENV_ACCESS_TOKEN)
        refresh_token = refresh_token or _env(settings.ENV_REFRESH_TOKEN)
        client_id = client_id or _env(settings.ENV_CLIENT_ID)
        client_secret = client_secret or _env(settings.ENV_CLIENT_SECRET)
        if not access_token and not refresh_token:
            raise ConfigError(
                f"No token given: pass access_token= (or set {settings.ENV_ACCESS_TOKEN}), or log in "
                "with Kounta.oauth(...)."
            )
        if not access_token and not (client_id and client_secret):
            raise ConfigError("A refresh token alone needs the client id and secret to get an access token.")
        if isinstance(expires_at, datetime):
            expires_at = expires_at.timestamp()
        token = Token(access_token or "", refresh_token, expires_at,
                      company_id=int(company_id) if company_id is not None else None)
        return cls(cls._oauth_credentials(token, client_id, client_secret, opts), **opts)

    @classmethod
    def from_env(cls, **opts: Any) -> Kounta:
        """Whatever the environment offers: a token (``KOUNTA_ACCESS_TOKEN`` /
        ``KOUNTA_REFRESH_TOKEN``) first, else Basic (``KOUNTA_CLIENT_ID`` / ``KOUNTA_CLIENT_SECRET``);
        ``KOUNTA_API_BASE``, ``KOUNTA_AUTHORIZE_URL`` and ``KOUNTA_RATE_LIMIT`` are honoured too."""
        if _env(settings.ENV_ACCESS_TOKEN) or _env(settings.ENV_REFRESH_TOKEN):
            return cls.from_token(**opts)
        if _env(settings.ENV_CLIENT_ID) and _env(settings.ENV_CLIENT_SECRET):
            return cls.basic(**opts)
        raise ConfigError(
            f"No Kounta credentials in the environment: set {settings.ENV_ACCESS_TOKEN} (and "
            f"{settings.ENV_REFRESH_TOKEN}), or {settings.ENV_CLIENT_ID} and {settings.ENV_CLIENT_SECRET}."
        )

    @classmethod
    def from_store(
        cls,
        company_id: int | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_store: TokenStore | None = None,
        **opts: Any,
    ) -> Kounta:
        """Reconnect with the token saved in the token file (the most recent one for the API base
        when no company is given). The client id and secret (or their env variables) let it
        refresh."""
        store = token_store or TokenStore()
        api_base = opts.get("api_base") or _env(settings.ENV_API_BASE) or settings.API_BASE
        token = store.load(api_base if api_base.endswith("/") else api_base + "/", company_id)
        if token is None:
            raise ConfigError("No saved Kounta login for this API: log in with Kounta.oauth(...) first.")
        client_id = client_id or _env(settings.ENV_CLIENT_ID)
        client_secret = client_secret or _env(settings.ENV_CLIENT_SECRET)
        return cls(cls._oauth_credentials(token, client_id, client_secret, opts), token_store=store, **opts)

    @classmethod
    def oauth(
        cls,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        **opts: Any,
    ) -> OAuthFlow:
        """Start the authorisation-code flow: ``url, state = flow.authorization_url()``, open it,
        then ``Kounta.from_flow(flow, flow.fetch_token(redirected_url))``."""
        client_id = client_id or _env(settings.ENV_CLIENT_ID)
        client_secret = client_secret or _env(settings.ENV_CLIENT_SECRET)
        redirect_uri = redirect_uri or _env(settings.ENV_REDIRECT_URI) or settings.REDIRECT_URI
        if not client_id or not client_secret:
            raise ConfigError(
                "The OAuth login needs the add-on's client id and secret: pass them or set "
                f"{settings.ENV_CLIENT_ID} and {settings.ENV_CLIENT_SECRET}."
            )
        api_base = opts.get("api_base") or _env(settings.ENV_API_BASE) or settings.API_BASE
        api_base = api_base if api_base.endswith("/") else api_base + "/"
        return OAuthFlow(
            client_id,
            client_secret,
            redirect_uri,
            authorize_url=opts.get("authorize_url") or _env(settings.ENV_AUTHORIZE_URL) or settings.AUTHORIZE_URL,
            token_url=_env(settings.ENV_TOKEN_URL) or api_base + settings.TOKEN_PATH,
            api_base=api_base,
        )

    @classmethod
    def from_flow(cls, flow: OAuthFlow, token: Token, **opts: Any) -> Kounta:
        """The client for a token obtained through ``flow``; it refreshes itself and (unless
        ``token_store=False``) remembers the token in the token file."""
        opts.setdefault("api_base", flow.api_base)
        opts.setdefault("authorize_url", flow.authorize_url)
        credentials = OAuthCredentials(
            token, client_id=flow.client_id, client_secret=flow.client_secret, token_url=flow.token_url
        )
        client = cls(credentials, **opts)
        client._ensure_company()
        client._save_token(credentials.token)
        return client

    @classmethod
    def _oauth_credentials(
        cls, token: Token, client_id: str | None, client_secret: str | None, opts: dict[str, Any]
    ) -> OAuthCredentials:
        api_base = opts.get("api_base") or _env(settings.ENV_API_BASE) or settings.API_BASE
        api_base = api_base if api_base.endswith("/") else api_base + "/"
        return OAuthCredentials(
            token,
            client_id=client_id,
            client_secret=client_secret,
            token_url=_env(settings.ENV_TOKEN_URL) or api_base + settings.TOKEN_PATH,
        )

    @classmethod
    def sandbox(
        cls,
        *,
        company: int | str | None = None,
        auth: Literal["oauth", "basic"] = "oauth",
        handle: Any = None,
        **opts: Any,
    ) -> Kounta:
        """A client for the embedded sandbox (started on first use, then reused). With
        ``auth="oauth"`` it logs in through the sandbox's real consent form over HTTP — the same
        steps a person takes — choosing ``company`` (id or name) in the drop-down."""
        handle = handle or _shared_sandbox()
        opts.setdefault("api_base", handle.api_base)
        opts.setdefault("authorize_url", handle.authorize_url)
        opts.setdefault("token_store", False)
        # A file of its own, so sandbox answers never sit in the cache of a real account.
        if opts.get("cache") in (None, True):
            opts["cache"] = settings.cache_dir() / settings.SANDBOX_HTTP_CACHE_FILE
        if auth == "basic":
            client = cls.basic(handle.client_id, handle.client_secret, **opts)
            if company is not None:
                wanted = str(company).strip().lower()
                me = client.company
                if wanted not in (str(me.get("id")), str(me.get("name", "")).lower()):
                    raise ConfigError(
                        f"Basic authentication only reaches the developer company "
                        f"{me.get('name')!r}; use auth='oauth' to pick another company."
                    )
            return client
        if auth != "oauth":
            raise ConfigError("auth must be 'oauth' or 'basic'.")
        flow = OAuthFlow(
            handle.client_id,
            handle.client_secret,
            handle.redirect_uri,
            authorize_url=handle.authorize_url,
            token_url=handle.token_url,
            api_base=handle.api_base,
        )
        url, _state = flow.authorization_url()
        landed = consent_login(
            url, email=handle.username, password=handle.password,
            redirect_uri=handle.redirect_uri, company=company,
        )
        return cls.from_flow(flow, flow.fetch_token(landed), **opts)

    # ------------------------------------------------------------------ company, basics

    def _ensure_company(self) -> int:
        with self._lock:
            if self.credentials.company_id is None or self._company is None:
                # Uncached while the company is unknown (the cache key needs it).
                record = self.transport.request("GET", "companies/me").json()
                if not isinstance(record, dict) or "id" not in record:
                    raise APIError(200, "unexpected_body", "companies/me did not return a company")
                self.credentials.company_id = int(record["id"])
                self._company = record
            return int(self.credentials.company_id)  # type: ignore[arg-type]

    @property
    def company_id(self) -> int:
        """The id of the company these credentials reach."""
        return self._ensure_company()

    @property
    def company(self) -> dict[str, Any]:
        """The company record (``/companies/me``), fetched once."""
        self._ensure_company()
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
            delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
            return timezone(delta if offset[0] == "+" else -delta)
        return UTC

    @property
    def stats(self) -> RequestStats:
        """Live request counters (``.snapshot()`` and subtraction give per-call figures)."""
        return self.transport.stats

    def _save_token(self, token: Token) -> None:
        if self.token_store is None or token.company_id is None:
            return
        try:
            self.token_store.save(self.api_base, token)
        except OSError as exc:
            log.warning("Could not update the token file (%s).", type(exc).__name__)

    def _company_path(self, path: str) -> str:
        return f"companies/{self._ensure_company()}/{path.lstrip('/')}"

    def _resolve_path(self, path: str) -> str:
        """``sites`` → ``companies/{id}/sites``; absolute URLs, ``/v1/…`` and ``companies/…`` stay."""
        if not isinstance(path, str) or not path.strip():
            raise ConfigError("get() needs a path such as 'sites' or 'orders/complete'.")
        path = path.strip()
        if path.startswith(("http://", "https://", "/")):
            return path
        if path.startswith("companies/") or path in ("companies", "token"):
            return path
        return self._company_path(path)

    # ------------------------------------------------------------------ generic reads

    def _meta(self, endpoint: str, filters: Mapping[str, Any], before: RequestStats) -> dict[str, Any]:
        return {
            "endpoint": endpoint,
            "filters": {k: v for k, v in filters.items() if v is not None},
            "fetched_at": datetime.now(UTC),
            "stats": (self.transport.stats.snapshot() - before).as_dict(),
            "company_id": self.credentials.company_id,
        }

    def _pages(self, path: str, params: Mapping[str, Any] | None, max_pages: int | None) -> Iterator[Page]:
        def fetch(url: str, query: dict[str, Any] | None) -> ApiResponse:
            return self.transport.request("GET", url, params=query)

        return paginate(fetch, path, dict(params) if params else None, max_pages=max_pages)

    def _list(
        self,
        endpoint: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        max_pages: int | None = None,
    ) -> RecordList:
        before = self.transport.stats.snapshot()
        full = self._company_path(path)
        records: list[dict[str, Any]] = []
        for page in self._pages(full, params, max_pages):
            records.extend(page.records)
        return RecordList(records, self._meta(endpoint, {**(filters or {}), **(params or {})}, before))

    def _detail(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = self.transport.request("GET", self._company_path(path), params=params).json()
        if not isinstance(body, dict):
            raise APIError(200, "unexpected_body", f"{path} did not return a record", method="GET", path=path)
        return body

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        paged: bool | None = None,
        max_pages: int | None = None,
    ) -> Any:
        """Any GET endpoint. Paths are relative to the company (``"sites"``,
        ``"orders/complete"``) unless they start with ``companies/``, ``/`` or ``http``. Lists are
        followed across pages (``paged=None`` decides from the answer) and returned as a
        :class:`RecordList`; records come back as dicts."""
        before = self.transport.stats.snapshot()
        target = self._resolve_path(path)
        response = self.transport.request("GET", target, params=params)
        body = response.json()
        if not isinstance(body, list):
            if paged:
                raise APIError(200, "unexpected_body", f"{path} is not a list", method="GET", path=path)
            return body
        if paged is False:
            return RecordList(body, self._meta(path, params or {}, before))
        records: list[dict[str, Any]] = []
        for page in paginate(
            lambda url, query: self.transport.request("GET", url, params=query),
            target, dict(params) if params else None, max_pages=max_pages, first=response,
        ):
            records.extend(page.records)
        return RecordList(records, self._meta(path, params or {}, before))

    # ------------------------------------------------------------------ dates and sites

    def _when(self, value: Any, *, name: str, end: bool = False) -> str:
        """A full ISO datetime with the company's offset (date → local midnight; a date-only
        ``end`` → the following midnight so that day is included)."""
        tz = self.tz
        moment: datetime
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=tz)
        elif isinstance(value, date):
            moment = datetime.combine(value + timedelta(days=1 if end else 0), datetime.min.time(), tz)
        elif isinstance(value, str) and value.strip():
            # the same expressions as the magics: ISO dates and datetimes, 30d, 6m, today, …
            try:
                moment = parse_moment(value, tz=tz, end=end)
            except ConfigError as exc:
                raise ConfigError(f"{name}: {exc}") from None
        else:
            raise ConfigError(f"{name}={value!r} is not a date: use a datetime, a date or text such as "
                              "'2026-05-01' or '30d'.")
        return moment.astimezone(tz).isoformat(timespec="seconds")

    def _day(self, value: Any, *, name: str) -> str:
        """A local calendar date ``YYYY-MM-DD`` for the date-in-path endpoints."""
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=self.tz)).astimezone(self.tz).date()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()[:10]).isoformat()
            except ValueError:
                pass
        raise ConfigError(f"{name}={value!r} is not a date: use a date or 'YYYY-MM-DD'.")

    def _site_list(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._sites is None:
                self._sites = list(self._list("sites", "sites"))
            return self._sites

    def resolve_site(self, site: int | str) -> int:
        """A site id from its id, code or (case-insensitive) name; ConfigError listing the valid
        names when it is unknown."""
        sites = self._site_list()
        if isinstance(site, bool) or site is None:
            raise ConfigError("site must be a site id, code or name.")
        wanted = str(site).strip()
        for record in sites:
            if str(record.get("id")) == wanted:
                return int(record["id"])
        for key in ("code", "name"):
            for record in sites:
                if str(record.get(key) or "").strip().lower() == wanted.lower():
                    return int(record["id"])
        names = ", ".join(f"{s.get('name')} ({s.get('code') or s.get('id')})" for s in sites) or "none"
        raise ConfigError(f"Unknown site {site!r}; this company's sites are: {names}.")

    def _site(self, site: int | str | None) -> int | None:
        return None if site is None else self.resolve_site(site)

    # ------------------------------------------------------------------ company, sites, registers

    def me(self) -> dict[str, Any]:
        """The company record, fresh from ``/companies/me``."""
        self._ensure_company()
        body = self.transport.request("GET", f"companies/{self.company_id}").json()
        self._company = body if isinstance(body, dict) else self._company
        return self.company

    def status(self) -> Any:
        """Per-site online status."""
        return self.transport.request("GET", self._company_path("status")).json()

    def sites(self) -> RecordList:
        """All sites (venues) of the company."""
        records = self._list("sites", "sites")
        with self._lock:
            self._sites = list(records)
        return records

    def site(self, id: int | str) -> dict[str, Any]:
        """One site (id, code or name)."""
        return self._detail(f"sites/{self.resolve_site(id)}")

    def registers(self, site: int | str | None = None) -> RecordList:
        """Registers, of one site or all."""
        sid = self._site(site)
        path = f"sites/{sid}/registers" if sid is not None else "registers"
        return self._list("registers", path, filters={"site": sid})

    def register(self, id: int) -> dict[str, Any]:
        """One register."""
        return self._detail(f"registers/{int(id)}")

    # ------------------------------------------------------------------ orders

    def _order_request(
        self,
        *,
        site: Any = None,
        status: str | None = None,
        register: int | None = None,
        staff: int | None = None,
        customer: int | None = None,
        since: Any = None,
        until: Any = None,
        created: Any = None,
        value: float | None = None,
        value_gt: float | None = None,
        value_gte: float | None = None,
        value_lt: float | None = None,
        value_lte: float | None = None,
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        for label, number in (("register", register), ("staff", staff), ("customer", customer)):
            if number is not None and (isinstance(number, bool) or not str(number).isdigit()):
                raise ConfigError(f"{label} must be a numeric id.")
        path = order_path(site=self._site(site), register=register, staff=staff, customer=customer,
                          status=status)
        params: dict[str, Any] = {}
        if since is not None:
            params["created_gte"] = self._when(since, name="since")
        if until is not None:
            params["created_lt"] = self._when(until, name="until", end=True)
        if created is not None:
            params["created"] = (
                self._day(created, name="created")
                if isinstance(created, date | str) and not isinstance(created, datetime) and len(str(created)) <= 10
                else self._when(created, name="created")
            )
        for key, amount in (("value", value), ("value_gt", value_gt), ("value_gte", value_gte),
                            ("value_lt", value_lt), ("value_lte", value_lte)):
            if amount is not None:
                if isinstance(amount, bool) or not isinstance(amount, int | float):
                    raise ConfigError(f"{key} must be a number of dollars.")
                params[key] = f"{amount:g}"
        assert set(params) <= set(ORDER_QUERY_FILTERS)
        filters = {"site": site, "status": status, "register": register, "staff": staff,
                   "customer": customer, "since": since, "until": until}
        return path, params, filters

    def orders(
        self,
        *,
        site: int | str | None = None,
        status: str | None = None,
        register: int | None = None,
        staff: int | None = None,
        customer: int | None = None,
        since: Any = None,
        until: Any = None,
        created: Any = None,
        value: float | None = None,
        value_gt: float | None = None,
        value_gte: float | None = None,
        value_lt: float | None = None,
        value_lte: float | None = None,
        max_pages: int | None = None,
    ) -> RecordList:
        """Order list items (abridged, newest first). Filters: ``site`` (id, code or name),
        ``status`` (e.g. ``"complete"``), ``register``, ``staff``, ``customer``, ``since``/``until``
        (company time; a date-only ``until`` includes that day), ``created``, and
        ``value``/``value_gt``/``value_gte``/``value_lt``/``value_lte`` (dollars)."""
        path, params, meta_filters = self._order_request(
            site=site, status=status, register=register, staff=staff, customer=customer,
            since=since, until=until, created=created, value=value, value_gt=value_gt,
            value_gte=value_gte, value_lt=value_lt, value_lte=value_lte,
        )
        return self._list("orders", path, params, filters=meta_filters, max_pages=max_pages)

    def iter_orders(
        self,
        *,
        site: int | str | None = None,
        status: str | None = None,
        register: int | None = None,
        staff: int | None = None,
        customer: int | None = None,
        since: Any = None,
        until: Any = None,
        created: Any = None,
        value: float | None = None,
        value_gt: float | None = None,
        value_gte: float | None = None,
        value_lt: float | None = None,
        value_lte: float | None = None,
        max_pages: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Like :meth:`orders`, but streams records page by page."""
        path, params, _ = self._order_request(
            site=site, status=status, register=register, staff=staff, customer=customer,
            since=since, until=until, created=created, value=value, value_gt=value_gt,
            value_gte=value_gte, value_lt=value_lt, value_lte=value_lte,
        )
        for page in self._pages(self._company_path(path), params, max_pages):
            yield from page.records

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                   max_pages: int | None = None) -> Iterator[Page]:
        """Walk any list page by page; each :class:`~kounta_nb.paging.Page` carries its response
        (``page.response.from_cache`` / ``.revalidated``)."""
        return self._pages(self._resolve_path(path), params, max_pages)

    def pull_orders(self, since: Any, until: Any = None, **options: Any) -> Any:
        """Start a background pull of every order of a period, with details; returns the
        :class:`~kounta_nb.pull.PullJob` (progress, ``estimate()``, ``frames()``, ``cancel()``,
        ``wait()``). Same arguments as :func:`kounta_nb.pull.pull_orders` (``site``, ``status``,
        ``details``, ``seed``, ``store``, ``progress``, ``workers``)."""
        # The one upward import: the engine is built on this client, and this method is only a
        # convenient way in (imported here so that ``import kounta_nb.client`` stays light).
        from .pull import pull_orders

        return pull_orders(self, since, until, **options)

    def order(self, id: int | str) -> dict[str, Any]:
        """The full order (lines, payments, options)."""
        return self._detail(f"orders/{_numeric(id, 'order id')}")

    def order_by_sale(self, sale_number: str) -> dict[str, Any]:
        """The order with this sale number."""
        if not str(sale_number).strip():
            raise ConfigError("sale_number must not be empty.")
        return self._detail(f"orders/saleid/{requests.utils.quote(str(sale_number).strip(), safe='')}")

    # ------------------------------------------------------------------ catalogue

    def products(self, site: int | str | None = None) -> RecordList:
        """Products, of one site (site prices) or the whole company."""
        sid = self._site(site)
        return self._list("products", f"sites/{sid}/products" if sid else "products", filters={"site": sid})

    def product(self, id: int) -> dict[str, Any]:
        """One product."""
        return self._detail(f"products/{_numeric(id, 'product id')}")

    def categories(self, site: int | str | None = None) -> RecordList:
        """Categories, of one site or all."""
        sid = self._site(site)
        return self._list("categories", f"sites/{sid}/categories" if sid else "categories",
                          filters={"site": sid})

    def category(self, id: int) -> dict[str, Any]:
        """One category."""
        return self._detail(f"categories/{_numeric(id, 'category id')}")

    def category_products(self, id: int) -> RecordList:
        """The products in a category."""
        return self._list("category_products", f"categories/{_numeric(id, 'category id')}/products",
                          filters={"category": id})

    def inventory(self, site: int | str) -> RecordList:
        """Stock levels of one site: ``[{"id": product_id, "stock": n}]``."""
        sid = self.resolve_site(site)
        return self._list("inventory", f"sites/{sid}/inventory", filters={"site": sid})

    # ------------------------------------------------------------------ customers, staff, shifts

    def customers(self, reference_id: str | None = None) -> RecordList:
        """Customers (optionally those with a reference id)."""
        params = {"reference_id": reference_id} if reference_id else None
        return self._list("customers", "customers", params)

    def customer(self, id: int) -> dict[str, Any]:
        """One customer."""
        return self._detail(f"customers/{_numeric(id, 'customer id')}")

    def customer_by_email(self, email: str) -> dict[str, Any]:
        """The customer with this e-mail address (NotFoundError when there is none)."""
        if not isinstance(email, str) or "@" not in email:
            raise ConfigError("customer_by_email needs an e-mail address.")
        return self._detail("customers", {"email": email.strip()})

    def customer_orders(self, id: int) -> RecordList:
        """The orders of one customer."""
        return self._list("customer_orders", f"customers/{_numeric(id, 'customer id')}/orders",
                          filters={"customer": id})

    def staff(self) -> RecordList:
        """All staff members."""
        return self._list("staff", "staff")

    def staff_member(self, id: int | Literal["me"]) -> dict[str, Any]:
        """One staff member (``"me"`` for the credentials' own)."""
        return self._detail("staff/me" if id == "me" else f"staff/{_numeric(id, 'staff id')}")

    def shifts(self, *, date: Any = None, since: Any = None, site: int | str | None = None,
               staff: int | None = None) -> RecordList:
        """Shifts of one local day (``date``) or since a day (``since``), optionally of one site
        and/or staff member."""
        if (date is None) == (since is None):
            raise ConfigError("shifts() needs exactly one of date= or since=.")
        sid = self._site(site)
        staff_id = _numeric(staff, "staff id") if staff is not None else None
        if date is not None:
            path = f"shifts/{self._day(date, name='date')}"
            narrow_site, narrow_staff = sid, staff_id
        else:
            day = self._day(since, name="since")
            if sid is not None:
                path, narrow_site, narrow_staff = f"sites/{sid}/shifts/since/{day}", None, staff_id
            elif staff_id is not None:
                path, narrow_site, narrow_staff = f"staff/{staff_id}/shifts/since/{day}", None, None
            else:
                path, narrow_site, narrow_staff = f"shifts/since/{day}", None, None
        records = self._list("shifts", path, filters={"date": date, "since": since, "site": sid,
                                                      "staff": staff_id})
        if narrow_site is not None or narrow_staff is not None:
            kept = [r for r in records
                    if (narrow_site is None or (r.get("site") or {}).get("id") == narrow_site)
                    and (narrow_staff is None or (r.get("staff_member") or {}).get("id") == narrow_staff)]
            return RecordList(kept, records.meta)
        return records

    # ------------------------------------------------------------------ money

    def taxes(self) -> RecordList:
        """Taxes (``rate`` is a factor: 0.1 = 10 %)."""
        return self._list("taxes", "taxes")

    def tax(self, id: int) -> dict[str, Any]:
        """One tax."""
        return self._detail(f"taxes/{_numeric(id, 'tax id')}")

    def price_lists(self) -> RecordList:
        """Price lists."""
        return self._list("price_lists", "price_lists")

    def price_list(self, id: int | str = "base") -> dict[str, Any]:
        """One price list (``"base"`` for the base list)."""
        return self._detail("price_lists/base" if id == "base" else f"price_lists/{_numeric(id, 'price list id')}")

    def payment_methods(self) -> RecordList:
        """Payment methods ``[{id, name, ledger_code}]``."""
        return self._list("payment_methods", "payment_methods")

    def reconciliations(self, *, site: int | str | None = None, register: int | None = None,
                        date: Any = None, since: Any = None, unprocessed: bool = False) -> RecordList:
        """Register reconciliations (end-of-day takings), filtered by site or register, one day
        or since a day, and/or only the unprocessed ones."""
        if date is not None and since is not None:
            raise ConfigError("reconciliations() takes date= or since=, not both.")
        sid = self._site(site)
        parts = []
        if sid is not None and register is not None:
            raise ConfigError("reconciliations() takes site= or register=, not both.")
        if sid is not None:
            parts += ["sites", str(sid)]
        if register is not None:
            parts += ["registers", str(_numeric(register, "register id"))]
        parts.append("reconciliations")
        if unprocessed:
            parts.append("unprocessed")
        if date is not None:
            parts.append(self._day(date, name="date"))
        if since is not None:
            parts += ["since", self._day(since, name="since")]
        return self._list("reconciliations", "/".join(parts), filters={
            "site": sid, "register": register, "date": date, "since": since, "unprocessed": unprocessed or None})

    def reconciliation(self, id: int | str) -> dict[str, Any]:
        """One reconciliation."""
        return self._detail(f"reconciliations/{_numeric(id, 'reconciliation id')}")

    def webhooks(self) -> RecordList:
        """Registered webhooks."""
        return self._list("webhooks", "webhooks")

    def webhook(self, id: int) -> dict[str, Any]:
        """One webhook."""
        return self._detail(f"webhooks/{_numeric(id, 'webhook id')}")

    # ------------------------------------------------------------------ writes

    def _created(self, response: ApiResponse, fallback_path: str | None = None) -> dict[str, Any]:
        """A 201 usually has an empty body and the new id only in ``Location``: fetch the record."""
        body = response.json()
        if isinstance(body, dict) and body:
            return body
        location = response.headers.get("Location")
        if location:
            record = self.transport.request("GET", location).json()
            if isinstance(record, dict):
                return record
        if fallback_path:
            return self._detail(fallback_path)
        raise APIError(response.status_code, "no_location",
                       "the record was created but the answer did not say where it is",
                       method=response.method, path=response.path)

    def _write(self, method: str, path: str, body: Any, *, refetch: str | None = None) -> dict[str, Any] | None:
        if body is not None and not isinstance(body, Mapping):
            raise ConfigError("The request body must be a dict of fields.")
        full = self._company_path(path)
        response = self.transport.request(method, full, json=dict(body) if body is not None else None)
        forget = refetch or (path if method in ("PUT", "PATCH", "DELETE") else None)
        if forget:
            self.transport.forget(self._company_path(forget))
        if method == "DELETE":
            return None
        if method == "POST":
            return self._created(response, refetch)
        answer = response.json()
        if isinstance(answer, dict) and answer:
            return answer
        return self._detail(refetch or path)

    def create_order(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Create an order; returns the full record. Never retried blindly: after a failure the
        order is looked up (by ``sale_number``, else by the ``[kounta_nb:<key>]`` reference this
        method appends to ``notes``) and POSTed again only when it does not exist."""
        if not isinstance(body, Mapping):
            raise ConfigError("create_order needs the order as a dict.")
        order = dict(body)
        sale = str(order.get("sale_number") or "").strip() or None
        marker = None
        if sale is None:
            key = idempotency_key or uuid.uuid4().hex[:20]
            marker = f"[kounta_nb:{key}]"
            notes = str(order.get("notes") or "")
            if marker not in notes:
                order["notes"] = f"{notes} {marker}".strip()
        site = order.get("site_id")
        if idempotency_key is not None:
            existing = self._find_order(sale, marker, site)
            if existing is not None:
                return existing
        attempts = self.transport.max_retries
        for attempt in range(attempts + 1):
            try:
                response = self.transport.request("POST", self._company_path("orders"), json=order)
            except (TransportError, APIError) as exc:
                if isinstance(exc, APIError) and exc.status < 500:
                    raise
                existing = self._find_order(sale, marker, site)
                if existing is not None:
                    return existing
                if attempt >= attempts:
                    raise
                time.sleep(backoff_delay(attempt, base=self.transport.backoff_base,
                                         cap=self.transport.backoff_max))
                continue
            return self._created(response)
        raise TransportError("Creating the order failed.")  # pragma: no cover - loop always returns

    def _find_order(self, sale: str | None, marker: str | None, site: Any) -> dict[str, Any] | None:
        """The order a failed POST may have created, or None."""
        if sale is not None:
            try:
                return self.order_by_sale(sale)
            except NotFoundError:
                return None
        site_id = int(site) if site is not None and str(site).isdigit() else None
        path = order_path(site=site_id)
        for page in self._pages(self._company_path(path), None, _CREATE_LOOKUP_PAGES):
            for record in page.records:
                if marker and marker in str(record.get("notes") or ""):
                    return self.order(record.get("id_str") or record["id"])
        return None

    def update_order(self, id: int | str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change an order (partial update); returns the updated record."""
        return self._write("PUT", f"orders/{_numeric(id, 'order id')}", changes)  # type: ignore[return-value]

    def add_payment(self, order_id: int | str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a payment to an order (negative amount = refund); returns the updated order."""
        oid = _numeric(order_id, "order id")
        return self._write("POST", f"orders/{oid}/payments", body, refetch=f"orders/{oid}")  # type: ignore[return-value]

    def update_payment(self, order_id: int | str, number: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change one payment of an order; returns the updated order."""
        oid = _numeric(order_id, "order id")
        return self._write("PUT", f"orders/{oid}/payments/{_numeric(number, 'payment number')}", changes,
                           refetch=f"orders/{oid}")  # type: ignore[return-value]

    def create_customer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a customer (needs ``first_name`` plus an email, phone or mobile)."""
        return self._write("POST", "customers", body)  # type: ignore[return-value]

    def update_customer(self, id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a customer."""
        return self._write("PUT", f"customers/{_numeric(id, 'customer id')}", changes)  # type: ignore[return-value]

    def create_category(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a category."""
        return self._write("POST", "categories", body)  # type: ignore[return-value]

    def update_category(self, id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a category."""
        return self._write("PUT", f"categories/{_numeric(id, 'category id')}", changes)  # type: ignore[return-value]

    def update_site(self, id: int | str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a site."""
        result = self._write("PUT", f"sites/{self.resolve_site(id)}", changes)
        with self._lock:
            self._sites = None
        return result  # type: ignore[return-value]

    def update_reconciliation(self, id: int | str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a reconciliation (e.g. mark it processed)."""
        return self._write("PUT", f"reconciliations/{_numeric(id, 'reconciliation id')}", changes)  # type: ignore[return-value]

    def create_webhook(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Register a webhook."""
        return self._write("POST", "webhooks", body)  # type: ignore[return-value]

    def update_webhook(self, id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a webhook."""
        return self._write("PUT", f"webhooks/{_numeric(id, 'webhook id')}", changes)  # type: ignore[return-value]

    def delete_webhook(self, id: int) -> None:
        """Delete a webhook."""
        self._write("DELETE", f"webhooks/{_numeric(id, 'webhook id')}", None)

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


def _numeric(value: Any, what: str) -> int:
    if isinstance(value, bool) or value is None or not str(value).strip().isdigit():
        raise ConfigError(f"{what} must be a numeric id, not {value!r}.")
    return int(str(value).strip())


def _shared_sandbox() -> Any:
    """The embedded sandbox, started once per process and reused while it answers."""
    global _SANDBOX
    with _SANDBOX_LOCK:
        if _SANDBOX is not None:
            try:
                requests.get(_SANDBOX.url + "/_sandbox/info", timeout=2).raise_for_status()
                return _SANDBOX
            except requests.RequestException:
                _SANDBOX = None
        import kounta_nb

        _SANDBOX = kounta_nb.start_sandbox()
        return _SANDBOX

"""The sandbox's HTTP layer: a WSGI application that behaves like the Kounta API.

Everything in kounta-api.md §1–4 is reproduced here on top of the data layer (``business.py``):
formats (``.json`` or ``Accept``, else 406; JSON bodies only, else 400; ``X-Pretty-Print``),
Basic and OAuth authentication, 25-record abridged pages with an absolute ``X-Next-Page``
(``start=<id>`` cursor, filters kept, reusable in any order), strong ``ETag`` / ``If-None-Match``
→ 304, OAuth-style error bodies, every endpoint of §4 with its writes, rate limits, latency and
seeded faults. ``make_app()`` returns the WSGI callable; ``server.py`` serves it over real sockets.

Choices the reference leaves open (kounta-api.md **[choice]**), kept consistent with the client:

- A *date* in a query filter (``created_gt=2026-05-01``) means local midnight at the start of that
  day in the company's time zone; ``created=<date>`` means that whole local day; a datetime
  without an offset is local time too.
- Orders, reconciliations: newest first; every other list ascending by id; shifts by start time.
  The ``start`` cursor names the first record of the next page (inclusive); shift cursors are
  ``start=<YYYYMMDD>.<n>``.
- ``Accept`` must name ``application/json`` (``*/*`` alone gets 406, as in the seed).
- A token (or Basic pair) used on another company's path gets **403** ``access_denied``.
- POST answers 201 with an empty body (``created_body="null"`` sends ``null``) and a ``Location``
  in the style of the request (``.json`` suffix kept). Payments have no URL of their own, so a new
  payment's ``Location`` is its order, and ``PUT …/payments/{n}`` returns the order.
- Unknown fields in a write body are refused with 400, so a client typo is never silently lost.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import dataclasses
import hashlib
import heapq
import json
import math
import random
import sys
import threading
import time
import traceback
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from .faults import FaultInjector
from .limits import RateLimiter
from .oauth import (
    CLIENT_ID,
    CLIENT_SECRET,
    LOGIN_EMAIL,
    LOGIN_PASSWORD,
    AccessGrant,
    AuthorizeFlow,
    Reply,
    TokenRegistry,
    _basic_pair,
)

__all__ = ["PAGE_SIZE", "ORDER_STATUSES", "SandboxApp", "SandboxOptions", "make_app"]

PAGE_SIZE = 25
ORDER_STATUSES = ("SUBMITTED", "ON_HOLD", "PENDING", "ACCEPTED", "REJECTED", "COMPLETE")
_STATUS_SEGMENTS = {s.lower(): s for s in ORDER_STATUSES}
#: Environ key through which the app asks the server to drop or truncate a response.
FAULT_KEY = "kounta_nb.sandbox.fault"
#: Set on a request whose access token is in its last ``expiry_empty_s`` seconds.
EXPIRING_KEY = "kounta_nb.sandbox.expiring"
#: Environ key a real-socket server sets, so the app knows it can drop/truncate for real.
SERVER_KEY = "kounta_nb.sandbox.server"

# Abridged list items (kounta-api.md §5, widened where a real fixture's list item is wider).
ORDER_ITEM = ("id", "id_str", "sale_number", "status", "notes", "site_id", "register_id",
              "staff_id", "customer_id", "total", "total_tax", "paid", "deleted", "order_type",
              "is_refund", "refunded_order_id", "created_at", "updated_at")
SITE_ITEM = ("id", "company_id", "name", "code")
REGISTER_ITEM = ("id", "code", "name", "site_id")
PRODUCT_ITEM = ("id", "name", "code", "description", "barcode", "is_modifier")
CATEGORY_ITEM = ("id", "company_id", "name", "description", "image", "products")
CUSTOMER_ITEM = ("id", "company_id", "first_name", "last_name", "primary_email_address", "image",
                 "reference_id")
STAFF_ITEM = ("id", "first_name", "last_name", "primary_email_address")

#: Values of ``SandboxOptions.legacy_pages``.
LEGACY_PAGES = ("asked", "always", "never")

_READ_ONLY = frozenset({"id", "id_str", "company_id", "created_at", "updated_at"})
_DATE_FILTERS = ("created", "created_gt", "created_gte", "created_lt", "created_lte")
_VALUE_FILTERS = ("value", "value_gt", "value_gte", "value_lt", "value_lte")
_WEBHOOK_TOPICS = ("orders/created", "orders/updated", "orders/completed", "orders/deleted",
                   "customers/created", "customers/updated", "products/created",
                   "products/updated", "inventory/updated", "shifts/started", "shifts/finished")


@dataclass
class SandboxOptions:
    """Every knob of the sandbox; all but ``FROZEN`` (``seed``, ``months``, ``now``, ``live``,
    ``live_speed``, ``extra_sites``) can change at run time (``POST /_sandbox/options`` or ``SandboxHandle.set_options``)."""

    seed: int = 7
    months: int = 6
    now: datetime | None = None
    live: bool = False
    #: How fast a live clock runs (60 = a minute of trading per second).
    live_speed: float = 1.0
    #: More venues for the developer company (cafés, bars, restaurants with their own ids, staff
    #: and registers; deterministic from the seed), e.g. for big-data benchmarks. 0 to 250.
    extra_sites: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_limit: bool = False
    rate_basic: int = 60
    rate_oauth: int = 180
    time_scale: float = 1.0
    token_ttl: float = 3600.0
    fault_5xx: float = 0.0
    fault_429: float = 0.0
    fault_drop: float = 0.0
    fault_truncate: float = 0.0
    fault_slow: float = 0.0
    slow_ms: float = 2000.0
    fault_seed: int = 0
    #: Exact redirect URIs registered besides every loopback ``http`` URI (RFC 8252 §7.3).
    redirect_uris: tuple[str, ...] = ()
    #: ``GET /companies/me`` answers 302 → ``/companies/{id}`` instead of the record.
    me_redirect: bool = False
    #: Refresh responses leave out ``refresh_token`` (the client must keep the old one).
    refresh_omits_token: bool = False
    #: Body of a 201: ``"empty"`` or ``"null"``.
    created_body: str = "empty"
    #: In the last N seconds of an access token's life, API GETs answer 200 with an empty body, as
    #: some integrators saw around expiry (kounta-api.md §2); 0 = off.
    expiry_empty_s: float = 0.0
    #: ``"oauth"``: expiry is 401 ``expired_token``; ``"legacy"``: 400 ``{"message": …}`` as an old
    #: client's tests model it (kounta-api.md §2).
    expiry_style: str = "oauth"
    #: Status of a rate-limit answer: 429, or 200 as older traffic saw (body ``Limit exceeded``).
    limit_status: int = 429
    #: ``Retry-After`` as an HTTP date instead of seconds.
    retry_after_date: bool = False
    #: Legacy page numbers (kounta-api.md §3): ``"asked"`` sends ``X-Pages`` only when the request
    #: carries ``X-Page``; ``"always"`` on every list answer (as some API versions did, and as
    #: clients that read it from an unasked first page expect); ``"never"`` ignores ``X-Page``.
    #: ``True``/``False`` mean ``"always"``/``"asked"``.
    legacy_pages: str = "asked"

    FROZEN = ("seed", "months", "now", "live", "live_speed", "extra_sites")

    def __post_init__(self) -> None:
        if isinstance(self.legacy_pages, bool):
            self.legacy_pages = "always" if self.legacy_pages else "asked"
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` (one clear sentence) for an impossible value."""
        for name in ("fault_5xx", "fault_429", "fault_drop", "fault_truncate", "fault_slow"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"Sandbox option {name} is a probability between 0 and 1, not {value!r}.")
        for name in ("latency_ms", "jitter_ms", "slow_ms", "expiry_empty_s"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"Sandbox option {name} cannot be negative.")
        for name in ("rate_basic", "rate_oauth", "months"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Sandbox option {name} must be at least 1.")
        if not isinstance(self.extra_sites, int) or isinstance(self.extra_sites, bool) \
                or not 0 <= self.extra_sites <= 250:
            raise ValueError("Sandbox option extra_sites must be a whole number from 0 to 250.")
        if not float(self.time_scale) > 0:
            raise ValueError("Sandbox option time_scale must be a positive number.")
        if not float(self.live_speed) > 0:
            raise ValueError("Sandbox option live_speed must be a positive number.")
        if not float(self.token_ttl) > 0:
            raise ValueError("Sandbox option token_ttl must be a positive number of seconds.")
        if self.expiry_style not in ("oauth", "legacy"):
            raise ValueError('Sandbox option expiry_style must be "oauth" or "legacy".')
        if int(self.limit_status) not in (429, 200):
            raise ValueError("Sandbox option limit_status must be 429 or 200.")
        if self.legacy_pages not in LEGACY_PAGES:
            raise ValueError('Sandbox option legacy_pages must be "asked", "always" or "never".')
        if self.created_body not in ("empty", "null"):
            raise ValueError('Sandbox option created_body must be "empty" or "null".')
        if self.now is not None and (not isinstance(self.now, datetime) or self.now.tzinfo is None):
            raise ValueError("Sandbox option now must be a timezone-aware datetime.")

    def as_json(self) -> dict[str, Any]:
        """The options as JSON-ready values."""
        out = dataclasses.asdict(self)
        out["now"] = self.now.isoformat() if self.now else None
        out["redirect_uris"] = list(self.redirect_uris)
        return out


class ApiError(Exception):
    """An error answer: OAuth-style JSON body ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str,
                 headers: list[tuple[str, str]] | None = None, *, legacy: bool = False) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.headers = headers or []
        self.legacy = legacy  # body {"message": description}, as some old answers had


def _not_found(what: str = "No such resource") -> ApiError:
    return ApiError(404, "not_found", f"{what}.")


@dataclass(slots=True)
class Request:
    """The parts of a WSGI request the sandbox looks at."""

    environ: dict[str, Any]
    method: str
    path: str
    query_string: str
    query: dict[str, str]
    headers: dict[str, str]
    origin: str  # scheme://host[:port]

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        """Read method, path, query and headers from a WSGI environ."""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        host = headers.get("host") or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
        qs = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "/")
        if isinstance(path, str):
            # PEP 3333: PATH_INFO is latin-1-decoded bytes; recover the UTF-8 text.
            with contextlib.suppress(UnicodeError):
                path = path.encode("latin-1").decode("utf-8")
        return cls(environ, environ.get("REQUEST_METHOD", "GET").upper(), path, qs,
                   dict(parse_qsl(qs, keep_blank_values=True)), headers,
                   f"{environ.get('wsgi.url_scheme', 'http')}://{host}")

    def body(self) -> bytes:
        """The raw request body (read once, cached)."""
        cached = self.environ.get("kounta_nb.sandbox.body")
        if cached is not None:
            return cached
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = self.environ.get("wsgi.input")
        data = stream.read(length) if (stream is not None and length > 0) else b""
        self.environ["kounta_nb.sandbox.body"] = data
        return data

    def form(self) -> dict[str, str]:
        """The body as an HTML form (``application/x-www-form-urlencoded``)."""
        return dict(parse_qsl(self.body().decode("utf-8", errors="replace"), keep_blank_values=True))


@dataclass(slots=True)
class Ctx:
    """One authenticated API request, resolved to a company."""

    req: Request
    company: Any
    grant_email: str | None
    suffix: bool  # the path ended in .json
    filters: dict[str, int] = field(default_factory=dict)

    def only(self, *allowed: str) -> None:
        """404 unless every path filter of this request is one of ``allowed``."""
        extra = set(self.filters) - set(allowed)
        if extra:
            raise _not_found("No such resource under that path")

    def url(self, path: str) -> str:
        """An absolute URL for an API path under this company, in the request's style."""
        return f"{self.req.origin}/v1/companies/{self.company.id}/{path}" + (".json" if self.suffix else "")


def _stable_json(obj: Any, pretty: bool) -> bytes:
    if pretty:
        return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def _int_id(value: str) -> int:
    if not value.isdigit() or len(value) > 20:
        raise _not_found()
    return int(value)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _not_found(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


class SandboxApp:
    """The WSGI application. ``business`` is the data layer; ``options`` the live knobs."""

    def __init__(self, options: SandboxOptions | None = None, business: Any = None) -> None:
        self.options = options or SandboxOptions()
        if business is None:
            from .business import Business, Clock

            clock = Clock(now=self.options.now, live=self.options.live, speed=float(self.options.live_speed))
            business = Business(seed=self.options.seed, months=self.options.months, clock=clock,
                                extra_sites=self.options.extra_sites)
        self.business = business
        self.tokens = TokenRegistry()
        self.flow = AuthorizeFlow(business, self.tokens)
        self.limiter = RateLimiter()
        self.faults = FaultInjector(self.options.fault_seed)
        self._jitter = random.Random(self.options.fault_seed + 1)
        self._write_lock = threading.RLock()
        self._recon_memo: dict[tuple[int, int, date], list[dict]] = {}
        self._memo_lock = threading.Lock()
        self._id_memo: OrderedDict[tuple, tuple[tuple[int, float], list[int]]] = OrderedDict()
        self._stats_lock = threading.Lock()
        self._by_status: Counter[int] = Counter()
        self._faults: Counter[str] = Counter()
        self._requests = 0
        self._rate_limited = 0
        self.url = ""  # set by the server once it knows its port

    # -- WSGI ----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request.from_environ(environ)
        try:
            status, headers, body = self.handle(req)
        except Exception:  # a bug must answer 500 like a real server, not kill the connection
            traceback.print_exc(file=sys.stderr)
            status, headers, body = self._error(ApiError(
                500, "server_error", "The sandbox failed to answer this request."), pretty=False)
        fault = environ.get(FAULT_KEY)
        if fault == "drop" and not environ.get(SERVER_KEY):
            # Mounted in-process there is no socket to close: fail the way a dropped connection does.
            raise ConnectionResetError("The sandbox dropped the connection (injected fault).")
        headers = [h for h in headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        if req.method == "HEAD":
            body = b""
        if fault == "truncate" and not environ.get(SERVER_KEY):
            body = body[: len(body) // 2]
        start_response(f"{status} {_REASONS.get(status, 'Unknown')}", headers)
        return [body]

    def handle(self, req: Request) -> Reply:
        """Route one request to its answer, counting it in the statistics."""
        status, headers, body = self._route(req)
        with self._stats_lock:
            self._requests += 1
            if req.environ.get(FAULT_KEY) != "drop":
                self._by_status[status] += 1
        return status, headers, body

    def _route(self, req: Request) -> Reply:
        path = req.path
        if path.startswith("/_sandbox/"):
            return self._control(req)
        if path in ("/authorize", "/authorize/"):
            if req.method not in ("GET", "POST"):
                return self._error(ApiError(405, "method_not_allowed", "Use GET or POST on /authorize."), False)
            form = req.form() if req.method == "POST" else {}
            return self.flow.authorize(req.method, req.query, form, tuple(self.options.redirect_uris))
        if path == "/oauth/done":
            full = f"{req.origin}{path}" + (f"?{req.query_string}" if req.query_string else "")
            return self.flow.done_page(full, req.query)
        if path in ("/v1/token", "/v1/token.json"):
            self._latency()
            if req.method != "POST":
                return self._error(ApiError(405, "invalid_request", "The token endpoint only accepts POST.",
                                            [("Allow", "POST")]), False)
            return self.flow.token(req.headers.get("content-type", ""), req.body(),
                                   req.headers.get("authorization", ""),
                                   float(self.options.token_ttl), self.options.refresh_omits_token)
        if path == "/" or path == "":
            return self._index(req)
        if path.startswith("/v1/"):
            return self._api(req)
        return self._error(_not_found(f"Nothing lives at {path[:80]}"), False)

    # -- the API pipeline ----------------------------------------------------------------------
    def _api(self, req: Request) -> Reply:
        pretty = req.headers.get("x-pretty-print", "").strip() in ("1", "true")
        self._latency()
        opts = self.options
        truncate = False
        if req.path.startswith("/v1/companies"):
            fault = self.faults.draw(p_5xx=opts.fault_5xx, p_429=opts.fault_429, p_drop=opts.fault_drop,
                                     p_truncate=opts.fault_truncate, p_slow=opts.fault_slow)
            if fault is not None:
                with self._stats_lock:
                    self._faults[fault.kind] += 1
                if fault.kind == "drop":
                    req.environ[FAULT_KEY] = "drop"
                    return 500, [], b""
                if fault.kind == "5xx":
                    return _server_error(fault.status)
                if fault.kind == "429":
                    return self._limited(int(time.time()) + 1, 1)
                if fault.kind == "slow":
                    time.sleep(opts.slow_ms / 1000.0)
                truncate = fault.kind == "truncate"
        try:
            status, headers, body = self._api_inner(req, pretty)
        except ApiError as exc:
            return self._error(exc, pretty)
        if truncate and len(body) > 1:
            req.environ[FAULT_KEY] = "truncate"
        return status, headers, body

    def _api_inner(self, req: Request, pretty: bool) -> Reply:
        segments = req.path[len("/v1/"):].strip("/").split("/")
        suffix = segments[-1].endswith(".json")
        if suffix:
            segments[-1] = segments[-1][: -len(".json")]
        if not suffix and "application/json" not in req.headers.get("accept", "").lower():
            raise ApiError(406, "not_acceptable",
                           "Add .json to the path or send Accept: application/json; no other format is served.")
        company_id, email, key, kind = self._authenticate(req)
        if self.options.rate_limit:
            limit = self.options.rate_basic if kind == "basic" else self.options.rate_oauth
            decision = self.limiter.hit(key, int(limit), float(self.options.time_scale))
            if not decision.allowed:
                with self._stats_lock:
                    self._rate_limited += 1
                return self._limited(decision.reset_epoch, decision.retry_after)
        if req.environ.get(EXPIRING_KEY) and req.method == "GET":
            return 200, [("Content-Type", "application/json; charset=utf-8")], b""
        if len(segments) < 2 or segments[0] != "companies":
            raise _not_found(f"Nothing lives at {req.path[:80]}")
        if req.method in ("POST", "PUT", "PATCH"):
            ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise ApiError(400, "invalid_request",
                               "Send the request body as JSON with the header Content-Type: application/json.")
        target = segments[1]
        if target == "me":
            cid = company_id
        else:
            cid = _int_id(target)
            if cid != company_id:
                raise ApiError(403, "access_denied",
                               f"These credentials do not give access to company {cid}.")
        company = self.business.companies[cid]
        ctx = Ctx(req, company, email, suffix)
        if target == "me" and len(segments) == 2 and self.options.me_redirect and req.method == "GET":
            return 302, [("Location", f"{req.origin}/v1/companies/{cid}" + (".json" if suffix else ""))], b""
        rest = self._strip_filters(ctx, segments[2:])
        result = self._dispatch(ctx, rest)
        return self._render(req, result, pretty)

    def _authenticate(self, req: Request) -> tuple[int, str | None, str, str]:
        """(company id, login e-mail or None, rate-limit key, "basic"|"oauth") or 401."""
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value.strip():
            found = self.tokens.check(value.strip())
            if found == "expired_token":
                if self.options.expiry_style == "legacy":
                    raise ApiError(400, "expired_token", "The access token provided has expired", legacy=True)
                raise ApiError(401, "expired_token", "The access token provided has expired",
                               [("WWW-Authenticate", 'Bearer realm="Kounta", error="invalid_token"')])
            if not isinstance(found, AccessGrant):
                raise ApiError(401, "invalid_token", "The access token provided is invalid",
                               [("WWW-Authenticate", 'Bearer realm="Kounta", error="invalid_token"')])
            window = float(self.options.expiry_empty_s)
            if window and found.expires_at - time.monotonic() <= window:
                req.environ[EXPIRING_KEY] = True
            return found.company_id, found.email, "oauth:" + value.strip(), "oauth"
        if scheme == "basic":
            pair = _basic_pair(header)
            if pair is None or pair[0] != CLIENT_ID or pair[1] != CLIENT_SECRET:
                raise ApiError(401, "invalid_client", "The client credentials are invalid.",
                               [("WWW-Authenticate", 'Basic realm="Kounta"')])
            return self.business.developer_company_id, None, "basic:" + pair[0], "basic"
        raise ApiError(401, "invalid_request",
                       "The request has no credentials: send Basic client credentials or a Bearer access token.",
                       [("WWW-Authenticate", 'Bearer realm="Kounta"')])

    # -- path filters --------------------------------------------------------------------------
    _FILTER_KEYS = {"sites": "site", "registers": "register", "staff": "staff", "customers": "customer"}

    def _strip_filters(self, ctx: Ctx, rest: list[str]) -> list[str]:
        """Take ``sites/{s}``, ``registers/{r}``, ``staff/{st}``, ``customers/{cu}`` pairs off the
        front while a sub-resource follows them (in any order, each at most once)."""
        company = ctx.company
        while len(rest) > 2 and rest[0] in self._FILTER_KEYS:
            key = self._FILTER_KEYS[rest[0]]
            if key in ctx.filters:
                raise _not_found("A path filter appears twice")
            if key == "staff" and rest[1] == "me":
                value = self._staff_me(ctx)["id"]
            else:
                value = _int_id(rest[1])
            table = {"site": company.sites, "register": company.registers,
                     "staff": company.staff, "customer": company.customers}[key]
            if value not in table:
                raise _not_found(f"No {key} {value} in this company")
            ctx.filters[key] = value
            rest = rest[2:]
        return rest

    # -- dispatch ------------------------------------------------------------------------------
    def _dispatch(self, ctx: Ctx, rest: list[str]) -> Any:
        m = ctx.req.method
        if m == "PATCH":
            m = "PUT"
        elif m == "HEAD":
            m = "GET"
        c = ctx.company
        match rest:
            case []:
                ctx.only()
                self._allow(m, "GET")
                return Json(c.record)
            case ["status"]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._status(ctx))
            case ["sites"]:
                ctx.only()
                self._allow(m, "GET")
                return self._id_list(ctx, c.sites.values(), SITE_ITEM,
                                     lambda r: {**_pick(r, SITE_ITEM), "company_id": c.id})
            case ["sites", sid]:
                ctx.only()
                record = self._get(c.sites, sid, "site")
                if self._allow(m, "GET", "PUT") == "PUT":
                    return Json(self._update(ctx, c.sites, record, "site"))
                return Json(record)
            case ["registers"]:
                ctx.only("site")
                self._allow(m, "GET")
                regs = c.registers.values()
                if "site" in ctx.filters:
                    regs = [r for r in regs if _site_of(r) == ctx.filters["site"]]
                return self._id_list(ctx, regs, REGISTER_ITEM, _register_item)
            case ["registers", rid]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._get(c.registers, rid, "register"))
            case ["orders"] if m == "POST":
                ctx.only()
                return self._create_order(ctx)
            case ["orders"]:
                self._allow(m, "GET", "POST")
                return self._order_list(ctx, None)
            case ["orders", "saleid", sale]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._order_by_sale(ctx, sale))
            case ["orders", status] if status in _STATUS_SEGMENTS:
                self._allow(m, "GET")
                return self._order_list(ctx, _STATUS_SEGMENTS[status])
            case ["orders", oid]:
                ctx.only()
                order = self._order(ctx, oid)
                if self._allow(m, "GET", "PUT") == "PUT":
                    return Json(self._update_order(ctx, order))
                return Json(order)
            case ["orders", oid, "payments"]:
                ctx.only()
                self._allow(m, "POST")
                return self._add_payment(ctx, self._order(ctx, oid))
            case ["orders", oid, "payments", number]:
                ctx.only()
                self._allow(m, "PUT")
                return Json(self._update_payment(ctx, self._order(ctx, oid), number))
            case ["products"]:
                ctx.only("site")
                self._allow(m, "GET")
                return self._id_list(ctx, self._products_at(ctx), PRODUCT_ITEM)
            case ["products", pid]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._get(c.products, pid, "product"))
            case ["products", pid, "categories"]:
                ctx.only()
                self._allow(m, "GET")
                product = self._get(c.products, pid, "product")
                ids = {cat.get("id") for cat in product.get("categories") or []}
                return self._id_list(ctx, [c.categories[i] for i in ids if i in c.categories],
                                     CATEGORY_ITEM, self._category_item)
            case ["categories"]:
                ctx.only("site")
                if self._allow(m, "GET", "POST") == "POST":
                    if ctx.filters:
                        raise _not_found()
                    return self._create_category(ctx)
                cats = c.categories.values()
                if "site" in ctx.filters:
                    used = {cat.get("id") for p in self._products_at(ctx) for cat in p.get("categories") or []}
                    cats = [cat for cat in cats if cat["id"] in used]
                return self._id_list(ctx, cats, CATEGORY_ITEM, self._category_item)
            case ["categories", cid]:
                ctx.only()
                record = self._get(c.categories, cid, "category")
                if self._allow(m, "GET", "PUT") == "PUT":
                    return Json(self._update(ctx, c.categories, record, "category"))
                return Json(record)
            case ["categories", cid, "products"]:
                ctx.only()
                self._allow(m, "GET")
                cat_id = self._get(c.categories, cid, "category")["id"]
                prods = [p for p in c.products.values()
                         if any(cat.get("id") == cat_id for cat in p.get("categories") or [])]
                return self._id_list(ctx, prods, PRODUCT_ITEM)
            case ["inventory"]:
                ctx.only("site")
                self._allow(m, "GET")
                if "site" not in ctx.filters:
                    raise _not_found("Inventory is per site: use /sites/{site_id}/inventory")
                return self._id_list(ctx, c.inventory(ctx.filters["site"]), None)
            case ["customers"]:
                ctx.only()
                if self._allow(m, "GET", "POST") == "POST":
                    return self._create_customer(ctx)
                return self._customer_list(ctx)
            case ["customers", cid]:
                ctx.only()
                record = self._get(c.customers, cid, "customer")
                if self._allow(m, "GET", "PUT") == "PUT":
                    return Json(self._update_customer(ctx, record))
                return Json(record)
            case ["staff"]:
                ctx.only()
                self._allow(m, "GET")
                return self._id_list(ctx, c.staff.values(), STAFF_ITEM)
            case ["staff", "me"]:
                ctx.only()
                self._allow(m, "GET")
                return Json(_staff_view(self._staff_me(ctx)))
            case ["staff", sid]:
                ctx.only()
                self._allow(m, "GET")
                return Json(_staff_view(self._get(c.staff, sid, "staff member")))
            case ["shifts", "since", day]:
                ctx.only("site", "staff")
                self._allow(m, "GET")
                return self._shift_list(ctx, _parse_day(day), None)
            case ["shifts", day]:
                ctx.only("site", "staff")
                self._allow(m, "GET")
                d = _parse_day(day)
                return self._shift_list(ctx, d, d)
            case ["taxes"]:
                ctx.only()
                self._allow(m, "GET")
                return self._id_list(ctx, c.taxes.values(), None)
            case ["taxes", tid]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._get(c.taxes, tid, "tax"))
            case ["price_lists"]:
                ctx.only()
                self._allow(m, "GET")
                stamp = c.record.get("updated_at")
                return self._id_list(ctx, c.price_lists.values(), None,
                                     lambda r: _price_list_item(r, stamp))
            case ["price_lists", "base"]:
                ctx.only()
                self._allow(m, "GET")
                base = [p for p in c.price_lists.values() if p.get("parent_id") is None]
                if not base:
                    raise _not_found("This company has no base price list")
                return Json(min(base, key=lambda p: p["id"]))
            case ["price_lists", pid]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._get(c.price_lists, pid, "price list"))
            case ["payment_methods"]:
                ctx.only()
                self._allow(m, "GET")
                return self._id_list(ctx, c.payment_methods.values(), None)
            case ["payment_methods", pid]:
                ctx.only()
                self._allow(m, "GET")
                return Json(self._get(c.payment_methods, pid, "payment method"))
            case ["reconciliations", *tail]:
                ctx.only("site", "register")
                return self._reconciliations(ctx, m, tail)
            case ["webhooks"]:
                ctx.only()
                if self._allow(m, "GET", "POST") == "POST":
                    return self._create_webhook(ctx)
                return self._id_list(ctx, c.webhooks.values(), None)
            case ["webhooks", wid]:
                ctx.only()
                record = self._get(c.webhooks, wid, "webhook")
                verb = self._allow(m, "GET", "PUT", "DELETE")
                if verb == "PUT":
                    return Json(self._update_webhook(ctx, record))
                if verb == "DELETE":
                    with self._write_lock:
                        c.webhooks.pop(record["id"], None)
                    return Raw(204, [], b"")
                return Json(record)
        raise _not_found(f"Nothing lives at {ctx.req.path[:80]}")

    @staticmethod
    def _allow(method: str, *allowed: str) -> str:
        if method not in allowed:
            raise ApiError(405, "method_not_allowed",
                           f"{method} is not allowed here; use {', '.join(allowed)}.",
                           [("Allow", ", ".join(allowed))])
        return method

    @staticmethod
    def _get(table: dict[int, dict], raw_id: str, what: str) -> dict:
        record = table.get(_int_id(raw_id))
        if record is None:
            raise _not_found(f"No {what} {raw_id}")
        return record

    # -- rendering -----------------------------------------------------------------------------
    def _render(self, req: Request, result: Any, pretty: bool) -> Reply:
        if isinstance(result, Raw):
            return result.status, result.headers, result.body
        body = _stable_json(result.body, pretty)
        headers = [("Content-Type", "application/json; charset=utf-8"), *result.headers]
        if req.method in ("GET", "HEAD") and result.status == 200:
            etag = _etag(body)
            headers.append(("ETag", etag))
            inm = req.headers.get("if-none-match")
            if inm and _etag_matches(inm, etag):
                return 304, [("ETag", etag), *result.headers], b""
        return result.status, headers, body

    def _limited(self, reset_epoch: int, retry_after: int) -> Reply:
        retry = formatdate(reset_epoch, usegmt=True) if self.options.retry_after_date else str(retry_after)
        return int(self.options.limit_status), [
            ("Content-Type", "text/plain; charset=utf-8"), ("X-Ratelimit-Reset", str(reset_epoch)),
            ("Retry-After", retry)], b"Limit exceeded"

    def _error(self, exc: ApiError, pretty: bool) -> Reply:
        payload = {"message": exc.description} if exc.legacy else \
            {"error": exc.error, "error_description": exc.description}
        body = _stable_json(payload, pretty)
        return exc.status, [("Content-Type", "application/json; charset=utf-8"), *exc.headers], body

    def _created(self, ctx: Ctx, path: str) -> Raw:
        body = b"null" if self.options.created_body == "null" else b""
        headers = [("Location", ctx.url(path))]
        if body:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        return Raw(201, headers, body)

    # -- paging --------------------------------------------------------------------------------
    def _page(self, ctx: Ctx, items: Iterator[tuple[str, dict]], to_item: Callable[[dict], dict],
              whole: Callable[[], Sequence[dict]]) -> Json:
        """One page of a list.

        ``items`` are ``(cursor, record)`` pairs from the request's ``start`` cursor on; ``whole``
        gives every record of the query (ignoring ``start``) in list order, for legacy page numbers:
        ``X-Page: n`` (0-based) answers records ``25n…25n+24`` with ``X-Pages`` (the page count of
        the whole query), which is also sent on every list answer when ``legacy_pages="always"``.
        """
        req = ctx.req
        mode = self.options.legacy_pages
        legacy = req.headers.get("x-page") if mode != "never" else None
        if legacy is not None:
            try:
                n = int(legacy.strip())
            except ValueError:
                raise ApiError(400, "invalid_request", "X-Page must be a page number from 0.") from None
            everything = whole()
            pages = max(1, math.ceil(len(everything) / PAGE_SIZE))
            chunk = everything[n * PAGE_SIZE:(n + 1) * PAGE_SIZE] if n >= 0 else []
            return Json([to_item(r) for r in chunk], headers=[("X-Pages", str(pages))])
        out: list[dict] = []
        headers: list[tuple[str, str]] = []
        for cursor, record in items:
            if len(out) == PAGE_SIZE:
                query = [(k, v) for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k != "start"]
                query.append(("start", cursor))
                headers.append(("X-Next-Page", f"{req.origin}{quote(req.path)}?{urlencode(query)}"))
                break
            out.append(to_item(record))
        if mode == "always":
            headers.append(("X-Pages", str(max(1, math.ceil(len(whole()) / PAGE_SIZE)))))
        return Json(out, headers=headers)

    def _id_list(self, ctx: Ctx, records: Iterable[dict], fields: tuple[str, ...] | None,
                 to_item: Callable[[dict], dict] | None = None) -> Json:
        start = self._start_int(ctx)
        ordered = sorted(records, key=lambda r: r["id"])
        if to_item is None:
            to_item = (lambda r: _pick(r, fields)) if fields else (lambda r: r)
        items = ((str(r["id"]), r) for r in ordered if start is None or r["id"] >= start)
        return self._page(ctx, items, to_item, lambda: ordered)

    @staticmethod
    def _start_int(ctx: Ctx) -> int | None:
        raw = ctx.req.query.get("start")
        if raw is None or raw == "":
            return None
        if not raw.isdigit():
            raise ApiError(400, "invalid_request", "The start cursor is not valid; use the X-Next-Page URL as given.")
        return int(raw)

    # -- orders --------------------------------------------------------------------------------
    def _order(self, ctx: Ctx, raw_id: str) -> dict:
        order = ctx.company.order(_int_id(raw_id))
        if order is None:
            raise _not_found(f"No order {raw_id}")
        return order

    def _order_by_sale(self, ctx: Ctx, sale: str) -> dict:
        finder = getattr(ctx.company, "order_by_sale", None)
        if finder is not None:
            found = finder(sale)
            if found is None:
                raise _not_found(f"No order with sale number {sale}")
            return found
        # Sale numbers are per register and increase with time, so scan newest days first.
        for day in self._days_desc(ctx.company, None, None):
            for site_id in ctx.company.sites:
                for order in ctx.company.orders_on(site_id, day):
                    if str(order.get("sale_number")) == sale:
                        return order
        raise _not_found(f"No order with sale number {sale}")

    def _order_list(self, ctx: Ctx, status: str | None) -> Json:
        company = ctx.company
        q = ctx.req.query
        lo, lo_incl, hi, hi_incl = self._time_bounds(company, q)
        vals = self._value_bounds(q)
        f = ctx.filters

        def keep(o: dict) -> bool:
            if status is not None and o.get("status") != status:
                return False
            if "register" in f and o.get("register_id") != f["register"]:
                return False
            if "staff" in f and (o.get("staff_id", o.get("staff_member_id"))) != f["staff"]:
                return False
            if "customer" in f and _customer_of(o) != f["customer"]:
                return False
            if "site" in f and o.get("site_id") != f["site"]:
                return False
            if lo is not None or hi is not None:
                t = _dt(o["created_at"])
                if lo is not None and (t < lo or (t == lo and not lo_incl)):
                    return False
                if hi is not None and (t > hi or (t == hi and not hi_incl)):
                    return False
            total = o.get("total") or 0.0
            return all(op(total, v) for op, v in vals)

        start_key = None
        raw = ctx.req.query.get("start")
        if raw:
            anchor = company.order(_int_id(raw)) if raw.isdigit() else None
            if anchor is None:
                raise ApiError(400, "invalid_request",
                               "The start cursor is not valid; use the X-Next-Page URL as given.")
            start_key = (_dt(anchor["created_at"]), anchor["id"])

        def stream() -> Iterator[tuple[str, dict]]:
            if "customer" in f:
                found = [company.order(i) for i in company.order_ids_by(customer_id=f["customer"])]
                rows = sorted((((_dt(o["created_at"]), o["id"]), o) for o in found if o is not None and keep(o)),
                              key=lambda t: t[0], reverse=True)
                for key, o in rows:
                    if start_key is None or key <= start_key:
                        yield str(o["id"]), o
                return
            sites = [f["site"]] if "site" in f else list(company.sites)
            if "register" in f:
                reg_site = _site_of(company.registers[f["register"]])
                sites = [s for s in sites if s == reg_site]
            top = hi
            if start_key is not None and (top is None or start_key[0] < top):
                top = start_key[0]
            for day in self._days_desc(company, lo, top):
                # Each site's day is ascending; walk them backwards from the cursor and merge, so a
                # page costs ~25 records instead of a whole day.
                merged = heapq.merge(*(_newest_first(company.orders_on(site, day), start_key) for site in sites),
                                     key=lambda t: t[0], reverse=True)
                for _key, o in merged:
                    if keep(o):
                        yield str(o["id"]), o

        def whole() -> Sequence[dict]:
            return _OrderSequence(company, self._matching_ids(ctx, status, (lo, lo_incl, hi, hi_incl), keep))

        return self._page(ctx, stream(), _order_item, whole)

    def _matching_ids(self, ctx: Ctx, status: str | None,
                      bounds: tuple[datetime | None, bool, datetime | None, bool],
                      keep: Callable[[dict], bool]) -> list[int]:
        """Ids of every order the list query matches, newest first (what legacy page numbers and
        ``X-Pages`` count). Remembered per query until the clock moves or an order is written."""
        company = ctx.company
        f = ctx.filters
        q = ctx.req.query
        values = tuple((name, q[name]) for name in _VALUE_FILTERS if q.get(name))
        key = (company.id, status, tuple(sorted(f.items())), bounds, values)
        version = (company.writes, self.business.clock.timestamp())
        with self._memo_lock:
            hit = self._id_memo.get(key)
            if hit is not None and hit[0] == version:
                self._id_memo.move_to_end(key)
                return hit[1]
        if "customer" in f:
            found = [company.order(i) for i in company.order_ids_by(customer_id=f["customer"])]
            keyed = sorted(((_dt(o["created_at"]), o["id"]) for o in found if o is not None and keep(o)),
                           reverse=True)
            ids = [oid for _, oid in keyed]
        else:
            ids = self._matching_rows(ctx, status, bounds, [op for op in self._value_bounds(q)])
        with self._memo_lock:
            self._id_memo[key] = (version, ids)
            while len(self._id_memo) > 16:
                self._id_memo.popitem(last=False)
        return ids

    def _matching_rows(self, ctx: Ctx, status: str | None,
                       bounds: tuple[datetime | None, bool, datetime | None, bool],
                       vals: list[tuple[Callable[[float, float], bool], float]]) -> list[int]:
        """``_matching_ids`` without a customer filter, from the data layer's cheap order rows."""
        company = ctx.company
        f = ctx.filters
        lo, lo_incl, hi, hi_incl = bounds
        lo_e = lo.timestamp() if lo is not None else None
        hi_e = hi.timestamp() if hi is not None else None
        sites = [f["site"]] if "site" in f else list(company.sites)
        if "register" in f:
            sites = [s for s in sites if s == _site_of(company.registers[f["register"]])]
        register, staff = f.get("register"), f.get("staff")
        ids: list[int] = []
        for day in self._days_desc(company, lo, hi):
            found: list[tuple[float, int]] = []
            for site in sites:
                for row in company.order_rows(site, day, totals=bool(vals)):
                    if ((status is not None and row.status != status)
                            or (register is not None and row.register_id != register)
                            or (staff is not None and row.staff_id != staff)):
                        continue
                    if lo_e is not None and (row.epoch < lo_e or (row.epoch == lo_e and not lo_incl)):
                        continue
                    if hi_e is not None and (row.epoch > hi_e or (row.epoch == hi_e and not hi_incl)):
                        continue
                    if vals and not all(op(row.total or 0.0, v) for op, v in vals):
                        continue
                    found.append((row.epoch, row.id))
            found.sort(reverse=True)
            ids.extend(oid for _, oid in found)
        return ids

    def _days_desc(self, company: Any, lo: datetime | None, hi: datetime | None) -> Iterator[date]:
        tz = company.tz
        last = company.last_day()
        first = company.first_day
        if hi is not None:
            last = min(last, hi.astimezone(tz).date())
        if lo is not None:
            first = max(first, lo.astimezone(tz).date())
        day = last
        while day >= first:
            yield day
            day -= timedelta(days=1)

    def _when(self, company: Any, name: str, raw: str) -> tuple[datetime, bool]:
        """A filter value as an aware datetime; the flag says it was a bare date."""
        try:
            if len(raw) == 10:
                d = date.fromisoformat(raw)
                return datetime(d.year, d.month, d.day, tzinfo=company.tz), True
            t = datetime.fromisoformat(raw.replace(" ", "T"))
        except ValueError:
            raise ApiError(400, "invalid_request",
                           f"{name} must be a date (2026-05-01) or a datetime (2026-05-01T14:00:00Z).") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=company.tz)
        return t, False

    def _time_bounds(self, company: Any, q: dict[str, str]) -> tuple[datetime | None, bool, datetime | None, bool]:
        lo: datetime | None = None
        hi: datetime | None = None
        lo_incl = hi_incl = True
        for name in _DATE_FILTERS:
            raw = q.get(name)
            if raw is None or raw == "":
                continue
            t, is_date = self._when(company, name, raw)
            if name == "created":
                if is_date:
                    nxt = (t + timedelta(days=1)).date()
                    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=company.tz)
                    lo, lo_incl, hi, hi_incl = t, True, end, False
                else:
                    lo = hi = t
                    lo_incl = hi_incl = True
            elif name in ("created_gt", "created_gte"):
                if lo is None or t >= lo:
                    lo, lo_incl = t, name == "created_gte"
            elif hi is None or t <= hi:
                hi, hi_incl = t, name == "created_lte"
        return lo, lo_incl, hi, hi_incl

    @staticmethod
    def _value_bounds(q: dict[str, str]) -> list[tuple[Callable[[float, float], bool], float]]:
        ops: dict[str, Callable[[float, float], bool]] = {
            "value": lambda a, b: abs(a - b) < 0.005, "value_gt": lambda a, b: a > b,
            "value_gte": lambda a, b: a >= b - 1e-9, "value_lt": lambda a, b: a < b,
            "value_lte": lambda a, b: a <= b + 1e-9}
        out = []
        for name in _VALUE_FILTERS:
            raw = q.get(name)
            if raw is None or raw == "":
                continue
            try:
                out.append((ops[name], float(raw)))
            except ValueError:
                raise ApiError(400, "invalid_request", f"{name} must be a number of dollars, e.g. 25.50.") from None
        return out

    # -- everything else: reads ----------------------------------------------------------------
    def _products_at(self, ctx: Ctx) -> list[dict]:
        products = list(ctx.company.products.values())
        site = ctx.filters.get("site")
        if site is None:
            return products
        return [p for p in products
                if not p.get("sites") or any(s.get("id") == site for s in p["sites"])]

    def _category_item(self, record: dict) -> dict:
        return _pick(record, CATEGORY_ITEM)

    def _customer_list(self, ctx: Ctx) -> Any:
        q = ctx.req.query
        customers = ctx.company.customers.values()
        if "email" in q:
            email = q["email"].strip().lower()
            for cust in customers:
                emails = {str(e).lower() for e in (cust.get("email_addresses") or [])}
                emails.add(str(cust.get("primary_email_address") or "").lower())
                if email and email in emails:
                    return Raw(302, [("Location", ctx.url(f"customers/{cust['id']}"))], b"")
            raise _not_found("No customer with that e-mail address")
        named = [k for k in ("first_name", "last_name", "phone") if k in q]
        if named:
            if len(named) < 3:
                raise ApiError(400, "invalid_request",
                               "Look a customer up by email, or by first_name, last_name and phone together.")
            want = (q["first_name"].strip().lower(), q["last_name"].strip().lower(), _digits(q["phone"]))
            for cust in customers:
                phones = {_digits(str(cust.get("phone") or "")), _digits(str(cust.get("mobile") or ""))}
                if (str(cust.get("first_name") or "").lower(), str(cust.get("last_name") or "").lower()) == want[:2] \
                        and want[2] and want[2] in phones:
                    return Raw(302, [("Location", ctx.url(f"customers/{cust['id']}"))], b"")
            raise _not_found("No customer with that name and phone number")
        if "reference_id" in q:
            customers = [c for c in customers if str(c.get("reference_id") or "") == q["reference_id"]]
        return self._id_list(ctx, customers, CUSTOMER_ITEM)

    def _staff_me(self, ctx: Ctx) -> dict:
        staff = ctx.company.staff
        if ctx.grant_email:
            for member in staff.values():
                if str(member.get("primary_email_address") or "").lower() == ctx.grant_email.lower():
                    return member
        contact = (ctx.company.record.get("contact_staff_member") or {}).get("id")
        if contact in staff:
            return staff[contact]
        admins = sorted((m for m in staff.values() if m.get("is_admin")), key=lambda m: m["id"])
        if admins:
            return admins[0]
        if not staff:
            raise _not_found("This company has no staff")
        return staff[min(staff)]

    def _shift_list(self, ctx: Ctx, first: date, last: date | None) -> Json:
        company = ctx.company
        f = ctx.filters
        end = company.last_day() if last is None else min(last, company.last_day())
        start_day, start_idx = first, 0
        raw = ctx.req.query.get("start")
        if raw:
            day_s, _, idx_s = raw.partition(".")
            try:
                start_day = max(first, datetime.strptime(day_s, "%Y%m%d").date())
                start_idx = int(idx_s or 0)
            except ValueError:
                raise ApiError(400, "invalid_request",
                               "The start cursor is not valid; use the X-Next-Page URL as given.") from None
        sites = [f["site"]] if "site" in f else list(company.sites)

        def view(shift: dict) -> dict:
            if "site" in f or "staff" in f:
                shift = {k: v for k, v in shift.items()
                         if not (k == "site" and "site" in f) and not (k == "staff_member" and "staff" in f)}
            return shift

        def stream(from_day: date, from_idx: int) -> Iterator[tuple[str, dict]]:
            day = max(from_day, company.first_day)
            while day <= end:
                rows = [s for site in sites for s in company.shifts_on(site, day)
                        if "staff" not in f or (s.get("staff_member") or {}).get("id") == f["staff"]]
                rows.sort(key=lambda s: (s.get("started_at") or "", (s.get("staff_member") or {}).get("id", 0),
                                         (s.get("site") or {}).get("id", 0)))
                for i, shift in enumerate(rows):
                    if day == from_day and i < from_idx:
                        continue
                    yield f"{day:%Y%m%d}.{i}", shift
                day += timedelta(days=1)

        return self._page(ctx, stream(start_day, start_idx), view,
                          lambda: [shift for _, shift in stream(first, 0)])

    def _reconciliations(self, ctx: Ctx, method: str, tail: list[str]) -> Any:
        company = ctx.company
        match tail:
            case [rid] if rid.isdigit() and len(rid) > 8:
                if ctx.filters:
                    raise _not_found()
                rec = company.reconciliation(int(rid))
                if rec is None:
                    raise _not_found(f"No reconciliation {rid}")
                if self._allow(method, "GET", "PUT") == "PUT":
                    return Json(self._update_reconciliation(ctx, rec))
                return Json(rec)
        self._allow(method, "GET")
        unprocessed = bool(tail) and tail[0] == "unprocessed"
        if unprocessed:
            tail = tail[1:]
        lo = hi = None
        match tail:
            case []:
                pass
            case ["since", day]:
                lo = _parse_day(day)
            case [day]:
                lo = hi = _parse_day(day)
            case _:
                raise _not_found()
        f = ctx.filters
        sites = [f["site"]] if "site" in f else list(company.sites)
        if "register" in f:
            sites = [s for s in sites if s == _site_of(company.registers[f["register"]])]
        start = self._start_int(ctx)
        start_key = None
        if start is not None:
            anchor = company.reconciliation(start)
            if anchor is None:
                raise ApiError(400, "invalid_request",
                               "The start cursor is not valid; use the X-Next-Page URL as given.")
            start_key = (_dt(anchor["created_at"]), anchor["id"])
        tz = company.tz
        lo_dt = datetime(lo.year, lo.month, lo.day, tzinfo=tz) if lo else None
        hi_dt = datetime(hi.year, hi.month, hi.day, 23, 59, 59, tzinfo=tz) if hi else None
        if start_key is not None and (hi_dt is None or start_key[0] < hi_dt):
            hi_dt = start_key[0]

        def keep(rec: dict) -> bool:
            if unprocessed and rec.get("processed"):
                return False
            return "register" not in f or (rec.get("register") or {}).get("id") == f["register"]

        def stream(cursor: tuple[datetime, int] | None, top: datetime | None) -> Iterator[tuple[str, dict]]:
            # A reconciliation closes a trading day that may run past midnight: look one day ahead.
            for day in self._days_desc(company, lo_dt, top + timedelta(days=1) if top else None):
                rows = [r for s in sites for r in self._reconciliations_on(company, s, day) if keep(r)]
                rows.sort(key=lambda r: (_dt(r["created_at"]), r["id"]), reverse=True)
                for rec in rows:
                    key = (_dt(rec["created_at"]), rec["id"])
                    if cursor is not None and key > cursor:
                        continue
                    if lo is not None and key[0].astimezone(tz).date() < lo and day < lo:
                        continue
                    if hi is not None and day > hi:
                        continue
                    yield str(rec["id"]), rec

        whole_top = datetime(hi.year, hi.month, hi.day, 23, 59, 59, tzinfo=tz) if hi else None
        return self._page(ctx, stream(start_key, hi_dt), lambda r: r,
                          lambda: [rec for _, rec in stream(None, whole_top)])

    def _status(self, ctx: Ctx) -> list[dict]:
        now = self.business.clock.now().astimezone(ctx.company.tz)
        out = []
        for site_id, site in sorted(ctx.company.sites.items()):
            today = ctx.company.orders_on(site_id, now.date()) if now.date() >= ctx.company.first_day else []
            last_sale = today[-1]["created_at"] if today else None
            registers = [{"id": r["id"], "name": r.get("name"), "online": True}
                         for r in sorted(ctx.company.registers.values(), key=lambda r: r["id"])
                         if _site_of(r) == site_id]
            out.append({"id": site_id, "name": site.get("name"), "code": site.get("code"),
                        "online": True, "registers": registers, "last_sale_at": last_sale,
                        "checked_at": now.isoformat(timespec="seconds")})
        return out

    # -- writes --------------------------------------------------------------------------------
    def _body(self, ctx: Ctx) -> dict[str, Any]:
        raw = ctx.req.body()
        try:
            data = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
        return data

    def _now_iso(self, ctx: Ctx) -> str:
        return self.business.clock.now().astimezone(ctx.company.tz).isoformat(timespec="seconds")

    def _write_stamp(self, ctx: Ctx, previous: Any) -> str:
        """The ``updated_at`` of a change: now, or one second after ``previous`` when the clock
        (frozen, or within the same second) has not moved past it. Every write therefore moves
        ``updated_at`` forward, and with it the ETag of the record and of every list page that
        holds it, so a client proving freshness by ``updated_at`` never keeps an old body."""
        now = self.business.clock.now().astimezone(ctx.company.tz).replace(microsecond=0)
        if isinstance(previous, str):
            with contextlib.suppress(ValueError):
                before = _dt(previous)
                if before.tzinfo is not None and now <= before:
                    now = (before + timedelta(seconds=1)).astimezone(ctx.company.tz)
        return now.isoformat(timespec="seconds")

    def _update(self, ctx: Ctx, table: dict[int, dict], record: dict, what: str,
                extra: Callable[[dict, dict], None] | None = None) -> dict:
        changes = self._body(ctx)
        with self._write_lock:
            current = table.get(record["id"], record)
            updated = copy.deepcopy(current)
            for key, value in changes.items():
                if key in _READ_ONLY:
                    if value != current.get(key):
                        raise ApiError(400, "invalid_request", f"The field {key!r} of a {what} cannot be changed.")
                    continue
                if key not in current:
                    raise ApiError(400, "invalid_request", f"A {what} has no field {key!r}.")
                if isinstance(current[key], dict) and not isinstance(value, dict) and value is not None:
                    raise ApiError(400, "invalid_request", f"The field {key!r} of a {what} must be an object.")
                updated[key] = value
            if extra is not None:
                extra(updated, changes)
            if "updated_at" in updated:
                updated["updated_at"] = self._write_stamp(ctx, current.get("updated_at"))
            table[record["id"]] = updated
        return updated

    def _update_customer(self, ctx: Ctx, record: dict) -> dict:
        def check(updated: dict, changes: dict) -> None:
            _validate_customer(updated)
            if "primary_email_address" in changes and changes["primary_email_address"]:
                emails = list(updated.get("email_addresses") or [])
                if changes["primary_email_address"] not in emails:
                    updated["email_addresses"] = [changes["primary_email_address"], *emails]
        return self._update(ctx, ctx.company.customers, record, "customer", check)

    def _update_webhook(self, ctx: Ctx, record: dict) -> dict:
        return self._update(ctx, ctx.company.webhooks, record, "webhook",
                            lambda u, _c: _validate_webhook(u))

    def _reconciliations_on(self, company: Any, site_id: int, day: date) -> list[dict]:
        """``company.reconciliations_on`` remembered for closed books (a week old or more).

        A reconciliation needs its whole trading day generated, so scans such as
        ``/reconciliations/unprocessed`` would regenerate the history on every call; a closed day
        only changes through our own PUT, which clears this memo.
        """
        if day > company.last_day() - timedelta(days=7):
            return company.reconciliations_on(site_id, day)
        key = (company.id, site_id, day)
        found = self._recon_memo.get(key)
        if found is None:
            found = self._recon_memo[key] = company.reconciliations_on(site_id, day)
        return found

    def _update_reconciliation(self, ctx: Ctx, record: dict) -> dict:
        changes = self._body(ctx)
        allowed = {"processed"}
        bad = set(changes) - allowed - _READ_ONLY
        if bad:
            raise ApiError(400, "invalid_request",
                           f"Only 'processed' can be changed on a reconciliation, not {sorted(bad)[0]!r}.")
        if "processed" in changes and not isinstance(changes["processed"], bool):
            raise ApiError(400, "invalid_request", "processed must be true or false.")
        setter = getattr(ctx.company, "put_reconciliation", None)
        with self._write_lock:
            updated = copy.deepcopy(record)
            updated.update({k: v for k, v in changes.items() if k in allowed})
            if setter is not None:
                setter(updated)
            else:
                record.clear()
                record.update(updated)
            self._recon_memo.clear()
        return updated

    def _create_customer(self, ctx: Ctx) -> Raw:
        body = self._body(ctx)
        company = ctx.company
        allowed = {"first_name", "last_name", "description", "primary_email_address", "email",
                   "email_addresses", "phone", "mobile", "fax", "shipping_address", "postal_address",
                   "image", "tags", "reference_id", "accepts_marketing"}
        bad = set(body) - allowed
        if bad:
            raise ApiError(400, "invalid_request", f"A customer has no field {sorted(bad)[0]!r}.")
        email = body.get("primary_email_address") or body.get("email")
        now = self._now_iso(ctx)
        with self._write_lock:
            cid = company.new_id("customer")
            emails = [str(e) for e in body.get("email_addresses") or []]
            if email and email not in emails:
                emails.insert(0, email)
            record = {
                "id": cid, "company_id": company.id,
                "first_name": body.get("first_name"), "last_name": body.get("last_name") or "",
                "description": body.get("description") or "", "primary_email_address": email,
                "email_addresses": emails, "phone": body.get("phone"), "mobile": body.get("mobile"),
                "fax": body.get("fax"), "shipping_address": body.get("shipping_address"),
                "postal_address": body.get("postal_address"),
                "addresses": {"count": 0, "updated_at": now}, "image": body.get("image"),
                "tags": list(body.get("tags") or []), "reference_id": body.get("reference_id") or "",
                "accepts_marketing": bool(body.get("accepts_marketing", False)),
                "created_at": now, "updated_at": now,
            }
            _validate_customer(record)
            company.customers[cid] = record
        return self._created(ctx, f"customers/{cid}")

    def _create_category(self, ctx: Ctx) -> Raw:
        body = self._body(ctx)
        bad = set(body) - {"name", "description", "image", "show_online", "friendly_name"}
        if bad:
            raise ApiError(400, "invalid_request", f"A category has no field {sorted(bad)[0]!r}.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "invalid_request", "A category needs a name.")
        now = self._now_iso(ctx)
        with self._write_lock:
            cid = ctx.company.new_id("category")
            ctx.company.categories[cid] = {
                "id": cid, "company_id": ctx.company.id, "name": name.strip(),
                "description": body.get("description") or "", "image": body.get("image"),
                "products": {"count": 0, "updated_at": now},
                "show_online": bool(body.get("show_online", False)),
                "friendly_name": body.get("friendly_name") or name.strip(),
            }
        return self._created(ctx, f"categories/{cid}")

    def _create_webhook(self, ctx: Ctx) -> Raw:
        body = self._body(ctx)
        bad = set(body) - {"topic", "address", "format", "filter", "headers"}
        if bad:
            raise ApiError(400, "invalid_request", f"A webhook has no field {sorted(bad)[0]!r}.")
        now = self._now_iso(ctx)
        record = {"topic": body.get("topic"), "address": body.get("address"),
                  "format": body.get("format", "json"), "filter": body.get("filter") or {},
                  "headers": body.get("headers") or {}, "created_at": now, "updated_at": now}
        _validate_webhook(record)
        with self._write_lock:
            wid = ctx.company.new_id("webhook")
            ctx.company.webhooks[wid] = {"id": wid, **record}
        return self._created(ctx, f"webhooks/{wid}")

    # orders and payments ---------------------------------------------------------------------
    def _create_order(self, ctx: Ctx) -> Raw:
        body = self._body(ctx)
        with self._write_lock:
            record = build_order(ctx.company, body, self._now_iso(ctx))
            ctx.company.put_order(record)
        return self._created(ctx, f"orders/{record['id']}")

    def _update_order(self, ctx: Ctx, order: dict) -> dict:
        body = self._body(ctx)
        with self._write_lock:
            current = ctx.company.order(order["id"]) or order
            updated = update_order(ctx.company, current, body, self._write_stamp(ctx, current.get("updated_at")))
            ctx.company.put_order(updated)
        return updated

    def _add_payment(self, ctx: Ctx, order: dict) -> Raw:
        body = self._body(ctx)
        with self._write_lock:
            current = ctx.company.order(order["id"]) or order
            updated = add_payment(ctx.company, current, body, self._write_stamp(ctx, current.get("updated_at")))
            ctx.company.put_order(updated)
        return self._created(ctx, f"orders/{order['id']}")

    def _update_payment(self, ctx: Ctx, order: dict, number: str) -> dict:
        body = self._body(ctx)
        with self._write_lock:
            current = ctx.company.order(order["id"]) or order
            updated = update_payment(ctx.company, current, _int_id(number), body, self._write_stamp(ctx, current.get("updated_at")))
            ctx.company.put_order(updated)
        return updated

    # -- small pages and control endpoints -----------------------------------------------------
    def _latency(self) -> None:
        base = float(self.options.latency_ms)
        jitter = float(self.options.jitter_ms)
        if base <= 0 and jitter <= 0:
            return
        extra = self._jitter.uniform(0.0, jitter) if jitter > 0 else 0.0
        time.sleep((base + extra) / 1000.0)

    def _index(self, req: Request) -> Reply:
        info = self.info(req.origin)
        lines = [f"Kounta sandbox at {req.origin}", "", f"API base:      {info['api_base']}",
                 f"Authorise at:  {info['authorize_url']}", f"Token URL:     {info['token_url']}", "",
                 *(f"{k:14} {v}" for k, v in info["credentials"].items()), "",
                 "Companies:", *(f"  {c['id']}  {c['name']}" for c in info["companies"]), "",
                 "Control: GET /_sandbox/info, /_sandbox/stats; POST /_sandbox/options, /revoke, /expire, /clock"]
        return 200, [("Content-Type", "text/plain; charset=utf-8")], ("\n".join(lines) + "\n").encode()

    def info(self, origin: str | None = None) -> dict[str, Any]:
        """What ``GET /_sandbox/info`` answers: URLs, demo credentials, companies, options."""
        url = origin or self.url
        companies = []
        for cid, company in sorted(self.business.companies.items()):
            companies.append({
                "id": cid, "name": company.record.get("name"), "timezone": str(company.tz),
                "developer": cid == self.business.developer_company_id,
                "first_day": company.first_day.isoformat(), "last_day": company.last_day().isoformat(),
                "sites": [{"id": s["id"], "name": s.get("name"), "code": s.get("code")}
                          for _, s in sorted(company.sites.items())],
            })
        return {
            "url": url, "api_base": f"{url}/v1/", "authorize_url": f"{url}/authorize",
            "token_url": f"{url}/v1/token",
            "credentials": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                            "redirect_uri": f"{url}/oauth/done", "username": LOGIN_EMAIL,
                            "password": LOGIN_PASSWORD},
            "companies": companies, "options": self.options.as_json(),
            "now": self.business.clock.now().isoformat(), "tokens": self.tokens.counts(),
        }

    def stats(self) -> dict[str, Any]:
        """Requests served so far, by status, plus injected faults and rate-limit refusals."""
        with self._stats_lock:
            return {"requests": self._requests,
                    "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                    "faults": dict(self._faults), "rate_limited": self._rate_limited}

    def set_options(self, **changes: Any) -> SandboxOptions:
        """Change options at run time; raises ``ValueError`` for unknown or frozen names."""
        known = {f.name for f in dataclasses.fields(SandboxOptions)}
        for name in changes:
            if name not in known:
                raise ValueError(f"Unknown sandbox option {name!r}.")
            if name in SandboxOptions.FROZEN:
                raise ValueError(f"Sandbox option {name!r} is fixed once the sandbox has started.")
        trial = dataclasses.replace(self.options, **changes)  # validates
        if "redirect_uris" in changes:
            trial.redirect_uris = tuple(trial.redirect_uris)
        for name in changes:
            setattr(self.options, name, getattr(trial, name))
        if "fault_seed" in changes:
            self.faults.reseed(int(self.options.fault_seed))
        if {"rate_limit", "rate_basic", "rate_oauth", "time_scale"} & set(changes):
            self.limiter.reset()
        return self.options

    def _control(self, req: Request) -> Reply:
        name = req.path[len("/_sandbox/"):].strip("/")
        try:
            if name == "info" and req.method == "GET":
                return _ok(self.info(req.origin))
            if name == "stats" and req.method == "GET":
                return _ok(self.stats())
            if req.method != "POST" or name not in ("options", "revoke", "expire", "clock"):
                return self._error(_not_found(f"No control endpoint {req.method} /_sandbox/{name[:40]}"), True)
            raw = req.body().decode("utf-8", errors="replace").strip()
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("The body must be a JSON object.")
            if name == "options":
                return _ok(self.set_options(**body).as_json())
            if name == "revoke":
                return _ok({"revoked": self.tokens.revoke(body.get("refresh_token"))})
            if name == "expire":
                return _ok({"expired": self.tokens.expire_all()})
            self.business.clock.advance(float(body.get("advance", 0)))
            return _ok({"now": self.business.clock.now().isoformat()})
        except (ValueError, TypeError) as exc:
            return self._error(ApiError(400, "invalid_request", str(exc)), True)


@dataclass(slots=True)
class Json:
    """A JSON answer before serialisation."""

    body: Any
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Raw:
    """An answer that is already bytes (redirects, 201, 204)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _ok(body: Any) -> Reply:
    return 200, [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")], \
        _stable_json(body, True)


def _server_error(status: int) -> Reply:
    if status == 500:
        body = _stable_json({"error": "server_error",
                             "error_description": "An unexpected error occurred; please try again."}, False)
        return 500, [("Content-Type", "application/json; charset=utf-8")], body
    reason = _REASONS[status]
    html = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
    headers = [("Content-Type", "text/html")]
    if status == 503:
        headers.append(("Retry-After", "1"))
    return status, headers, html.encode()


def _pick(record: dict, fields: tuple[str, ...]) -> dict:
    return {k: record.get(k) for k in fields}


def _site_of(record: dict) -> int | None:
    if "site_id" in record:
        return record["site_id"]
    return (record.get("site") or {}).get("id")


def _customer_of(order: dict) -> int | None:
    if order.get("customer_id") is not None:
        return order["customer_id"]
    return (order.get("customer") or {}).get("id")


def _order_item(order: dict) -> dict:
    item = {k: order.get(k) for k in ORDER_ITEM}
    if "staff_id" not in order:
        item["staff_id"] = order.get("staff_member_id")
    if "customer_id" not in order:
        item["customer_id"] = _customer_of(order)
    if order.get("total_tax") is None:
        item["total_tax"] = round(sum(float(line.get("line_total_tax") or 0) for line in order.get("lines") or []), 2)
    return item


def _staff_view(record: dict) -> dict:
    """A staff record with the contact fields real staff records carry (kounta-python staff.json)
    even when the data layer has nothing for them: no fax, no addresses."""
    if "addresses" in record:
        return record
    extra = {"fax": None, "shipping_address": None, "postal_address": None,
             "addresses": {"count": 0, "updated_at": record.get("updated_at")}}
    return {**record, **{k: v for k, v in extra.items() if k not in record}}


def _order_key(order: dict) -> tuple[datetime, int]:
    return _dt(order["created_at"]), order["id"]


def _newest_first(orders: list[dict], start_key: tuple[datetime, int] | None) -> Iterator[tuple[tuple[datetime, int], dict]]:
    """``orders`` (ascending by creation) newest first, from the cursor's record down."""
    end = len(orders) if start_key is None else bisect.bisect_right(orders, start_key, key=_order_key)
    for i in range(end - 1, -1, -1):
        order = orders[i]
        yield _order_key(order), order


class _OrderSequence(Sequence[dict]):
    """Orders by id, fetched from the data layer only when a slice of them is read."""

    def __init__(self, company: Any, ids: list[int]) -> None:
        self._company, self._ids = company, ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [o for o in (self._company.order(i) for i in self._ids[index]) if o is not None]
        return self._company.order(self._ids[index])


def _register_item(record: dict) -> dict:
    return {"id": record["id"], "code": record.get("code"), "name": record.get("name"),
            "site_id": _site_of(record)}


def _price_list_item(record: dict, fallback_stamp: str | None) -> dict:
    products = record.get("products")
    if isinstance(products, list):
        products = {"count": len(products),
                    "updated_at": record.get("updated_at") or record.get("created_at") or fallback_stamp}
    return {"id": record["id"], "name": record.get("name"), "parent_id": record.get("parent_id"),
            "products": products}


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _validate_customer(record: dict) -> None:
    if not str(record.get("first_name") or "").strip():
        raise ApiError(400, "invalid_request", "A customer needs a first_name.")
    if not any(str(record.get(k) or "").strip() for k in ("primary_email_address", "phone", "mobile")):
        raise ApiError(400, "invalid_request",
                       "A customer needs an email, phone or mobile besides the first_name.")


def _validate_webhook(record: dict) -> None:
    if record.get("topic") not in _WEBHOOK_TOPICS:
        raise ApiError(400, "invalid_request",
                       f"A webhook topic must be one of {', '.join(_WEBHOOK_TOPICS)}.")
    address = record.get("address")
    if not isinstance(address, str) or not address.startswith(("http://", "https://")):
        raise ApiError(400, "invalid_request", "A webhook address must be an http(s) URL.")
    if record.get("format") != "json":
        raise ApiError(400, "invalid_request", 'A webhook format must be "json".')
    if not isinstance(record.get("filter"), dict) or not isinstance(record.get("headers"), dict):
        raise ApiError(400, "invalid_request", "A webhook filter and headers must be JSON objects.")


# -- order writes (POST /orders, PUT /orders/{id}, payments) --------------------------------------
_ORDER_FIELDS_IN = frozenset({
    "site_id", "register_id", "staff_member_id", "staff_id", "customer_id", "status", "notes",
    "sale_number", "order_type", "callback_uri", "placed_at", "fulfil_at", "lines", "payments",
    "price_variation", "price_fixed_variation", "order_payment_type", "tips", "deleted",
})
_LINE_FIELDS_IN = frozenset({"product_id", "product", "quantity", "notes", "price_variation",
                             "price_fixed_variation", "modifiers"})
_PAYMENT_FIELDS_IN = frozenset({"method_id", "method", "amount", "tip", "ref"})


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def _number(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"{name} must be a number.")
    if positive and value <= 0:
        raise _bad(f"{name} must be greater than zero.")
    return float(value)


def _ref_id(body: dict, name: str, table: dict[int, dict], what: str, *, nested: str | None = None) -> int | None:
    value = body.get(name)
    if value is None and nested and isinstance(body.get(nested), dict):
        value = body[nested].get("id")
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in table:
        raise _bad(f"{name} {value!r} does not name a {what} of this company.")
    return value


def _with_id_str(record: dict) -> dict:
    if isinstance(record.get("id"), int) and record["id"] > 2**53:
        record["id_str"] = str(record["id"])
    return record


def _build_lines(company: Any, site_id: int, lines: Any) -> list[dict]:
    if not isinstance(lines, list):
        raise _bad("lines must be a list of {product_id, quantity} objects.")
    out = []
    for i, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            raise _bad(f"Line {i} must be an object with product_id and quantity.")
        unknown = set(line) - _LINE_FIELDS_IN
        if unknown:
            raise _bad(f"Line {i} has no field {sorted(unknown)[0]!r}.")
        pid = _ref_id(line, "product_id", company.products, "product", nested="product")
        if pid is None:
            raise _bad(f"Line {i} needs a product_id.")
        product = company.products[pid]
        qty = _number(line.get("quantity", 1), f"Line {i} quantity", positive=True)
        variation = _number(line.get("price_variation", 1.0), f"Line {i} price_variation", positive=True)
        fixed = _number(line.get("price_fixed_variation", 0.0), f"Line {i} price_fixed_variation")
        modifiers = line.get("modifiers") or []
        if not isinstance(modifiers, list) or not all(isinstance(m, int) and not isinstance(m, bool)
                                                      for m in modifiers):
            raise _bad(f"Line {i} modifiers must be a list of product ids.")
        unit_price = float(product.get("unit_price") or 0.0)
        for site in product.get("sites") or []:
            if site.get("id") == site_id and site.get("unit_price") is not None:
                unit_price = float(site["unit_price"])
        taxes = [{"id": t.get("id"), "name": t.get("name"), "rate": t.get("rate")}
                 for t in product.get("taxes") or []]
        rate = sum(float(t.get("rate") or 0) for t in taxes)
        unit_tax = round(unit_price * rate, 4)
        qty_out: int | float = int(qty) if qty.is_integer() else qty
        line_id = company.new_id("line")
        out.append(_with_id_str({
            "number": i, "id": line_id, "line_id": str(line_id),
            "product": {"id": pid, "name": product.get("name")}, "quantity": qty_out,
            "notes": str(line.get("notes") or ""), "unit_price": round(unit_price, 4),
            "unit_tax": unit_tax,
            "line_total_ex_tax": round(unit_price * qty * variation + fixed, 2),
            "line_total_tax": round(unit_tax * qty * variation, 2),
            "price_variation": variation, "price_fixed_variation": fixed, "modifiers": modifiers,
            "taxes": taxes, "part_of_option_set": False,
        }))
    return out


def _build_payment(company: Any, body: Any, number: int, now_iso: str, paid: float) -> dict:
    if not isinstance(body, dict):
        raise _bad("A payment must be an object with method_id and amount.")
    unknown = set(body) - _PAYMENT_FIELDS_IN
    if unknown:
        raise _bad(f"A payment has no field {sorted(unknown)[0]!r}.")
    mid = _ref_id(body, "method_id", company.payment_methods, "payment method", nested="method")
    if mid is None:
        raise _bad("A payment needs a method_id.")
    amount = _number(body.get("amount"), "amount")
    if amount == 0:
        raise _bad("A payment amount cannot be zero (a negative amount is a refund).")
    if amount < 0 and -amount > paid + 0.005:
        raise _bad(f"A refund of {-amount:.2f} is more than the {paid:.2f} paid on this order.")
    method = company.payment_methods[mid]
    return _with_id_str({
        "id": company.new_id("payment"), "number": number,
        "method": {"id": mid, "name": method.get("name")}, "amount": round(amount, 2),
        "tip": round(_number(body.get("tip", 0.0), "tip"), 2), "ref": body.get("ref"),
        "created_at": now_iso,
    })


def _totals(order: dict) -> None:
    lines = order.get("lines") or []
    ex = sum(float(line.get("line_total_ex_tax") or 0) for line in lines)
    tax = sum(float(line.get("line_total_tax") or 0) for line in lines)
    order["total"] = round(ex + tax, 2)
    order["total_tax"] = round(tax, 2)
    order["paid"] = round(sum(float(p.get("amount") or 0) for p in order.get("payments") or []), 2)


def _customer_ref(company: Any, customer_id: int | None) -> dict | None:
    if customer_id is None:
        return None
    c = company.customers[customer_id]
    return {"id": customer_id, "first_name": c.get("first_name"), "last_name": c.get("last_name"),
            "email": c.get("primary_email_address"), "image": c.get("image")}


def _status_value(raw: Any) -> str:
    value = str(raw or "").upper()
    if value == "COMPLETED":
        value = "COMPLETE"
    if value not in ORDER_STATUSES:
        raise _bad(f"status must be one of {', '.join(ORDER_STATUSES)}.")
    return value


def build_order(company: Any, body: dict, now_iso: str) -> dict:
    """A full order record for ``POST /orders`` (validated; 400 on any bad field)."""
    unknown = set(body) - _ORDER_FIELDS_IN
    if unknown:
        raise _bad(f"An order has no field {sorted(unknown)[0]!r}.")
    site_id = _ref_id(body, "site_id", company.sites, "site")
    if site_id is None:
        raise _bad("An order needs a site_id.")
    register_id = _ref_id(body, "register_id", company.registers, "register")
    site_registers = sorted(r["id"] for r in company.registers.values() if _site_of(r) == site_id)
    if register_id is None:
        register_id = site_registers[0] if site_registers else None
    elif register_id not in site_registers:
        raise _bad(f"Register {register_id} is not at site {site_id}.")
    staff_id = _ref_id(body, "staff_member_id", company.staff, "staff member")
    if staff_id is None:
        staff_id = _ref_id(body, "staff_id", company.staff, "staff member")
    customer_id = _ref_id(body, "customer_id", company.customers, "customer")
    oid = company.new_id("order")
    lines = _build_lines(company, site_id, body.get("lines", []))
    order: dict[str, Any] = _with_id_str({
        "id": oid, "sale_number": str(body.get("sale_number") or f"W{oid % 10**7:07d}"),
        "status": _status_value(body.get("status", "SUBMITTED")), "notes": str(body.get("notes") or ""),
        "site_id": site_id, "register_id": register_id, "staff_id": staff_id, "customer_id": customer_id,
        "total": 0.0, "total_tax": 0.0, "paid": 0.0, "deleted": False,
        "order_type": str(body.get("order_type") or "Take away"), "is_refund": False,
        "refunded_order_id": None, "created_at": now_iso, "updated_at": now_iso,
        "company_id": company.id, "customer": _customer_ref(company, customer_id),
        "staff_member_id": staff_id, "tips": round(_number(body.get("tips", 0.0), "tips"), 2),
        "price_variation": _number(body.get("price_variation", 1.0), "price_variation", positive=True),
        "price_fixed_variation": _number(body.get("price_fixed_variation", 0.0), "price_fixed_variation"),
        "order_payment_type": body.get("order_payment_type"), "callback_uri": body.get("callback_uri"),
        "placed_at": body.get("placed_at") or now_iso, "fulfil_at": body.get("fulfil_at"),
        "lines": lines, "options": [], "payments": [],
    })
    order.pop("id_str", None)
    order = {"id": oid, "id_str": str(oid), **{k: v for k, v in order.items() if k != "id"}}
    _totals(order)
    payments = body.get("payments", [])
    if not isinstance(payments, list):
        raise _bad("payments must be a list of {method_id, amount} objects.")
    for n, raw in enumerate(payments, start=1):
        order["payments"].append(_build_payment(company, raw, n, now_iso, order["paid"]))
        _totals(order)
    return order


def update_order(company: Any, current: dict, body: dict, now_iso: str) -> dict:
    """``PUT /orders/{id}``: a partial update; lines, if given, replace the old ones."""
    unknown = set(body) - _ORDER_FIELDS_IN - _READ_ONLY
    if unknown:
        raise _bad(f"An order has no field {sorted(unknown)[0]!r}.")
    for key in _READ_ONLY & set(body):
        if body[key] != current.get(key):
            raise _bad(f"The field {key!r} of an order cannot be changed.")
    if "payments" in body:
        raise _bad("Add payments with POST /orders/{id}/payments and change them with PUT …/payments/{number}.")
    order = copy.deepcopy(current)
    if "site_id" in body and body["site_id"] != current.get("site_id"):
        raise _bad("An order cannot move to another site.")
    if "status" in body:
        order["status"] = _status_value(body["status"])
    if "register_id" in body:
        order["register_id"] = _ref_id(body, "register_id", company.registers, "register")
    for key in ("staff_member_id", "staff_id"):
        if key in body:
            order["staff_id"] = order["staff_member_id"] = _ref_id(body, key, company.staff, "staff member")
    if "customer_id" in body:
        order["customer_id"] = _ref_id(body, "customer_id", company.customers, "customer")
        order["customer"] = _customer_ref(company, order["customer_id"])
    for key in ("notes", "sale_number", "order_type", "callback_uri", "placed_at", "fulfil_at",
                "order_payment_type"):
        if key in body:
            order[key] = body[key]
    if "deleted" in body:
        if not isinstance(body["deleted"], bool):
            raise _bad("deleted must be true or false.")
        order["deleted"] = body["deleted"]
    for key in ("tips", "price_fixed_variation"):
        if key in body:
            order[key] = _number(body[key], key)
    if "price_variation" in body:
        order["price_variation"] = _number(body["price_variation"], "price_variation", positive=True)
    if "lines" in body:
        order["lines"] = _build_lines(company, order["site_id"], body["lines"])
        order["options"] = []
        _totals(order)
    order["updated_at"] = now_iso
    return order


def add_payment(company: Any, current: dict, body: dict, now_iso: str) -> dict:
    """``POST /orders/{id}/payments``: append a payment (negative amount = refund)."""
    order = copy.deepcopy(current)
    payments = order.setdefault("payments", [])
    number = max((int(p.get("number") or 0) for p in payments), default=0) + 1
    payments.append(_build_payment(company, body, number, now_iso, float(order.get("paid") or 0)))
    order["paid"] = round(sum(float(p.get("amount") or 0) for p in payments), 2)
    order["updated_at"] = now_iso
    return order


def update_payment(company: Any, current: dict, number: int, body: dict, now_iso: str) -> dict:
    """``PUT /orders/{id}/payments/{number}``: partial update of one payment; returns the order."""
    order = copy.deepcopy(current)
    payments = order.get("payments") or []
    i = next((j for j, p in enumerate(payments) if int(p.get("number") or 0) == number), -1)
    if i < 0:
        raise _not_found(f"Order {current['id']} has no payment {number}")
    payment = payments[i]
    unknown = set(body) - _PAYMENT_FIELDS_IN
    if unknown:
        raise _bad(f"A payment has no field {sorted(unknown)[0]!r}.")
    merged = {"method_id": payment.get("method", {}).get("id"), "amount": payment.get("amount"),
              "tip": payment.get("tip", 0.0), "ref": payment.get("ref")}
    merged.update({k: v for k, v in body.items() if k != "method"})
    if isinstance(body.get("method"), dict):
        merged["method_id"] = body["method"].get("id")
    others = sum(float(p.get("amount") or 0) for j, p in enumerate(payments) if j != i)
    fresh = _build_payment(company, merged, number, payment.get("created_at") or now_iso, others)
    fresh["id"] = payment.get("id", fresh["id"])
    _with_id_str(fresh)
    payments[i] = fresh
    order["paid"] = round(sum(float(p.get("amount") or 0) for p in payments), 2)
    order["updated_at"] = now_iso
    return order


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 302: "Found", 304: "Not Modified",
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 406: "Not Acceptable", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def make_app(options: SandboxOptions | None = None, **overrides: Any) -> SandboxApp:
    """The sandbox as a WSGI application (mount it in-process or serve it with ``server.py``)."""
    if options is None:
        options = SandboxOptions(**overrides)
    elif overrides:
        options = dataclasses.replace(options, **overrides)
    return SandboxApp(options)


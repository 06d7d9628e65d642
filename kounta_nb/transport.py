"""HTTP transport: the cached session, the shared rate limiter, retries, and status → error mapping.

Policy lives in small pure functions (:func:`rate_limit_delay`, :func:`backoff_delay`,
:func:`is_limit_exceeded`, :func:`error_for`, :func:`cacheable`); :class:`Transport.request`
only carries the decisions out, in one place.

Caching (requests-cache, SQLite):

* **fresh or an error**: every cached GET is revalidated with ``If-None-Match``; a cached body is
  returned only after a 304 (counted as ``revalidated``). Entries are stored already expired
  (``expire_after=0``) with ``stale_if_error=False``, so requests-cache never hands back a
  cached body when the revalidation fails (requests-cache ≥ 1.3 does that for entries that never
  expire, logging a traceback); a failed revalidation raises :class:`TransportError` like any
  other failed request. :meth:`Transport.cached` is the one way to read an entry without a
  request, for callers that prove freshness themselves;
* offline mode (``offline=True``, opt-in) answers a failed GET with the cached body, marked
  ``stale`` with the time it was stored, and one :class:`~kounta_nb.errors.KountaWarning`;
* the cache key mixes in the company namespace (requests-cache leaves ``Authorization`` out of
  its keys, so two companies would otherwise share entries). The namespace is the company the
  API itself named for these credentials (a ``GET companies/me`` answer), never a hint: until then
  nothing is read from or written to the cache. The token is never part of a key, so an hourly
  refresh keeps every entry valid; ``Authorization`` is redacted from what is stored;
* only complete JSON answers with an ``ETag`` are stored, so a truncated body or a
  ``Limit exceeded`` page never poisons the cache.

Thread-safety: one :class:`Transport` is shared by the pull engine's worker threads. The
SQLite backend of requests-cache keeps a single connection opened with
``check_same_thread=False`` and serialises writes behind an ``RLock`` (reads run in parallel);
WAL mode is turned on so readers do not block the writer. The rate limiter, the statistics and
the token refresh each have their own lock.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json as jsonlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_cache import CachedResponse, CachedSession
from requests_cache.cache_keys import create_key
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from urllib3.exceptions import HTTPError as Urllib3Error

from . import settings
from .auth import Credentials, says_token_expired
from .errors import (
    APIError,
    AuthError,
    ConfigError,
    KountaError,
    NotFoundError,
    RateLimitError,
    TokenExpiredError,
    TransportError,
    warn,
)

__all__ = [
    "ApiResponse",
    "RateLimiter",
    "RequestStats",
    "Transport",
    "backoff_delay",
    "cacheable",
    "error_for",
    "is_limit_exceeded",
    "rate_limit_delay",
]

log = logging.getLogger(__name__)
# requests-cache logs warnings and errors of its own (with tracebacks on some paths); with no
# handler configured, Python's last-resort handler would print them to stderr, i.e. into the
# notebook. Our own errors and KountaWarnings say what matters, once.
logging.getLogger("requests_cache").addHandler(logging.NullHandler())

#: Never part of a cache key and redacted from stored requests.
IGNORED_PARAMETERS = (
    *DEFAULT_IGNORED_PARAMS,
    "refresh_token",
    "client_secret",
    "code",
)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
#: A dropped connection, a timeout or a body cut short: worth another try on idempotent requests.
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    http.client.IncompleteRead,
    http.client.RemoteDisconnected,
    Urllib3Error,
    ConnectionError,
)
#: Upper bound on a single rate-limit wait, whatever the headers say.
MAX_RATE_LIMIT_WAIT_S = 120.0
#: The error of a request on a closed client.
CLOSED = "This Kounta connection is closed (logged out or closed); connect again to continue."


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
# Rate limiter


class RateLimiter:
    """A token bucket shared by every thread of one transport (GCRA, so callers are served in
    the order they arrive and a steady stream is spaced evenly).

    ``per_minute`` is the API's limit; the limiter runs at ``headroom`` of it so clock skew and
    network jitter never push a steady stream over the server's window. ``burst`` requests may go
    back to back after an idle spell. A 429 blocks every caller until the reset
    (:meth:`block_for`), which :attr:`waiting_until` / :meth:`current_wait` expose for progress bars.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int = settings.RATE_LIMIT_BURST,
        headroom: float = settings.RATE_LIMIT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(burst, int) or burst < 1:
            raise ConfigError("The rate-limit burst must be a whole number of at least 1.")
        if not 0 < headroom <= 1:
            raise ConfigError("The rate-limit headroom must be between 0 and 1.")
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.burst = burst
        self.headroom = headroom
        self._tat = float("-inf")
        self._blocked_until = float("-inf")
        self.per_minute = per_minute

    @property
    def per_minute(self) -> float:
        """The configured limit in requests per minute."""
        return self._per_minute

    @per_minute.setter
    def per_minute(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError("The rate limit must be a positive number of requests per minute.")
        with self._lock:
            self._per_minute = float(value)
            self._interval = 60.0 / (float(value) * self.headroom)

    @property
    def interval(self) -> float:
        """Seconds between two requests in a steady stream."""
        return self._interval

    def _reserve(self, now: float, commit: bool) -> float:
        tau = (self.burst - 1) * self._interval
        t = max(self._tat, now)
        send_at = max(t - tau, now, self._blocked_until)
        if commit:
            self._tat = max(t, send_at) + self._interval
        return send_at - now

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        with self._lock:
            wait = self._reserve(self._clock(), commit=True)
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def current_wait(self) -> float:
        """Seconds a caller arriving now would wait (without taking a slot)."""
        with self._lock:
            return max(self._reserve(self._clock(), commit=False), 0.0)

    def block_for(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said the limit resets then)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + max(seconds, 0.0))

    @property
    def waiting_until(self) -> float | None:
        """Epoch seconds until which callers wait for a rate-limit reset, or ``None``."""
        with self._lock:
            remaining = self._blocked_until - self._clock()
        return time.time() + remaining if remaining > 0 else None

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={self._per_minute:g}, burst={self.burst})"


# --------------------------------------------------------------------------------------------
# Policy (pure functions)


def is_limit_exceeded(status: int, content: bytes) -> bool:
    """429, or the legacy ``200 Limit exceeded`` plain-text answer."""
    if status == 429:
        return True
    return status == 200 and content[:64].strip().lower().startswith(b"limit exceeded")


def rate_limit_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait after a 429: ``X-Ratelimit-Reset`` (epoch) or ``Retry-After`` (seconds or
    an HTTP date). ``None`` when neither gives a positive wait (the caller backs off instead)."""
    now = time.time() if now is None else now
    reset = headers.get("X-Ratelimit-Reset")
    if reset:
        try:
            wait = float(reset) - now
        except ValueError:
            wait = 0.0
        if wait > 0:
            return min(wait, MAX_RATE_LIMIT_WAIT_S)
    retry_after = headers.get("Retry-After")
    if retry_after:
        retry_after = retry_after.strip()
        try:
            wait = float(retry_after)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            wait = when.timestamp() - now
        if wait > 0:
            return min(wait, MAX_RATE_LIMIT_WAIT_S)
    return None


def backoff_delay(
    attempt: int,
    *,
    base: float = settings.BACKOFF_BASE_S,
    cap: float = settings.BACKOFF_MAX_S,
    rng: random.Random | None = None,
) -> float:
    """Exponential back-off with jitter ("equal jitter"): between half and all of
    ``min(cap, base * 2**attempt)``, so retrying threads spread out."""
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def _decode_json(content: bytes) -> Any:
    return jsonlib.loads(content.decode("utf-8"))


def _looks_json(content: bytes) -> bool:
    head = content[:1].strip() or content.lstrip()[:1]
    return head in (b"{", b"[")


def cacheable(response: requests.Response) -> bool:
    """requests-cache ``filter_fn``: store only complete JSON 200s that carry an ``ETag``.

    Non-200 answers are never stored anyway; saying True for them keeps an existing entry
    from being evicted by, say, a 429 in between two revalidations.
    """
    if response.status_code != 200:
        return True
    if not response.headers.get("ETag"):
        return False
    try:
        _decode_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


_TAG = re.compile(r"<[^>]+>")


def _summary(content: bytes, content_type: str) -> tuple[str | None, str | None]:
    """(error, description) from an error body of any shape, without echoing anything long."""
    try:
        body = _decode_json(content)
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


def error_for(
    status: int, content: bytes, content_type: str = "", *, method: str = "", path: str = ""
) -> KountaError:
    """The exception for a non-2xx answer (kounta-api.md §3 codes → the errors.py tree)."""
    error, description = _summary(content, content_type)
    if status == 404:
        return NotFoundError(status, error, description or "not found", method=method, path=path)
    if status in (401, 403):
        what = description or error or "the credentials were refused"
        return AuthError(f"Kounta refused the credentials ({status}) for {method} {path}: {what}.".replace("..", "."))
    if status == 429:
        return RateLimitError(f"Kounta kept answering 'Limit exceeded' for {method} {path}.")
    return APIError(status, error, description, method=method, path=path)


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
                    self._json = _decode_json(self.content)
                except (ValueError, UnicodeDecodeError):
                    _, description = _summary(self.content, self.headers.get("Content-Type", ""))
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


# --------------------------------------------------------------------------------------------
# Transport


class Transport:
    """One authorised, cached, rate-limited, retrying HTTP client for one company.

    ``cache_path``: ``None`` = ``settings.http_cache_file()``, a path, or ``False`` for no cache.
    ``rate_limit``: requests per minute (``None`` = the API default for the credentials).
    ``offline``: when a GET fails after every retry (dropped connections, cut-off bodies, 5xx),
    answer with the cached copy marked ``stale`` instead of raising (one warning per outage);
    off by default, because a cache is a speed-up, never a source of truth.
    """

    def __init__(
        self,
        api_base: str,
        credentials: Credentials,
        *,
        cache_path: str | Path | None | bool = None,
        rate_limit: float | None = None,
        burst: int = settings.RATE_LIMIT_BURST,
        max_retries: int = settings.MAX_RETRIES,
        max_rate_limit_retries: int = settings.MAX_RATE_LIMIT_RETRIES,
        timeout: float | tuple[float, float] = settings.TIMEOUT,
        backoff_base: float = settings.BACKOFF_BASE_S,
        backoff_max: float = settings.BACKOFF_MAX_S,
        offline: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(api_base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"The API base {api_base!r} is not an http(s) URL.")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError("max_retries must be a whole number of at least 0.")
        if not isinstance(offline, bool):
            raise ConfigError("offline must be True or False.")
        self.api_base = api_base if api_base.endswith("/") else api_base + "/"
        self._origin = (parts.scheme, parts.netloc.lower())
        self.credentials = credentials
        self.limiter = RateLimiter(
            rate_limit if rate_limit is not None else credentials.default_rate_limit, burst=burst
        )
        self.stats = RequestStats()
        self.max_retries = max_retries
        self.max_rate_limit_retries = max_rate_limit_retries
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.offline = offline
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._plain = self._setup(requests.Session())
        self._cached: CachedSession | None = None
        # The company the API named for these credentials (GET companies/me), which alone
        # decides the cache namespace; a company_id passed in as a hint never does.
        self._company: int | None = None
        self._verify_lock = threading.Lock()
        self._offline_since: datetime | None = None  # the outage being served from the cache
        # close() from one thread while a pull's workers are mid-request: the SQLite cache is
        # closed only when the last request in flight has left (closing it under a running query
        # crashes the interpreter), and requests after close() fail with one sentence.
        self._use = threading.Lock()
        self._users = 0
        self._closed = False
        self.cache_path: Path | None = None
        if cache_path is not False:
            path = Path(cache_path) if cache_path not in (None, True) else settings.http_cache_file()  # type: ignore[arg-type]
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.cache_path = path
            self._cached = self._setup(
                CachedSession(
                    str(path),
                    backend="sqlite",
                    # Stored already expired, revalidated on every use, never served on error:
                    # requests-cache >= 1.3 returns an entry that never expires (-1) when its
                    # revalidation raises ("stale if error", with a logged traceback).
                    expire_after=0,
                    always_revalidate=True,
                    stale_if_error=False,
                    stale_while_revalidate=False,
                    allowable_codes=(200,),
                    allowable_methods=("GET",),
                    ignored_parameters=IGNORED_PARAMETERS,
                    key_fn=self._cache_key,
                    filter_fn=cacheable,
                    wal=True,
                )
            )

    @staticmethod
    def _setup(session: requests.Session) -> Any:
        session.trust_env = False  # no ~/.netrc credentials or proxies slipped into requests
        session.headers.update({"User-Agent": settings.USER_AGENT, "Accept": "application/json"})
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def _cache_key(self, request: Any, **kwargs: Any) -> str:
        namespace = self.namespace
        if namespace is None:  # unreachable: the cached session is used only with a namespace
            raise TransportError("The HTTP cache was used before the company was known.")
        return f"{namespace}:{create_key(request, **kwargs)}"

    # -- company namespace -------------------------------------------------------------------

    @property
    def company_id(self) -> int | None:
        """The company the API named for these credentials (``GET companies/me``), or ``None``
        before any such answer. Only this decides the cache namespace."""
        return self._company

    @property
    def namespace(self) -> str | None:
        """The cache namespace (``"company-<id>"``) of the verified company, or ``None``."""
        company = self._company
        if company is None:
            return None
        hint = self.credentials.company_id
        if hint is not None and hint != company:
            return None  # the credentials now claim another company: verify again first
        return f"company-{company}"

    def _note_company(self, path: str, response: ApiResponse) -> None:
        """Remember the company a ``companies/me`` answer names."""
        if not _is_me(path) or response.status_code != 200:
            return
        try:
            body = response.json()
        except KountaError:
            return
        if isinstance(body, dict) and isinstance(body.get("id"), int | str) and str(body["id"]).isdigit():
            self._company = int(body["id"])

    def _verify_company(self) -> None:
        """Ask the API which company these credentials reach (one uncached request)."""
        with self._verify_lock:
            if self._company is None:
                self._request("GET", "companies/me", params=None, json=None, headers=None, store=False)

    # -- helpers -----------------------------------------------------------------------------

    def url_for(self, path_or_url: str) -> str:
        """An absolute URL on the API host (relative paths resolve against the API base)."""
        if not isinstance(path_or_url, str) or not path_or_url.strip():
            raise ConfigError("A request needs a non-empty path or URL.")
        url = urljoin(self.api_base, path_or_url.strip())
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise ConfigError(
                f"{parts.scheme}://{parts.netloc} is not the API host; kounta_nb only sends "
                "credentials to the API host."
            )
        return url

    @property
    def caching(self) -> bool:
        """Whether responses are cached right now (a cache is set and the company verified)."""
        return self._cached is not None and self.namespace is not None

    def _key(self, url: str, params: Mapping[str, Any] | None) -> str:
        """The cache key requests-cache gives a GET of ``url`` with ``params``."""
        assert self._cached is not None
        request = self._cached.prepare_request(
            requests.Request("GET", url, params=dict(params) if params else None)
        )
        return str(self._cached.cache.create_key(request))

    def forget(self, path_or_url: str) -> None:
        """Drop the cached GET of one URL (after a write changed the record)."""
        if not self.caching:
            return
        url = self.url_for(path_or_url)
        with self._in_use():
            assert self._cached is not None
            self._cached.cache.delete(self._key(url, None))

    def cached(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> ApiResponse | None:
        """The stored 200 answer to a GET, without any request (``from_cache=True``), or ``None``.

        Only for callers that prove freshness themselves, e.g. an order detail whose
        ``updated_at`` equals the one in a list page fetched or revalidated in the same call.
        ``None`` when nothing is stored, the cache is off, or the company is not verified yet.
        """
        url = self.url_for(path_or_url)
        if not self.caching:
            return None
        with self._in_use():
            raw = self._stored(url, params)
        if raw is None:
            return None
        self.stats.add(from_cache=1)
        return self._answer("GET", url, raw, from_cache=True, fetched_at=_aware(raw.created_at))

    def _stored(self, url: str, params: Mapping[str, Any] | None) -> CachedResponse | None:
        assert self._cached is not None
        raw = self._cached.cache.get_response(self._key(url, params))
        if not isinstance(raw, CachedResponse) or raw.status_code != 200 or not cacheable(raw):
            return None
        return raw

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close connections and the cache file. Requests in flight on other threads finish first
        (the cache closes when the last one leaves); later requests raise :class:`TransportError`."""
        with self._use:
            if self._closed:
                return
            self._closed = True
            idle = self._users == 0
        self._plain.close()
        if idle:
            self._close_cache()

    def _close_cache(self) -> None:
        if self._cached is not None:
            self._cached.close()

    @contextlib.contextmanager
    def _in_use(self) -> Iterator[None]:
        with self._use:
            if self._closed:
                raise TransportError(CLOSED)
            self._users += 1
        try:
            yield
        finally:
            with self._use:
                self._users -= 1
                last = self._closed and self._users == 0
            if last:
                self._close_cache()

    # -- the one place where I/O happens ---------------------------------------------------

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        store: bool = True,
    ) -> ApiResponse:
        """Send one request with auth, cache, rate limit and retries; raise on any failure.

        A GET goes through the HTTP cache (revalidated with ``If-None-Match``; a stored body is
        returned only after a 304) unless ``store=False``: then nothing is read from or written
        to the cache, for bodies the caller keeps itself (the pull store's order details).
        """
        with self._in_use():
            return self._request(method, path_or_url, params=params, json=json, headers=headers,
                                 store=store)

    def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        store: bool,
    ) -> ApiResponse:
        method = method.upper()
        url = self.url_for(path_or_url)
        path = urlsplit(url).path
        use_cache = method == "GET" and store and self._cached is not None
        if use_cache and self._company is None and not _is_me(path):
            self._verify_company()
        namespace = self.namespace if use_cache else None
        try:
            response, raw = self._exchange(method, url, path, params, json, headers,
                                           cached=namespace is not None)
        except (TransportError, APIError) as exc:
            stale = self._serve_stale(exc, method, url, params, namespace)
            if stale is None:
                raise
            return stale
        self._offline_since = None
        if method == "GET":
            self._note_company(path, response)
            if (use_cache and namespace is None and self.namespace is not None
                    and raw.status_code == 200 and cacheable(raw)):
                # The answer that verified the company is the first entry of its namespace.
                assert self._cached is not None
                self._cached.cache.save_response(raw, self._key(url, params), datetime.now(UTC))
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        *,
        cached: bool,
    ) -> tuple[ApiResponse, requests.Response]:
        idempotent = method in IDEMPOTENT_METHODS
        session = self._cached if cached else self._plain
        assert session is not None
        attempt = 0
        limited = 0
        refreshed = False
        while True:
            if self._closed:  # closed while this call waited (rate limit, back-off)
                raise TransportError(CLOSED)
            self.credentials.ensure_fresh(self._plain)
            send_headers = dict(headers or {})
            used = self.credentials.apply(send_headers)
            self.stats.add(waited_s=self.limiter.acquire())
            if self._closed:
                raise TransportError(CLOSED)
            try:
                raw = session.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    json=json,
                    headers=send_headers,
                    timeout=self.timeout,
                    allow_redirects=True,
                )
                content = raw.content or b""
            except RETRYABLE_EXCEPTIONS as exc:
                self.stats.add(requests=1)
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    self._back_off(attempt, f"{type(exc).__name__} on {method} {path}")
                    continue
                raise TransportError(
                    f"{method} {path} failed: {_describe(exc)}"
                    + (f" (after {attempt} retries)." if attempt else ".")
                ) from None
            self.stats.add(requests=1)
            if getattr(raw, "from_cache", False) and not getattr(raw, "revalidated", False):
                # A cached body that the API did not just confirm with a 304. With the settings
                # above requests-cache never does this; should a version do it anyway, the answer
                # is fetched again without the cache rather than trusted.
                log.debug("requests-cache returned an unconfirmed cached body for %s; refetching.", path)
                session = self._plain
                continue
            status = raw.status_code
            content_type = raw.headers.get("Content-Type", "")

            if is_limit_exceeded(status, content):
                self.stats.add(rate_limited=1)
                if limited >= self.max_rate_limit_retries:
                    raise RateLimitError(
                        f"Kounta kept answering 'Limit exceeded' for {method} {path} after "
                        f"{limited} retries; lower the rate limit or try again later.",
                        retry_after=rate_limit_delay(raw.headers),
                    )
                delay = rate_limit_delay(raw.headers)
                if delay is None:
                    # No reset time given: back off from a full second's worth (scaled with
                    # backoff_base), since the window is a minute long.
                    delay = backoff_delay(limited, base=self.backoff_base * 2,
                                          cap=self.backoff_max, rng=self._rng)
                limited += 1
                self.stats.add(retries=1)
                self.limiter.block_for(delay)
                log.info("Rate limited on %s %s; waiting %.1f s.", method, path, delay)
                continue

            if status >= 500 and idempotent and attempt < self.max_retries:
                attempt += 1
                self._back_off(attempt, f"{status} on {method} {path}")
                continue

            if status in (400, 401) and says_token_expired(status, _safe_body(content)):
                if not refreshed and self.credentials.can_refresh():
                    refreshed = True
                    self.credentials.refresh(self._plain, stale=used)
                    self.stats.add(retries=1)
                    continue
                if self.credentials.kind == "oauth":
                    raise TokenExpiredError()
                raise AuthError(f"Kounta refused the Basic credentials ({status}) for {method} {path}.")

            if status < 400 and idempotent and self._incomplete(method, status, content, content_type):
                if not content.strip() and not refreshed and self.credentials.kind == "oauth" \
                        and self.credentials.can_refresh():
                    # An empty 200 is what integrators saw around token expiry (kounta-api.md §2):
                    # a new token, not patience, is what helps.
                    refreshed = True
                    self.credentials.refresh(self._plain, stale=used)
                    self.stats.add(retries=1)
                    continue
                if attempt < self.max_retries:
                    attempt += 1
                    self._back_off(attempt, f"incomplete body on {method} {path}")
                    continue
                raise TransportError(f"{method} {path} kept returning an incomplete body.")

            if status >= 400:
                raise error_for(status, content, content_type, method=method, path=path)

            revalidated = bool(getattr(raw, "revalidated", False))
            self.stats.add(revalidated=1 if revalidated else 0, downloaded=0 if revalidated else 1)
            return ApiResponse(
                method=method,
                url=raw.url or url,
                status_code=status,
                headers=raw.headers,
                content=content,
                from_cache=revalidated,
                revalidated=revalidated,
                fetched_at=_aware(getattr(raw, "created_at", None)) if revalidated else None,
            ), raw

    def _serve_stale(
        self,
        error: KountaError,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        namespace: str | None,
    ) -> ApiResponse | None:
        """Offline mode: the cached answer to a GET that failed, marked stale; else ``None``."""
        if not self.offline or method != "GET" or namespace is None or self._closed:
            return None
        if isinstance(error, APIError) and error.status < 500:
            return None  # the API answered: a 4xx is the truth, not an outage
        raw = self._stored(url, params)
        if raw is None:
            return None
        stored = _aware(raw.expires or raw.created_at)
        self.stats.add(stale=1)
        if self._offline_since is None:
            self._offline_since = stored
            warn(
                f"Offline mode: Kounta could not be reached ({str(error).rstrip('.')}); serving "
                f"cached data from {stored:%Y-%m-%d %H:%M} UTC ({_age(stored)} old).",
                stacklevel=2,
            )
        return self._answer("GET", url, raw, from_cache=True, stale=True, fetched_at=stored)

    @staticmethod
    def _answer(
        method: str, url: str, raw: CachedResponse, *, from_cache: bool, fetched_at: datetime,
        stale: bool = False,
    ) -> ApiResponse:
        return ApiResponse(
            method=method, url=raw.url or url, status_code=raw.status_code, headers=raw.headers,
            content=raw.content or b"", from_cache=from_cache, revalidated=False, stale=stale,
            fetched_at=fetched_at,
        )

    @staticmethod
    def _incomplete(method: str, status: int, content: bytes, content_type: str) -> bool:
        """A 2xx GET whose body is empty or JSON cut short (seen around token expiry and on
        flaky links); such a body must be fetched again, not handed on."""
        if method != "GET" or status not in (200, 203):
            return False
        if not content.strip():
            return True
        if "json" not in content_type.lower() and not _looks_json(content):
            return False
        try:
            _decode_json(content)
        except (ValueError, UnicodeDecodeError):
            return True
        return False

    def _back_off(self, attempt: int, why: str) -> None:
        delay = backoff_delay(attempt - 1, base=self.backoff_base, cap=self.backoff_max, rng=self._rng)
        log.info("Retrying after %s (attempt %d) in %.2f s.", why, attempt, delay)
        self.stats.add(retries=1, waited_s=delay)
        self._sleep(delay)

    def __repr__(self) -> str:
        cache = str(self.cache_path) if self.cache_path else "off"
        return f"Transport({self.api_base!r}, {self.credentials!r}, cache={cache!r}, {self.limiter!r})"


def _is_me(path: str) -> bool:
    """Whether ``path`` asks which company the credentials reach (``…/companies/me``)."""
    return path.rstrip("/").endswith("/companies/me") or path.strip("/") == "companies/me"


def _aware(moment: datetime | None) -> datetime:
    """requests-cache's timestamps as aware UTC datetimes (older versions store naive ones)."""
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age(moment: datetime) -> str:
    """``"3 h 5 min"``-style age of ``moment``."""
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def _safe_body(content: bytes) -> Any:
    try:
        return _decode_json(content)
    except (ValueError, UnicodeDecodeError):
        return content[:500]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "the API did not answer in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | http.client.IncompleteRead):
        return "the answer was cut off"
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed or was dropped"
    return f"the connection failed ({type(exc).__name__})"

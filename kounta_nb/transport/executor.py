"""The executor: :class:`Transport`, the one place where kounta_nb's HTTP requests happen.

It carries out what :mod:`.policy` decides (retry, wait, refresh, fail, return), spaces requests
with the shared :class:`~.ratelimit.RateLimiter`, sends GETs through the :class:`~.httpcache.HttpCache`
and answers with an :class:`~.response.ApiResponse`.

Thread-safety: one :class:`Transport` is shared by the pull engine's worker threads. The limiter,
the statistics, the token refresh and the cache's generations each have their own lock. Requests
made on the main thread run on a small helper thread while the main thread waits, so a Ctrl-C
(``KeyboardInterrupt``, delivered to the main thread only) stops the wait, never a half-written
cache entry or a token refresh whose answer would be lost; the abandoned request finishes quietly.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession
from requests_cache.cache_keys import create_key
from requests_cache.models.response import CachedResponse

from .. import settings
from ..auth import Credentials
from ..errors import APIError, ConfigError, KountaError, TransportError, warn
from .httpcache import HttpCache
from .policy import (
    RETRYABLE_EXCEPTIONS,
    Action,
    Answer,
    Attempt,
    Decision,
    TimeoutSetting,
    cacheable,
    decide,
    is_limit_exceeded,
    may_serve_stale,
    timeouts,
)
from .ratelimit import RateLimiter
from .response import ApiResponse, RequestStats

__all__ = [
    "CLOSED", "Transport", "HELPERS",
]

_log = logging.getLogger("kounta_nb.transport")
_T = TypeVar("_T")

#: The error of a request on a closed client.
CLOSED = "This Kounta connection is closed (logged out or closed); connect again to continue."
#: Helper threads for requests made on the main thread (see the module docstring).
HELPERS = 4


class _Outage:
    """Whether offline mode is serving an outage from the cache: begun by the first GET answered
    from the cache after its retries, ended by the next successful answer from the API.

    One per :class:`Transport`, shared by every thread using it (the pull engine's 32 workers):
    a lock makes "begin" happen once per outage, so exactly one caller issues its warning.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = False

    @property
    def active(self) -> bool:
        """Whether an outage is being served from the cache now."""
        return self._active  # one attribute read: atomic, no lock needed

    def begin(self) -> bool:
        """Note an answer served from the cache; True when it began a new outage."""
        with self._lock:
            began, self._active = not self._active, True
            return began

    def end(self) -> None:
        """The API answered: the outage (if any) is over."""
        with self._lock:
            self._active = False


@dataclass(frozen=True)
class _Call:
    """One request as asked for: what every attempt at it sends again."""

    method: str  # upper case
    url: str  # absolute
    params: Mapping[str, Any] | None
    json: Any
    headers: Mapping[str, str] | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


class Transport:
    """One authorised, cached, rate-limited, retrying HTTP client for one company.

    ``cache_path``: ``None`` = ``settings.http_cache_file()``, a path, or ``False`` for no cache.
    ``rate_limit``: requests per minute (``None`` = the API default for the credentials).
    ``offline``: when a GET fails after every retry (dropped connections, cut-off bodies, 5xx),
    answer with the cached copy marked ``stale`` instead of raising (one warning per outage);
    off by default, because a cache is a speed-up, never a source of truth. Once an outage is
    established, later GETs make one attempt each (no retries, no back-off) until the API answers
    again, and a GET in offline mode waits at most ``settings.OFFLINE_CONNECT_TIMEOUT_S`` for a
    connection (see :mod:`.policy`).
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
        self._plain: requests.Session = self._setup(requests.Session())
        # The company the API named for these credentials (GET companies/me), which alone
        # decides the cache namespace; a company_id passed in as a hint never does.
        self._company: int | None = None
        self._verify_lock = threading.Lock()
        self._outage = _Outage()  # the outage offline mode is serving from the cache, if any
        # close() from one thread while a pull's workers are mid-request: the SQLite cache is
        # closed only when the last request in flight has left (closing it under a running query
        # crashes the interpreter), and requests after close() fail with one sentence.
        self._use = threading.Lock()
        self._users = 0
        self._closed = False
        self._helpers: ThreadPoolExecutor | None = None
        self.cache_path: Path | None = None
        self._cache: HttpCache | None = None
        if cache_path is not False:
            path = settings.http_cache_file() if cache_path is None or cache_path is True else Path(cache_path)
            self.cache_path = path
            self._cache = HttpCache(path, key_fn=self._cache_key, filter_fn=cacheable, setup=self._setup)

    @staticmethod
    def _setup(session: Any) -> Any:
        session.trust_env = False  # no ~/.netrc credentials or proxies slipped into requests
        session.headers.update({"User-Agent": settings.USER_AGENT, "Accept": "application/json"})
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def _cache_key(self, request: Any, **kwargs: Any) -> str:
        namespace = self.namespace
        if namespace is None:  # unreachable: the cache is used only with a namespace
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
            return None  # the credentials claim another company: the cache stays out of it
        return f"company-{company}"

    def _note_company(self, path: str, response: ApiResponse) -> None:
        """Remember the company a ``companies/me`` answer names."""
        if not _is_me(path) or response.status_code != 200:
            return
        try:
            body = response.json()
        except KountaError:
            return
        if isinstance(body, dict) and str(body.get("id", "")).isdigit():
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
        """Whether responses are cached right now (a cache file is open, the company verified)."""
        return self._cache is not None and self._cache.available and self.namespace is not None

    def forget(self, path_or_url: str) -> None:
        """Drop the cached GET of one URL (after a write changed the record)."""
        url = self.url_for(path_or_url)
        with self._in_use():
            if not self.caching:
                return
            cache = self._cache
            assert cache is not None

            def work() -> None:
                key = cache.key(url, None)
                if key is not None:
                    cache.delete(key)

            self._io(work)

    def cached(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> ApiResponse | None:
        """The stored 200 answer to a GET, without any request (``from_cache=True``), or ``None``.

        Only for callers that prove freshness themselves, e.g. an order detail whose
        ``updated_at`` equals the one in a list page fetched or revalidated in the same call.
        ``None`` when nothing is stored, the cache is off, or the company is not verified yet.
        """
        url = self.url_for(path_or_url)
        with self._in_use():
            if not self.caching:
                return None
            raw = self._io(lambda: self._stored(url, params))
        if raw is None:
            return None
        self.stats.add(from_cache=1)
        return _from_store(url, raw, fetched_at=_aware(raw.created_at))

    def _stored(self, url: str, params: Mapping[str, Any] | None) -> CachedResponse | None:
        cache = self._cache
        if cache is None:
            return None
        key = cache.key(url, dict(params) if params else None)
        raw = cache.get(key) if key is not None else None
        if not isinstance(raw, CachedResponse) or raw.status_code != 200 or not cacheable(raw):
            return None
        return raw

    def cache_info(self) -> dict[str, Any]:
        """The HTTP cache on disk: ``path`` (or ``None`` without a cache), ``bytes`` (the file
        and its side files), ``entries`` of this company (0 before the company is verified),
        ``entries_total`` (all companies), ``namespace`` and whether it is ``available``."""
        if self._cache is None:
            return {"path": None, "bytes": 0, "entries": 0, "entries_total": 0,
                    "namespace": None, "available": False}
        namespace = self.namespace
        cache = self._cache
        with self._in_use():
            info = self._io(lambda: cache.info(namespace))
        return {**info, "namespace": namespace}

    def clear_cache(self, *, all_companies: bool = False) -> int:
        """Remove this company's cached answers (every company's with ``all_companies=True``)
        and compact the file, so it really shrinks. Returns how many answers were removed."""
        if self._cache is None:
            return 0
        if not all_companies and self._company is None:
            self._verify_company()  # which company's entries are "this company's"
        namespace = self.namespace
        if not all_companies and namespace is None:
            return 0
        cache = self._cache
        with self._in_use():
            return self._io(lambda: cache.clear(None if all_companies else namespace))

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
            helpers, self._helpers = self._helpers, None
        if helpers is not None:
            helpers.shutdown(wait=False)
        self._plain.close()
        if idle:
            self._close_cache()

    def _close_cache(self) -> None:
        if self._cache is not None:
            self._cache.close()

    @contextlib.contextmanager
    def _in_use(self) -> Iterator[None]:
        with self._use:
            if self._closed:
                raise TransportError(CLOSED)
            self._users += 1
        try:
            yield
        finally:
            self._leave()

    def _leave(self) -> None:
        with self._use:
            self._users -= 1
            last = self._closed and self._users == 0
        if last:
            self._close_cache()

    def _io(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` (network and SQLite) out of reach of Ctrl-C.

        On the main thread it runs on a helper thread while the main thread waits: a
        ``KeyboardInterrupt`` then interrupts the wait, and the work finishes on its own (the
        transport stays open for it). Other threads run it directly.
        """
        if threading.current_thread() is not threading.main_thread():
            return work()
        with self._use:
            if self._closed:
                raise TransportError(CLOSED)
            self._users += 1  # held by the helper until the work is done
            if self._helpers is None:
                self._helpers = ThreadPoolExecutor(HELPERS, thread_name_prefix="kounta-transport")
            helpers = self._helpers

        def run() -> _T:
            try:
                return work()
            finally:
                self._leave()

        try:
            future = helpers.submit(run)
        except RuntimeError:  # shut down by a close() in between
            self._leave()
            raise TransportError(CLOSED) from None
        return future.result()

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
        call = _Call(method.upper(), self.url_for(path_or_url), params, json, headers)
        use_cache = call.method == "GET" and store and self._cache is not None
        if use_cache and self._company is None and not _is_me(call.path):
            self._verify_company()
        namespace = self.namespace if use_cache else None
        try:
            response, raw = self._exchange(call, use_cache=namespace is not None)
        except (TransportError, APIError) as exc:
            stale = self._serve_stale(exc, call, namespace)
            if stale is None:
                raise
            return stale
        self._outage.end()  # the API answered: whatever outage there was is over
        if call.method == "GET":
            self._note_company(call.path, response)
            if (use_cache and namespace is None and self.namespace is not None
                    and raw.status_code == 200 and cacheable(raw)):
                # The answer that verified the company is the first entry of its namespace.
                self._io(lambda: self._remember(call, raw))
        return response

    def _remember(self, call: _Call, raw: requests.Response) -> None:
        cache = self._cache
        key = cache.key(call.url, dict(call.params) if call.params else None) if cache is not None else None
        if cache is not None and key is not None:
            cache.save(raw, key, datetime.now(UTC))

    def _exchange(self, call: _Call, *, use_cache: bool) -> tuple[ApiResponse, requests.Response]:
        """Attempts until the policy says return or fail."""
        state = Attempt(
            call.method, call.path, max_retries=self.max_retries,
            max_rate_limit_retries=self.max_rate_limit_retries, backoff_base=self.backoff_base,
            backoff_max=self.backoff_max, oauth=self.credentials.kind == "oauth",
        )
        while True:
            if self._closed:  # closed while this call waited (rate limit, back-off)
                raise TransportError(CLOSED)
            self.stats.add(waited_s=self.limiter.acquire())
            if self._closed:
                raise TransportError(CLOSED)
            state = replace(state, offline=self.offline)
            timeout = timeouts(self.timeout, state)
            answer, raw, used = self._io(functools.partial(self._send, call, use_cache, timeout))
            if answer.failure is None and is_limit_exceeded(answer.status, answer.content):
                self.stats.add(rate_limited=1)
            # Read after every attempt: an outage another thread established while this request
            # was retrying cuts its remaining retries short too.
            state = replace(state, can_refresh=self.credentials.can_refresh(), outage=self._outage.active)
            decision = decide(answer, state, rng=self._rng)
            if decision.action is Action.RETURN:
                assert raw is not None
                return self._response(call, answer, raw), raw
            if decision.action is Action.FAIL:
                assert decision.error is not None
                raise decision.error
            self._carry_out(decision, used)
            state = state.after(decision)

    def _carry_out(self, decision: Decision, used: str) -> None:
        """Back off, wait for the rate-limit reset, or refresh the token."""
        self.stats.add(retries=1)
        if decision.action is Action.RETRY:
            _log.info("Retrying after %s in %.2f s.", decision.why, decision.delay)
            self.stats.add(waited_s=decision.delay)
            self._sleep(decision.delay)
        elif decision.action is Action.WAIT:
            _log.info("%s; waiting %.1f s.", decision.why.capitalize(), decision.delay)
            self.limiter.block_for(decision.delay)
        elif decision.action is Action.REFRESH:
            self._io(lambda: self.credentials.refresh(self._plain, stale=used))

    def _send(self, call: _Call, use_cache: bool,
              timeout: TimeoutSetting) -> tuple[Answer, requests.Response | None, str]:
        """One attempt: ``(answer, response or None, the Authorization value used)``.

        A cache file that fails under the request is repaired (or set aside) by the cache, and
        the attempt made again without it.
        """
        self.credentials.ensure_fresh(self._plain)
        send_headers = dict(call.headers or {})
        used = self.credentials.apply(send_headers)
        cache = self._cache if use_cache else None
        for _ in range(3):
            broken: tuple[CachedSession, sqlite3.Error] | None = None
            with cache.use() if cache is not None else contextlib.nullcontext(None) as session:
                try:
                    raw = (session or self._plain).request(
                        call.method, call.url, params=dict(call.params) if call.params else None, json=call.json,
                        headers=send_headers, timeout=timeout, allow_redirects=True,
                    )
                    content = raw.content or b""
                except RETRYABLE_EXCEPTIONS as exc:
                    self.stats.add(requests=1)
                    return Answer(failure=exc), None, used
                except sqlite3.Error as exc:
                    if session is None:
                        raise
                    broken = (session, exc)
            if broken is not None:
                assert cache is not None
                cache.failed(*broken)
                cache = cache if cache.available else None
                continue
            self.stats.add(requests=1)
            if getattr(raw, "from_cache", False) and not getattr(raw, "revalidated", False):
                # A cached body the API did not just confirm with a 304: with our settings
                # requests-cache never returns one, but should a version do so anyway, the
                # answer is fetched again without the cache rather than trusted.
                _log.debug("requests-cache returned an unconfirmed cached body for %s.", call.url)
                cache = None
                continue
            answer = Answer(status=raw.status_code, content=content, headers=raw.headers,
                            content_type=raw.headers.get("Content-Type", ""))
            return answer, raw, used
        raise TransportError(f"{call.method} {call.path} failed: the HTTP cache kept failing.")

    def _response(self, call: _Call, answer: Answer, raw: requests.Response) -> ApiResponse:
        revalidated = bool(getattr(raw, "revalidated", False))  # requests-cache: answered 304
        self.stats.add(revalidated=int(revalidated), downloaded=int(not revalidated))
        return ApiResponse(
            method=call.method, url=raw.url or call.url, status_code=answer.status, headers=raw.headers,
            content=answer.content, from_cache=bool(getattr(raw, "from_cache", False)),
            revalidated=revalidated,
            fetched_at=_aware(getattr(raw, "created_at", None)) if revalidated else None,
        )

    def _serve_stale(self, error: KountaError, call: _Call, namespace: str | None) -> ApiResponse | None:
        """Offline mode: the cached answer to a GET that failed, marked stale; else ``None``."""
        if not self.offline or call.method != "GET" or namespace is None or self._closed:
            return None
        if not may_serve_stale(error) or namespace != self.namespace:
            return None
        raw = self._io(lambda: self._stored(call.url, call.params))
        if raw is None:
            return None
        # requests-cache sets ``expires`` to the moment it stored (or re-stored after a 304)
        # the entry, since entries are stored already expired: when the API last vouched for it.
        stored = _aware(raw.expires or raw.created_at)
        self.stats.add(stale=1)
        if self._outage.begin():
            warn(
                f"Offline mode: Kounta could not be reached ({str(error).rstrip('.')}); serving "
                f"cached data from {stored:%Y-%m-%d %H:%M} UTC ({_age(stored)} old).",
                stacklevel=2,
            )
        return _from_store(call.url, raw, fetched_at=stored, stale=True)

    def __repr__(self) -> str:
        cache = str(self.cache_path) if self.cache_path else "off"
        return f"Transport({self.api_base!r}, {self.credentials!r}, cache={cache!r}, {self.limiter!r})"


def _from_store(url: str, raw: CachedResponse, *, fetched_at: datetime, stale: bool = False) -> ApiResponse:
    return ApiResponse(
        method="GET", url=raw.url or url, status_code=raw.status_code, headers=raw.headers,
        content=raw.content or b"", from_cache=True, revalidated=False, stale=stale,
        fetched_at=fetched_at,
    )


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

"""What to do after an answer: the transport's decisions as pure functions (no I/O, no clock of
their own, no randomness but the one passed in).

:func:`decide` looks at one :class:`Answer` (a status and body, or the exception that stopped the
attempt) and the :class:`Attempt` so far, and returns a :class:`Decision`:

=====================================================  ============================================
answer                                                 decision
=====================================================  ============================================
no answer (dropped, timed out, cut off), a GET in      ``FAIL`` at once, no back-off
an outage offline mode is serving from the cache       (:class:`TransportError`; the executor
                                                       answers from the cache)
no answer (dropped, timed out, cut off), idempotent    ``RETRY`` with back-off, then ``FAIL``
                                                       (:class:`TransportError`)
no answer, POST                                        ``FAIL`` at once (never sent twice blindly)
429 / ``200 Limit exceeded``                           ``WAIT`` until the reset the headers give (or
                                                       a back-off), then ``FAIL`` (:class:`RateLimitError`)
5xx, a GET in an offline-mode outage                   ``FAIL`` at once (:class:`APIError`)
5xx, idempotent                                        ``RETRY``, then ``FAIL`` (:class:`APIError`)
400/401 saying the token expired                       ``REFRESH`` once, then ``FAIL``
                                                       (:class:`TokenExpiredError` / :class:`AuthError`)
empty 2xx GET with a refreshable OAuth token           ``REFRESH`` once (the expiry symptom)
empty or cut-off JSON 2xx GET                          ``RETRY`` (``FAIL`` at once in an offline-mode
                                                       outage), then ``FAIL`` (:class:`TransportError`)
other 4xx                                              ``FAIL`` (:func:`error_for`)
anything else                                          ``RETURN``
=====================================================  ============================================

:func:`may_serve_stale` says which failures offline mode may answer from the cache, and
:func:`cacheable` which answers the HTTP cache may keep. The executor only carries decisions out.

Offline mode and outages: once a GET has used up its retries on failures offline mode may answer
(:func:`may_serve_stale`) and was answered from the cache, the executor holds an *outage* (one per
:class:`~.executor.Transport`) until the API next answers successfully. During it
(:attr:`Attempt.outage`), a GET in offline mode gets one attempt: the retry ladder would only
confirm, at up to ~24 s of back-off per request, what the outage already established. Writes and
offline mode off keep the full ladder. :func:`timeouts` caps the connect timeout of offline-mode
GETs so that each attempt at a dead network gives up quickly too.
"""

from __future__ import annotations

import email.utils
import enum
import http.client
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import Any

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from .. import settings
from ..auth import says_token_expired
from ..errors import (
    APIError,
    AuthError,
    KountaError,
    NotFoundError,
    RateLimitError,
    TokenExpiredError,
    TransportError,
)
from .response import decode_json, looks_json, summary

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RATE_LIMIT_WAIT_S",
    "RETRYABLE_EXCEPTIONS",
    "Action",
    "Answer",
    "Attempt",
    "Decision",
    "TimeoutSetting",
    "backoff_delay",
    "cacheable",
    "decide",
    "describe_failure",
    "error_for",
    "incomplete",
    "is_limit_exceeded",
    "may_serve_stale",
    "rate_limit_delay",
    "timeouts",
]

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
_RANDOM = random.Random()
#: Upper bound on a single rate-limit wait, whatever the headers say.
MAX_RATE_LIMIT_WAIT_S = 120.0


# --------------------------------------------------------------------------------------------
# Small decisions


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
    ceiling = min(cap, base * 2.0**attempt)
    jitter: float = (rng if rng is not None else _RANDOM).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter


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
        decode_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def incomplete(method: str, status: int, content: bytes, content_type: str) -> bool:
    """A 2xx GET whose body is empty or JSON cut short (seen around token expiry and on flaky
    links); such a body must be fetched again, not handed on."""
    if method != "GET" or status not in (200, 203):
        return False
    if not content.strip():
        return True
    if "json" not in content_type.lower() and not looks_json(content):
        return False
    try:
        decode_json(content)
    except (ValueError, UnicodeDecodeError):
        return True
    return False


def error_for(
    status: int, content: bytes, content_type: str = "", *, method: str = "", path: str = ""
) -> KountaError:
    """The exception for a non-2xx answer (docs/api.md §3 codes → the errors.py tree)."""
    error, description = summary(content, content_type)
    if status == 404:
        return NotFoundError(status, error, description or "not found", method=method, path=path)
    if status in (401, 403):
        what = description or error or "the credentials were refused"
        return AuthError(f"Kounta refused the credentials ({status}) for {method} {path}: {what}.".replace("..", "."))
    if status == 429:
        return RateLimitError(f"Kounta kept answering 'Limit exceeded' for {method} {path}.")
    return APIError(status, error, description, method=method, path=path)


def describe_failure(exc: BaseException) -> str:
    """What went wrong with a request that got no complete answer, in a few words."""
    if isinstance(exc, requests.Timeout):
        return "the API did not answer in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | http.client.IncompleteRead):
        return "the answer was cut off"
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed or was dropped"
    return f"the connection failed ({type(exc).__name__})"


#: requests' ``timeout``: seconds for both, ``(connect, read)``, or ``None`` (wait for ever).
TimeoutSetting = float | tuple[float | None, float | None] | None


def timeouts(configured: TimeoutSetting, attempt: Attempt) -> TimeoutSetting:
    """The ``timeout`` for ``attempt`` (requests' form: seconds, ``(connect, read)`` or ``None``):
    as configured, except that a GET in offline mode waits at most
    :data:`settings.OFFLINE_CONNECT_TIMEOUT_S` for a connection. The cache stands ready to answer,
    so a network that cannot even connect is given up on quickly; a connection that is made keeps
    the full read timeout (a slow API is not an outage)."""
    if not (attempt.offline and attempt.method == "GET"):
        return configured
    connect, read = configured if isinstance(configured, tuple) else (configured, configured)
    cap = settings.OFFLINE_CONNECT_TIMEOUT_S
    return (cap if connect is None else min(connect, cap)), read


def may_serve_stale(error: BaseException) -> bool:
    """Whether offline mode may answer this failure from the cache: the API could not be reached
    or kept failing (no answer, a cut-off body, 5xx after the retries). A 4xx is the API's answer
    and stands; so do rate limits and refused credentials."""
    if isinstance(error, APIError):
        return error.status >= 500
    return isinstance(error, TransportError)


# --------------------------------------------------------------------------------------------
# The decision table


class Action(enum.Enum):
    """What the executor does next."""

    RETURN = "return"  #: hand the answer to the caller
    RETRY = "retry"  #: sleep ``delay`` (back-off), then send again
    WAIT = "wait"  #: hold every caller ``delay`` seconds (rate limit), then send again
    REFRESH = "refresh"  #: get a new access token, then send again
    FAIL = "fail"  #: raise ``error``


@dataclass(frozen=True)
class Answer:
    """One attempt's outcome: a complete answer (``status``…) or the exception that stopped it."""

    status: int = 0
    content: bytes = b""
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    failure: BaseException | None = None


@dataclass(frozen=True)
class Attempt:
    """Where a request stands: the counters the decisions depend on."""

    method: str
    path: str
    max_retries: int = settings.MAX_RETRIES
    max_rate_limit_retries: int = settings.MAX_RATE_LIMIT_RETRIES
    backoff_base: float = settings.BACKOFF_BASE_S
    backoff_max: float = settings.BACKOFF_MAX_S
    oauth: bool = False
    can_refresh: bool = False
    retries: int = 0  #: back-off retries so far (failures, 5xx, incomplete bodies)
    limited: int = 0  #: rate-limit answers so far
    refreshed: bool = False  #: the token was refreshed once already
    offline: bool = False  #: offline mode is on (a failed GET may be answered from the cache)
    outage: bool = False  #: offline mode is serving an outage from the cache right now

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS

    @property
    def one_try(self) -> bool:
        """A GET in offline mode during an outage: one attempt, no back-off, then the cache."""
        return self.offline and self.outage and self.method == "GET"

    def after(self, decision: Decision) -> Attempt:
        """The state for the next attempt once ``decision`` was carried out."""
        if decision.action is Action.RETRY:
            return replace(self, retries=self.retries + 1)
        if decision.action is Action.WAIT:
            return replace(self, limited=self.limited + 1)
        if decision.action is Action.REFRESH:
            return replace(self, refreshed=True)
        return self


@dataclass(frozen=True)
class Decision:
    """What to do: ``action``, with ``delay`` seconds (RETRY/WAIT) or ``error`` (FAIL)."""

    action: Action
    delay: float = 0.0
    error: KountaError | None = None
    why: str = ""


def decide(answer: Answer, attempt: Attempt, *, rng: random.Random | None = None,
           now: float | None = None) -> Decision:
    """The next step after ``answer`` (see the table in the module docstring)."""
    method, path = attempt.method, attempt.path
    where = f"{method} {path}"

    def retry(why: str) -> Decision:
        delay = backoff_delay(attempt.retries, base=attempt.backoff_base, cap=attempt.backoff_max, rng=rng)
        return Decision(Action.RETRY, delay=delay, why=why)

    if answer.failure is not None:
        if attempt.one_try:
            return Decision(Action.FAIL, error=TransportError(
                f"{where} failed: {describe_failure(answer.failure)} (offline mode: one attempt, "
                "since the API was already unreachable)."))
        if attempt.idempotent and attempt.retries < attempt.max_retries:
            return retry(f"{type(answer.failure).__name__} on {where}")
        after = f" (after {attempt.retries} retries)." if attempt.retries else "."
        return Decision(Action.FAIL, error=TransportError(
            f"{where} failed: {describe_failure(answer.failure)}{after}"))

    status, content = answer.status, answer.content
    if is_limit_exceeded(status, content):
        reset = rate_limit_delay(answer.headers, now)
        if attempt.limited >= attempt.max_rate_limit_retries:
            return Decision(Action.FAIL, error=RateLimitError(
                f"Kounta kept answering 'Limit exceeded' for {where} after {attempt.limited} "
                "retries; lower the rate limit or try again later.", retry_after=reset))
        if reset is None:
            # No reset time given: back off from a full second's worth (scaled with the base),
            # since the window is a minute long.
            reset = backoff_delay(attempt.limited, base=attempt.backoff_base * 2,
                                  cap=attempt.backoff_max, rng=rng)
        return Decision(Action.WAIT, delay=reset, why=f"rate limited on {where}")

    if status >= 500 and attempt.idempotent and attempt.retries < attempt.max_retries and not attempt.one_try:
        return retry(f"{status} on {where}")

    if status in (400, 401) and says_token_expired(status, _safe_body(content)):
        if not attempt.refreshed and attempt.can_refresh:
            return Decision(Action.REFRESH, why=f"token expired on {where}")
        if attempt.oauth:
            return Decision(Action.FAIL, error=TokenExpiredError())
        return Decision(Action.FAIL, error=AuthError(
            f"Kounta refused the Basic credentials ({status}) for {where}."))

    if status < 400 and attempt.idempotent and incomplete(method, status, content, answer.content_type):
        if not content.strip() and not attempt.refreshed and attempt.oauth and attempt.can_refresh:
            # An empty 200 is what integrators saw around token expiry (docs/api.md §2):
            # a new token, not patience, is what helps.
            return Decision(Action.REFRESH, why=f"empty answer on {where}")
        if attempt.retries < attempt.max_retries and not attempt.one_try:
            return retry(f"incomplete body on {where}")
        return Decision(Action.FAIL, error=TransportError(f"{where} kept returning an incomplete body."))

    if status >= 400:
        return Decision(Action.FAIL, error=error_for(status, content, answer.content_type,
                                                     method=method, path=path))
    return Decision(Action.RETURN)


def _safe_body(content: bytes) -> Any:
    try:
        return decode_json(content)
    except (ValueError, UnicodeDecodeError):
        return content[:500]

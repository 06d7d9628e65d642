"""HTTP transport: authorised, cached, rate-limited, retrying requests to the Kounta API.

Module map (imports run downwards only):

- :mod:`.executor` — :class:`Transport`, the one place where requests happen: it carries out
  what the policy decides, in one loop.
- :mod:`.policy` — what to do after an answer (retry, wait, refresh, fail, return) as a table of
  pure decisions, plus which answers may be cached and which failures offline mode may answer.
- :mod:`.httpcache` — the SQLite cache file: private, opened with damage checks, repaired when
  damaged, info and clear.
- :mod:`.ratelimit` — the token bucket every thread shares.
- :mod:`.response` — :class:`ApiResponse` and :class:`RequestStats`.

The contract (each line tested in ``tests/test_transport_*.py`` over real sockets):

- **Fresh or an error.** A cached body is returned only after the API answered 304 to its
  ``If-None-Match``. A failed revalidation (dropped connections, cut-off bodies, 5xx after the
  retries) raises :class:`~kounta_nb.errors.TransportError` / :class:`~kounta_nb.errors.APIError`;
  it never hands back old data, and nothing of requests-cache's logging reaches stderr.
  :meth:`Transport.cached` is the one way to read an entry without a request, for callers that
  prove freshness themselves (an order detail whose ``updated_at`` equals the list's).
- **Offline is explicit.** ``Transport(..., offline=True)`` answers a failed GET from the cache
  with ``ApiResponse.stale=True``, ``fetched_at`` = when the API last vouched for it, and one
  :class:`~kounta_nb.errors.KountaWarning` per outage saying how old. During that outage each
  later GET makes one attempt (no retries) until the API answers again.
- **Tenancy.** The cache namespace is the company the API names for the credentials
  (``GET companies/me``), never a hint; with no namespace nothing is read from or written to the
  cache, so no failure can serve another company's entry.
- **Files are private and disposable.** The cache file is ``0600`` in a ``0700`` directory; a
  damaged one is moved aside (``*.corrupt-<time>``) and rebuilt with one warning;
  :meth:`Transport.clear_cache` really shrinks it. ``store=False`` keeps a body out of it.
- **Ctrl-C** in the middle of a request leaves the transport usable and the cache consistent.
"""

from .executor import CLOSED, Transport
from .httpcache import IGNORED_PARAMETERS, HttpCache
from .policy import (
    IDEMPOTENT_METHODS,
    RETRYABLE_EXCEPTIONS,
    Action,
    Answer,
    Attempt,
    Decision,
    backoff_delay,
    cacheable,
    decide,
    error_for,
    is_limit_exceeded,
    may_serve_stale,
    rate_limit_delay,
    timeouts,
)
from .ratelimit import RateLimiter
from .response import ApiResponse, RequestStats

__all__ = [
    "CLOSED",
    "IDEMPOTENT_METHODS",
    "IGNORED_PARAMETERS",
    "RETRYABLE_EXCEPTIONS",
    "Action",
    "Answer",
    "ApiResponse",
    "Attempt",
    "Decision",
    "HttpCache",
    "RateLimiter",
    "RequestStats",
    "Transport",
    "backoff_delay",
    "cacheable",
    "decide",
    "error_for",
    "is_limit_exceeded",
    "may_serve_stale",
    "rate_limit_delay",
    "timeouts",
]

"""The one exception tree of kounta_nb.

Every error the library raises on purpose is a ``KountaError``; each message is one readable
sentence with no token, secret or authorisation header in it::

    KountaError
    ├── ConfigError            (also ValueError)  bad argument, date, site, option or missing credentials
    ├── AuthError                                  credentials refused
    │   ├── TokenExpiredError                      the token cannot be refreshed: reconnect
    │   └── StateMismatchError                     OAuth ``state`` did not match: possible CSRF
    ├── TransportError         (also ConnectionError)  network down, connection dropped, truncated body
    │   └── WriteOutcomeUnknown                    a write's answer was lost: it may or may not have happened
    ├── RateLimitError                             still limited after the allowed retries
    ├── APIError                                   any other non-2xx answer (status, error, description)
    │   └── NotFoundError      (also LookupError)  404
    ├── PagingError                                the X-Next-Page cursor looped or misbehaved
    ├── PullError                                  a background pull failed or was misused
    └── DataFileError          (also OSError)      a local file (cache, store, token file, dataset) is
                                                   damaged, missing, removed mid-way or held by another process

Library code raises these; only the IPython magics turn them into one-line ``UsageError``s.

Things worth knowing that are not failures (a damaged cache moved aside and rebuilt, data served
from the cache in offline mode) are a :class:`KountaWarning`, issued with :func:`warn`: one
sentence, never a traceback. The magics show each as one line.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable

# The exception tree: what ``kounta_nb`` re-exports (``warn`` and ``did_you_mean`` are helpers for
# the package's own modules).
__all__ = [
    "APIError",
    "AuthError",
    "ConfigError",
    "DataFileError",
    "KountaError",
    "KountaWarning",
    "NotFoundError",
    "PagingError",
    "PullError",
    "RateLimitError",
    "StateMismatchError",
    "TokenExpiredError",
    "TransportError",
    "WriteOutcomeUnknown",
]


class KountaError(Exception):
    """Base class of every error raised by kounta_nb."""


class ConfigError(KountaError, ValueError):
    """A bad argument, date, site, option, or missing credentials."""


class AuthError(KountaError):
    """The API refused the credentials (HTTP 401/403 or an OAuth error on /token)."""


class TokenExpiredError(AuthError):
    """The access token expired and cannot be refreshed; the user must log in again."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Your Kounta login has expired and cannot be refreshed: reconnect with "
            "`%kounta login` (or Kounta.oauth(...).fetch_token) and try again."
        )


class StateMismatchError(AuthError):
    """The ``state`` returned by the authorise page is not the one we sent."""


class TransportError(KountaError, ConnectionError):
    """The request never got a complete answer (connection refused or dropped, body truncated)."""


class RateLimitError(KountaError):
    """The API kept answering 429 after the allowed retries."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class APIError(KountaError):
    """A non-2xx answer from the API, with the OAuth-style ``error`` and ``error_description``."""

    def __init__(
        self,
        status: int,
        error: str | None = None,
        description: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.description = description
        self.method = method
        self.path = path
        where = f" for {method} {path}" if method and path else ""
        what = description or error or "no details given"
        super().__init__(f"Kounta answered {status}{where}: {what}.".replace("..", "."))


class NotFoundError(APIError, LookupError):
    """HTTP 404: the record or endpoint does not exist for this company."""


class PagingError(KountaError):
    """The X-Next-Page cursor repeated itself or exceeded the page cap."""


class PullError(KountaError):
    """A background pull failed, was cancelled, or was used wrongly."""


class WriteOutcomeUnknown(TransportError):
    """A write (POST/PUT/DELETE) was sent but its answer was lost, and no natural key could prove
    whether it landed. Re-sending might duplicate it: ``check`` says how to find out."""

    def __init__(self, message: str, *, method: str, path: str, check: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.check = check


class DataFileError(KountaError, OSError):
    """A local file kounta_nb keeps (HTTP cache, pull store, token file, dataset) is damaged,
    missing, was removed while in use, or is held by another process. ``path`` names it."""

    def __init__(self, message: str, path: object = None) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:  # OSError's own __str__ would show "[Errno …]" forms
        return str(self.args[0]) if self.args else ""


class KountaWarning(UserWarning):
    """Something the user should know that is not a failure (one sentence)."""


def warn(message: str, *, stacklevel: int = 3) -> None:
    """Issue ``message`` as a :class:`KountaWarning` (pointing at the caller's caller by default)."""
    warnings.warn(message, KountaWarning, stacklevel=stacklevel)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'orders'?)"`` for a near-miss of one of ``choices``, else ``""`` — to
    put into a one-line error right after the word that was not understood."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word).strip().lower(), options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = [lowered[m] for m in difflib.get_close_matches(str(word).strip().lower(), list(lowered), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""

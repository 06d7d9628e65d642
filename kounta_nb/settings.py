"""Every default of kounta_nb in one place: hosts, paging, rate limits, retries, files, env names.

Nothing here performs I/O at import time; the path helpers read the environment when called.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "API_BASE", "AUTHORIZE_URL", "TOKEN_PATH", "PAGE_SIZE", "RATE_LIMIT_BASIC", "RATE_LIMIT_OAUTH",
    "SANDBOX_RATE_LIMIT", "REFRESH_MARGIN_S", "MAX_RETRIES", "BACKOFF_BASE_S", "BACKOFF_MAX_S",
    "MAX_RATE_LIMIT_RETRIES", "TIMEOUT", "RATE_LIMIT_HEADROOM", "RATE_LIMIT_BURST",
    "HTTP_CACHE_FILE", "SANDBOX_HTTP_CACHE_FILE", "REDIRECT_URI", "USER_AGENT", "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET", "ENV_ACCESS_TOKEN", "ENV_REFRESH_TOKEN", "ENV_REDIRECT_URI",
    "ENV_API_BASE", "ENV_AUTHORIZE_URL", "ENV_SITE", "ENV_CACHE_DIR", "ENV_CONFIG_DIR",
    "ENV_RATE_LIMIT", "ENV_TOKEN_URL", "config_dir", "cache_dir", "http_cache_file", "token_file",
    "OFFLINE_CONNECT_TIMEOUT_S",
]

#: Production hosts (HTTPS only; there is no plain-HTTP API).
API_BASE = "https://api.kounta.com/v1/"
AUTHORIZE_URL = "https://my.kounta.com/authorize"
#: Path of the token endpoint, relative to the API base (``/v1/token``).
TOKEN_PATH = "token"

#: Records per list page (fixed by the API).
PAGE_SIZE = 25

#: Requests per minute, per token (docs/api.md §3).
RATE_LIMIT_BASIC = 60
RATE_LIMIT_OAUTH = 180

#: Requests per minute a client allows itself against the embedded sandbox when the sandbox does
#: not simulate Kounta's limits (it runs on this machine; the production figure would only make
#: a demo slow). ``Kounta.sandbox()`` and ``%kounta sandbox`` both use it.
SANDBOX_RATE_LIMIT = 60_000

#: Refresh an access token this many seconds before it expires.
REFRESH_MARGIN_S = 60.0
#: Retries for idempotent requests on 5xx, dropped connections and truncated bodies.
MAX_RETRIES = 6
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
#: Retries on 429 before RateLimitError.
MAX_RATE_LIMIT_RETRIES = 12
#: Connect / read timeouts in seconds.
TIMEOUT = (10.0, 60.0)
#: Offline mode: the most a GET waits for a connection (the cache is there to answer instead). A
#: little over 3 s lets a lost SYN be sent twice more (Linux resends after 1 s and 3 s).
OFFLINE_CONNECT_TIMEOUT_S = 3.05
#: Share of the per-minute limit the client actually uses, so clock skew and network jitter
#: between client and server never push a steady stream over the server's window.
RATE_LIMIT_HEADROOM = 0.98
#: Requests the limiter lets through back to back before it starts spacing them.
RATE_LIMIT_BURST = 1

#: HTTP cache file name inside :func:`cache_dir`.
HTTP_CACHE_FILE = "http_cache.sqlite"
#: The HTTP cache used by ``Kounta.sandbox()`` unless told otherwise.
SANDBOX_HTTP_CACHE_FILE = "sandbox_http_cache.sqlite"
#: Default redirect URI for the OAuth code flow when none is configured (an RFC 8252 loopback URI).
REDIRECT_URI = "http://127.0.0.1:8765/callback"

USER_AGENT = "kounta_nb/0.1 (+https://github.com/kounta-nb)"

# Environment variable names.
ENV_CLIENT_ID = "KOUNTA_CLIENT_ID"
ENV_CLIENT_SECRET = "KOUNTA_CLIENT_SECRET"
ENV_ACCESS_TOKEN = "KOUNTA_ACCESS_TOKEN"
ENV_REFRESH_TOKEN = "KOUNTA_REFRESH_TOKEN"
ENV_REDIRECT_URI = "KOUNTA_REDIRECT_URI"
ENV_API_BASE = "KOUNTA_API_BASE"
ENV_AUTHORIZE_URL = "KOUNTA_AUTHORIZE_URL"
ENV_SITE = "KOUNTA_SITE"
ENV_CACHE_DIR = "KOUNTA_CACHE_DIR"
ENV_CONFIG_DIR = "KOUNTA_CONFIG_DIR"
ENV_RATE_LIMIT = "KOUNTA_RATE_LIMIT"
ENV_TOKEN_URL = "KOUNTA_TOKEN_URL"


def config_dir() -> Path:
    """Where the token file and remembered choices live (``$KOUNTA_CONFIG_DIR`` or XDG)."""
    if os.environ.get(ENV_CONFIG_DIR):
        return Path(os.environ[ENV_CONFIG_DIR]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kounta_nb"


def cache_dir() -> Path:
    """Where the HTTP cache and pull stores live (``$KOUNTA_CACHE_DIR`` or XDG)."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kounta_nb"


def http_cache_file() -> Path:
    """The default SQLite HTTP cache (persistent across kernel restarts)."""
    return cache_dir() / HTTP_CACHE_FILE


def token_file() -> Path:
    """The 0600 token file: one entry per company."""
    return config_dir() / "tokens.json"

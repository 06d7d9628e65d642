"""Credentials: how each request is authorised (Basic or a self-refreshing OAuth token), and
which API answers mean "the access token is no longer good".

Nothing here ever puts a token or secret into a ``repr``, a log line or an exception message.

``company_id`` is what the credentials claim (a saved token's company, a ``company_id=`` hint);
the transport trusts only the company ``/companies/me`` names for the cache, and the client turns
a claim that disagrees with it into a ConfigError.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from base64 import b64encode
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import requests
from oauthlib.oauth2 import WebApplicationClient

from .. import settings
from ..errors import AuthError, ConfigError, TokenExpiredError, TransportError
from .tokens import Token

__all__ = ["BasicCredentials", "Credentials", "OAuthCredentials", "TokenEndpoint", "says_token_expired"]

_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Policy: which answers mean "the access token is no longer good"


def says_token_expired(status: int, body: Any) -> bool:
    """True when an API answer says the access token expired or is invalid (docs/api.md §2).

    Recognises the OAuth shape (401 ``{"error": "expired_token" | "invalid_token"}``) and the
    older ``400 {"message": "The access token provided has expired"}`` shape; a wrong client
    secret (``invalid_client``) or a refused refresh (``invalid_grant``) is *not* expiry.
    """
    if status not in (400, 401):
        return False
    text = _error_text(body).lower()
    if "invalid_client" in text or "invalid_grant" in text:
        return False
    if status == 401 and ("expired_token" in text or "invalid_token" in text):
        return True
    return "token" in text and ("expired" in text or "invalid" in text)


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        return " ".join(str(body.get(k, "")) for k in ("error", "error_description", "message"))
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")[:500]
    return str(body or "")[:500]


# --------------------------------------------------------------------------------------------
# Credentials


class Credentials(ABC):
    """How requests are authorised: :class:`BasicCredentials` or :class:`OAuthCredentials`."""

    kind: ClassVar[Literal["basic", "oauth"]]
    _company_id: int | None = None

    @property
    def company_id(self) -> int | None:
        """The company these credentials claim to reach (learned from ``/companies/me``)."""
        return self._company_id

    @company_id.setter
    def company_id(self, value: int | None) -> None:
        self._company_id = value

    @abstractmethod
    def authorization(self) -> str:
        """The ``Authorization`` header value to send now."""

    def apply(self, headers: dict[str, str]) -> str:
        """Set ``Authorization`` in ``headers``; returns the value used (to detect a stale one)."""
        value = self.authorization()
        headers["Authorization"] = value
        return value

    def can_refresh(self) -> bool:
        """Whether :meth:`refresh` can produce a new access token."""
        return False

    def ensure_fresh(self, session: requests.Session, margin: float = settings.REFRESH_MARGIN_S) -> None:
        """Refresh ahead of expiry when the token expires within ``margin`` seconds."""
        return None

    def refresh(self, session: requests.Session, *, stale: str | None = None) -> None:
        """Get a new access token; raises :class:`TokenExpiredError` when that is impossible."""
        raise TokenExpiredError()

    @property
    def default_rate_limit(self) -> int:
        """The API's per-minute limit for this kind of credentials (docs/api.md §3)."""
        return settings.RATE_LIMIT_BASIC if self.kind == "basic" else settings.RATE_LIMIT_OAUTH

    @property
    def cache_namespace(self) -> str | None:
        """Stable per company (``"company-123"``), never derived from a token; ``None`` until the
        company is known."""
        return f"company-{self.company_id}" if self.company_id is not None else None


class BasicCredentials(Credentials):
    """``Authorization: Basic base64(client_id:client_secret)`` — reaches the developer's company."""

    kind: ClassVar[Literal["basic", "oauth"]] = "basic"

    def __init__(self, client_id: str, client_secret: str, *, company_id: int | None = None) -> None:
        if not client_id or not client_secret:
            raise ConfigError("Basic authentication needs both a client id and a client secret.")
        self.client_id = client_id
        self._header = "Basic " + b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.company_id = company_id

    def authorization(self) -> str:
        return self._header

    def __repr__(self) -> str:
        return f"BasicCredentials(company={self.company_id})"


class OAuthCredentials(Credentials):
    """A bearer token that refreshes itself (thread-safe: one refresh at a time, others reuse it).

    ``on_refresh`` is called with the new :class:`Token` after every successful refresh (the
    client uses it to update the token file).
    """

    kind: ClassVar[Literal["basic", "oauth"]] = "oauth"

    def __init__(
        self,
        token: Token,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str = settings.API_BASE + settings.TOKEN_PATH,
        on_refresh: Callable[[Token], None] | None = None,
    ) -> None:
        if not token.access_token and not token.refresh_token:
            raise ConfigError("OAuth authentication needs an access token or a refresh token.")
        self._token = token
        self.endpoint = TokenEndpoint(token_url, client_id, client_secret)
        self.on_refresh = on_refresh
        self._lock = threading.Lock()

    @property
    def token(self) -> Token:
        """The current token (its repr is safe to show)."""
        return self._token

    @property
    def company_id(self) -> int | None:
        return self._token.company_id

    @company_id.setter
    def company_id(self, value: int | None) -> None:
        self._token.company_id = value

    def authorization(self) -> str:
        token = self._token
        return f"Bearer {token.access_token}"

    def can_refresh(self) -> bool:
        return bool(self._token.refresh_token) and self.endpoint.has_client

    def ensure_fresh(self, session: requests.Session, margin: float = settings.REFRESH_MARGIN_S) -> None:
        token = self._token
        if (not token.access_token or token.expired(margin)) and self.can_refresh():
            self.refresh(session, stale=self.authorization())

    def refresh(self, session: requests.Session, *, stale: str | None = None) -> None:
        """Exchange the refresh token for a new access token.

        ``stale`` is the ``Authorization`` value that failed; when another thread has already
        replaced it, this returns at once and the caller retries with the new token.
        """
        with self._lock:
            if stale is not None and self.authorization() != stale:
                return
            new = self.endpoint.refresh(session, self._token)
            self._token = new
            _log.info("Refreshed the Kounta access token for company %s.", new.company_id)
        if self.on_refresh is not None:
            self.on_refresh(new)

    def __repr__(self) -> str:
        return f"OAuthCredentials({self._token!r})"


class TokenEndpoint:
    """The OAuth token endpoint as the add-on uses it: its URL and the add-on's client id and
    secret (never in a repr). The login trades a code for a token here (:meth:`exchange`), the
    credentials later trade the refresh token for a new one (:meth:`refresh`)."""

    def __init__(self, url: str, client_id: str | None, client_secret: str | None) -> None:
        self.url = url
        self.client_id = client_id
        self._client_secret = client_secret

    @property
    def client_secret(self) -> str | None:
        """The add-on's secret (the flow hands it on to the credentials it logs in)."""
        return self._client_secret

    @property
    def has_client(self) -> bool:
        """Whether both the add-on's client id and secret are known (a refresh needs them)."""
        return bool(self.client_id and self._client_secret)

    def exchange(self, session: requests.Session, code: str, redirect_uri: str) -> Token:
        """The token for an authorisation code that came back to ``redirect_uri``."""
        if not self.client_id:
            raise ConfigError("The OAuth flow needs the add-on's client id and client secret.")
        body = WebApplicationClient(self.client_id).prepare_request_body(
            code=code, redirect_uri=redirect_uri, client_secret=self._client_secret, include_client_id=True
        )
        return Token.from_response(_post_token(session, self.url, body, refreshing=False))

    def refresh(self, session: requests.Session, previous: Token) -> Token:
        """A new token for ``previous`` (keeping its refresh token when the answer has none);
        :class:`TokenExpiredError` when there is no refresh token, client id or secret to use."""
        if not (previous.refresh_token and self.client_id and self._client_secret):
            raise TokenExpiredError()
        body = WebApplicationClient(self.client_id).prepare_refresh_body(
            refresh_token=previous.refresh_token, client_id=self.client_id, client_secret=self._client_secret
        )
        return Token.from_response(_post_token(session, self.url, body, refreshing=True), previous=previous)

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.url!r}, client_id={self.client_id!r})"


def _post_token(session: requests.Session, url: str, body: str, *, refreshing: bool) -> dict[str, Any]:
    """POST a form to the token endpoint; map every failure to a secret-free error."""
    try:
        response = session.post(
            url,
            data=body,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            timeout=settings.TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TransportError(
            f"Could not reach the Kounta token endpoint ({type(exc).__name__})."
        ) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 400 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        if refreshing and response.status_code in (400, 401):
            raise TokenExpiredError()
        if response.status_code >= 500 or answer is None:
            raise AuthError(
                f"The Kounta token endpoint answered {response.status_code} without a usable token."
            )
        raise AuthError(
            f"The Kounta token endpoint refused the request ({error or response.status_code})."
        )
    return answer



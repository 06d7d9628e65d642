"""The OAuth 2.0 authorisation-code flow (oauthlib's ``WebApplicationClient``).

oauthlib insists on HTTPS; the embedded sandbox (and RFC 8252 loopback redirect URIs) are plain
HTTP on 127.0.0.1, so loopback URLs — and only those — are passed through oauthlib as if they
were HTTPS (:func:`is_loopback` is the one test of "loopback" in the package).

The ``state`` is always checked: a redirect URL must carry the state this flow sent, and a bare
code needs that state beside it, unless the caller says ``verify_state=False`` explicitly.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

import requests
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from .. import settings
from ..errors import AuthError, ConfigError, StateMismatchError
from .credentials import TokenEndpoint
from .tokens import Token

__all__ = ["LOOPBACK_HOSTS", "OAuthFlow", "is_loopback"]

#: Host names that mean "this machine".
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def is_loopback(url: str) -> bool:
    """Whether ``url`` is plain ``http`` on this machine (RFC 8252 loopback, the sandbox)."""
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _as_https(url: str) -> str:
    """Loopback http URLs pass oauthlib's HTTPS check; everything else is left alone."""
    return "https" + url[4:] if is_loopback(url) else url


def _as_http(original: str, url: str) -> str:
    return "http" + url[5:] if is_loopback(original) and url.startswith("https") else url


class OAuthFlow:
    """The authorisation-code flow: :meth:`authorization_url`, the user grants access in a
    browser, then :meth:`fetch_token` with the URL the browser was sent back to (or the code
    and its state)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        authorize_url: str = settings.AUTHORIZE_URL,
        token_url: str = settings.API_BASE + settings.TOKEN_PATH,
        api_base: str | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ConfigError("The OAuth flow needs the add-on's client id and client secret.")
        if not redirect_uri:
            raise ConfigError("The OAuth flow needs a redirect URI registered on the add-on.")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.authorize_url = authorize_url
        # where the code is traded for a token; the client's credentials refresh there later
        self.endpoint = TokenEndpoint(token_url, client_id, client_secret)
        self.api_base = api_base or token_url.rsplit(settings.TOKEN_PATH, 1)[0]
        self.state: str | None = None
        self._client = WebApplicationClient(client_id)

    @property
    def token_url(self) -> str:
        """The token endpoint the code is traded at."""
        return self.endpoint.url

    @property
    def client_secret(self) -> str:
        """The add-on's secret (needed by the client to refresh tokens later)."""
        return self.endpoint.client_secret or ""

    def authorization_url(self) -> tuple[str, str]:
        """The consent-page URL to open, and the ``state`` it carries (remembered here)."""
        state = secrets.token_urlsafe(24)
        try:
            url = self._client.prepare_request_uri(
                _as_https(self.authorize_url), redirect_uri=self.redirect_uri, state=state
            )
        except oauth_errors.InsecureTransportError:
            raise ConfigError(
                "The authorise URL must use HTTPS (plain HTTP only on a loopback address)."
            ) from None
        self.state = state
        return _as_http(self.authorize_url, url), state

    def fetch_token(
        self,
        authorization_response: str | None = None,
        *,
        code: str | None = None,
        state: str | None = None,
        session: requests.Session | None = None,
        verify_state: bool = True,
    ) -> Token:
        """Exchange the code for a token.

        Pass the full URL the browser landed on (its ``state`` must be the one this flow sent
        with :meth:`authorization_url`, or ``state=`` when given), or the ``code`` together
        with the ``state`` that came back with it. ``verify_state=False`` skips the check —
        only for a caller that checked the state itself.
        """
        expected = state or self.state
        if authorization_response:
            code = self._code_from(authorization_response, expected if verify_state else None, verify_state)
        elif code:
            if verify_state:
                self._check_bare_state(state)
        else:
            raise ConfigError("Pass the URL you were redirected to, or the authorisation code and its state.")
        own = session is None
        http = session or requests.Session()
        try:
            token = self.endpoint.exchange(http, code, self.redirect_uri)
        finally:
            if own:
                http.close()
        self.state = None
        return token

    def _check_bare_state(self, state: str | None) -> None:
        if state is None:
            raise StateMismatchError(
                "A bare authorisation code needs the state that came back with it: pass "
                "state=… (or the whole redirect URL)."
            )
        if self.state is None:
            raise StateMismatchError("This login flow has no pending state: call authorization_url() first.")
        if not secrets.compare_digest(state, self.state):
            raise StateMismatchError(
                "The OAuth state does not match the one this flow sent: start the login again."
            )

    def _code_from(self, url: str, expected: str | None, verify: bool) -> str:
        params = dict(parse_qsl(urlsplit(url).query))
        if verify:
            if expected is None:
                raise StateMismatchError(
                    "This login flow has no pending state: call authorization_url() first."
                )
            if not secrets.compare_digest(str(params.get("state", "")), expected):
                raise StateMismatchError(
                    "The OAuth state in the redirect does not match the one sent: possible CSRF, "
                    "start the login again."
                )
        try:
            parsed = self._client.parse_request_uri_response(_as_https(url), state=expected)
        except oauth_errors.MismatchingStateError:
            raise StateMismatchError(
                "The OAuth state in the redirect does not match the one sent: start the login again."
            ) from None
        except oauth_errors.AccessDeniedError:
            raise AuthError("Access was denied on the Kounta consent page.") from None
        except oauth_errors.MissingCodeError:
            raise AuthError("The redirect URL carries no authorisation code.") from None
        except oauth_errors.InsecureTransportError:
            raise ConfigError("The redirect URL must use HTTPS (or a loopback address).") from None
        except oauth_errors.OAuth2Error as exc:
            raise AuthError(f"The Kounta consent page answered {exc.error}.") from None
        return str(parsed["code"])

    def __repr__(self) -> str:
        return f"OAuthFlow(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"

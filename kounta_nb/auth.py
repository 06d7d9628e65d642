"""Tokens, credentials, the OAuth authorisation-code flow and the 0600 token file.

Nothing in this module ever puts a token or secret into a ``repr``, a log line or an exception
message: :class:`Token`, the credentials and :class:`OAuthFlow` all have hand-written reprs, and
errors only name the *kind* of failure.

The flow is built and parsed with oauthlib's ``WebApplicationClient``. oauthlib insists on HTTPS;
the embedded sandbox (and RFC 8252 loopback redirect URIs) are plain HTTP on 127.0.0.1, so loopback
URLs — and only those — are passed through oauthlib as if they were HTTPS.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from . import settings
from .errors import AuthError, ConfigError, StateMismatchError, TokenExpiredError, TransportError

__all__ = [
    "BasicCredentials",
    "Credentials",
    "OAuthCredentials",
    "OAuthFlow",
    "Token",
    "TokenStore",
    "consent_login",
    "says_token_expired",
]

log = logging.getLogger(__name__)

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


# --------------------------------------------------------------------------------------------
# Policy: which answers mean "the access token is no longer good"


def says_token_expired(status: int, body: Any) -> bool:
    """True when an API answer says the access token expired or is invalid (kounta-api.md §2).

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
# Token


@dataclass(repr=False)
class Token:
    """An OAuth access token (plus refresh token) for one company.

    ``repr``/``str`` never show the secrets: ``Token(company=123, expires_at=…, refreshable=True)``.
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    token_type: str = "Bearer"
    company_id: int | None = None

    def expired(self, margin: float = 0.0, *, now: Callable[[], float] = time.time) -> bool:
        """True when the token has expired, or will within ``margin`` seconds."""
        return self.expires_at is not None and now() + margin >= self.expires_at

    @property
    def refreshable(self) -> bool:
        """Whether a refresh token is available."""
        return bool(self.refresh_token)

    @classmethod
    def from_response(
        cls,
        body: dict[str, Any],
        *,
        previous: Token | None = None,
        now: Callable[[], float] = time.time,
    ) -> Token:
        """Build a token from a ``/token`` answer, keeping ``previous``'s refresh token when the
        answer has none (a refresh response may omit it)."""
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError("The Kounta token endpoint answered without an access token.")
        expires_in = body.get("expires_in")
        try:
            expires_at = now() + float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            expires_at = None
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else None),
            expires_at=expires_at,
            token_type=str(body.get("token_type") or "Bearer"),
            company_id=previous.company_id if previous else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by :class:`TokenStore` (contains secrets: only for the 0600 file)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "token_type": self.token_type,
            "company_id": self.company_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Token:
        """Inverse of :meth:`to_dict`."""
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=data.get("expires_at"),
            token_type=data.get("token_type") or "Bearer",
            company_id=data.get("company_id"),
        )

    def __repr__(self) -> str:
        when = (
            datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds")
            if self.expires_at is not None
            else None
        )
        return f"Token(company={self.company_id}, expires_at={when}, refreshable={self.refreshable})"

    __str__ = __repr__


# --------------------------------------------------------------------------------------------
# Credentials


class Credentials(ABC):
    """How requests are authorised: :class:`BasicCredentials` or :class:`OAuthCredentials`."""

    kind: ClassVar[Literal["basic", "oauth"]]
    #: The company these credentials reach, once known (learned from ``/companies/me``).
    company_id: int | None

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
        """The API's per-minute limit for this kind of credentials (kounta-api.md §3)."""
        return settings.RATE_LIMIT_BASIC if self.kind == "basic" else settings.RATE_LIMIT_OAUTH

    @property
    def cache_namespace(self) -> str | None:
        """Stable per company (``"company-123"``), never derived from a token; ``None`` until the
        company is known, in which case nothing may be cached."""
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
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.on_refresh = on_refresh
        self._lock = threading.Lock()

    @property
    def token(self) -> Token:
        """The current token (its repr is safe to show)."""
        return self._token

    @property
    def company_id(self) -> int | None:  # type: ignore[override]
        return self._token.company_id

    @company_id.setter
    def company_id(self, value: int | None) -> None:
        self._token.company_id = value

    def authorization(self) -> str:
        token = self._token
        return f"Bearer {token.access_token}"

    def can_refresh(self) -> bool:
        return bool(self._token.refresh_token and self.client_id and self._client_secret)

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
            if not self.can_refresh():
                raise TokenExpiredError()
            previous = self._token
            client = WebApplicationClient(self.client_id)
            body = client.prepare_refresh_body(
                refresh_token=previous.refresh_token,
                client_id=self.client_id,
                client_secret=self._client_secret,
            )
            answer = _post_token(session, self.token_url, body, refreshing=True)
            new = Token.from_response(answer, previous=previous)
            self._token = new
            log.info("Refreshed the Kounta access token for company %s.", new.company_id)
        if self.on_refresh is not None:
            self.on_refresh(new)

    def __repr__(self) -> str:
        return f"OAuthCredentials({self._token!r})"


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


# --------------------------------------------------------------------------------------------
# OAuth authorisation-code flow


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS


def _as_https(url: str) -> str:
    """Loopback http URLs pass oauthlib's HTTPS check; everything else is left alone."""
    return "https" + url[4:] if _is_loopback(url) else url


def _as_http(original: str, url: str) -> str:
    return "http" + url[5:] if _is_loopback(original) and url.startswith("https") else url


class OAuthFlow:
    """The authorisation-code flow: :meth:`authorization_url`, the user grants access in a
    browser, then :meth:`fetch_token` with the URL the browser was sent back to (or the code)."""

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
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.api_base = api_base or token_url.rsplit(settings.TOKEN_PATH, 1)[0]
        self.state: str | None = None
        self._client = WebApplicationClient(client_id)

    @property
    def client_secret(self) -> str:
        """The add-on's secret (needed by the client to refresh tokens later)."""
        return self._client_secret

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
        return _as_http(self.authorize_url, url), self.state

    def fetch_token(
        self,
        authorization_response: str | None = None,
        *,
        code: str | None = None,
        state: str | None = None,
        session: requests.Session | None = None,
    ) -> Token:
        """Exchange the code for a token.

        Pass the full URL the browser landed on (its ``state`` is checked against the one from
        :meth:`authorization_url`, or ``state=`` when given) or just the ``code``.
        """
        expected = state or self.state
        if authorization_response:
            code = self._code_from(authorization_response, expected)
        elif code:
            if state and self.state and state != self.state:
                raise StateMismatchError(
                    "The OAuth state does not match the one this flow sent: start the login again."
                )
        else:
            raise ConfigError("Pass the URL you were redirected to, or the authorisation code.")
        body = self._client.prepare_request_body(
            code=code,
            redirect_uri=self.redirect_uri,
            client_secret=self._client_secret,
            include_client_id=True,
        )
        own = session is None
        http = session or requests.Session()
        try:
            answer = _post_token(http, self.token_url, body, refreshing=False)
        finally:
            if own:
                http.close()
        self.state = None
        return Token.from_response(answer)

    def _code_from(self, url: str, expected: str | None) -> str:
        params = dict(parse_qsl(urlsplit(url).query))
        if expected is None:
            raise StateMismatchError(
                "This login flow has no pending state: call authorization_url() first."
            )
        if params.get("state") != expected:
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


# --------------------------------------------------------------------------------------------
# Token file


class TokenStore:
    """The 0600 JSON token file (``settings.token_file()``, directory 0700), one entry per
    ``(api_base, company_id)``; every write replaces the file atomically."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """Where the file lives (resolved from the environment when not given)."""
        return self._path if self._path is not None else settings.token_file()

    @staticmethod
    def _key(api_base: str, company_id: int | None) -> str:
        return f"{api_base.rstrip('/')}/|{company_id}"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            raise ConfigError(f"The token file {self.path} is unreadable: delete it and log in again.") from None
        entries = data.get("tokens") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        path = self.path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.parent.chmod(0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "tokens": entries}, fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def load(self, api_base: str, company_id: int | None = None) -> Token | None:
        """The saved token for that company, or the most recently saved one for ``api_base``."""
        with self._lock:
            entries = self._read()
        if company_id is not None:
            entry = entries.get(self._key(api_base, company_id))
        else:
            prefix = self._key(api_base, None).rsplit("|", 1)[0] + "|"
            mine = [e for k, e in entries.items() if k.startswith(prefix)]
            entry = max(mine, key=lambda e: e.get("saved_at", 0), default=None)
        if not entry:
            return None
        try:
            return Token.from_dict(entry)
        except (KeyError, TypeError):
            return None

    def save(self, api_base: str, token: Token) -> None:
        """Store (or replace) the entry for ``token.company_id``."""
        if token.company_id is None:
            raise ConfigError("A token can only be saved once its company is known.")
        with self._lock:
            entries = self._read()
            entries[self._key(api_base, token.company_id)] = {**token.to_dict(), "saved_at": time.time()}
            self._write(entries)

    def delete(self, api_base: str, company_id: int | None = None) -> None:
        """Forget one company's token, or every token for ``api_base`` when no company is given."""
        with self._lock:
            entries = self._read()
            if company_id is not None:
                entries.pop(self._key(api_base, company_id), None)
            else:
                prefix = self._key(api_base, None).rsplit("|", 1)[0] + "|"
                entries = {k: v for k, v in entries.items() if not k.startswith(prefix)}
            self._write(entries)

    def companies(self, api_base: str) -> list[int]:
        """Companies with a saved token for ``api_base``."""
        with self._lock:
            entries = self._read()
        prefix = self._key(api_base, None).rsplit("|", 1)[0] + "|"
        return sorted(int(e["company_id"]) for k, e in entries.items() if k.startswith(prefix))

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"


# --------------------------------------------------------------------------------------------
# Driving a consent page over HTTP (the embedded sandbox's, in tests and Kounta.sandbox())


class _Forms(HTMLParser):
    """Collects the forms of an HTML page: action, method, fields, selects and submit buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._option: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "fields": {}, "selects": {}, "buttons": []})
            return
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name"):
            if a.get("type", "text").lower() == "submit":
                form["buttons"].append((a["name"], a.get("value", "")))
            else:
                form["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            form["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            form["selects"][self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "label": "", "selected": "selected" in a}
            form["selects"][self._select].append(self._option)

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["label"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None:
            if self._option["value"] is None:
                self._option["value"] = self._option["label"].strip()
            self._option = None
        elif tag == "select":
            self._select = None


def _choose(options: list[dict[str, Any]], company: int | str | None) -> str:
    if not options:
        raise AuthError("The consent page offered no company to share.")
    if company is None:
        chosen = next((o for o in options if o["selected"]), options[0])
        return str(chosen["value"])
    wanted = str(company).strip().lower()
    for option in options:
        if str(option["value"]).lower() == wanted or option["label"].strip().lower() == wanted:
            return str(option["value"])
    for option in options:
        if wanted in option["label"].strip().lower():
            return str(option["value"])
    names = ", ".join(f"{o['label'].strip()} ({o['value']})" for o in options)
    raise ConfigError(f"Company {company!r} is not offered on the consent page; choose one of: {names}.")


def _is_redirect_to(location: str, redirect_uri: str) -> bool:
    a, b = urlsplit(location), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def consent_login(
    authorization_url: str,
    *,
    email: str,
    password: str,
    redirect_uri: str,
    company: int | str | None = None,
    session: requests.Session | None = None,
    max_steps: int = 6,
) -> str:
    """Log in on a consent page and grant access, exactly as a person would with a browser:
    open the authorise URL, submit the login form (``email``, ``password``), pick the company in
    the ``company_id`` drop-down and press ``decision=grant``. Returns the URL the browser is sent
    back to (``redirect_uri?code=…&state=…``), ready for :meth:`OAuthFlow.fetch_token`.
    """
    own = session is None
    http = session or requests.Session()
    http.trust_env = False
    try:
        response = http.get(authorization_url, allow_redirects=False, timeout=settings.TIMEOUT)
        logins = 0
        for _ in range(max_steps):
            if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
                location = urljoin(response.url, response.headers.get("Location", ""))
                if _is_redirect_to(location, redirect_uri):
                    return location
                response = http.get(location, allow_redirects=False, timeout=settings.TIMEOUT)
                continue
            if response.status_code != 200:
                raise AuthError(f"The consent page answered {response.status_code}.")
            parser = _Forms()
            parser.feed(response.text)
            form = next((f for f in parser.forms if "password" in f["fields"] or f["buttons"]), None)
            if form is None:
                raise AuthError("The consent page showed no login or consent form (wrong client id "
                                "or redirect URI?).")
            data = dict(form["fields"])
            if "password" in data:
                logins += 1
                if logins > 1:
                    raise AuthError("The consent page did not accept the e-mail address and password.")
                data.update(email=email, password=password)
            else:
                for name, options in form["selects"].items():
                    data[name] = _choose(options, company)
                grant = next((b for b in form["buttons"] if b[1].lower() == "grant"), None)
                if grant is None:
                    raise AuthError("The consent page has no Grant Access button.")
                data[grant[0]] = grant[1]
            target = urljoin(response.url, form["action"] or response.url)
            if form["method"] == "post":
                response = http.post(target, data=data, allow_redirects=False, timeout=settings.TIMEOUT)
            else:
                response = http.get(target, params=data, allow_redirects=False, timeout=settings.TIMEOUT)
        raise AuthError("The consent page did not send the browser back after several steps.")
    except requests.RequestException as exc:
        raise TransportError(f"Could not reach the consent page ({type(exc).__name__}).") from None
    finally:
        if own:
            http.close()

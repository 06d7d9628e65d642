"""How a :class:`~kounta_nb.client.Kounta` is made: its seven constructors and the environment.

:class:`Connectors` holds the class methods ``basic``, ``from_token``, ``from_env``,
``from_store``, ``oauth`` (→ :class:`~kounta_nb.auth.OAuthFlow`), ``from_flow`` and ``sandbox``;
``Kounta`` inherits them. The option helpers below are the one place where the API base (and the
other hosts) are read from arguments, ``KOUNTA_*`` variables and :mod:`kounta_nb.settings`.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from . import settings
from .auth import BasicCredentials, Credentials, OAuthCredentials, OAuthFlow, Token, TokenStore
from .consent import consent_login, shared_sandbox
from .errors import ConfigError, did_you_mean, warn

__all__ = [
    "OPTIONS",
    "Connectors",
    "api_base_from",
    "authorize_url_from",
    "env",
    "rate_limit_from",
    "token_url_for",
    "check_options",
]

#: Keyword options every constructor accepts (passed on to ``Kounta(...)``).
OPTIONS = ("api_base", "authorize_url", "cache", "rate_limit", "burst", "timeout", "max_retries",
           "token_store", "backoff_base", "offline")  # fmt: skip


def env(name: str) -> str | None:
    """A ``KOUNTA_*`` variable, stripped; None when unset or blank."""
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def api_base_from(value: str | None = None) -> str:
    """The API base: the argument, else ``KOUNTA_API_BASE``, else production — always ending in ``/``."""
    base = value or env(settings.ENV_API_BASE) or settings.API_BASE
    if not isinstance(base, str):
        raise ConfigError(f"api_base must be a URL such as {settings.API_BASE!r}, not {base!r}.")
    return base if base.endswith("/") else base + "/"


def authorize_url_from(value: str | None = None) -> str:
    """The consent page: the argument, else ``KOUNTA_AUTHORIZE_URL``, else production."""
    return value or env(settings.ENV_AUTHORIZE_URL) or settings.AUTHORIZE_URL


def token_url_for(api_base: str) -> str:
    """The token endpoint: ``KOUNTA_TOKEN_URL``, else ``<api base>token``."""
    return env(settings.ENV_TOKEN_URL) or api_base_from(api_base) + settings.TOKEN_PATH


def rate_limit_from(value: Any) -> float | None:
    """Requests per minute: the argument, else ``KOUNTA_RATE_LIMIT``, else None (the API's
    figure for the kind of credentials)."""
    if value is None:
        text = env(settings.ENV_RATE_LIMIT)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{settings.ENV_RATE_LIMIT} must be a number of requests per minute.") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError("rate_limit must be a positive number of requests per minute (or None).")
    return float(value)


def check_options(options: dict[str, Any]) -> None:
    """ConfigError for the first option ``Kounta`` does not know, with a "did you mean"."""
    for name in sorted(options):
        if name not in OPTIONS:
            raise ConfigError(
                f"Unknown Kounta option {name!r}; the options are: {', '.join(OPTIONS)}"
                f"{did_you_mean(name, OPTIONS) or '.'}"
            )


def _client_secret(client_id: str | None, client_secret: str | None) -> tuple[str | None, str | None]:
    return client_id or env(settings.ENV_CLIENT_ID), client_secret or env(settings.ENV_CLIENT_SECRET)


class Connectors:
    """The constructors of :class:`~kounta_nb.client.Kounta` (inherited by it)."""

    if TYPE_CHECKING:
        api_base: str

        def __init__(self, credentials: Credentials, **options: Any) -> None: ...

        def verify_company(self) -> int: ...

        def _save_token(self, token: Token) -> None: ...

    @classmethod
    def basic(cls, client_id: str | None = None, client_secret: str | None = None, **opts: Any) -> Self:
        """Basic authentication (the developer's own company); falls back to
        ``KOUNTA_CLIENT_ID`` / ``KOUNTA_CLIENT_SECRET``."""
        client_id, client_secret = _client_secret(client_id, client_secret)
        if not client_id or not client_secret:
            raise ConfigError(
                "Basic authentication needs a client id and secret: pass them or set "
                f"{settings.ENV_CLIENT_ID} and {settings.ENV_CLIENT_SECRET}."
            )
        return cls(BasicCredentials(client_id, client_secret), **opts)

    @classmethod
    def from_token(
        cls,
        access_token: str | None = None,
        refresh_token: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        expires_at: float | datetime | None = None,
        company_id: int | None = None,
        **opts: Any,
    ) -> Self:
        """An OAuth token you already have (env fallback: ``KOUNTA_ACCESS_TOKEN``,
        ``KOUNTA_REFRESH_TOKEN``, ``KOUNTA_CLIENT_ID``, ``KOUNTA_CLIENT_SECRET``). With a refresh
        token and the client id/secret it refreshes itself; with a refresh token only, it starts by
        refreshing. ``company_id`` is a hint, checked against ``/companies/me`` on first use (a
        different company is a ConfigError)."""
        access_token = access_token or env(settings.ENV_ACCESS_TOKEN)
        refresh_token = refresh_token or env(settings.ENV_REFRESH_TOKEN)
        client_id, client_secret = _client_secret(client_id, client_secret)
        if not access_token and not refresh_token:
            raise ConfigError(
                f"No token given: pass access_token= (or set {settings.ENV_ACCESS_TOKEN}), or log in "
                "with Kounta.oauth(...)."
            )
        if not access_token and not (client_id and client_secret):
            raise ConfigError("A refresh token alone needs the client id and secret to get an access token.")
        if isinstance(expires_at, datetime):
            expires_at = expires_at.timestamp()
        if company_id is not None and (isinstance(company_id, bool) or not str(company_id).isdigit()):
            raise ConfigError(f"company_id must be a numeric id, not {company_id!r}.")
        token = Token(access_token or "", refresh_token, expires_at,
                      company_id=int(company_id) if company_id is not None else None)  # fmt: skip
        credentials = OAuthCredentials(
            token, client_id=client_id, client_secret=client_secret,
            token_url=token_url_for(api_base_from(opts.get("api_base"))),
        )  # fmt: skip
        return cls(credentials, **opts)

    @classmethod
    def from_env(cls, **opts: Any) -> Self:
        """Whatever the environment offers: a token (``KOUNTA_ACCESS_TOKEN`` /
        ``KOUNTA_REFRESH_TOKEN``) first, else Basic (``KOUNTA_CLIENT_ID`` / ``KOUNTA_CLIENT_SECRET``);
        ``KOUNTA_API_BASE``, ``KOUNTA_AUTHORIZE_URL`` and ``KOUNTA_RATE_LIMIT`` are honoured too."""
        if env(settings.ENV_ACCESS_TOKEN) or env(settings.ENV_REFRESH_TOKEN):
            return cls.from_token(**opts)
        if env(settings.ENV_CLIENT_ID) and env(settings.ENV_CLIENT_SECRET):
            return cls.basic(**opts)
        raise ConfigError(
            f"No Kounta credentials in the environment: set {settings.ENV_ACCESS_TOKEN} (and "
            f"{settings.ENV_REFRESH_TOKEN}), or {settings.ENV_CLIENT_ID} and {settings.ENV_CLIENT_SECRET}."
        )

    @classmethod
    def from_store(
        cls,
        company_id: int | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_store: TokenStore | None = None,
        **opts: Any,
    ) -> Self:
        """Reconnect with the token saved in the token file (the most recent one for the API base
        when no company is given). The client id and secret (or their env variables) let it
        refresh. The company the token was filed under is checked against ``/companies/me``."""
        store = token_store or TokenStore()
        api_base = api_base_from(opts.get("api_base"))
        token = store.load(api_base, company_id)
        if token is None:
            raise ConfigError("No saved Kounta login for this API: log in with Kounta.oauth(...) first.")
        client_id, client_secret = _client_secret(client_id, client_secret)
        credentials = OAuthCredentials(token, client_id=client_id, client_secret=client_secret,
                                       token_url=token_url_for(api_base))  # fmt: skip
        return cls(credentials, token_store=store, **opts)

    @classmethod
    def oauth(
        cls,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        **opts: Any,
    ) -> OAuthFlow:
        """Start the authorisation-code flow: ``url, state = flow.authorization_url()``, open it,
        then ``Kounta.from_flow(flow, flow.fetch_token(redirected_url))``."""
        client_id, client_secret = _client_secret(client_id, client_secret)
        redirect_uri = redirect_uri or env(settings.ENV_REDIRECT_URI) or settings.REDIRECT_URI
        if not client_id or not client_secret:
            raise ConfigError(
                "The OAuth login needs the add-on's client id and secret: pass them or set "
                f"{settings.ENV_CLIENT_ID} and {settings.ENV_CLIENT_SECRET}."
            )
        api_base = api_base_from(opts.get("api_base"))
        return OAuthFlow(
            client_id, client_secret, redirect_uri,
            authorize_url=authorize_url_from(opts.get("authorize_url")),
            token_url=token_url_for(api_base), api_base=api_base,
        )  # fmt: skip

    @classmethod
    def from_flow(cls, flow: OAuthFlow, token: Token, **opts: Any) -> Self:
        """The client for a token obtained through ``flow``; it refreshes itself and (unless
        ``token_store=False``) remembers the token in the token file."""
        opts.setdefault("api_base", flow.api_base)
        opts.setdefault("authorize_url", flow.authorize_url)
        endpoint = flow.endpoint
        credentials = OAuthCredentials(
            token, client_id=endpoint.client_id, client_secret=endpoint.client_secret, token_url=endpoint.url
        )
        client = cls(credentials, **opts)
        client.verify_company()
        client._save_token(credentials.token)
        return client

    @classmethod
    def sandbox(
        cls,
        *,
        company: int | str | None = None,
        auth: Literal["oauth", "basic"] = "oauth",
        handle: Any = None,
        **opts: Any,
    ) -> Self:
        """A client for the embedded sandbox (started on first use, then reused). With
        ``auth="oauth"`` it logs in through the sandbox's real consent form over HTTP — the same
        steps a person takes — choosing ``company`` (id or name) in the drop-down.

        The sandbox runs on this machine, so the client does not throttle itself to Kounta's
        per-minute limit unless the sandbox simulates that limit (then it says so, once, and
        keeps to it), or ``rate_limit=`` / ``KOUNTA_RATE_LIMIT`` says otherwise — the same rule
        as ``%kounta sandbox``.
        """
        if auth not in ("oauth", "basic"):
            raise ConfigError("auth must be 'oauth' or 'basic'.")
        handle = handle or shared_sandbox()
        opts.setdefault("api_base", handle.api_base)
        opts.setdefault("authorize_url", handle.authorize_url)
        opts.setdefault("token_store", False)
        # A file of its own, so sandbox answers never sit in the cache of a real account.
        if opts.get("cache") in (None, True):
            opts["cache"] = settings.cache_dir() / settings.SANDBOX_HTTP_CACHE_FILE
        options = getattr(handle, "options", None)
        if opts.get("rate_limit") is None and env(settings.ENV_RATE_LIMIT) is None:
            if getattr(options, "rate_limit", False):
                per_token = getattr(options, "rate_oauth" if auth == "oauth" else "rate_basic")
                opts["rate_limit"] = float(per_token) * float(getattr(options, "time_scale", 1.0))
                warn(f"This sandbox simulates Kounta's rate limit ({opts['rate_limit']:g} requests/min "
                     f"for a {auth} login): the client keeps to it, as it would with Kounta.")  # fmt: skip
            else:
                opts["rate_limit"] = settings.SANDBOX_RATE_LIMIT
        if auth == "basic":
            client = cls.basic(handle.client_id, handle.client_secret, **opts)
            if company is not None:
                client.verify_company()
                me: dict[str, Any] = getattr(client, "company", {})
                wanted = str(company).strip().lower()
                if wanted not in (str(me.get("id")), str(me.get("name", "")).lower()):
                    raise ConfigError(
                        f"Basic authentication only reaches the developer company "
                        f"{me.get('name')!r}; use auth='oauth' to pick another company."
                    )
            return client
        flow = OAuthFlow(
            handle.client_id, handle.client_secret, handle.redirect_uri,
            authorize_url=handle.authorize_url, token_url=handle.token_url, api_base=handle.api_base,
        )  # fmt: skip
        url, _state = flow.authorization_url()
        landed = consent_login(url, email=handle.username, password=handle.password,
                               redirect_uri=handle.redirect_uri, company=company)  # fmt: skip
        return cls.from_flow(flow, flow.fetch_token(landed), **opts)

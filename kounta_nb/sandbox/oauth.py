"""OAuth 2.0 for the sandbox: the authorise page, the token endpoint and the token registry.

It follows the real thing (docs/api.md §2, with WISK's connection flow): a login page, then a company
drop-down with **Grant Access** / **Deny**, then a 302 to ``redirect_uri?code=…&state=…`` (or
``?error=access_denied&state=…``). ``POST /v1/token`` (and ``/v1/token.json``) exchanges a code or
a refresh token; bodies may be form-encoded or JSON; client credentials may be in the body or in
an HTTP Basic header. Codes are single-use and short-lived, refresh tokens reusable, access tokens
expire after ``token_ttl`` seconds. Every token is random and lives only in memory.

Form fields of the authorise page (Playwright and tests rely on them): ``email``, ``password``,
``company_id`` (a ``<select>``), and the buttons ``name="decision"`` with ``value="grant"`` /
``value="deny"``. Hidden fields carry ``response_type``, ``client_id``, ``redirect_uri``, ``state``
and, after the login step, ``session``. A single POST holding ``email``, ``password``,
``company_id`` and ``decision`` does both steps at once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from string import Template
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CODE_TTL_S",
    "LOGIN_EMAIL",
    "LOGIN_PASSWORD",
    "AccessGrant",
    "AuthorizeFlow",
    "Reply",
    "TokenRegistry",
    "redirect_uri_allowed",
    "Directory",
    "SESSION_TTL_S",
]

#: The demo add-on and login (fixed; docs/sandbox.md).
CLIENT_ID = "kounta-nb-sandbox"
CLIENT_SECRET = "sandbox-secret"
LOGIN_EMAIL = "demo@kounta.test"
LOGIN_PASSWORD = "kounta"
#: Authorisation codes are single-use and live this long.
CODE_TTL_S = 120.0
#: A login on the authorise page must be followed by a decision within this time.
SESSION_TTL_S = 900.0

#: (status, headers, body) — what every handler here returns to the WSGI layer.
Reply = tuple[int, list[tuple[str, str]], bytes]

_NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


class Directory(Protocol):
    """What the OAuth pages need from the data layer (satisfied by ``business.Business``)."""

    companies: dict[int, Any]
    users: dict[str, Any]


@dataclass(slots=True)
class AccessGrant:
    """What an access token stands for."""

    company_id: int
    client_id: str
    email: str
    expires_at: float  # time.monotonic()
    refresh_token: str | None


@dataclass(slots=True)
class _Code:
    company_id: int
    client_id: str
    email: str
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass(slots=True)
class _Refresh:
    company_id: int
    client_id: str
    email: str
    access_tokens: set[str] = field(default_factory=set)


class TokenRegistry:
    """Authorisation codes, access and refresh tokens, in memory and thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, _Refresh] = {}

    # -- issuing -------------------------------------------------------------------------------
    def new_code(self, company_id: int, client_id: str, email: str, redirect_uri: str) -> str:
        """A fresh single-use authorisation code."""
        code = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._codes = {k: v for k, v in self._codes.items() if v.expires_at > now}
            self._codes[code] = _Code(company_id, client_id, email, redirect_uri, now + CODE_TTL_S)
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str | None) -> _Code | str:
        """The code's grant, or an ``error_description`` when it cannot be used."""
        now = time.monotonic()
        with self._lock:
            entry = self._codes.get(code)
            if entry is None:
                return "The authorization code is unknown."
            if entry.used:
                return "The authorization code has already been used."
            if entry.expires_at <= now:
                return "The authorization code has expired."
            if entry.client_id != client_id:
                return "The authorization code was issued to another client."
            if redirect_uri is not None and redirect_uri != entry.redirect_uri:
                return "The redirect_uri does not match the one used on the authorise page."
            entry.used = True
            return entry

    def issue(self, company_id: int, client_id: str, email: str, ttl: float,
              refresh_token: str | None = None) -> tuple[str, str]:
        """A new access token (and a refresh token unless one is passed in to reuse)."""
        access = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if refresh_token is None:
                refresh_token = secrets.token_urlsafe(32)
                self._refresh[refresh_token] = _Refresh(company_id, client_id, email)
            self._refresh[refresh_token].access_tokens.add(access)
            self._access[access] = AccessGrant(company_id, client_id, email, now + ttl, refresh_token)
            if len(self._access) > 4096:
                self._prune(now)
        return access, refresh_token

    def refresh_grant(self, refresh_token: str, client_id: str) -> _Refresh | str:
        """The refresh token's grant, or an ``error_description``."""
        with self._lock:
            entry = self._refresh.get(refresh_token)
        if entry is None:
            return "The refresh token is invalid or has been revoked."
        if entry.client_id != client_id:
            return "The refresh token was issued to another client."
        return entry

    # -- checking ------------------------------------------------------------------------------
    def check(self, access_token: str) -> AccessGrant | str:
        """The grant behind a bearer token, or ``"invalid_token"`` / ``"expired_token"``."""
        with self._lock:
            grant = self._access.get(access_token)
        if grant is None:
            return "invalid_token"
        if grant.expires_at <= time.monotonic():
            return "expired_token"
        return grant

    # -- control knobs -------------------------------------------------------------------------
    def expire_all(self, in_seconds: float = 0.0) -> int:
        """Make every access token expire now (or within ``in_seconds``); returns how many there were."""
        when = time.monotonic() + in_seconds if in_seconds > 0 else time.monotonic() - 1.0
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = min(grant.expires_at, when)
            return len(self._access)

    def revoke(self, refresh_token: str | None = None) -> int:
        """Revoke one refresh token (or all) and the access tokens issued from it."""
        with self._lock:
            keys = list(self._refresh) if refresh_token is None else [refresh_token]
            count = 0
            for key in keys:
                entry = self._refresh.pop(key, None)
                if entry is None:
                    continue
                count += 1
                for access in entry.access_tokens:
                    self._access.pop(access, None)
            return count

    def counts(self) -> dict[str, int]:
        """How many codes and tokens are held (for ``/_sandbox/info``)."""
        with self._lock:
            return {"codes": len(self._codes), "access_tokens": len(self._access),
                    "refresh_tokens": len(self._refresh)}

    def _prune(self, now: float) -> None:
        # Tokens expired for more than a day can only ever answer "invalid" instead of "expired".
        stale = [k for k, g in self._access.items() if g.expires_at < now - 86400]
        for key in stale:
            del self._access[key]


def redirect_uri_allowed(uri: str, extra: tuple[str, ...] = ()) -> bool:
    """Is ``uri`` registered on the demo add-on?

    Any ``http`` loopback URI (``127.0.0.1``/``localhost``/``[::1]``, any port, any path: RFC 8252
    §7.3), which includes the sandbox's own ``/oauth/done``, plus the exact URIs in ``extra``.
    """
    if uri in extra:
        return True
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return (parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
            and not parts.fragment and not parts.username)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _page(title: str, body: str, status: int = 200) -> Reply:
    template = Template(resources.files(__package__).joinpath("templates/page.html").read_text("utf-8"))
    html = template.substitute(title=escape(title), body=body).encode("utf-8")
    return status, [("Content-Type", "text/html; charset=utf-8"), *_NO_STORE], html


def _redirect(location: str) -> Reply:
    return 302, [("Location", location), *_NO_STORE], b""


def _json(status: int, body: dict[str, Any], extra: list[tuple[str, str]] | None = None) -> Reply:
    return status, [("Content-Type", "application/json; charset=utf-8"), *_NO_STORE,
                    *(extra or [])], json.dumps(body).encode("utf-8")


def _hidden(params: dict[str, str]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )


@dataclass(slots=True)
class _Session:
    email: str
    expires_at: float


class AuthorizeFlow:
    """The authorise pages, the ``/oauth/done`` page and the token endpoint."""

    def __init__(self, directory: Directory, registry: TokenRegistry) -> None:
        self.directory = directory
        self.registry = registry
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # -- authorise page ------------------------------------------------------------------------
    def authorize(self, method: str, query: dict[str, str], form: dict[str, str],
                  extra_uris: tuple[str, ...] = ()) -> Reply:
        """``GET``/``POST /authorize``."""
        params = {**query, **form} if method == "POST" else query
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id != CLIENT_ID:
            return self._error_page(
                "Unknown application",
                "The client_id does not belong to any add-on, so there is nowhere safe to send you back to.",
            )
        if not redirect_uri or not redirect_uri_allowed(redirect_uri, extra_uris):
            return self._error_page(
                "Redirect URI not registered",
                "The redirect_uri is not registered on this add-on, so Kounta will not send your "
                "authorisation there.",
            )
        state = params.get("state", "")
        back = {"state": state} if state else {}
        if params.get("response_type") != "code":
            return _redirect(_with_query(redirect_uri, {
                "error": "unsupported_response_type",
                "error_description": "Only response_type=code is supported.", **back}))
        if not state:
            return _redirect(_with_query(redirect_uri, {
                "error": "invalid_request", "error_description": "The state parameter is required."}))
        oauth = {"response_type": "code", "client_id": client_id,
                 "redirect_uri": redirect_uri, "state": state}
        if method != "POST":
            return self._login_page(oauth)

        session = form.get("session", "")
        email = self._session_email(session)
        if email is None and ("email" in form or "password" in form):
            session = self._login(form.get("email", ""), form.get("password", "")) or ""
            email = self._session_email(session)
            if email is None:
                return self._login_page(oauth, error="The e-mail address or password is incorrect.",
                                        email=form.get("email", ""))
        if email is None:
            return self._login_page(oauth, error="Your login has expired; please log in again.")

        decision = form.get("decision")
        if decision == "deny":
            self._end_session(session)
            return _redirect(_with_query(redirect_uri, {"error": "access_denied", **back}))
        companies = self._companies_for(email)
        if decision != "grant":
            return self._consent_page(oauth, email, companies, session)
        chosen = form.get("company_id") or (str(companies[0][0]) if len(companies) == 1 else "")
        if not chosen.isdigit() or int(chosen) not in {cid for cid, _ in companies}:
            return self._consent_page(oauth, email, companies, session,
                                      error="Choose the company you want to share.")
        self._end_session(session)
        code = self.registry.new_code(int(chosen), client_id, email, redirect_uri)
        return _redirect(_with_query(redirect_uri, {"code": code, **back}))

    def done_page(self, full_url: str, query: dict[str, str]) -> Reply:
        """``GET /oauth/done``: show the redirected URL so it can be pasted into a notebook."""
        if "error" in query:
            lead = (f"Access was not granted (<code>{escape(query['error'])}</code>). "
                    "Paste this address into your notebook so it can tell you why.")
        else:
            lead = "Access granted. Copy this whole address and paste it back into your notebook."
        body = f"""<h1>Back to your notebook</h1>
<p class="lead">{lead}</p>
<label for="url">Redirected URL</label>
<input id="url" name="url" type="text" class="url" readonly value="{escape(full_url)}" onclick="this.select()">
<p class="url" id="url-text">{escape(full_url)}</p>"""
        return _page("Authorised", body)

    # -- token endpoint ------------------------------------------------------------------------
    def token(self, content_type: str, raw: bytes, authorization: str, ttl: float,
              omit_refresh: bool) -> Reply:
        """``POST /v1/token`` for the ``authorization_code`` and ``refresh_token`` grants."""
        params = self._token_params(content_type, raw)
        if params is None:
            return _json(400, {"error": "invalid_request",
                               "error_description": "The request body is neither form-encoded nor a JSON object."})
        client_id, client_secret = params.get("client_id", ""), params.get("client_secret", "")
        basic = _basic_pair(authorization)
        if basic is not None:
            client_id, client_secret = basic
        if client_id != CLIENT_ID or not hmac.compare_digest(client_secret, CLIENT_SECRET):
            return _json(401, {"error": "invalid_client",
                               "error_description": "The client credentials are invalid."},
                         [("WWW-Authenticate", 'Basic realm="Kounta"')])
        grant = params.get("grant_type", "")
        if grant == "authorization_code":
            if not params.get("code"):
                return _json(400, {"error": "invalid_request",
                                   "error_description": "The code parameter is required."})
            entry = self.registry.redeem_code(params["code"], client_id, params.get("redirect_uri"))
            if isinstance(entry, str):
                return _json(400, {"error": "invalid_grant", "error_description": entry})
            access, refresh = self.registry.issue(entry.company_id, client_id, entry.email, ttl)
            return _json(200, _token_body(access, refresh, ttl))
        if grant == "refresh_token":
            if not params.get("refresh_token"):
                return _json(400, {"error": "invalid_request",
                                   "error_description": "The refresh_token parameter is required."})
            found = self.registry.refresh_grant(params["refresh_token"], client_id)
            if isinstance(found, str):
                return _json(400, {"error": "invalid_grant", "error_description": found})
            access, refresh = self.registry.issue(found.company_id, client_id, found.email, ttl,
                                                  refresh_token=params["refresh_token"])
            return _json(200, _token_body(access, None if omit_refresh else refresh, ttl))
        if not grant:
            return _json(400, {"error": "invalid_request",
                               "error_description": "The grant_type parameter is required."})
        return _json(400, {"error": "unsupported_grant_type",
                           "error_description": f"The grant type {grant[:40]!r} is not supported."})

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _token_params(content_type: str, raw: bytes) -> dict[str, str] | None:
        text = raw.decode("utf-8", errors="replace").strip()
        if "json" in content_type or text.startswith("{"):
            try:
                data = json.loads(text or "{}")
            except (ValueError, RecursionError):
                return None
            if not isinstance(data, dict):
                return None
            return {str(k): "" if v is None else str(v) for k, v in data.items()}
        return dict(parse_qsl(text, keep_blank_values=True))

    def _login(self, email: str, password: str) -> str | None:
        """A new login session for valid credentials, else ``None``."""
        user = self.directory.users.get(email.strip().lower())
        if user is None or not hmac.compare_digest(str(user.password), password):
            return None
        session = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._sessions = {k: v for k, v in self._sessions.items() if v.expires_at > now}
            self._sessions[session] = _Session(user.email, now + SESSION_TTL_S)
        return session

    def _session_email(self, session: str) -> str | None:
        if not session:
            return None
        with self._lock:
            entry = self._sessions.get(session)
        if entry is None or entry.expires_at <= time.monotonic():
            return None
        return entry.email

    def _end_session(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)

    def _companies_for(self, email: str) -> list[tuple[int, str]]:
        user = self.directory.users[email]
        out = []
        for cid in user.company_ids:
            company = self.directory.companies.get(cid)
            if company is not None:
                out.append((cid, str(company.record.get("name", cid))))
        return out

    def _login_page(self, oauth: dict[str, str], error: str = "", email: str | None = None) -> Reply:
        err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
        # The first visit comes pre-filled with the demo login; after a wrong password the form
        # keeps what the user typed and leaves the password empty.
        password = LOGIN_PASSWORD if email is None else ""
        email = LOGIN_EMAIL if email is None else email
        others = ", ".join(f"<code>{escape(u.email)}</code> / <code>{escape(u.password)}</code>"
                           for u in self.directory.users.values() if u.email != LOGIN_EMAIL)
        body = f"""<h1>Log in to Kounta</h1>
<p class="lead">An application is asking to connect to your Kounta account.</p>
<div class="demo" role="note"><strong>Demo sandbox</strong> — nothing here is a real Kounta account.
Log in as <code>{escape(LOGIN_EMAIL)}</code> with password <code>{escape(LOGIN_PASSWORD)}</code>
(filled in below; it sees every company){f". Others: {others}" if others else ""}.</div>
{err}<form method="post" action="/authorize">
{_hidden(oauth)}
<label for="email">E-mail address</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{escape(email)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
 value="{escape(password)}">
<div class="buttons"><button class="primary" type="submit">Log in</button></div>
</form>"""
        return _page("Log in", body)

    def _consent_page(self, oauth: dict[str, str], email: str, companies: list[tuple[int, str]],
                      session: str, error: str = "") -> Reply:
        options = "\n".join(f'<option value="{cid}">{escape(name)}</option>' for cid, name in companies)
        err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
        body = f"""<h1>Authorise access</h1>
<p class="lead">Logged in as <strong>{escape(email)}</strong>. Choose the company whose sales,
products and staff this application may read and update.</p>
{err}<form method="post" action="/authorize">
{_hidden({**oauth, "session": session})}
<label for="company_id">Company</label>
<select id="company_id" name="company_id">
{options}
</select>
<div class="buttons">
<button class="secondary" type="submit" name="decision" value="deny">Deny</button>
<button class="primary" type="submit" name="decision" value="grant">Grant Access</button>
</div>
</form>"""
        return _page("Authorise access", body)

    @staticmethod
    def _error_page(title: str, message: str) -> Reply:
        body = f'<h1>{escape(title)}</h1>\n<div class="error" role="alert">{escape(message)}</div>'
        return _page(title, body, status=400)


def _token_body(access: str, refresh: str | None, ttl: float) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": access}
    if refresh is not None:
        body["refresh_token"] = refresh
    body.update({"expires_in": max(1, math.ceil(ttl)), "token_type": "Bearer", "scope": None})
    return body


def _basic_pair(authorization: str) -> tuple[str, str] | None:
    """``(user, password)`` from an HTTP Basic header, or ``None``."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None

"""Driving the embedded sandbox's consent page over HTTP, as a person with a browser would, and
the process-wide sandbox that :meth:`kounta_nb.Kounta.sandbox` logs in to.

This is the client's sandbox-login code: it never imports :mod:`kounta_nb.sandbox` (the sandbox is
reached through ``kounta_nb.start_sandbox``, imported lazily, and then only over HTTP), so the two
halves stay independent implementations of the API.
"""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from . import settings
from .errors import AuthError, ConfigError, TransportError

__all__ = ["consent_login", "shared_sandbox"]

_SANDBOX_LOCK = threading.Lock()
#: The sandbox started by :func:`shared_sandbox` (a ``SandboxHandle``), reused while it answers.
_SANDBOX: Any = None


def shared_sandbox() -> Any:
    """The embedded sandbox, started once per process and reused while it answers."""
    global _SANDBOX
    with _SANDBOX_LOCK:
        if _SANDBOX is not None:
            try:
                requests.get(_SANDBOX.url + "/_sandbox/info", timeout=2).raise_for_status()
                return _SANDBOX
            except requests.RequestException:
                _SANDBOX = None
        import kounta_nb

        _SANDBOX = kounta_nb.start_sandbox()
        return _SANDBOX


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

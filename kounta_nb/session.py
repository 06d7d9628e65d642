"""The notebook's connection state, shared by the ``%kounta`` magics and the widgets.

A :class:`Session` holds every company logged in during the notebook (a consultant or a group may
have several), one of them *current* — the one later commands use — and each company's default
site; the embedded sandbox when one was started; and a function that returns the client options
from ``%config Kounta.*``. ``client``, ``site_id`` and ``company_name`` are traits describing the
current connection, so widgets can observe them.

Choices worth keeping between kernels (the last site picked, the end of the last fetch per
resource) go to a small JSON file in :func:`kounta_nb.settings.config_dir`, per company, ``0600``
in a ``0700`` directory — never a token. A damaged file is moved aside with one warning.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traitlets import Any as AnyTrait
from traitlets import HasTraits, Int, Unicode

from . import files, settings
from .errors import ConfigError, warn

__all__ = [
    "Session", "choices_file", "load_choices", "retire", "save_choice", "NOT_CONNECTED",
]

NOT_CONNECTED = (
    "Not connected to Kounta: run `%kounta login` (or `%kounta sandbox` to try it without an account)."
)


def retire(client: Any) -> int:
    """Cancel the background pulls that use ``client``, then close it; returns how many pulls
    were cancelled (they resume from their store when started again)."""
    cancelled = 0
    # Only if the engine was ever imported: otherwise no pull can be running.
    pull = sys.modules.get("kounta_nb.pull")
    if pull is not None:
        for job in pull.running_jobs(client):
            job.cancel()
            cancelled += 1
    with contextlib.suppress(Exception):
        client.close()
    return cancelled


def choices_file() -> Path:
    """``<config dir>/choices.json``: remembered site and fetch ends, keyed by company id."""
    return settings.config_dir() / "choices.json"


_CHOICES_LOCK = threading.Lock()


def _read_choices(path: Path) -> dict[str, Any]:
    """The whole file; a damaged one is moved aside with one warning and read as empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        warn(f"Could not read the remembered choices in {path} ({exc.strerror or exc}); carrying on without them.")
        return {}
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ValueError("not an object of objects")
    except ValueError:
        try:
            moved = files.move_aside(path)
        except OSError:
            warn(f"The remembered choices in {path} are damaged and could not be moved aside; ignoring them.")
        else:
            warn(f"The remembered choices in {path} were damaged; moved to {moved.name} and starting afresh.")
        return {}
    return data


def load_choices(company_id: int) -> dict[str, Any]:
    """What was remembered for ``company_id`` (an empty dict when nothing)."""
    with _CHOICES_LOCK:
        entry = _read_choices(choices_file()).get(str(company_id))
    return dict(entry) if isinstance(entry, dict) else {}


def save_choice(company_id: int, key: str, value: Any) -> None:
    """Remember ``key = value`` for ``company_id`` (``value=None`` forgets it); the file is
    written atomically, ``0600`` in a ``0700`` directory."""
    path = choices_file()
    with _CHOICES_LOCK:
        data = _read_choices(path)
        entry = data.setdefault(str(company_id), {})
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
        files.write_private_text(path, json.dumps(data, indent=1, sort_keys=True))


def _key(client: Any) -> tuple[str, int]:
    return (str(client.api_base), int(client.company_id))


class Session(HasTraits):
    """One notebook's Kounta connections.

    ``client`` is the current :class:`kounta_nb.Kounta` (or None), ``site_id`` its default site
    for later commands (None = all sites), ``company_name`` for display. Observe them with
    ``session.observe(handler, "client")``. :attr:`clients` lists every company logged in.
    """

    client = AnyTrait(None, allow_none=True)
    site_id = Int(None, allow_none=True)
    company_name = Unicode("")

    def __init__(self, options: Callable[[], dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._options = options or dict
        self.sandbox_handle: Any = None
        self.preferred_site: str = ""
        # every connection, in login order, keyed by (API base, company id); and each one's site
        self._clients: dict[tuple[str, int], Any] = {}
        self._sites: dict[tuple[str, int], int | None] = {}

    # -- client construction -------------------------------------------------------------------

    def client_options(self) -> dict[str, Any]:
        """Keyword options for ``Kounta`` constructors (cache, rate limit, API base…)."""
        return dict(self._options())

    def sandbox_options(self) -> dict[str, Any]:
        """Client options for the embedded sandbox: its API base, no token file, and — unless
        the sandbox simulates rate limits or ``Kounta.rate_limit`` says otherwise — no
        client-side throttling to the production figure (the sandbox is on this machine)."""
        handle = self.start_sandbox()
        options = self.client_options()
        options.pop("authorize_url", None)
        options["api_base"] = handle.api_base
        options["token_store"] = False
        if "rate_limit" not in options and not handle.options.rate_limit:
            options["rate_limit"] = settings.SANDBOX_RATE_LIMIT
        return options

    def start_sandbox(self) -> Any:
        """The embedded sandbox of this session, started on first use and then reused."""
        if self.sandbox_handle is not None and not self.answers(self.sandbox_handle):
            self.sandbox_handle = None
        if self.sandbox_handle is None:
            from . import start_sandbox

            self.sandbox_handle = start_sandbox()
        return self.sandbox_handle

    @staticmethod
    def answers(handle: Any) -> bool:
        """Whether the sandbox behind ``handle`` still answers over HTTP."""
        try:
            with urllib.request.urlopen(f"{handle.url}/_sandbox/info", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def on_sandbox(self, client: Any = None) -> bool:
        """Whether ``client`` (default: the current one) talks to this session's embedded sandbox."""
        client = self.client if client is None else client
        handle = self.sandbox_handle
        return client is not None and handle is not None and client.api_base == handle.api_base

    # -- connections ---------------------------------------------------------------------------

    @property
    def clients(self) -> list[Any]:
        """Every connected client, in the order they logged in."""
        return list(self._clients.values())

    def require(self) -> Any:
        """The current client, or ``ConfigError`` saying how to connect."""
        if self.client is None:
            raise ConfigError(NOT_CONNECTED)
        return self.client

    def connect(self, client: Any) -> None:
        """Add ``client`` and make it the current connection; a previous client of the same
        company (same API) is closed, its background pulls stopped (they resume when run again).

        The site comes from, in order: ``preferred_site`` (the ``Kounta.site`` option or a
        parameter), the ``KOUNTA_SITE`` environment variable, the last choice remembered for this
        company; otherwise all sites. Other companies stay connected: ``switch`` goes back.
        """
        key = _key(client)
        previous = self._clients.get(key)
        company = client.company
        site = self._initial_site(client)
        self._remember_site()
        self._clients.pop(key, None)
        self._clients[key] = client
        self._sites[key] = site
        # the new client first: observers of site_id (venue pickers) read the session's client
        self.client = client
        self.company_name = str(company.get("name") or f"company {client.company_id}")
        self.site_id = site
        if previous is not None and previous is not client:
            retire(previous)

    def find(self, company: int | str) -> Any:
        """The connected client of ``company`` (id or name, case-insensitive); ConfigError naming
        the companies logged in otherwise."""
        from .magic_args import suggest

        wanted = str(company).strip()
        if not wanted:
            raise ConfigError("company needs a company name or id.")
        for client in self._clients.values():
            if str(client.company_id) == wanted:
                return client
        names = {self.name_of(c): c for c in self._clients.values()}
        for name, client in names.items():
            if name.lower() == wanted.lower():
                return client
        if not names:
            raise ConfigError(NOT_CONNECTED)
        listed = ", ".join(f"{name} ({c.company_id})" for name, c in names.items())
        hint = suggest(wanted, names)
        raise ConfigError(f"No company {wanted!r} is logged in{hint}. Logged in: {listed}; "
                          "`%kounta login` adds another.")

    def switch(self, company: int | str) -> Any:
        """Make the connected company ``company`` (id or name) the current one; returns its client."""
        client = self.find(company)
        if client is not self.client:
            self._remember_site()
            key = _key(client)
            self.client = client
            self.company_name = self.name_of(client)
            self.site_id = self._sites.get(key)
        return client

    @staticmethod
    def name_of(client: Any) -> str:
        """The company's name as the session shows it."""
        with contextlib.suppress(Exception):
            name = client.company.get("name")
            if name:
                return str(name)
        return f"company {client.company_id}"

    def _remember_site(self) -> None:
        if self.client is not None:
            self._sites[_key(self.client)] = self.site_id

    def _initial_site(self, client: Any) -> int | None:
        wanted = self.preferred_site or os.environ.get(settings.ENV_SITE, "")
        if wanted:
            return int(client.resolve_site(wanted))
        remembered = load_choices(client.company_id).get("site")
        if isinstance(remembered, int) and not isinstance(remembered, bool):
            known = {int(site["id"]) for site in client.sites()}
            if remembered in known:
                return remembered
        return None

    def choose_site(self, site: int | str | None, *, remember: bool = True) -> int | None:
        """Set the default site (id, code or name; None or 0 = all sites) and remember it."""
        client = self.require()
        if isinstance(site, str) and not site.strip():
            raise ConfigError("A site needs an id, code or name (or `all` for every site).")
        site_id = None if site is None or site == 0 else int(client.resolve_site(site))
        self.site_id = site_id
        self._sites[_key(client)] = site_id
        if remember:
            save_choice(client.company_id, "site", site_id)
        return site_id

    def site_name(self, site_id: int | None = None) -> str:
        """A readable name for ``site_id`` (default: the current default site)."""
        site_id = self.site_id if site_id is None else site_id
        if site_id is None:
            return "all sites"
        if self.client is not None:
            for site in self.client.sites():
                if int(site["id"]) == site_id:
                    return f"{site.get('name')} (id {site_id})"
        return f"site {site_id}"

    def disconnect(self, client: Any = None) -> int:
        """Close and forget ``client`` (default: the current one; the embedded sandbox, if any,
        keeps running); its background pulls are cancelled first. The most recent other
        connection becomes current. Returns how many pulls were cancelled."""
        client = self.client if client is None else client
        if client is None:
            return 0
        key = _key(client)
        self._clients.pop(key, None)
        self._sites.pop(key, None)
        if client is self.client:
            successor = next(reversed(self._clients.values()), None)
            self.client = successor
            self.company_name = self.name_of(successor) if successor is not None else ""
            self.site_id = self._sites.get(_key(successor)) if successor is not None else None
        return retire(client)

    def close(self) -> None:
        """Disconnect every company and stop the embedded sandbox."""
        for client in self.clients:
            self.disconnect(client)
        handle, self.sandbox_handle = self.sandbox_handle, None
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.stop()

"""The notebook's connection state, shared by the ``%kounta`` magics and the widgets.

A :class:`Session` holds the one connected client, the default site for later commands, the
embedded sandbox when one was started, and a function that returns the client options from
``%config Kounta.*``. Choices worth keeping between kernels (the last site picked, the end of the
last pull per resource) go to a small JSON file in :func:`kounta_nb.settings.config_dir`, per
company — never a token.
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

from . import settings
from .errors import ConfigError

__all__ = ["Session", "choices_file", "load_choices", "retire", "save_choice"]

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
    """``<config dir>/choices.json``: remembered site and pull ends, keyed by company id."""
    return settings.config_dir() / "choices.json"


def load_choices(company_id: int) -> dict[str, Any]:
    """What was remembered for ``company_id`` (an empty dict when nothing or unreadable)."""
    try:
        data = json.loads(choices_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entry = data.get(str(company_id)) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) else {}


_CHOICES_LOCK = threading.Lock()


def save_choice(company_id: int, key: str, value: Any) -> None:
    """Remember ``key = value`` for ``company_id`` (``value=None`` forgets it)."""
    path = choices_file()
    with _CHOICES_LOCK:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        entry = data.setdefault(str(company_id), {})
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


#: Requests per minute the client allows itself against a sandbox that does not rate-limit.
SANDBOX_UNTHROTTLED = 60_000


class Session(HasTraits):
    """One notebook's Kounta connection.

    ``client`` is a :class:`kounta_nb.Kounta` (or None), ``site_id`` the default site of later
    commands (None = all sites), ``company_name`` for display. Observe them with
    ``session.observe(handler, "client")``.
    """

    client = AnyTrait(None, allow_none=True)
    site_id = Int(None, allow_none=True)
    company_name = Unicode("")

    def __init__(self, options: Callable[[], dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._options = options or dict
        self.sandbox_handle: Any = None
        self.preferred_site: str = ""

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
            options["rate_limit"] = SANDBOX_UNTHROTTLED
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

    # -- connection ------------------------------------------------------------------------------

    def require(self) -> Any:
        """The connected client, or ``ConfigError`` saying how to connect."""
        if self.client is None:
            raise ConfigError(NOT_CONNECTED)
        return self.client

    def connect(self, client: Any) -> None:
        """Adopt ``client`` (closing any previous one) and choose its default site.

        The site comes from, in order: ``preferred_site`` (the ``Kounta.site`` option or a
        parameter), the ``KOUNTA_SITE`` environment variable, the last choice remembered for this
        company; otherwise all sites.
        """
        previous = self.client
        company = client.company
        site = self._initial_site(client)
        # the new client first: observers of site_id (venue pickers) read the session's client
        self.client = client
        self.company_name = str(company.get("name") or f"company {client.company_id}")
        self.site_id = site
        if previous is not None and previous is not client:
            retire(previous)

    def _initial_site(self, client: Any) -> int | None:
        wanted = self.preferred_site or os.environ.get(settings.ENV_SITE, "")
        if wanted:
            return int(client.resolve_site(wanted))
        remembered = load_choices(client.company_id).get("site")
        if isinstance(remembered, int):
            known = {int(site["id"]) for site in client.sites()}
            if remembered in known:
                return remembered
        return None

    def choose_site(self, site: int | str | None, *, remember: bool = True) -> int | None:
        """Set the default site (id, code or name; None = all sites) and remember it."""
        client = self.require()
        site_id = None if site in (None, "", 0) else int(client.resolve_site(site))
        self.site_id = site_id
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

    def disconnect(self) -> int:
        """Close and forget the client (the embedded sandbox, if any, keeps running); its
        background pulls are cancelled first. Returns how many were."""
        client, self.client = self.client, None
        self.site_id = None
        self.company_name = ""
        return retire(client) if client is not None else 0

    def close(self) -> None:
        """Disconnect and stop the embedded sandbox."""
        self.disconnect()
        handle, self.sandbox_handle = self.sandbox_handle, None
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.stop()

"""The sub-commands of ``%kounta``: routing, connections, status, cache, ``get`` and writes.

:class:`Commands` routes a parsed line to its handler and refuses, in one sentence, anything the
command does not use (an option, an extra word, a cell body). Resources (``%kounta orders …``) are
fetched by :mod:`kounta_nb.magic_fetch`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from IPython import display as _ipython_display

from . import settings
from .errors import APIError, ConfigError
from .magic_args import COMMANDS, WRITE_COMMANDS, parse_pairs, suggest
from .magic_data import as_dataframe, check_target, dataset_line, run_sql, write_to
from .magic_fetch import Fetcher, positive_int

if TYPE_CHECKING:
    import argparse

    from .magic_config import KountaConfig
    from .session import Session

__all__ = ["Commands", "MagicsLike"]

_display: Callable[..., None] = getattr(_ipython_display, "display")  # noqa: B009 - IPython's is untyped


class MagicsLike(Protocol):
    """What the commands need from :class:`~kounta_nb.magics.KountaMagics`."""

    options: KountaConfig
    session: Session

    def store(self, name: str, value: Any) -> None: ...

    def show_expired(self) -> None: ...


#: ``%%kounta post|put|delete PATH`` → the client's write method for that path (PATCH = PUT).
_WRITES: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = [
    ("POST", re.compile(r"orders"), lambda c, b: c.create_order(b)),
    ("POST", re.compile(r"orders/(\d+)/payments"), lambda c, b, o: c.add_payment(int(o), b)),
    ("PUT", re.compile(r"orders/(\d+)"), lambda c, b, o: c.update_order(int(o), b)),
    ("PUT", re.compile(r"orders/(\d+)/payments/(\d+)"), lambda c, b, o, n: c.update_payment(int(o), int(n), b)),
    ("POST", re.compile(r"customers"), lambda c, b: c.create_customer(b)),
    ("PUT", re.compile(r"customers/(\d+)"), lambda c, b, i: c.update_customer(int(i), b)),
    ("POST", re.compile(r"categories"), lambda c, b: c.create_category(b)),
    ("PUT", re.compile(r"categories/(\d+)"), lambda c, b, i: c.update_category(int(i), b)),
    ("PUT", re.compile(r"sites/(\d+)"), lambda c, b, i: c.update_site(int(i), b)),
    ("PUT", re.compile(r"reconciliations/(\d+)"), lambda c, b, i: c.update_reconciliation(int(i), b)),
    ("POST", re.compile(r"webhooks"), lambda c, b: c.create_webhook(b)),
    ("PUT", re.compile(r"webhooks/(\d+)"), lambda c, b, i: c.update_webhook(int(i), b)),
    ("DELETE", re.compile(r"webhooks/(\d+)"), lambda c, b, i: c.delete_webhook(int(i))),
]  # fmt: skip
_WRITABLE = "; ".join(f"{verb} {pattern.pattern}" for verb, pattern, _ in _WRITES).replace(r"(\d+)", "{id}")
_COMPANY_PREFIX = re.compile(r"^companies/(me|\d+)/", re.ASCII)


class Commands:
    """Every ``%kounta`` sub-command, given the magics (session, options, namespace)."""

    def __init__(self, magics: MagicsLike) -> None:
        self.magics = magics
        self.fetcher = Fetcher(magics)
        self._handlers: dict[str, Callable[[argparse.Namespace], Any]] = {
            "login": self.login,
            "logout": self.logout,
            "sandbox": self.sandbox,
            "status": self.status,
            "companies": self.companies,
            "venue": self.venue,
            "get": self.get,
            "cache": self.cache,
        }

    @property
    def session(self) -> Session:
        return self.magics.session

    # -- routing ---------------------------------------------------------------------------------

    def run(self, args: argparse.Namespace, body: str | None = None) -> Any:
        """Run the parsed line ``args`` (``body``: the cell of a write) and return its result;
        with ``-o NAME`` store it and return None."""
        from . import tables

        command = args.command
        allowed: frozenset[str]
        handler: Callable[[argparse.Namespace], Any]
        if command == "company" and args.args:  # `%kounta company NAME` switches; alone, the record
            allowed, handler = COMMANDS["company"], self.company
        elif command in WRITE_COMMANDS:
            allowed, handler = COMMANDS[command], lambda a: self.write(a, body)
        elif command == "sql":
            allowed, handler = COMMANDS[command], lambda a: self.sql(a, body)
        elif command in self._handlers:
            allowed, handler = COMMANDS[command], self._handlers[command]
        elif command in tables.RESOURCES:
            allowed, handler = COMMANDS["<resource>"], self.fetcher.run
        else:
            known = [*self._handlers, *WRITE_COMMANDS, *tables.RESOURCES]
            hint = suggest(command, known)
            listing = (f" Commands: {', '.join(self._handlers)}, company NAME, post, put, delete; "
                       f"resources: {', '.join(sorted(tables.RESOURCES))}.")
            raise ConfigError(f"Unknown command or resource {command!r}{hint}.{'' if hint else listing}")
        extra = sorted(args.given - allowed)
        if extra:
            names = ", ".join(f"--{name.replace('_', '-')}" for name in extra)
            raise ConfigError(f"{command} does not take {names}.")
        if args.to is not None:
            check_target(args.to)
        result = handler(args)
        if hasattr(result, "shape") and hasattr(result, "columns"):
            result = as_dataframe(result, self.magics.options)
            if args.to is not None:
                write_to(result, args.to)
        if args.out:
            self.magics.store(args.out, result)
            return None
        return result

    @staticmethod
    def _no_words(args: argparse.Namespace, *allowed: str) -> str:
        words = [str(w) for w in args.args]
        if not words or (len(words) == 1 and words[0].lower() in allowed):
            return words[0].lower() if words else ""
        takes = f" only {' or '.join(allowed)}" if allowed else " no further words"
        raise ConfigError(f"{args.command} takes{takes}, not {' '.join(words)!r}.")

    # -- connections -----------------------------------------------------------------------------

    def login(self, args: argparse.Namespace) -> None:
        self._no_words(args)
        self.session.preferred_site = _site_word(args.site) or self.magics.options.site
        if args.basic:
            from .client import Kounta

            self.session.connect(Kounta.basic(**self.magics.options.client_options()))
            print(f"Connected to {self.session.company_name} with Basic auth; "
                  f"default site: {self.session.site_name()}.{self._others()}")
            return
        from .widgets import LoginWidget

        _display(LoginWidget(self.session, site=args.site, **self.magics.options.login_options()))

    def logout(self, args: argparse.Namespace) -> None:
        every = self._no_words(args, "all") == "all"
        if self.session.client is None:
            print("Not connected.")
            return
        for client in self.session.clients if every else [self.session.client]:
            name = self.session.name_of(client)
            store = client.token_store
            if store is not None:
                store.delete(client.api_base, client.company_id)
            cancelled = self.session.disconnect(client)
            saved = "; the saved token was removed" if store is not None else ""
            stopped = (f"; {cancelled} background pull{'s' if cancelled > 1 else ''} stopped (run the "
                       "same command after logging in again to resume)") if cancelled else ""
            print(f"Logged out of {name}{saved}{stopped}.")
        if self.session.client is not None:
            print(f"Now using {self.session.company_name}; default site: {self.session.site_name()}.")

    def sandbox(self, args: argparse.Namespace) -> None:
        from .client import Kounta

        self._no_words(args)
        company: int | str | None = None
        if args.company is not None:
            name = str(args.company).strip()
            if not name:
                raise ConfigError("--company needs a company name or id.")
            company = int(name) if re.fullmatch(r"\d+", name, re.ASCII) else name
        self.session.preferred_site = _site_word(args.site) or self.magics.options.site
        handle = self.session.start_sandbox()
        client = Kounta.sandbox(company=company, handle=handle, **self.session.sandbox_options())
        self.session.connect(client)
        print(f"Connected to the sandbox at {handle.url}: {self.session.company_name}; "
              f"default site: {self.session.site_name()}.{self._others()}")

    def _others(self) -> str:
        others = [self.session.name_of(c) for c in self.session.clients if c is not self.session.client]
        if not others:
            return ""
        return f" Also logged in: {', '.join(others)} (`%kounta company NAME` switches)."

    def company(self, args: argparse.Namespace) -> None:
        self.session.switch(" ".join(args.args))
        print(f"Using {self.session.company_name}; default site: {self.session.site_name()}.")

    def companies(self, args: argparse.Namespace) -> None:
        self._no_words(args)
        self.session.require()
        for client in self.session.clients:
            mark = "*" if client is self.session.client else " "
            print(f"{mark} {self.session.name_of(client)} (id {client.company_id}) at {client.api_base}")

    def venue(self, args: argparse.Namespace) -> None:
        self.session.require()
        if args.args:
            wanted = " ".join(args.args).strip()
            self.session.choose_site(None if wanted.lower() == "all" else self.fetcher.site_id(wanted))
            print(f"Default site: {self.session.site_name()}.")
            return
        from .widgets import VenuePicker

        _display(VenuePicker(self.session))

    def autoconnect(self) -> None:
        """Connect from ``KOUNTA_*`` variables when present (headless notebooks, CI)."""
        env = os.environ
        if not (env.get(settings.ENV_ACCESS_TOKEN)
                or (env.get(settings.ENV_CLIENT_ID) and env.get(settings.ENV_CLIENT_SECRET))):
            return
        from .client import Kounta

        self.session.connect(Kounta.from_env(**self.magics.options.client_options()))
        print(f"kounta_nb: connected to {self.session.company_name} from the environment; "
              f"default site: {self.session.site_name()}.")

    # -- status and cache --------------------------------------------------------------------------

    def status(self, args: argparse.Namespace) -> None:
        self._no_words(args)
        print("\n".join(self.status_lines()))

    def status_lines(self) -> list[str]:
        """What ``%kounta status`` prints: the connection, never a secret."""
        client = self.session.client
        if client is None:
            return ["Not connected: `%kounta login`, or `%kounta sandbox` to try it without an account."]
        where = " (the embedded sandbox)" if self.session.on_sandbox() else ""
        lines = [
            f"Company: {self.session.company_name} (id {client.company_id})",
            f"Default site: {self.session.site_name()}",
            f"API: {client.api_base}{where}",
        ]
        others = [f"{self.session.name_of(c)} (id {c.company_id})" for c in self.session.clients
                  if c is not client]
        if others:
            lines.append(f"Also logged in: {', '.join(others)} — `%kounta company NAME` switches")
        lines += _auth_lines(client) + self._cache_lines(client) + _rate_lines(client)
        lines.append(dataset_line(self.magics.options))
        if self.magics.options.offline:
            lines.append("Offline mode: on — when the API cannot be reached, cached answers are served "
                         "and say how old they are")
        return lines

    def cache(self, args: argparse.Namespace) -> None:
        client = self.session.require()
        words = [str(w).lower() for w in args.args]
        if words not in ([], ["info"], ["clear"], ["clear", "all"]):
            raise ConfigError(f"cache takes only info, clear or clear all, not {' '.join(map(str, args.args))!r}.")
        if words in ([], ["info"]):
            print("\n".join(self._cache_lines(client, footprint=True)))
            return
        every = words == ["clear", "all"]
        before = client.transport.cache_info()
        removed = client.transport.clear_cache(all_companies=every)
        after = client.transport.cache_info()
        whose = "every company" if every else self.session.company_name
        print(f"Cleared {removed} cached responses of {whose}; the cache file went from "
              f"{_mb(before['bytes'])} to {_mb(after['bytes'])}.")

    def _cache_lines(self, client: Any, *, footprint: bool = False) -> list[str]:
        info = client.transport.cache_info()
        stats = client.stats.as_dict()
        if info["path"] is None:
            lines = ["Cache: off (Kounta.cache = False)"]
        else:
            lines = [
                f"Cache: {info['path']} ({_mb(info['bytes'])} on disk; {info['entries']} responses of "
                f"this company of {info['entries_total']}; this session {stats['from_cache']} served "
                f"from cache, {stats['revalidated']} revalidated)"
            ]
        if footprint:
            from .pull import store_path

            store = store_path(client.api_base, client.company_id)
            lines.append(f"Pull store: {store} ({_mb(_disk_size(store))} on disk)")
            lines.append(f"On disk: {_mb(info['bytes'] + _disk_size(store))} (the HTTP cache file, shared "
                         "by the companies logged in with it, and this company's pull store)")
        return lines

    # -- any endpoint ------------------------------------------------------------------------------

    def get(self, args: argparse.Namespace) -> Any:
        client = self.session.require()
        if len(args.args) != 1 or not str(args.args[0]).strip():
            raise ConfigError("Use `%kounta get PATH [--param key=value …]`, e.g. `%kounta get sites/123`.")
        params = {k: str(v) for k, v in parse_pairs(args.param, "query parameter").items()}
        limit = positive_int(args.limit, "--limit") if args.limit is not None else None
        max_pages = -(-limit // settings.PAGE_SIZE) if limit else None
        path = _api_path(args.args[0])
        try:
            records = client.get(path, params=params or None, max_pages=max_pages)
        except APIError as exc:
            # A single record (sites/123, companies/me) is not a page of a list: read it as is.
            if exc.status != 200 or exc.error != "unexpected_body":
                raise
            return client.get(path, params=params or None, paged=False)
        return records[:limit] if limit is not None and isinstance(records, list) else records

    def sql(self, args: argparse.Namespace | None, query: str | None) -> Any:
        """``%kounta sql QUERY`` / ``%%kounta sql``: the query over the dataset of every company
        pulled into it (``Kounta.dataset``)."""
        if args is not None and args.args:
            raise ConfigError("Write the query in the cell under `%%kounta sql` (options such as -o NAME "
                              "and --to FILE go on the first line), or on one line: `%kounta sql SELECT …`.")
        return run_sql(self.magics.options, query or "")

    def write(self, args: argparse.Namespace, body: str | None) -> Any:
        """``%%kounta post|put|delete PATH`` with the JSON body as the cell, through the client's
        write method for that path (its retries never duplicate a write)."""
        client = self.session.require()
        method = "PUT" if args.command == "patch" else args.command.upper()
        if len(args.args) != 1:
            raise ConfigError(f"Use `%%kounta {args.command} PATH` with the JSON body as the cell, "
                              "e.g. `%%kounta post customers`.")
        path = _api_path(args.args[0])
        own = _COMPANY_PREFIX.match(path)
        if own:
            if own.group(1) not in ("me", str(client.company_id)):
                raise ConfigError(f"{path} is another company's path: `%kounta company` switches company.")
            path = path[own.end():]
        path = path.strip("/")
        found = [(call, match.groups()) for verb, pattern, call in _WRITES
                 if verb == method and (match := pattern.fullmatch(path))]
        if not found:
            raise ConfigError(f"kounta_nb cannot {method} {path}: the API's writes are {_WRITABLE}.")
        record = _json_body(body, method, args.command)
        call, groups = found[0]
        result = call(client, record, *groups)
        if method == "DELETE":
            print(f"Deleted {path}.")
            return None
        return result


def _site_word(site: str | None) -> str:
    if site is not None and not site.strip():
        raise ConfigError("--site needs a site id, code or name.")
    return site.strip() if site else ""


def _api_path(raw: str) -> str:
    """``/v1/companies/me/taxes`` as the API docs write it → ``companies/me/taxes``."""
    path = str(raw).strip().lstrip("/")
    return path[3:] if path.startswith("v1/") else path


def _json_body(body: str | None, method: str, command: str) -> Any:
    text = (body or "").strip()
    if method == "DELETE":
        if text:
            raise ConfigError("delete takes no body: leave the cell empty.")
        return None
    if body is None or not text:
        raise ConfigError(f"{command} needs the JSON body as the cell: `%%kounta {command} PATH`, then "
                          "the JSON on the following lines.")
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"The cell is not valid JSON: {exc}.") from None
    if not isinstance(record, dict):
        raise ConfigError("The cell must be one JSON object: {\"field\": value, …}.")
    return record


def _auth_lines(client: Any) -> list[str]:
    credentials = client.credentials
    if credentials.kind == "basic":
        return ["Login: Basic auth (your own company; no expiry)"]
    token = credentials.token
    if token.expires_at is None:
        expiry = "no expiry given"
    else:
        left = token.expires_at - time.time()
        when = datetime.fromtimestamp(token.expires_at).astimezone().strftime("%H:%M:%S %Z")
        expiry = f"expires at {when} (in {left / 60:.0f} min)" if left > 0 else f"expired at {when}"
    refresh = "refreshes itself" if credentials.can_refresh() else "cannot refresh"
    return [f"Login: OAuth token {expiry}; {refresh}"]


def _rate_lines(client: Any) -> list[str]:
    stats = client.stats.as_dict()
    return [
        f"Rate limit: {client.transport.limiter.per_minute:g} requests/minute; "
        f"{stats['requests']} requests sent, {stats['rate_limited']} rate-limited, "
        f"{stats['waited_s']:.1f} s waited"
    ]


def _disk_size(path: Path | None) -> int:
    """Bytes of ``path`` with its SQLite side files (-wal, -shm, -journal), 0 when missing."""
    if path is None:
        return 0
    total = 0
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            total += os.stat(f"{path}{suffix}").st_size
        except OSError:
            continue
    return total


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"

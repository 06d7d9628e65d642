"""``%kounta`` / ``%%kounta``: Kounta in IPython, thin — parse, dispatch, display or assign.

``%load_ext kounta_nb`` registers :class:`KountaMagics`; its options are ``%config Kounta.<name>``
traits (``%config Kounta`` lists them). ``%kounta?`` is the help. Library code raises
``KountaError``s; :meth:`KountaMagics._one_line_errors` is the one place that turns them into
IPython ``UsageError``s (one line, no traceback).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from traitlets import Bool, Int, Unicode, Union, observe
from traitlets.config.configurable import Configurable

from . import settings
from .dates import LAST, parse_moment
from .errors import APIError, ConfigError, KountaError, TokenExpiredError, TransportError
from .magic_args import kounta_arguments, parse_line, parse_pairs, strip_comment
from .session import Session, load_choices, save_choice

__all__ = ["KountaMagics", "load_ipython_extension", "unload_ipython_extension"]

#: Resources whose rows come from orders (the pull engine can fetch them in the background).
#: ``--site all`` / ``%kounta venue all``: every site of the company.
ALL_SITES = "all"
ORDER_RESOURCES = frozenset({"orders", "lines", "payments", "options"})
_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)\s*(\S.*)$")


@magics_class
class KountaMagics(Magics, Configurable):
    """The ``%kounta`` line magic and ``%%kounta`` cell magic (configured as ``Kounta``)."""

    api_base = Unicode(
        "", config=True, help="API base URL ('' = $KOUNTA_API_BASE or the production API)."
    )
    authorize_url = Unicode(
        "", config=True, help="OAuth authorise page ('' = $KOUNTA_AUTHORIZE_URL or Kounta's)."
    )
    client_id = Unicode("", config=True, help="The add-on's client id for the login widget.")
    redirect_uri = Unicode(
        "",
        config=True,
        help="OAuth redirect URI ('' = $KOUNTA_REDIRECT_URI, else a loopback listener). End it in "
        "/kounta_nb/callback on the Jupyter server to use the server extension's route.",
    )
    cache = Union(
        [Bool(), Unicode()],
        default_value=True,
        config=True,
        help="HTTP cache: True (the default file), a path, or False. Applies to the next login.",
    )
    rate_limit = Int(
        0, config=True, help="Requests per minute; 0 = the API's (60 Basic, 180 OAuth). Next login."
    )
    timezone = Unicode(
        "", config=True, help="IANA zone for --since/--until and timestamps ('' = the company's)."
    )
    max_retries = Int(
        settings.MAX_RETRIES,
        config=True,
        help="Retries of a read on 5xx, dropped or truncated answers. Applies to the next login.",
    )
    progress = Bool(True, config=True, help="Show progress bars for pulls.")
    display_limit = Int(20, config=True, help="Rows %%kounta shows per displayed result.")
    site = Unicode(
        "",
        config=True,
        help="Default site (id, code or name) chosen at login; $KOUNTA_SITE and the last pick "
        "come after it.",
    )
    autoconnect = Bool(
        True,
        config=True,
        help="On %load_ext, connect from $KOUNTA_ACCESS_TOKEN or $KOUNTA_CLIENT_ID/_SECRET when set.",
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session = Session(self.client_options)
        self.session.preferred_site = self.site
        self._commands: dict[str, Callable[[Any], Any]] = {
            "login": self._cmd_login,
            "logout": self._cmd_logout,
            "sandbox": self._cmd_sandbox,
            "status": self._cmd_status,
            "venue": self._cmd_venue,
            "get": self._cmd_get,
            "cache": self._cmd_cache,
        }

    # -- the magic -----------------------------------------------------------------------------

    @line_cell_magic
    @kounta_arguments
    def kounta(self, line: str = "", cell: str | None = None) -> Any:
        """Kounta POS data in the notebook: ``%kounta login``, then ``%kounta orders --since 7d``.

        As a cell magic, one command per line (``#`` comments allowed; ``name = orders --since 7d``
        assigns); the last result is returned, and stored as NAME when ``%%kounta NAME`` is given.
        """
        with self._one_line_errors():
            if cell is None:
                return self._run_line(line)
            # IPython expands {var} / $var in the first line only; the body is expanded here,
            # two frames up being the user's frame (as IPython itself counts it).
            return self._run_cell(line, self._ip.var_expand(cell, 2))

    @contextlib.contextmanager
    def _one_line_errors(self) -> Iterator[None]:
        """The one place where library errors become one-line ``UsageError``s."""
        try:
            yield
        except TokenExpiredError as exc:
            self._show_expired()
            raise UsageError(_first_line(exc)) from None
        except TransportError as exc:
            raise UsageError(self._transport_message(exc)) from None
        except KountaError as exc:
            raise UsageError(_first_line(exc)) from None
        except OSError as exc:  # sockets, files: say what failed, not where
            raise UsageError(_first_line(TransportError(f"Network or file error: {exc}"))) from None

    def _transport_message(self, exc: TransportError) -> str:
        handle, client = self.session.sandbox_handle, self.session.client
        ours = handle is not None and client is not None and client.api_base == handle.api_base
        if ours and not self.session.answers(handle):
            return (
                f"The sandbox at {handle.url} is not running any more: run `%kounta sandbox` "
                "to start a new one and connect to it."
            )
        return _first_line(exc)

    def _run_line(self, line: str) -> Any:
        args = parse_line(self.magics["line"]["kounta"], line)
        result = self._dispatch(args)
        if args.out:
            self._store(args.out, result)
            return None
        return result

    def _run_cell(self, line: str, cell: str) -> Any:
        name = line.strip()
        if name and not name.isidentifier():
            raise ConfigError(f"%%kounta takes one variable name, not {name!r}.")
        named: list[tuple[str, Any]] = []
        result: Any = None
        for raw in cell.splitlines():
            text = strip_comment(raw).strip()
            if not text:
                continue
            match = _ASSIGNMENT.match(text)
            result = self._run_line(match.group(2) if match else text)
            if match:
                self._ip.user_ns[match.group(1)] = result
                named.append((match.group(1), result))
        if name:
            self._ip.user_ns[name] = result
        for var, value in named:
            if value is not result:
                display({"text/plain": f"{var}:", "text/html": f"<b>{var}</b>"}, raw=True)
                self._display(value)
        return result

    def _dispatch(self, args: Any) -> Any:
        command = args.command
        handler = self._commands.get(command)
        if handler is not None:
            return handler(args)
        from . import tables

        if command in tables.RESOURCES:
            return self._cmd_resource(args)
        raise ConfigError(
            f"Unknown command or resource {command!r}: use one of "
            f"{', '.join(sorted(self._commands))} or {', '.join(sorted(tables.RESOURCES))}."
        )

    # -- sub-commands --------------------------------------------------------------------------

    def _cmd_login(self, args: Any) -> Any:
        self.session.preferred_site = args.site or self.site
        if args.basic:
            from .client import Kounta

            self.session.connect(Kounta.basic(**self.client_options()))
            print(f"Connected to {self.session.company_name} with Basic auth; "
                  f"default site: {self.session.site_name()}.")
            return None
        from .widgets import LoginWidget

        widget = LoginWidget(self.session, site=args.site, **self._login_options())
        display(widget)
        return None

    def _cmd_logout(self, args: Any) -> None:
        client = self.session.client
        if client is None:
            print("Not connected.")
            return
        name = self.session.company_name
        store = client.token_store
        if store is not None:
            store.delete(client.api_base, client.company_id)
        cancelled = self.session.disconnect()
        saved = "; the saved token was removed" if store is not None else ""
        stopped = (f"; {cancelled} background pull{'s' if cancelled > 1 else ''} stopped (run the same "
                   "command after logging in again to resume)") if cancelled else ""
        print(f"Logged out of {name}{saved}{stopped}.")

    def _cmd_sandbox(self, args: Any) -> None:
        from .client import Kounta

        self.session.preferred_site = args.site or self.site
        handle = self.session.start_sandbox()
        company: int | str | None = args.company
        if isinstance(company, str) and company.isdigit():
            company = int(company)
        client = Kounta.sandbox(company=company, handle=handle, **self.session.sandbox_options())
        self.session.connect(client)
        print(
            f"Connected to the sandbox at {handle.url}: {self.session.company_name}; "
            f"default site: {self.session.site_name()}."
        )

    def _cmd_status(self, args: Any) -> None:
        print("\n".join(self._status_lines()))

    def _cmd_venue(self, args: Any) -> Any:
        self.session.require()
        if args.args:
            wanted = " ".join(args.args)
            self.session.choose_site(None if wanted.strip().lower() == ALL_SITES else wanted)
            print(f"Default site: {self.session.site_name()}.")
            return None
        from .widgets import VenuePicker

        display(VenuePicker(self.session))
        return None

    def _cmd_get(self, args: Any) -> Any:
        client = self.session.require()
        if len(args.args) != 1:
            raise ConfigError("Use `%kounta get PATH [--param key=value …]`, e.g. `%kounta get sites/123`.")
        params = {k: str(v) for k, v in parse_pairs(args.param, "query parameter").items()}
        max_pages = -(-args.limit // settings.PAGE_SIZE) if args.limit else None
        # `/companies/me/taxes` and `/v1/…` as written in the API docs mean the API's own paths.
        path = args.args[0].lstrip("/")
        path = path[3:] if path.startswith("v1/") else path
        try:
            return client.get(path, params=params or None, max_pages=max_pages)
        except APIError as exc:
            # A single record (sites/123, companies/me) is not a page of a list: read it as is.
            if exc.status != 200 or exc.error != "unexpected_body":
                raise
            return client.get(path, params=params or None, paged=False)

    def _cmd_cache(self, args: Any) -> None:
        client = self.session.require()
        action = args.args[0] if args.args else "info"
        if action == "clear":
            removed = _clear_cache(client)
            print(f"Cleared {removed} cached responses of {self.session.company_name}.")
        elif action == "info":
            print("\n".join(_cache_lines(client)))
        else:
            raise ConfigError(f"Unknown cache action {action!r}: use `%kounta cache info` or `%kounta cache clear`.")

    def _cmd_resource(self, args: Any) -> Any:
        from . import pull, tables

        client = self.session.require()
        resource = args.command
        tz = self._tz(client)
        site = self.session.site_id
        if args.site:
            site = None if args.site.strip().lower() == ALL_SITES else client.resolve_site(args.site)
        status = args.status or ("complete" if resource in ORDER_RESOURCES else None)
        status = None if status == "any" else status
        if args.dry_run or args.background:
            if resource not in ORDER_RESOURCES:
                raise ConfigError("--dry-run and --background work for orders, lines and payments only.")
            if args.since is None:
                raise ConfigError("A pull needs --since (for example --since 30d).")
            # The pull engine keeps its own record of finished pulls for --since last.
            last = args.since.strip().lower() == LAST
            start: datetime | str = LAST if last else parse_moment(args.since, tz=tz)
            until = self._moment(args.until, tz, end=True) if args.until else None
            if args.dry_run:
                return pull.dry_run(client, start, until, site=site, status=status)
            return pull.pull_orders(client, start, until, site=site, status=status, progress=self.progress)
        since = self._moment(args.since, tz, resource=resource, client=client)
        until = self._moment(args.until, tz, end=True) if args.until else None
        filters: dict[str, Any] = parse_pairs(args.args, "filter")
        if isinstance(filters.get("date"), str):
            filters["date"] = parse_moment(filters["date"], tz=tz).date()
        given = {"since": since, "until": until, "site": site, "status": status, "limit": args.limit}
        filters.update({key: value for key, value in given.items() if value is not None})
        if "progress" in filters:
            raise ConfigError("progress is not a filter; progress bars are set with %config Kounta.progress.")
        frame = tables.fetch(client, resource, progress=self.progress, **filters)
        if since is not None:
            save_choice(client.company_id, f"last:{resource}", (until or datetime.now(tz)).isoformat())
        if self.timezone:
            frame = _convert_timestamps(frame, tz)
        return frame

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _ip(self) -> Any:
        """The shell the magics are registered on (always set once loaded)."""
        if self.shell is None:
            raise ConfigError("The %kounta magics are not loaded into an IPython shell.")
        return self.shell

    def client_options(self) -> dict[str, Any]:
        """Keyword options for ``Kounta`` constructors, from ``%config Kounta.*``."""
        options: dict[str, Any] = {"cache": None if self.cache is True else self.cache}
        api_base = self.api_base or os.environ.get(settings.ENV_API_BASE, "")
        if api_base:
            options["api_base"] = api_base
        authorize = self.authorize_url or os.environ.get(settings.ENV_AUTHORIZE_URL, "")
        if authorize:
            options["authorize_url"] = authorize
        if self.rate_limit:
            options["rate_limit"] = self.rate_limit
        if self.max_retries != settings.MAX_RETRIES:
            options["max_retries"] = self.max_retries
        return options

    def _login_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.client_id:
            options["client_id"] = self.client_id
        if self.redirect_uri:
            options["redirect_uri"] = self.redirect_uri
        return options

    def _tz(self, client: Any) -> tzinfo:
        if not self.timezone:
            return client.tz
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"Unknown time zone {self.timezone!r} in Kounta.timezone: use an IANA name like "
                "Australia/Sydney."
            ) from None

    def _moment(
        self, text: str | None, tz: tzinfo, *, end: bool = False, resource: str = "", client: Any = None
    ) -> datetime | None:
        if text is None:
            return None
        if text.strip().lower() == LAST and not end:
            stamp = load_choices(client.company_id).get(f"last:{resource}")
            if not stamp:
                raise ConfigError(
                    f"There is no earlier pull of {resource} to continue from: give --since a date "
                    "the first time."
                )
            return datetime.fromisoformat(stamp).astimezone(tz)
        return parse_moment(text, tz=tz, end=end)

    def _store(self, name: str, value: Any) -> None:
        if not name.isidentifier():
            raise ConfigError(f"-o needs a Python variable name, not {name!r}.")
        self._ip.user_ns[name] = value
        shape = getattr(value, "shape", None)
        what = f"{shape[0]:,} rows × {shape[1]} columns" if shape is not None and len(shape) == 2 else type(value).__name__
        print(f"Stored {what} in `{name}`.")

    def _display(self, value: Any) -> None:
        if hasattr(value, "head") and hasattr(value, "shape"):
            display(value.head(self.display_limit))
            if len(value) > self.display_limit:
                print(f"… {len(value) - self.display_limit:,} more rows (Kounta.display_limit).")
        else:
            display(value)

    def _status_lines(self) -> list[str]:
        client = self.session.client
        if client is None:
            return ["Not connected: `%kounta login`, or `%kounta sandbox` to try it without an account."]
        lines = [
            f"Company: {self.session.company_name} (id {client.company_id})",
            f"Default site: {self.session.site_name()}",
            f"API: {client.api_base}",
        ]
        lines += _auth_lines(client) + _cache_lines(client) + _rate_lines(client)
        if self.session.sandbox_handle is not None:
            lines.append(f"Sandbox: running at {self.session.sandbox_handle.url}")
        return lines

    def _show_expired(self) -> None:
        from .widgets import ExpiredNotice

        display(ExpiredNotice(self.session, login_options=self._login_options()))

    @observe("site")
    def _on_site_change(self, change: dict[str, Any]) -> None:
        self.session.preferred_site = change["new"]
        if self.session.client is not None and change["new"]:
            with self._one_line_errors():
                self.session.choose_site(change["new"])

    def autoconnect_from_env(self) -> None:
        """Connect from ``KOUNTA_*`` variables when present (headless notebooks, CI)."""
        env = os.environ
        if not (env.get(settings.ENV_ACCESS_TOKEN) or (env.get(settings.ENV_CLIENT_ID) and env.get(settings.ENV_CLIENT_SECRET))):
            return
        from .client import Kounta

        with self._one_line_errors():
            self.session.connect(Kounta.from_env(**self.client_options()))
            print(f"kounta_nb: connected to {self.session.company_name} from the environment; "
                  f"default site: {self.session.site_name()}.")

    def close(self) -> None:
        """Disconnect and stop the embedded sandbox (on ``%unload_ext``)."""
        self.session.close()


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


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


def _cache_store(client: Any) -> Any:
    import requests_cache

    path = client.transport.cache_path
    return requests_cache.SQLiteCache(str(path)) if path is not None and path.exists() else None


def _namespace_keys(client: Any, store: Any) -> list[str]:
    prefix = f"{client.credentials.cache_namespace}:"
    return [key for key in store.responses if key.startswith(prefix)]


def _cache_lines(client: Any) -> list[str]:
    path = client.transport.cache_path
    if path is None:
        return ["Cache: off (Kounta.cache = False)"]
    store = _cache_store(client)
    count = 0
    if store is not None:
        count = len(_namespace_keys(client, store))
        store.close()
    size = path.stat().st_size / 1e6 if path.exists() else 0.0
    stats = client.stats.as_dict()
    return [
        f"Cache: {path} ({size:.1f} MB; {count} responses of this company; this session "
        f"{stats['from_cache']} served from cache, {stats['revalidated']} revalidated)"
    ]


def _clear_cache(client: Any) -> int:
    store = _cache_store(client)
    if store is None:
        return 0
    keys = _namespace_keys(client, store)
    if keys:
        store.delete(*keys)
    store.close()
    return len(keys)


def _convert_timestamps(frame: Any, tz: tzinfo) -> Any:
    import pandas as pd

    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert(tz)
    return frame


# %config addresses configurables by class name; users write `%config Kounta.rate_limit = 60`.
KountaMagics.__name__ = "Kounta"
KountaMagics.__qualname__ = "Kounta"

_LOADED: dict[int, KountaMagics] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%kounta`` / ``%%kounta`` and the ``Kounta`` configurable on ``ipython``."""
    if id(ipython) in _LOADED:
        return
    magics = KountaMagics(shell=ipython, config=ipython.config)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:  # Magics.__init__ normally adds it already
        ipython.configurables.append(magics)
    _LOADED[id(ipython)] = magics
    if magics.autoconnect:
        try:
            magics.autoconnect_from_env()
        except UsageError as exc:
            print(f"kounta_nb: could not connect from the environment: {exc}")


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and the configurable, close the connection and the sandbox."""
    magics = _LOADED.pop(id(ipython), None)
    if magics is None:
        return
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("kounta", None)
    ipython.magics_manager.registry.pop(type(magics).__name__, None)
    ipython.configurables[:] = [c for c in ipython.configurables if c is not magics]
    magics.close()

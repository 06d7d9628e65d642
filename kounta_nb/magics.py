"""``%kounta`` / ``%%kounta``: Kounta in IPython, thin — parse, dispatch, display or assign.

``%load_ext kounta_nb`` registers :class:`KountaMagics` and its options, a
:class:`~kounta_nb.magic_config.KountaConfig` addressed as ``Kounta`` (``%config Kounta`` lists
them). ``%kounta?`` is the help. The sub-commands live in :mod:`kounta_nb.magic_commands`, the
resource fetches in :mod:`kounta_nb.magic_fetch`.

People get one line, code gets exceptions: library code raises ``KountaError``s and issues
``KountaWarning``s; :meth:`KountaMagics._one_line` is the one place that turns an error into an
IPython ``UsageError`` (one line, no traceback) and shows each warning as one line. While the
extension is loaded, a ``KountaError`` raised by plain Python in a cell (``job.wait()`` of a failed
background pull) is shown as one line too; ``%tb`` still has the traceback.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from IPython import display as _ipython_display
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from .errors import ConfigError, KountaError, KountaWarning, TokenExpiredError, TransportError
from .magic_args import WRITE_COMMANDS, check_name, kounta_arguments, parse_line, strip_comment
from .magic_commands import Commands
from .magic_config import KountaConfig, make_config
from .session import Session

__all__ = [
    "KountaMagics", "load_ipython_extension", "unload_ipython_extension", "first_line",
]

_display: Callable[..., None] = getattr(_ipython_display, "display")  # noqa: B009 - IPython's is untyped
_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)\s*(\S.*)$")


@magics_class
class KountaMagics(Magics):
    """The ``%kounta`` line magic and ``%%kounta`` cell magic; ``options`` holds ``%config Kounta.*``."""

    def __init__(self, shell: Any = None, options: KountaConfig | None = None) -> None:
        super().__init__(shell=shell)
        self.options = options if options is not None else make_config(shell)
        self.session = Session(self.options.client_options)
        self.session.preferred_site = self.options.site
        self.options.observe(self._on_site_change, "site")
        self.commands = Commands(self)
        self._shown: set[str] = set()

    # -- the magic -----------------------------------------------------------------------------

    @line_cell_magic
    @kounta_arguments
    def kounta(self, line: str = "", cell: str | None = None) -> Any:
        with self._one_line():
            if cell is None:
                return self.run_line(line)
            # IPython expands {var} / $var in the first line only; the body is expanded here,
            # two frames up being the user's frame (as IPython itself counts it).
            return self._run_cell(line, cell)

    def run_line(self, line: str) -> Any:
        """Run one ``%kounta`` line and return its result (None when stored with ``-o``)."""
        words = line.strip().split(None, 1)
        if words and words[0].lower() == "sql":  # SQL is not shell words: quotes, -- and # are its own
            return self.commands.sql(None, words[1] if len(words) > 1 else "")
        args = parse_line(line)
        return self.commands.run(args)

    def _run_cell(self, line: str, raw: str) -> Any:
        head = strip_comment(line).strip().split(None, 1)
        first = head[0].lower() if head else ""
        if first in WRITE_COMMANDS:
            return self.commands.run(parse_line(line), body=raw)
        if first == "sql":
            return self.commands.run(parse_line(line), body=raw)
        cell = self._ip.var_expand(raw, 3)
        name = line.strip()
        if name:
            check_name(name, "%%kounta")
        named: list[tuple[str, Any]] = []
        result: Any = None
        for text in (strip_comment(raw_line).strip() for raw_line in cell.splitlines()):
            if not text:
                continue
            match = _ASSIGNMENT.match(text)
            if match:
                check_name(match.group(1), "An assignment in %%kounta")
            result = self.run_line(match.group(2) if match else text)
            if match:
                self._ip.user_ns[match.group(1)] = result
                named.append((match.group(1), result))
        if name:
            self._ip.user_ns[name] = result
        for var, value in named:
            if value is not result:
                _display({"text/plain": f"{var}:", "text/html": f"<b>{var}</b>"}, raw=True)
                with self.display_rows():
                    _display(value)
        self._limit_display_of(result)
        return result

    # -- one line for people ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _one_line(self) -> Iterator[None]:
        """The one place where errors become one-line ``UsageError``s and warnings one line each."""
        self._shown = set()
        with warnings.catch_warnings():
            warnings.simplefilter("always", KountaWarning)
            warnings.showwarning = self._show_warning
            try:
                yield
            except TokenExpiredError as exc:
                self.show_expired()
                raise UsageError(first_line(exc)) from None
            except TransportError as exc:
                raise UsageError(self._transport_message(exc)) from None
            except KountaError as exc:
                raise UsageError(first_line(exc)) from None
            except OSError as exc:  # sockets, files: say what failed, not where
                raise UsageError(first_line(TransportError(f"Network or file error: {exc}"))) from None
            except sqlite3.DatabaseError as exc:
                raise UsageError(
                    f"A local database file of kounta_nb could not be read ({exc}); "
                    "`%kounta cache info` lists the files."
                ) from None
            except KeyboardInterrupt:
                raise UsageError("Interrupted: nothing was changed.") from None

    def _show_warning(self, message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
        if not issubclass(category, KountaWarning):
            _ORIGINAL_SHOWWARNING(message, category, filename, lineno, file, line)
            return
        text = first_line(message) if isinstance(message, Warning) else str(message).strip()
        if text not in self._shown:  # the same sentence for every page of one fetch: once
            self._shown.add(text)
            print(f"{category.__name__}: {text}", file=sys.stderr)

    def _transport_message(self, exc: TransportError) -> str:
        handle = self.session.sandbox_handle
        if self.session.on_sandbox() and not self.session.answers(handle):
            return (
                f"The sandbox at {handle.url} is not running any more: run `%kounta sandbox` "
                "to start a new one and connect to it."
            )
        return first_line(exc)

    def show_expired(self) -> None:
        """Display the reconnect notice of an expired login."""
        from .widgets import ExpiredNotice

        _display(ExpiredNotice(self.session, login_options=self.options.login_options()))

    # -- display ---------------------------------------------------------------------------------

    def display_rows(self) -> contextlib.AbstractContextManager[Any]:
        """pandas/polars showing at most ``Kounta.display_limit`` rows (0 = no limit)."""
        limit = self.options.display_limit
        stack = contextlib.ExitStack()
        if limit > 0 and "pandas" in sys.modules:
            import pandas as pd

            stack.enter_context(pd.option_context("display.max_rows", limit, "display.min_rows", limit))
        if limit > 0 and "polars" in sys.modules:
            import polars as pl

            stack.enter_context(pl.Config(tbl_rows=limit))
        return stack

    def _limit_display_of(self, result: Any) -> None:
        """``%%kounta`` returns its last result, which IPython displays after the magic returns:
        keep ``display_limit`` in force until then (the ``post_execute`` of this cell)."""
        if not hasattr(result, "shape") or self.shell is None:
            return
        stack = contextlib.ExitStack()
        stack.enter_context(self.display_rows())

        def restore() -> None:
            stack.close()
            self._ip.events.unregister("post_execute", restore)

        self._ip.events.register("post_execute", restore)

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _ip(self) -> Any:
        """The shell the magics are registered on (always set once loaded)."""
        if self.shell is None:
            raise ConfigError("The %kounta magics are not loaded into an IPython shell.")
        return self.shell

    def store(self, name: str, value: Any) -> None:
        """Put ``value`` in the user's namespace as ``name`` and say what was stored."""
        self._ip.user_ns[check_name(name, "-o")] = value
        shape = getattr(value, "shape", None)
        what = (f"{shape[0]:,} rows × {shape[1]} columns" if shape is not None and len(shape) == 2
                else type(value).__name__)
        print(f"Stored {what} in `{name}`.")

    def _on_site_change(self, change: dict[str, Any]) -> None:
        self.session.preferred_site = change["new"]
        if self.session.client is not None and change["new"]:
            with self._one_line():
                self.session.choose_site(change["new"])

    def autoconnect_from_env(self) -> None:
        """Connect from ``KOUNTA_*`` variables when present (headless notebooks, CI)."""
        with self._one_line():
            self.commands.autoconnect()

    def close(self) -> None:
        """Disconnect and stop the embedded sandbox (on ``%unload_ext``)."""
        self.session.close()


def first_line(exc: BaseException | str) -> str:
    """The first non-empty line of an error or warning message."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(exc).__name__


_ORIGINAL_SHOWWARNING: Callable[..., None] = warnings.showwarning
_LOADED: dict[int, KountaMagics] = {}


def _show_one_line(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                   tb_offset: int | None = None) -> None:
    """A ``KountaError`` raised by Python code in a cell (e.g. ``job.wait()``): one line, and
    ``%tb`` still shows where it came from."""
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    print(f"{etype.__name__}: {first_line(value)}", file=sys.stderr)


def _kounta_showwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                        file: Any = None, line: str | None = None) -> None:
    """Outside a magic (background threads): a ``KountaWarning`` is one line, no file:line."""
    if issubclass(category, KountaWarning):
        print(f"{category.__name__}: {first_line(message)}", file=sys.stderr)
    else:
        _ORIGINAL_SHOWWARNING(message, category, filename, lineno, file, line)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%kounta`` / ``%%kounta`` and the ``Kounta`` configurable on ``ipython``."""
    global _ORIGINAL_SHOWWARNING
    if id(ipython) in _LOADED:
        return
    magics = KountaMagics(shell=ipython)
    ipython.register_magics(magics)
    if magics.options not in ipython.configurables:
        ipython.configurables.append(magics.options)
    _LOADED[id(ipython)] = magics
    if not getattr(ipython, "custom_exceptions", ()):
        ipython.set_custom_exc((KountaError,), _show_one_line)
    if warnings.showwarning is not _kounta_showwarning:
        _ORIGINAL_SHOWWARNING = warnings.showwarning
        warnings.showwarning = _kounta_showwarning
    if magics.options.autoconnect:
        try:
            magics.autoconnect_from_env()
        except UsageError as exc:
            print(f"kounta_nb: could not connect from the environment: {exc}")


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics, the configurable and the one-line error display; close the connections
    and the sandbox."""
    magics = _LOADED.pop(id(ipython), None)
    if magics is None:
        return
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("kounta", None)
    ipython.magics_manager.registry.pop(type(magics).__name__, None)
    ipython.configurables[:] = [c for c in ipython.configurables if c is not magics and c is not magics.options]
    if getattr(ipython, "custom_exceptions", ()) == (KountaError,):
        ipython.set_custom_exc((), None)
    if not _LOADED and warnings.showwarning is _kounta_showwarning:
        warnings.showwarning = _ORIGINAL_SHOWWARNING
    magics.close()

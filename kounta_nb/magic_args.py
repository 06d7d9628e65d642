"""The arguments of ``%kounta``, declared once with IPython's ``@magic_arguments``, and the strict
reading of a line.

The declaration is the parser and the help (``%kounta?``: a summary, examples, then the options).
Reading a line never lets a wrong word through silently: an unbalanced quote, an unknown or
repeated option, an option the command does not use, an empty value, an extra word, a filter
value of the wrong kind — each is one :class:`~kounta_nb.errors.ConfigError` sentence, with "did
you mean …?" where a near miss is likely.
"""

from __future__ import annotations

import argparse
import keyword
import math
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from IPython.core import magic_arguments as _ma

from .errors import ConfigError, did_you_mean

__all__ = [
    "COMMANDS",
    "COMMANDS_HELP",
    "EXAMPLES",
    "WRITE_COMMANDS",
    "check_name",
    "kounta_arguments",
    "parse_line",
    "parse_pairs",
    "split_words",
    "strip_comment",
    "suggest",
]

#: The sub-commands besides resources, as the help lists them.
COMMANDS_HELP = (
    "login | logout [all] | sandbox | status | companies | company NAME|ID | venue [NAME|ID|all] | get PATH | "
    "post|put|delete PATH | cache [info|clear] | sql QUERY | <resource> (orders, lines, payments, "
    "sites, products, categories, customers, staff, shifts, registers, taxes, inventory, "
    "reconciliations, …)"
)

#: Writes: ``%%kounta post PATH`` with the JSON body as the cell (``patch`` is ``put``).
WRITE_COMMANDS = ("post", "put", "patch", "delete")

#: Which options each sub-command uses; anything else given with it is an error, not ignored.
#: Resources are listed under ``"<resource>"``.
COMMANDS: dict[str, frozenset[str]] = {
    "login": frozenset({"site", "basic"}),
    "logout": frozenset(),
    "sandbox": frozenset({"site", "company"}),
    "status": frozenset(),
    "company": frozenset(),
    "companies": frozenset(),
    "venue": frozenset(),
    "get": frozenset({"param", "limit", "out"}),
    "cache": frozenset(),
    "sql": frozenset({"out", "to"}),
    **{name: frozenset({"out"}) for name in WRITE_COMMANDS},
    "<resource>": frozenset({
        "since", "until", "site", "status", "limit", "dry_run", "background", "out", "columns",
        "yes", "to", "full", "export",
    }),
}  # fmt: skip

EXAMPLES = """\
Examples:

  %kounta sandbox                           # the built-in fake Kounta: no account needed
  %kounta login                             # your own company (login widget); again for another
  %kounta companies                         # the companies logged in; `%kounta company NAME` switches
  %kounta venue "The Lane Bar"              # the default site of later commands (`venue all`: every site)
  df = %kounta orders --since 30d           # any resource -> a typed DataFrame (COMPLETE orders)
  %kounta orders --since 7d --status any    # every status
  %kounta orders --since 30d --columns sale_number,created_at,total --to sales.parquet
  %kounta lines --since 7d -o lines         # order lines (one request per order), stored as `lines`
  %kounta orders --since 6m --dry-run       # the requests and time a pull would take
  job = %kounta orders --since 6m --background --export   # resumable pull into the dataset
  %kounta sql SELECT site_id, sum(total) AS sales FROM orders GROUP BY site_id
  %kounta get /companies/me/taxes           # any endpoint
  %kounta cache info                        # what is kept on disk, and how big

  %%kounta week                             # several commands, one a line; the last is `week`
  sales = orders --since 7d
  lines --since 7d

  %%kounta post customers                   # a write: the cell is the JSON body
  {"first_name": "Ada", "email": "ada@example.com"}

  %%kounta sql -o daily                     # SQL over the dataset of every company pulled
  SELECT company_id, date, sum(total) AS sales FROM orders GROUP BY ALL ORDER BY date
"""

_SUMMARY = """\
Kounta POS data in the notebook: %kounta COMMAND [ARG ...] [options].

Log in once (`%kounta login`, or `%kounta sandbox` to try it without an account), then ask for any
resource by name; each returns a DataFrame. `%config Kounta` lists the settings. Every mistake is
one line that says what to write instead; nothing is ever half-done silently.

As a cell magic, one command a line (`#` comments allowed; `name = orders --since 7d` assigns);
the last result is returned, and stored as NAME with `%%kounta NAME`. `%%kounta post PATH` (put,
delete) takes the cell as the JSON body of the write, `%%kounta sql` as the query (run as written;
in the line form IPython expands {var} and $var first, as for any line magic).
"""

_ARGUMENTS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("command",), {"nargs": "?", "default": "status", "help": f"what to do: {COMMANDS_HELP}"}),
    (("args",), {"nargs": "*", "metavar": "ARG",
                 "help": "NAME|ID for venue and company, PATH for get and writes, info|clear for cache, "
                         "KEY=VALUE filters for a resource (e.g. value_gt=40 customer=12)"}),
    (("--since",), {"metavar": "WHEN", "help": "start: 2026-05-01, 2026-05-01T14:00, 90min, 12h, 30d, "
                                                "2w, 6m (months), 1y, today, yesterday, last"}),
    (("--until",), {"metavar": "WHEN", "help": "end (exclusive), same forms as --since; default now"}),
    (("--site",), {"metavar": "SITE", "help": "site id, code or name, or 'all' (default: the venue "
                                               "picked); with login/sandbox: the venue to start with"}),
    (("--status",), {"metavar": "STATUS", "help": "order status: complete (the default), pending, "
                                                   "on_hold, accepted, rejected, submitted, or any"}),
    (("--limit",), {"metavar": "N", "help": "at most N rows (the newest)"}),
    (("--columns",), {"metavar": "A,B,C", "help": "only these columns, in this order"}),
    (("--full",), {"nargs": 0, "help": "full records instead of the abridged list items (products, "
                                       "customers, …): one request each, said first"}),
    (("--dry-run",), {"nargs": 0, "help": "show the requests a pull would make and its time; fetch nothing"}),
    (("--background",), {"nargs": 0, "help": "pull in the background; returns the PullJob (progress, "
                                              "resumable)"}),
    (("--export",), {"nargs": "?", "const": "", "metavar": "DIR",
                     "help": "with --background: write the pull into the Parquet dataset %%kounta sql "
                             "reads (default: Kounta.dataset) while it runs"}),
    (("--yes",), {"nargs": 0, "help": "fetch in the foreground even when it takes longer than "
                                      "Kounta.max_wait seconds"}),
    (("--to",), {"metavar": "FILE", "help": "also write the result to FILE (.parquet or .csv; lists as JSON)"}),
    (("-o", "--out"), {"metavar": "NAME", "help": "store the result in the variable NAME instead of "
                                                  "returning it"}),
    (("--company",), {"metavar": "NAME", "help": "sandbox: which company to connect to (name or id)"}),
    (("--param",), {"default": [], "metavar": "K=V",
                    "help": "get: a query parameter (repeatable)"}),
    (("--basic",), {"nargs": 0, "help": "login: Basic auth with KOUNTA_CLIENT_ID/SECRET (your own "
                                        "company)"}),
]  # fmt: skip


class _Once(argparse.Action):
    """Store an option's value, refusing a second one (argparse would silently keep the last).

    ``nargs=0`` makes it a flag that stores True. Every option seen is added to ``_given``.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        given: set[str] = namespace.__dict__.setdefault("_given", set())
        if self.dest in given and self.dest != "param":
            raise ConfigError(f"{'/'.join(self.option_strings)} is given twice: give it once.")
        given.add(self.dest)
        if self.dest == "param":
            namespace.param = [*namespace.param, values]
        else:
            setattr(namespace, self.dest, True if self.nargs == 0 else values)


class _Help(_ma.MagicHelpFormatter):
    """IPython's formatter without the reST ``::`` it puts before the usage line."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[Any], prefix: str | None = None) -> None:
        argparse.RawDescriptionHelpFormatter.add_usage(self, usage, actions, groups, "Usage: %")


_F = TypeVar("_F", bound=Callable[..., Any])
#: The parser built from the declaration (set when the magic is decorated).
_PARSERS: list[argparse.ArgumentParser] = []
_DECORATORS: Any = _ma  # IPython's decorators are untyped


def kounta_arguments(func: _F) -> _F:
    """Apply ``@magic_arguments`` and every ``@argument`` of ``%kounta`` to ``func``; its docstring
    becomes the help: summary, examples, usage and options."""
    decorated: Any = func
    for names, options in reversed(_ARGUMENTS):
        if names[0].startswith("-"):
            options = {"action": _Once, **({"default": False} if options.get("nargs") == 0 else {}), **options}
        decorated = _DECORATORS.argument(*names, **options)(decorated)
    decorated = _DECORATORS.kwds(formatter_class=_Help, description=None)(decorated)
    decorated = _DECORATORS.magic_arguments()(decorated)
    parser: argparse.ArgumentParser = decorated.parser
    parser.allow_abbrev = False  # `--sin` is a typo to point out, not a guess to act on
    decorated.__doc__ = f"{_SUMMARY}\n{EXAMPLES}\n{parser.format_help()}"
    _PARSERS[:] = [parser]
    return func


_OPTION_WORD = re.compile(r"^--?[A-Za-z]")


def split_words(line: str) -> list[str]:
    """Shell-like words of ``line`` (comment removed; as IPython's ``arg_split``, posix rules); an
    unbalanced quote or a trailing backslash is a ConfigError, not ``ValueError: No closing
    quotation``."""
    lexer = shlex.shlex(strip_comment(line), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:
        what = "a trailing backslash escapes nothing" if "escaped" in str(exc) else "a quote is not closed"
        raise ConfigError(
            f"Cannot read this line: {what}. Quote values with spaces in matching quotes, "
            "e.g. --site \"The Lane Bar\"."
        ) from None


def parse_line(line: str) -> argparse.Namespace:
    """Read one ``%kounta`` line with the declared parser, strictly.

    Options and positional words may be interleaved (``orders --since 7d customer=5``). The
    namespace gains ``given`` (the options written) and ``command`` is lower-cased with ``-`` read
    as ``_`` (``%kounta Product-Prices``).
    """
    if not _PARSERS:
        raise ConfigError("The %kounta arguments are not declared yet (import kounta_nb.magics).")
    parser = _PARSERS[0]
    words = split_words(line)
    _check_option_words(parser, words)
    args = parser.parse_intermixed_args(words)
    args.given = frozenset(args.__dict__.pop("_given", set()))
    args.command = str(args.command).strip().lower().replace("-", "_")
    return args


def _check_option_words(parser: argparse.ArgumentParser, words: list[str]) -> None:
    known = sorted(parser._option_string_actions)  # noqa: SLF001 - argparse keeps them only here
    for word in words:
        if word == "--":
            raise ConfigError("A bare -- is not an option of %kounta; quote a value that starts with -.")
        if not _OPTION_WORD.match(word):
            continue
        name = word.split("=", 1)[0]
        if name in known or (not word.startswith("--") and word[:2] in known):
            continue
        raise ConfigError(f"unrecognized arguments: {name}{suggest(name, known)}; `%kounta?` lists the options.")


def suggest(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'orders'?)"`` for a near miss of one of ``choices`` (as
    :func:`kounta_nb.errors.did_you_mean`), also when ``word`` is a distinctive part of one name
    (``harbour`` → ``Harbour Lane Hospitality``); else ``""``."""
    options = [str(c) for c in choices]
    hint = did_you_mean(word, options)
    wanted = str(word).strip().lower()
    if not hint and len(wanted) >= 3:
        containing = [name for name in options if wanted in name.lower()]
        hint = f" (did you mean {containing[0]!r}?)" if len(containing) == 1 else ""
    return hint


def check_name(name: str, what: str) -> str:
    """``name`` if it can be a Python variable (an identifier, not a keyword); ConfigError otherwise."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(f"{what} needs a Python variable name, not {name!r}.")
    return name


def strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment``: a ``#`` that starts a word, outside quotes.

    IPython hands line magics the whole line, comment included; ``"My #1 Bar"`` and ``a#b`` stay.
    """
    quote: str | None = None
    previous = " "
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and previous.isspace():
            return line[:index].rstrip()
        previous = char
    return line


def parse_pairs(words: list[str], what: str) -> dict[str, Any]:
    """``["k=v", …]`` → ``{"k": v}`` with numbers and true/false read as such.

    A word without ``=``, an empty key or value, or a key given twice is a ``ConfigError``
    naming ``what``.
    """
    pairs: dict[str, Any] = {}
    for word in words:
        key, sep, value = word.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConfigError(f"Cannot read {word!r} as a {what}: write KEY=VALUE.")
        if not value:
            raise ConfigError(f"{key}= needs a value (quote it if it has spaces: {key}=\"a b\").")
        if key in pairs:
            raise ConfigError(f"{key}= is given twice: give it once.")
        pairs[key] = _scalar(value)
    return pairs


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)


def _scalar(text: str) -> Any:
    """``true``/``false`` → bool, ASCII decimal numbers → int or float, anything else stays text
    (so ``²`` or ``1_000`` are not numbers)."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _NUMBER.match(text):
        if re.fullmatch(r"[+-]?\d+", text, re.ASCII):
            return int(text)
        number = float(text)
        return number if math.isfinite(number) else text
    return text

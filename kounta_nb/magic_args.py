"""The arguments of ``%kounta``, declared once with IPython's ``@magic_arguments``.

The declaration is the help (``%kounta?``) and the parser; parsing errors become one-line
``UsageError``s through IPython's ``MagicArgumentParser``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split

from .errors import ConfigError

__all__ = ["COMMANDS_HELP", "kounta_arguments", "parse_line", "parse_pairs"]

#: The sub-commands besides resources, as the help lists them.
COMMANDS_HELP = (
    "login | logout | sandbox | status | venue [NAME|ID] | get PATH | cache [info|clear] | "
    "<resource> (orders, lines, payments, sites, products, categories, customers, staff, shifts, "
    "registers, taxes, inventory, reconciliations, …)"
)

_ARGUMENTS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("command",), {"nargs": "?", "default": "status", "help": f"what to do: {COMMANDS_HELP}"}),
    (
        ("args",),
        {
            "nargs": "*",
            "metavar": "ARG",
            "help": "NAME|ID for venue, PATH for get, info|clear for cache, KEY=VALUE filters for a resource",
        },
    ),
    (
        ("--since",),
        {"metavar": "WHEN", "help": "start: 2026-05-01, 2026-05-01T14:00, 90min, 12h, 30d, 2w, 6m (months), 1y, today, yesterday, last"},
    ),
    (("--until",), {"metavar": "WHEN", "help": "end (exclusive), same forms as --since; default now"}),
    (("--site",), {"metavar": "SITE", "help": "site id, code or name, or 'all' (default: the venue picked); with login/sandbox: the venue to start with"}),
    (("--status",), {"metavar": "STATUS", "help": "order status: complete (default for orders), pending, any…"}),
    (("--limit",), {"type": int, "metavar": "N", "help": "at most N rows"}),
    (("--dry-run",), {"action": "store_true", "help": "show the requests a pull would make and its time, fetch nothing"}),
    (("--background",), {"action": "store_true", "help": "pull in the background; returns the PullJob (with progress)"}),
    (("-o", "--out"), {"metavar": "NAME", "help": "store the result in the variable NAME instead of returning it"}),
    (("--company",), {"metavar": "NAME", "help": "sandbox: which company to connect to (name or id)"}),
    (("--param",), {"action": "append", "default": [], "metavar": "K=V", "help": "get: a query parameter (repeatable)"}),
    (("--basic",), {"action": "store_true", "help": "login: Basic auth with KOUNTA_CLIENT_ID/SECRET (your own company)"}),
]


def kounta_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply ``@magic_arguments`` and every ``@argument`` of ``%kounta`` to ``func``."""
    for names, options in reversed(_ARGUMENTS):
        func = argument(*names, **options)(func)
    return magic_arguments()(func)


def parse_line(magic: Callable[..., Any], line: str) -> argparse.Namespace:
    """Parse one ``%kounta`` line with the declared parser.

    Options and positional words may be interleaved (``orders --since 7d customer=5``).
    """
    parser = magic.parser  # type: ignore[attr-defined]
    return parser.parse_intermixed_args(arg_split(strip_comment(line), posix=True))


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
    """``["k=v", …]`` → ``{"k": v}`` with numbers and true/false read as such; anything else
    is a ``ConfigError`` naming ``what``."""
    pairs: dict[str, Any] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"Cannot read {word!r} as a {what}: write KEY=VALUE.")
        pairs[key.strip()] = _scalar(value.strip())
    return pairs


def _scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text

"""Fuzz: hundreds of generated bad %kounta lines through a real IPython shell (issue 11 §3).

Each line is made from a valid one by one deliberate mistake — an unbalanced quote, a trailing
backslash, an unknown, repeated or misplaced option, an impossible date, a value of the wrong kind,
an extra word, a misspelt resource, a keyword as a variable name, random bytes where a command
takes no words — so every one of them must be refused. The promise under test: each gives exactly
one ``UsageError`` line, no traceback, nothing half-done. The generator is seeded: a failure names
its line and reproduces.
"""

from __future__ import annotations

import keyword
import random
import string

import pytest
from support_magics import one_line_error

from kounta_nb import tables
from kounta_nb.magic_args import COMMANDS

SEED = 20261
PER_KIND = 30

#: Valid lines that need no request before their arguments are checked.
BASES = [
    "orders --since 7d --site TLB --limit 30",
    "lines --since 2d --site TLB --limit 3",
    "payments --since 1d --limit 2",
    "orders --since 2w --until yesterday value_gt=40",
    "shifts --since 2d",
    "reconciliations --since 2d unprocessed=true",
    "customers reference_id=abc",
    "products --site all",
    "sites -o venues",
    "venue TLB",
    "cache info",
    "orders --since 30d --dry-run",
]
OPTIONS = sorted({f"--{name.replace('_', '-')}" for name in COMMANDS["<resource>"]} | {"-o", "--out",
                  "--company", "--param", "--basic"})
BAD_DATES = ["7x", "soon", "30 days ago", "1.5m", "2026-13-01", "2026-02-30", "100000000d",
             "99999999999999999999d", "9999-12-31", "²d", "٣x",
             "-5d", "1e9999d", "--", "nowish", "2026-05-01T25:00", "last week"]
BAD_NUMBERS = ["0", "-1", "²", "ten", "1.5", "1e3", "0x10", "١٢x", "∞", "NaN"]
WEIRD = string.ascii_letters + string.digits + "\"'\\=-_.,:;!?$%^&*()[]<>|~`²³¼½٣€💥 \t"


def _quote_break(rng: random.Random) -> str:
    base = rng.choice(BASES)
    words = base.split()
    at = rng.randrange(len(words))
    words[at] = rng.choice(['"', "'"]) + words[at]
    return " ".join(words)


def _backslash(rng: random.Random) -> str:
    return rng.choice(BASES) + rng.choice([" \\", "\\"])


def _unknown_option(rng: random.Random) -> str:
    while True:
        name = "--" + "".join(rng.choice(string.ascii_lowercase + "-") for _ in range(rng.randint(1, 9))).strip("-")
        if name != "--" and name not in OPTIONS:
            return f"{rng.choice(BASES)} {name} 1"


def _repeated_option(rng: random.Random) -> str:
    base = rng.choice([b for b in BASES if "--since" in b or "--site" in b or "--limit" in b])
    option = rng.choice([o for o in ("--since", "--site", "--limit") if o in base])
    value = {"--since": "3d", "--site": "MDR", "--limit": "4"}[option]
    return f"{base} {option}={value}" if rng.random() < 0.5 else f"{base} {option} {value}"


def _bad_date(rng: random.Random) -> str:
    resource = rng.choice(["orders", "lines", "payments", "options", "shifts", "reconciliations"])
    option = rng.choice(["--since", "--until", "since=", "until="])
    value = rng.choice(BAD_DATES + ([] if "until" in option else ["2999-01-01"]))
    if option.endswith("="):
        return f'{resource} --since 1d {option}"{value}"' if option == "until=" else f'{resource} since="{value}"'
    prefix = "--since 1d " if option == "--until" else ""
    return f'{resource} {prefix}{option} "{value}"'


def _empty_period(rng: random.Random) -> str:
    since, until = rng.choice([("2d", "3d"), ("1d", "1d"), ("2026-05-02", "2026-05-01"), ("today", "yesterday"),
                               ("1w", "2w"), ("6m", "1y")])
    return f"{rng.choice(['orders', 'lines', 'payments'])} --since {since} --until {until}"


def _bad_number(rng: random.Random) -> str:
    value = rng.choice(BAD_NUMBERS)
    kind = rng.randrange(3)
    if kind == 0:
        return f"orders --since 1d --limit {value}"
    if kind == 1:
        return f"orders --since 1d {rng.choice(['customer', 'staff', 'register'])}={value}"
    return f"order id={value}"


def _empty_value(rng: random.Random) -> str:
    return rng.choice([
        "orders --since 1d --site ''", "orders --since 1d --status ''", 'orders --since ""',
        "venue ''", "venue \"\"", "customers reference_id=", "orders --since 1d site=",
        "orders --since 1d --columns ''", "orders --since 1d --columns a,,b", "sandbox --company ''",
        "customers reference_id=''", "orders --since 1d value_gt=",
    ])


def _bad_kind(rng: random.Random) -> str:
    return rng.choice([
        f"reconciliations unprocessed={rng.choice(['maybe', '1x', 'yes please', 'truee'])}",
        f"orders --since 1d value_gt={rng.choice(['lots', 'inf', '4O', 'nan', '1,000'])}",
        f"order id=1 part={rng.choice(['everything', 'line', 'ORDERS!'])}",
        f"orders --since 1d --status {rng.choice(['pendng', 'done', 'finished', 'every', '*'])}",
        f"shifts date={rng.choice(BAD_DATES)}",
    ])


def _extra_words(rng: random.Random) -> str:
    command = rng.choice(["status", "cache info", "cache clear", "logout", "login", "sandbox", "companies"])
    word = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 8)))
    return f"{command} {word}"


def _misplaced_option(rng: random.Random) -> str:
    return rng.choice([
        "status --since 7d", "venue TLB --limit 3", "cache info --site TLB", "login --company X",
        "sandbox --limit 1", "taxes --site TLB", "products --status any", "sites --dry-run",
        "staff --background", "orders --since 1d --basic", "get sites --since 1d",
        "orders --since 1d --param a=1", "companies -o x", "orders --since 1d --company X",
    ])


def _misspelt_command(rng: random.Random) -> str:
    known = set(tables.RESOURCES) | set(COMMANDS) | {"patch"}
    while True:
        word = rng.choice(sorted(known))
        chars = list(word)
        at = rng.randrange(len(chars))
        chars[at] = rng.choice(string.ascii_lowercase + "_")
        candidate = "".join(chars) + rng.choice(["", "s", "x"])
        if candidate.lower().replace("-", "_") not in known:
            return candidate


def _bad_name(rng: random.Random) -> str:
    name = rng.choice([*keyword.kwlist, "9lives", "a-b", "x.y", "é-x", "1", "None", "True"])
    return f"sites -o {name}" if rng.random() < 0.7 else f"orders --since 1d --out={name}"


def _garbage(rng: random.Random) -> str:
    while True:
        junk = "".join(rng.choice(WEIRD) for _ in range(rng.randint(1, 24))).strip()
        if junk and "#" not in junk:
            return f"{rng.choice(['status', 'companies', 'logout', 'sandbox'])} {junk}"


def _unknown_filter(rng: random.Random) -> str:
    key = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
    resource = rng.choice(["orders", "customers", "products", "staff", "shifts --since 1d"])
    return f"{resource} {key}=1"


GENERATORS = [
    _quote_break, _backslash, _unknown_option, _repeated_option, _bad_date, _empty_period, _bad_number,
    _empty_value, _bad_kind, _extra_words, _misplaced_option, _misspelt_command, _bad_name, _garbage,
    _unknown_filter,
]


def _lines() -> list[str]:
    rng = random.Random(SEED)
    seen: set[str] = set()
    out = []
    for make in GENERATORS:
        for _ in range(PER_KIND):
            line = "%kounta " + make(rng)
            if line not in seen:
                seen.add(line)
                out.append(line)
    return out


LINES = _lines()


def test_fuzz__enough_distinct_lines():
    assert len(LINES) >= 300


def test_fuzz__every_bad_line_is_one_usage_error(connected, capsys):
    failures = []
    for line in LINES:
        try:
            one_line_error(connected, line, capsys)
        except AssertionError as exc:
            failures.append(f"{line!r}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    assert not failures, f"{len(failures)} of {len(LINES)} lines:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("cell", [
    "%%kounta\nsites\norders --since 1d --since 2d\n",
    "%%kounta\nx = orders --since 2999-01-01\n",
    "%%kounta import\nsites\n",
    "%%kounta\nfor = sites\n",
    "%%kounta post customers\n{\"first_name\": \n",
    "%%kounta post customers\n[1, 2]\n",
    "%%kounta post nowhere\n{}\n",
    "%%kounta put orders/abc\n{}\n",
    "%%kounta delete webhooks/1 extra\n\n\n",
    "%%kounta 9lives\nsites\n",
])
def test_fuzz__bad_cells_are_one_usage_error(connected, capsys, cell):
    one_line_error(connected, cell, capsys)

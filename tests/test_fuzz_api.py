"""Fuzz (issue 11 §3): every wrong call of the Python API is exactly one KountaError, one line.

Hundreds of generated bad calls across the client's reads, writes and constructors and
``tables.fetch`` — wrong types, impossible dates, huge spans, look-alike digits, unknown keywords
and near-miss names — each must raise one :class:`~kounta_nb.errors.KountaError` (never a bare
``TypeError``/``AttributeError``/``OverflowError``/``ValueError`` from inside) whose message is a
single line, with a "did you mean" for near-misses of resources, filters, options and sites.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from kounta_nb import Kounta, tables
from kounta_nb.endpoints import CATALOGUE
from kounta_nb.errors import KountaError

SEED = 20261202
BAD_MOMENTS: list[Any] = [
    12345, 3.5, True, [], {}, object(), b"2026-05-01", "", "   ", "last tuesday", "²d", "٣d", "7 d ago",
    "100000000d", "99999999w", "9999999y", "0000-01-01", "2026-13-01", "2026-02-30", "2026-05-01T25:00",
    "１２d", "-3d", "2026/05/01", "tomorrow", "now+1d", "2026-05-01T10:00+25:00", "d", "7dd",
]  # fmt: skip
BAD_IDS: list[Any] = ["abc", -5, 0, 1.5, True, "²", "12a", "", [], None.__class__, "1 2", "٣"]
BAD_SITES: list[Any] = [True, 3.5, [], {}, "Nowhere", "", "   ", -1, "Harbor Lane Cafe"]
BAD_STATUS: list[Any] = ["done", 3, "", "completed!", ["complete"], "COMPLETEE", "pendin"]
BAD_LIMITS: list[Any] = ["many", -1, 0, 2.5, True, "²", []]
BAD_VALUES: list[Any] = ["ten", [], {}, "1e400", True, float("nan")]


@pytest.fixture(scope="module")
def k(sandbox):
    client = Kounta.sandbox(handle=sandbox, cache=False, rate_limit=60_000)
    client.sites()  # so the fuzz does not count the first requests
    yield client
    client.close()


def typo(word: str, rng: random.Random) -> str:
    """A near-miss: one letter dropped, doubled or swapped."""
    i = rng.randrange(len(word) - 1)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def calls(k: Kounta) -> list[tuple[str, Callable[[], Any], bool]]:
    """``(label, call, wants_did_you_mean)`` — generated, deterministic."""
    rng = random.Random(SEED)
    out: list[tuple[str, Callable[[], Any], bool]] = []

    def add(label: str, fn: Callable[[], Any], hint: bool = False) -> None:
        out.append((label, fn, hint))

    for bad in BAD_MOMENTS:
        for key in ("since", "until", "created"):
            add(f"orders({key}={bad!r})", lambda key=key, bad=bad: k.orders(**{key: bad}))
            add(f"iter_orders({key}={bad!r})", lambda key=key, bad=bad: next(k.iter_orders(**{key: bad})))
            add(f"tables lines({key}={bad!r})", lambda key=key, bad=bad: tables.fetch(k, "lines", **{key: bad}))
        add(f"shifts(date={bad!r})", lambda bad=bad: k.shifts(date=bad))
        add(f"reconciliations(since={bad!r})", lambda bad=bad: k.reconciliations(since=bad))
    add("orders(until='9999-12-31')", lambda: k.orders(until="9999-12-31"))
    add("tables orders(until='9999-12-31')", lambda: tables.fetch(k, "orders", until="9999-12-31"))
    add("orders(since='100000000d')", lambda: k.orders(since="100000000d"))
    add("orders(since=9999 datetime)", lambda: k.orders(since=datetime(9999, 12, 31, 23, 59)))
    add("orders(since after until)", lambda: k.orders(since="2026-05-10", until="2026-05-01"))
    add("orders(future since)", lambda: k.orders(since=date(2999, 1, 1)))
    add("tables orders(future since)", lambda: tables.fetch(k, "orders", since=datetime(2999, 1, 1)))
    add("orders(since == until)", lambda: k.orders(since="2026-05-01T10:00", until="2026-05-01T10:00"))
    for bad in BAD_IDS:
        for method in ("order", "product", "customer", "tax", "register", "webhook", "reconciliation",
                       "category", "staff_member"):  # fmt: skip
            add(f"{method}({bad!r})", lambda method=method, bad=bad: getattr(k, method)(bad))
        add(f"orders(register={bad!r})", lambda bad=bad: k.orders(register=bad))
        add(f"update_order({bad!r})", lambda bad=bad: k.update_order(bad, {"notes": "x"}))
        add(f"tables order(id={bad!r})", lambda bad=bad: tables.fetch(k, "order", id=bad))
    for bad in BAD_SITES:
        hint = bad == "Harbor Lane Cafe"
        add(f"orders(site={bad!r})", lambda bad=bad: k.orders(site=bad), hint)
        add(f"products(site={bad!r})", lambda bad=bad: k.products(site=bad), hint)
        add(f"inventory({bad!r})", lambda bad=bad: k.inventory(bad), hint)
        add(f"tables orders(site={bad!r})", lambda bad=bad: tables.fetch(k, "orders", site=bad), hint)
    for bad in BAD_STATUS:
        hint = bad in ("COMPLETEE", "pendin")
        add(f"orders(status={bad!r})", lambda bad=bad: k.orders(status=bad), hint)
        add(f"tables payments(status={bad!r})", lambda bad=bad: tables.fetch(k, "payments", status=bad), hint)
    for bad in BAD_LIMITS:
        add(f"tables orders(limit={bad!r})", lambda bad=bad: tables.fetch(k, "orders", limit=bad))
        add(f"orders(limit={bad!r})", lambda bad=bad: k.orders(limit=bad))
        add(f"orders(max_pages={bad!r})", lambda bad=bad: k.orders(max_pages=bad))
    for bad in BAD_VALUES:
        add(f"orders(value_gt={bad!r})", lambda bad=bad: k.orders(value_gt=bad))
    for name in sorted(tables.RESOURCES):
        if len(name) > 4:
            wrong = typo(name, rng)
            if wrong not in tables.RESOURCES:
                add(f"tables {wrong!r}", lambda wrong=wrong: tables.fetch(k, wrong), True)
                add(f"read {wrong!r}", lambda wrong=wrong: k.read(wrong), False)
        add(f"tables {name} colour=red", lambda name=name: tables.fetch(k, name, colour="red"))
    for word in ("since", "until", "status", "register", "customer", "value_gte", "created"):
        wrong = typo(word, rng)
        add(f"orders({wrong}=…)", lambda wrong=wrong: k.orders(**{wrong: "7d"}), True)
        add(f"tables orders({wrong}=…)", lambda wrong=wrong: tables.fetch(k, "orders", **{wrong: "7d"}), True)
    wrong = typo("unprocessed", rng)
    add(f"reconciliations({wrong}=…)", lambda wrong=wrong: k.reconciliations(**{wrong: True}), True)
    wrong = typo("reference_id", rng)
    add(f"customers({wrong}=…)", lambda wrong=wrong: k.customers(**{wrong: "x"}), True)
    for name in sorted(n for n in CATALOGUE if len(n) > 4):
        wrong = typo(name, rng)
        if wrong not in CATALOGUE:
            add(f"read {wrong!r}", lambda wrong=wrong: k.read(wrong), True)
    for option in ("cache", "rate_limit", "timeout", "offline", "max_retries"):
        wrong = typo(option, rng)
        add(f"Kounta option {wrong}", lambda wrong=wrong: Kounta.basic("id", "secret", **{wrong: 1}), True)
    add("shifts()", lambda: k.shifts())
    add("shifts(both)", lambda: k.shifts(date="2026-05-01", since="2026-05-01"))
    add("reconciliations(unprocessed='maybe')", lambda: k.reconciliations(unprocessed="maybe"))
    add("reconciliations(site and register)", lambda: k.reconciliations(site=k.sites()[0]["id"], register=1))
    add("customer_by_email('nobody')", lambda: k.customer_by_email("nobody"))
    add("order_by_sale('')", lambda: k.order_by_sale(""))
    add("create_order([])", lambda: k.create_order([]))  # type: ignore[arg-type]
    add("create_customer('x')", lambda: k.create_customer("x"))  # type: ignore[arg-type]
    add("tables full='yes'", lambda: tables.fetch(k, "products", full="yes"))
    add("tables shifts without a day", lambda: tables.fetch(k, "shifts"))
    add("tables order part", lambda: tables.fetch(k, "order", id=1, part="taxes"))
    add("Kounta(offline='yes')", lambda: Kounta.basic("id", "secret", offline="yes"))
    add("Kounta(rate_limit=-1)", lambda: Kounta.basic("id", "secret", rate_limit=-1))
    add("Kounta(cache=3)", lambda: Kounta.basic("id", "secret", cache=3))
    add("from_token(company_id='x')", lambda: Kounta.from_token("tok", company_id="x"))
    add("get('')", lambda: k.get(""))
    return out


def test_fuzz__hundreds_of_bad_calls_are_one_line_kounta_errors(k):
    cases = calls(k)
    assert len(cases) >= 300
    problems = []
    for label, call, hint in cases:
        try:
            call()
        except KountaError as exc:
            text = str(exc)
            if "\n" in text or not text.strip():
                problems.append(f"{label}: not one line: {text!r}")
            elif hint and "did you mean" not in text:
                problems.append(f"{label}: no 'did you mean' in {text!r}")
        except BaseException as exc:  # noqa: BLE001 - the point is that nothing else escapes
            problems.append(f"{label}: {type(exc).__name__}: {exc}")
        else:
            problems.append(f"{label}: accepted")
    assert not problems, f"{len(problems)} of {len(cases)} bad calls misbehaved:\n" + "\n".join(problems[:40])

"""Issue 11 §2: re-running a cell is cheap — through ``tables.fetch`` and through the magic.

Order lists are asked in windows cut on local midnights and hours, so a re-run of a relative
period (``--since 7d``) asks the same URLs: unchanged pages come back as 304s and only the window
that holds new orders is downloaded again; lines/payments of unchanged orders are not fetched
again at all. The sandbox's clock is frozen at the real time these tests start.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from support_magics import run

from kounta_nb import Kounta, tables
from kounta_nb.sandbox.server import SandboxHandle

FAST = {"rate_limit": 60_000, "backoff_base": 0.001}


@pytest.fixture(autouse=True)
def same_hour() -> None:
    """The windows move on the hour: start a test well inside one."""
    now = datetime.now(UTC)
    if now.minute == 59 and now.second > 30:
        time.sleep(61 - now.second)


@pytest.fixture
def k(live_sandbox: SandboxHandle, tmp_path: Any) -> Iterator[Kounta]:
    client = Kounta.sandbox(handle=live_sandbox, auth="basic", cache=tmp_path / "http.sqlite", **FAST)
    client.company_id  # noqa: B018 - so the runs below count only their own requests
    yield client
    client.close()


def stats(df: Any) -> dict[str, int]:
    return dict(df.attrs["meta"]["stats"])


def test_rerun__orders_since_7d_is_answered_by_304s(k, live_sandbox):
    first = tables.fetch(k, "orders", since="7d")
    again = tables.fetch(k, "orders", since="7d")
    one, two = stats(first), stats(again)
    assert one["requests"] > 20 and one["downloaded"] == one["requests"]
    assert two["requests"] == one["requests"] and two["downloaded"] == 0
    assert two["revalidated"] == two["requests"]
    # the same orders, but for any that slipped out of the exact window (7 days back from *now*)
    assert set(again["id"]) <= set(first["id"]) and len(first) - len(again) <= 3


def test_rerun__new_orders_download_only_the_open_window(k, live_sandbox):
    site = k.sites()[0]["id"]
    first = tables.fetch(k, "orders", since="7d", site=site)
    writer = Kounta.sandbox(handle=live_sandbox, auth="basic", cache=False, **FAST)
    for i in range(3):
        writer.create_order({"site_id": site, "status": "COMPLETE", "notes": f"new {i}"})
    again = tables.fetch(k, "orders", since="7d", site=site)
    two = stats(again)
    assert len(again) == len(first) + 3
    assert two["downloaded"] <= max(1, 0.1 * two["requests"]), two
    assert two["downloaded"] >= 1


def test_rerun__lines_of_unchanged_orders_are_not_fetched_again(k):
    first = tables.fetch(k, "lines", since="1d")
    again = tables.fetch(k, "lines", since="1d")
    one, two = stats(first), stats(again)
    details = first.attrs["meta"]["details"]
    assert details > 25 and one["requests"] >= details
    assert two["requests"] == one["requests"] - details  # only the list pages, as 304s
    assert two["downloaded"] == 0 and two["from_cache"] == details
    assert again.equals(first)


def test_rerun__the_magic_too(shell, live_sandbox, tmp_path):
    run(shell, f"%config Kounta.cache = '{tmp_path / 'magic.sqlite'}'")
    run(shell, "%kounta sandbox")
    first = run(shell, "%kounta orders --since 7d")
    again = run(shell, "%kounta orders --since 7d")
    one, two = stats(first), stats(again)
    assert one["requests"] > 20
    assert two["downloaded"] <= 0.1 * two["requests"] and two["revalidated"] >= 0.9 * two["requests"]
    assert len(again) == len(first)

"""Contract (issue 10 §1): fresh or an error, on every read path of the client and tables.

Client A reads a day; client B then changes some of those COMPLETE orders (notes, a payment).
A's next reads must show the changes: ``order(id)`` revalidates (one request, a 304 when nothing
changed); ``tables.fetch`` of lines/payments fetches exactly the orders whose listed
``updated_at`` moved, and takes the others from the cache only because the list fetched in that
same call proves them current.
"""

from __future__ import annotations

import pytest

from kounta_nb import Kounta, tables

FAST = {"rate_limit": 60_000, "backoff_base": 0.001}
DAY = "2026-05-28"


@pytest.fixture
def two(fresh_sandbox, tmp_path):
    a = Kounta.sandbox(handle=fresh_sandbox, auth="basic", cache=tmp_path / "a.sqlite", **FAST)
    b = Kounta.sandbox(handle=fresh_sandbox, auth="basic", cache=tmp_path / "b.sqlite", **FAST)
    yield a, b
    a.close()
    b.close()


def site_of(k: Kounta) -> int:
    return int(k.sites()[0]["id"])


def test_fresh__order_revalidates_every_time(two):
    a, b = two
    site = site_of(a)
    oid = a.orders(site=site, since=DAY, until=DAY, status="complete")[0]["id_str"]
    first = a.order(oid)
    before = a.stats.snapshot()
    assert a.order(oid) == first
    spent = a.stats.snapshot() - before
    assert (spent.requests, spent.revalidated, spent.downloaded, spent.from_cache) == (1, 1, 0, 0)
    b.update_order(oid, {"notes": "changed by B"})
    before = a.stats.snapshot()
    assert a.order(oid)["notes"] == "changed by B"
    spent = a.stats.snapshot() - before
    assert (spent.requests, spent.downloaded) == (1, 1)


@pytest.mark.parametrize("resource", ["payments", "lines", "options"])
def test_fresh__tables_fetch_only_the_changed_details(two, resource):
    a, b = two
    site = site_of(a)
    args = {"site": site, "since": DAY, "until": DAY}
    first = tables.fetch(a, resource, **args)
    one = first.attrs["meta"]["stats"]
    listed = a.orders(status="complete", **args)
    assert len(listed) > 30
    changed = [o["id_str"] for o in listed[3:13]]
    method = b.payment_methods()[0]["id"]
    for oid in changed[:5]:
        b.update_order(oid, {"notes": "re-opened"})
    for oid in changed[5:]:
        b.add_payment(oid, {"method_id": method, "amount": 0.5})
    again = tables.fetch(a, resource, **args)
    stats = again.attrs["meta"]["stats"]
    # the list pages again (304s where nothing changed), then exactly the changed orders
    assert one["requests"] == first.attrs["meta"]["details"] + (pages := one["requests"] - len(listed))
    assert stats["requests"] == pages + len(changed), stats
    assert stats["from_cache"] == len(listed) - len(changed)
    assert stats["downloaded"] >= len(changed) and stats["revalidated"] >= 1
    assert again.attrs["meta"]["details"] == len(listed)
    if resource == "payments":
        tips = again[again["order_id"].isin(changed[5:])]
        assert (tips["amount"] == 0.5).sum() == 5
        assert len(again) == len(first) + 5
    else:
        assert len(again) == len(first)


def test_fresh__a_cold_cache_fetches_every_detail_once(two):
    a, _ = two
    site = site_of(a)
    listed = a.orders(site=site, since=DAY, until=DAY, status="complete")
    df = tables.fetch(a, "payments", site=site, since=DAY, until=DAY)
    stats = df.attrs["meta"]["stats"]
    pages = -(-len(listed) // 25)
    assert df.attrs["meta"]["details"] == len(listed)
    assert stats["from_cache"] == 0 and stats["requests"] == pages + len(listed)
    assert stats["downloaded"] == len(listed)  # the list pages were just fetched: 304s

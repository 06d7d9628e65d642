"""Contract: a change made elsewhere is seen at once through the HTTP layer.

Client A reads a day of orders (list pages, one order, the lines and payments tables); another
client then changes an order's notes and adds a payment to another order. A's next read of each
path revalidates with ``If-None-Match``: what changed comes back as a new body (a 200), what did
not as a 304 — never yesterday's body. This also checks the sandbox's half of the bargain: list
pages and details change their ``ETag`` when a write changes them.
"""

from __future__ import annotations

import pytest
from support_transport import DAY, a_site, client

from kounta_nb import tables


@pytest.fixture
def scene(fresh_sandbox, tmp_path):
    k = client(fresh_sandbox, tmp_path / "http.sqlite")
    site = a_site(k)
    listing = k.orders(site=site, since=DAY, until=DAY)
    noted, paid = listing[0]["id"], listing[1]["id"]
    before = {
        "list": {r["id"]: r.get("updated_at") for r in listing},
        "noted": k.order(noted),
        "paid": k.order(paid),
        "payments": tables.fetch(k, "payments", site=site, since=DAY, until=DAY, limit=10),
    }
    other = client(fresh_sandbox, False)
    method = other.payment_methods()[0]["id"]
    other.update_order(noted, {"notes": "table 12 moved to the terrace"})
    other.add_payment(paid, {"method_id": method, "amount": 1.5})
    yield k, site, noted, paid, before
    k.close()
    other.close()


def test_changes__order_detail_is_fetched_again(scene):
    k, site, noted, paid, before = scene
    stats = k.stats.snapshot()
    assert k.order(noted)["notes"] == "table 12 moved to the terrace"
    after = k.order(paid)
    assert len(after["payments"]) == len(before["paid"]["payments"]) + 1
    assert any(p["amount"] == 1.5 for p in after["payments"])
    delta = k.stats.snapshot() - stats
    assert (delta.downloaded, delta.revalidated, delta.from_cache) == (2, 0, 0)


def test_changes__list_page_shows_the_new_updated_at(scene):
    k, site, noted, paid, before = scene
    stats = k.stats.snapshot()
    listing = k.orders(site=site, since=DAY, until=DAY)
    now = {r["id"]: r.get("updated_at") for r in listing}
    assert now[noted] != before["list"][noted] and now[paid] != before["list"][paid]
    assert {i: u for i, u in now.items() if i not in (noted, paid)} == {
        i: u for i, u in before["list"].items() if i not in (noted, paid)}
    delta = k.stats.snapshot() - stats
    assert delta.downloaded >= 1  # the first page (newest first) holds both changed orders


def test_changes__payments_table_has_the_new_payment(scene):
    k, site, noted, paid, before = scene
    df = tables.fetch(k, "payments", site=site, since=DAY, until=DAY, limit=10)
    old = before["payments"]
    mine = df[df["order_id"].astype(str) == str(paid)]
    assert len(mine) == len(old[old["order_id"].astype(str) == str(paid)]) + 1
    assert (mine["amount"] == 1.5).any()


def test_changes__unchanged_orders_are_304s(scene):
    k, site, noted, paid, before = scene
    listing = k.orders(site=site, since=DAY, until=DAY)
    untouched = next(r["id"] for r in listing if r["id"] not in (noted, paid))
    k.order(untouched)  # first read: a download
    stats = k.stats.snapshot()
    assert k.order(untouched)["id"] == untouched
    delta = k.stats.snapshot() - stats
    assert (delta.requests, delta.revalidated, delta.downloaded) == (1, 1, 0)

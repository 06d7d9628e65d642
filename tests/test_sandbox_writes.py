"""Writes by one client are visible to every other client exactly as the API shows them: the
record's ``updated_at`` moves forward, its ETag changes, and so does the ETag of every list page
that holds it (an ``If-None-Match`` revalidation answers 200 with the new item, not 304). The
transport, client and pull areas build their "stale after a change" tests on this."""

from __future__ import annotations

from datetime import datetime

import requests
from support_sandbox import api, basic_session

DAY = "2026-05-27"


def page_holding(s: requests.Session, url: str, order_id: int) -> tuple[str, str]:
    """(URL, ETag) of the page of a cursor walk that holds ``order_id``."""
    nxt: str | None = url
    while nxt:
        r = s.get(nxt)
        assert r.status_code == 200, r.text
        if any(o["id"] == order_id for o in r.json()):
            return nxt, r.headers["ETag"]
        nxt = r.headers.get("X-Next-Page")
    raise AssertionError(f"order {order_id} is on no page of {url}")


def lists_holding(handle, order: dict) -> list[str]:
    """Every list query that holds the order (path filters, status segment, date filter)."""
    q = f"?created={DAY}"
    paths = [f"orders.json{q}", f"orders/complete.json{q}", f"sites/{order['site_id']}/orders.json{q}",
             f"registers/{order['register_id']}/orders/complete.json{q}", f"staff/{order['staff_id']}/orders.json{q}",
             f"sites/{order['site_id']}/staff/{order['staff_id']}/orders.json"]
    if order.get("customer_id"):
        paths.append(f"customers/{order['customer_id']}/orders.json")
    return [api(handle, "companies/me/" + p) for p in paths]


def snapshot(s: requests.Session, handle, order: dict) -> dict[str, tuple[str, str]]:
    return {url: page_holding(s, url, order["id"]) for url in lists_holding(handle, order)}


def a_complete_order(s: requests.Session, handle) -> dict:
    items = s.get(api(handle, "companies/me/orders/complete.json"), params={"created": DAY}).json()
    item = next(o for o in items if o["customer_id"] and not o["is_refund"])
    return s.get(api(handle, f"companies/me/orders/{item['id']}.json")).json()


def assert_everyone_sees(s: requests.Session, handle, order_id: int, pages: dict[str, tuple[str, str]],
                         detail_etag: str, check) -> dict:
    detail = s.get(api(handle, f"companies/me/orders/{order_id}.json"), headers={"If-None-Match": detail_etag})
    assert detail.status_code == 200 and detail.headers["ETag"] != detail_etag
    check(detail.json())
    for url, (page_url, etag) in pages.items():
        r = s.get(page_url, headers={"If-None-Match": etag})
        assert r.status_code == 200, f"{url} still answers 304 after the change"
        assert r.headers["ETag"] != etag
        item = next(o for o in r.json() if o["id"] == order_id)
        assert item["updated_at"] == detail.json()["updated_at"]
        check(item)
    return detail.json()


def test_writes__a_note_on_a_complete_order_changes_every_page_that_holds_it(fresh_sandbox):
    handle = fresh_sandbox
    s, other = basic_session(handle), basic_session(handle)
    order = a_complete_order(s, handle)
    pages = snapshot(other, handle, order)
    assert len(pages) >= 7
    etag = other.get(api(handle, f"companies/me/orders/{order['id']}.json")).headers["ETag"]
    r = s.put(api(handle, f"companies/me/orders/{order['id']}.json"), json={"notes": "Regular: no onion"})
    assert r.status_code == 200
    def noted(o: dict) -> None:
        assert o["notes"] == "Regular: no onion"

    after = assert_everyone_sees(other, handle, order["id"], pages, etag, noted)
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(order["updated_at"])
    assert after["status"] == "COMPLETE" and after["total"] == order["total"]


def test_writes__a_new_payment_changes_every_page_that_holds_it(fresh_sandbox):
    handle = fresh_sandbox
    s, other = basic_session(handle), basic_session(handle)
    order = a_complete_order(s, handle)
    pages = snapshot(other, handle, order)
    etag = other.get(api(handle, f"companies/me/orders/{order['id']}.json")).headers["ETag"]
    method = order["payments"][0]["method"]["id"]
    r = s.post(api(handle, f"companies/me/orders/{order['id']}/payments.json"),
               json={"method_id": method, "amount": -1.5, "ref": "part refund"})
    assert r.status_code == 201

    def refunded(o: dict) -> None:
        assert o["paid"] == round(order["paid"] - 1.5, 2)

    after = assert_everyone_sees(other, handle, order["id"], pages, etag, refunded)
    assert after["payments"][-1]["amount"] == -1.5


def test_writes__every_write_moves_updated_at_even_on_a_frozen_clock(fresh_sandbox):
    handle = fresh_sandbox
    s = basic_session(handle)
    order = a_complete_order(s, handle)
    url = api(handle, f"companies/me/orders/{order['id']}.json")
    stamps = [order["updated_at"]]
    for change in ({"notes": "one"}, {"fulfil_at": "2026-05-27T19:00:00+10:00"}, {"callback_uri": None}):
        pages = snapshot(s, handle, order)
        etag = s.get(url).headers["ETag"]
        assert s.put(url, json=change).status_code == 200
        # fulfil_at and callback_uri are not in the abridged item: updated_at alone must show it
        now = assert_everyone_sees(s, handle, order["id"], pages, etag, lambda o: None)
        stamps.append(now["updated_at"])
    times = [datetime.fromisoformat(t) for t in stamps]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_writes__pages_without_the_order_keep_their_etag(fresh_sandbox):
    handle = fresh_sandbox
    s = basic_session(handle)
    order = a_complete_order(s, handle)
    elsewhere = api(handle, "companies/me/orders.json?created=2026-05-20")
    etag = s.get(elsewhere).headers["ETag"]
    assert s.put(api(handle, f"companies/me/orders/{order['id']}.json"), json={"notes": "x"}).status_code == 200
    assert s.get(elsewhere, headers={"If-None-Match": etag}).status_code == 304


def test_writes__customer_and_site_updates_change_their_etags(fresh_sandbox):
    handle = fresh_sandbox
    s = basic_session(handle)
    for path, change in (("customers/5100002", {"last_name": "Changed"}), ("sites/1201", {"phone": "(02) 9000 0000"})):
        url = api(handle, f"companies/me/{path}.json")
        before = s.get(url)
        assert s.put(url, json=change).status_code == 200
        again = s.put(url, json=change)  # the same change twice on a frozen clock
        after = s.get(url, headers={"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200
        assert after.json()["updated_at"] > before.json()["updated_at"]
        assert again.json()["updated_at"] == after.json()["updated_at"]
